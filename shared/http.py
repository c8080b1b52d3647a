"""One pooled HTTP client per process, and GraphQL calls from one service to another.

Creating an `httpx.AsyncClient` costs tens of milliseconds, mostly loading the CA bundle for an SSL
context; a client per request also loses keep-alive. So each process shares one client, created
lazily inside the running event loop (connections belong to a loop). Calls between services are
usually plain HTTP on an internal network, so the TLS side (and its CA bundle) is only built when
an https URL is first used.

Calls between services carry the trace context (W3C `traceparent`): with tracing on, each call is a
client span; off, the caller's own trace headers are passed on. Other requests made with the client
(partners' APIs) carry none: a trace id is nothing for outsiders.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from shared import deadline
from shared.auth.tokens import service_token
from shared.errors import UpstreamError
from shared.settings import Settings, get_settings
from shared.telemetry import outgoing_trace_headers
from shared.telemetry.client import graphql_client_span, record_status

_client: httpx.AsyncClient | None = None
_client_loop: asyncio.AbstractEventLoop | None = None


class _LazyTLSTransport(httpx.AsyncBaseTransport):
    """A verifying HTTPS transport, built on its first request rather than with the client."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(verify=True, limits=self._limits, trust_env=True)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


def _new_client(settings: Settings) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_connections,  # bursts should not churn sockets
        keepalive_expiry=30.0,
    )
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=min(5.0, settings.http_timeout_seconds))
    # The plain-HTTP transport never does TLS; give it a context with no trust anchors, which is
    # cheap to make and fails closed should an https request ever reach it.
    plain = httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), limits=limits)
    return httpx.AsyncClient(
        transport=plain,
        mounts={"https://": _LazyTLSTransport(limits)},
        timeout=timeout,
        # Service calls go straight to the other service: no proxy or netrc from the environment.
        trust_env=False,
        headers={"user-agent": "alliance-benefits-graph"},
    )


def get_http_client(settings: Settings | None = None) -> httpx.AsyncClient:
    """The process's shared client. Call it from async code; never close what it returns."""
    global _client, _client_loop
    loop = asyncio.get_running_loop()  # a RuntimeError outside a loop is the right answer
    if _client is None or _client.is_closed or _client_loop is not loop:
        # A client from another (finished) loop cannot be reused: its sockets belong to that loop.
        _client, _client_loop = _new_client(settings or get_settings()), loop
    return _client


async def aclose_http_client() -> None:
    """Close the shared client (app shutdown); the next `get_http_client()` makes a new one."""
    global _client, _client_loop
    client, _client, _client_loop = _client, None, None
    if client is not None and not client.is_closed:
        await client.aclose()


async def call_service(
    service: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    operation_name: str | None = None,
    caller: str | None = None,
    headers: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """POST a GraphQL operation to `service` with this process's service token; return `data`.

    Raises `UpstreamError` whose `extensions["reason"]` is one of
      - "unreachable": the request was not sent (connect failure, no free connection), safe to retry;
      - "timeout" / "transport": sent, but the outcome is unknown: retry only with the same
        idempotency key;
      - "status": an HTTP status other than 200;
      - "graphql": the service answered with errors (even alongside partial data);
        `extensions["upstreamCodes"]` lists their codes, and `upstreamMessage` and
        `upstreamExtensions` are the first error's (what a caller tells its own caller);
      - "invalid_response": not a GraphQL response.
    `timeout` (seconds) replaces the client's for this call, for operations known to be slow.
    Within a request that has a deadline, the call waits no longer than what remains of it and
    passes the remainder on (`x-request-timeout-ms`); none left raises `DeadlineExceeded` unsent.
    """
    settings = settings or get_settings()
    left = deadline.remaining()
    if left is not None:
        if left <= 0:
            raise deadline.exceeded(f"before calling {service}")
        timeout = min(left, timeout if timeout is not None else settings.http_timeout_seconds)
    if query.lstrip().startswith("mutation"):
        deadline.note_effects()  # from here on, the other service may have changed something
    body: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
    if operation_name:
        body["operationName"] = operation_name
    client = get_http_client(settings)
    url = settings.url_of(service)

    def fail(message: str, reason: str, **extra: Any) -> UpstreamError:
        return UpstreamError(message, service=service, reason=reason, **extra)

    with graphql_client_span(f"call {service}", url, query, operation_name) as span:
        request_headers = {
            "content-type": "application/json",
            "accept": "application/graphql-response+json, application/json",
            **(headers or {}),
            **deadline.outgoing_header(),
            **outgoing_trace_headers(),  # inside the span: the callee's span becomes its child
            # Last, so no extra header can replace the service credential.
            "authorization": f"Bearer {service_token(caller or settings.service_name, settings)}",
        }
        try:
            response = await client.post(
                url, content=orjson.dumps(body), headers=request_headers,
                **({"timeout": httpx.Timeout(timeout, connect=min(5.0, timeout))} if timeout is not None else {}),
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise fail(f"service {service} is unreachable ({type(exc).__name__})", "unreachable") from exc
        except httpx.TimeoutException as exc:
            raise fail(f"service {service} did not answer in time", "timeout") from exc
        except httpx.TransportError as exc:
            raise fail(f"service {service} failed mid-request ({type(exc).__name__})", "transport") from exc
        if span is not None:
            record_status(span, response.status_code)

    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    codes = _codes(errors)

    if response.status_code != 200:
        extra = {"upstreamCodes": codes} if codes else {}
        raise fail(f"service {service} answered HTTP {response.status_code}", "status",
                   status=response.status_code, **extra)
    if errors:
        first = errors[0] if isinstance(errors, list) else None
        message = first.get("message") if isinstance(first, dict) else None
        first_extensions = first.get("extensions") if isinstance(first, dict) else None
        raise fail(f"service {service} answered with errors: {message or 'unknown error'}", "graphql",
                   upstreamCodes=codes, upstreamMessage=message if isinstance(message, str) else None,
                   upstreamExtensions=first_extensions if isinstance(first_extensions, dict) else {})
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise fail(f"service {service} did not answer with GraphQL data", "invalid_response")
    return data


def _codes(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    codes = []
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) else "UNKNOWN")
    return codes
