import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import orjson
import pytest
import respx

from shared import http
from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import verify_token
from shared.errors import UpstreamError
from shared.http import aclose_http_client, call_service, get_http_client
from shared.settings import Settings

S = Settings(jwt_secret="http-test-secret-" + "s" * 40, service_name="redemptions",
             points_port=4902, members_url="http://members.internal:9000/graphql",
             http_timeout_seconds=3.0, http_max_connections=7)
POINTS_URL = "http://127.0.0.1:4902/graphql"


@pytest.fixture(autouse=True)
async def fresh_client():
    await aclose_http_client()
    yield
    await aclose_http_client()


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as router:
        yield router


# --- the shared client -------------------------------------------------------------------------


async def test_one_client_per_process_until_closed() -> None:
    assert http._client is None  # lazy: nothing exists before first use
    client = get_http_client(S)
    assert get_http_client(S) is client
    await aclose_http_client()
    assert client.is_closed
    assert get_http_client(S) is not client


async def test_client_limits_and_timeouts_come_from_settings() -> None:
    client = get_http_client(S)
    assert client.timeout == httpx.Timeout(3.0, connect=3.0)
    pool = client._transport._pool  # the plain-HTTP pool services talk through
    assert pool._max_connections == 7 and pool._max_keepalive_connections == 7


def test_outside_an_event_loop_there_is_no_client() -> None:
    with pytest.raises(RuntimeError):
        get_http_client(S)


async def test_another_event_loop_gets_its_own_client() -> None:
    here = get_http_client(S)

    async def elsewhere() -> httpx.AsyncClient:
        return get_http_client(S)

    there = await asyncio.to_thread(asyncio.run, elsewhere())
    assert there is not here


async def test_tls_is_only_prepared_when_an_https_url_is_used(monkeypatch, mock) -> None:
    # Loading the CA bundle (verify=True) is what makes a client slow to create.
    import httpx._transports.default as transports

    loads = []
    real = transports.create_ssl_context

    def spy(verify=True, *args, **kwargs):
        if verify is True:
            loads.append(verify)
        return real(verify, *args, **kwargs)

    monkeypatch.setattr(transports, "create_ssl_context", spy)
    mock.post(POINTS_URL).respond(json={"data": {}})
    mock.post("https://points.example/graphql").respond(json={"data": {}})
    await get_http_client(S).post(POINTS_URL)
    assert loads == []
    await get_http_client(S).post("https://points.example/graphql")
    await get_http_client(S).post("https://points.example/graphql")
    assert loads == [True]


# --- call_service ------------------------------------------------------------------------------


async def test_call_service_posts_graphql_with_a_service_token(mock) -> None:
    route = mock.post(POINTS_URL).respond(json={"data": {"balance": {"available": 120}}})
    member = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfda")
    when = datetime(2026, 11, 22, tzinfo=UTC)
    data = await call_service("points", "query B($m: ID!) { balance(memberId: $m) { available } }",
                              {"m": member, "at": when}, operation_name="B", settings=S)
    assert data == {"balance": {"available": 120}}
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    scheme, token = request.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    assert verify_token(token, S) == Principal(PrincipalKind.SERVICE, "redemptions")
    body = orjson.loads(request.content)
    assert body == {"query": "query B($m: ID!) { balance(memberId: $m) { available } }",
                    "variables": {"m": str(member), "at": "2026-11-22T00:00:00+00:00"}, "operationName": "B"}


async def test_call_service_uses_the_configured_url_and_caller(mock) -> None:
    route = mock.post("http://members.internal:9000/graphql").respond(json={"data": {"ok": True}})
    assert await call_service("members", "{ ok }", caller="points", headers={"x-request-id": "r-1"},
                              settings=S) == {"ok": True}
    request = route.calls.last.request
    assert verify_token(request.headers["authorization"].split(" ")[1], S).subject == "points"
    assert request.headers["x-request-id"] == "r-1"
    assert orjson.loads(request.content) == {"query": "{ ok }", "variables": {}}


async def test_extra_headers_cannot_replace_the_service_credential(mock) -> None:
    route = mock.post(POINTS_URL).respond(json={"data": {}})
    await call_service("points", "{ x }", headers={"authorization": "Bearer forged"}, settings=S)
    assert route.calls.last.request.headers["authorization"] != "Bearer forged"


async def test_calls_share_the_client_and_the_token(mock) -> None:
    route = mock.post(POINTS_URL).respond(json={"data": {}})
    await asyncio.gather(*(call_service("points", "{ x }", settings=S) for _ in range(5)))
    assert len({call.request.headers["authorization"] for call in route.calls}) == 1
    assert http._client is get_http_client(S)


async def upstream_error(**kwargs) -> UpstreamError:
    with pytest.raises(UpstreamError) as info:
        await call_service("points", "{ x }", settings=S, **kwargs)
    assert info.value.code == "UPSTREAM_ERROR"
    assert info.value.extensions["service"] == "points"
    return info.value


async def test_graphql_errors_carry_the_upstream_codes(mock) -> None:
    mock.post(POINTS_URL).respond(json={"data": None, "errors": [
        {"message": "only 10 points available", "extensions": {"code": "INSUFFICIENT_POINTS"}},
        {"message": "no code here"},
    ]})
    error = await upstream_error()
    assert error.extensions["reason"] == "graphql"
    assert error.extensions["upstreamCodes"] == ["INSUFFICIENT_POINTS", "UNKNOWN"]
    assert "only 10 points available" in error.message
    # The first error's own words and extensions, for a caller that passes them on.
    assert error.extensions["upstreamMessage"] == "only 10 points available"
    assert error.extensions["upstreamExtensions"] == {"code": "INSUFFICIENT_POINTS"}


async def test_a_call_may_wait_longer_than_the_clients_timeout(mock) -> None:
    route = mock.post(POINTS_URL).respond(json={"data": {"x": 1}})
    await call_service("points", "{ x }", settings=S, timeout=42.0)
    assert route.calls.last.request.extensions["timeout"]["read"] == 42.0


async def test_partial_data_with_errors_is_an_error(mock) -> None:
    mock.post(POINTS_URL).respond(json={"data": {"x": 1, "y": None}, "errors": [
        {"message": "nope", "path": ["y"], "extensions": {"code": "FORBIDDEN"}}]})
    assert (await upstream_error()).extensions["upstreamCodes"] == ["FORBIDDEN"]


@pytest.mark.parametrize("status", [400, 401, 404, 500, 502, 503])
async def test_non_200_status(mock, status) -> None:
    mock.post(POINTS_URL).respond(status, text="upstream trouble")
    error = await upstream_error()
    assert error.extensions["reason"] == "status" and error.extensions["status"] == status
    assert str(status) in error.message


async def test_non_200_with_graphql_errors_keeps_their_codes(mock) -> None:
    mock.post(POINTS_URL).respond(400, json={"errors": [
        {"message": "too deep", "extensions": {"code": "QUERY_TOO_COMPLEX"}}]})
    error = await upstream_error()
    assert error.extensions["status"] == 400 and error.extensions["upstreamCodes"] == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize("content", [b"<html>oops</html>", b"", b"[1,2]", b'{"data": null}',
                                     b'{"data": [1]}', b'{"result": {}}'])
async def test_invalid_responses(mock, content) -> None:
    mock.post(POINTS_URL).respond(200, content=content)
    assert (await upstream_error()).extensions["reason"] == "invalid_response"


async def test_malformed_errors_member_still_fails(mock) -> None:
    mock.post(POINTS_URL).respond(json={"data": {}, "errors": {"message": "not a list"}})
    assert (await upstream_error()).extensions["reason"] == "graphql"


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (httpx.ConnectError("refused"), "unreachable"),
        (httpx.ConnectTimeout("slow connect"), "unreachable"),
        (httpx.PoolTimeout("pool full"), "unreachable"),
        (httpx.ReadTimeout("slow answer"), "timeout"),
        (httpx.WriteTimeout("slow send"), "timeout"),
        (httpx.RemoteProtocolError("peer closed"), "transport"),
        (httpx.ReadError("reset"), "transport"),
    ],
)
async def test_transport_failures(mock, exception, reason) -> None:
    mock.post(POINTS_URL).mock(side_effect=exception)
    error = await upstream_error()
    assert error.extensions["reason"] == reason
    assert isinstance(error.__cause__, type(exception))


async def test_nothing_listening_is_unreachable() -> None:
    # No mock: a real connection attempt to a closed port.
    settings = S.model_copy(update={"points_url": "http://127.0.0.1:9/graphql"})
    with pytest.raises(UpstreamError) as info:
        await call_service("points", "{ x }", settings=settings)
    assert info.value.extensions["reason"] == "unreachable"


# --- the caller's deadline -------------------------------------------------------------------------


async def test_a_call_within_a_deadline_passes_the_remainder_on_and_waits_no_longer(mock) -> None:
    from shared import deadline

    route = mock.post(POINTS_URL).respond(json={"data": {"x": 1}})
    token = deadline.begin_request(1.5)
    try:
        await call_service("points", "{ x }", settings=S, timeout=42.0)
    finally:
        deadline.end_request(token)
    request = route.calls.last.request
    assert 1000 < int(request.headers["x-request-timeout-ms"]) <= 1500
    assert request.extensions["timeout"]["read"] <= 1.5


async def test_no_call_is_sent_once_the_deadline_has_passed(mock) -> None:
    from shared import deadline
    from shared.errors import DeadlineExceeded

    route = mock.post(POINTS_URL).respond(json={"data": {"x": 1}})
    route.side_effect = AssertionError("sent after the deadline")
    token = deadline.begin_request(0)
    try:
        with pytest.raises(DeadlineExceeded) as refused:
            await call_service("points", "mutation { x }", settings=S)
    finally:
        deadline.end_request(token)
    assert refused.value.extensions["outcome"] == "NOT_APPLIED"
    assert not route.calls
    route.side_effect = None
    await call_service("points", "{ x }", settings=S)  # outside a request: no deadline, no header
    assert "x-request-timeout-ms" not in route.calls.last.request.headers
