import orjson
import pytest

from services.benefits.delivery.client import RetryPolicy
from services.benefits.delivery.contract import (
    FulfilmentEndpoint,
    RechargeRequest,
    read_recharge,
    read_revoke,
    read_status,
)
from services.benefits.delivery.outcomes import AttemptOutcome as O
from shared.errors import InvalidInput


def body(value: object) -> bytes:
    return orjson.dumps(value)


SUCCEEDED = body({"status": "SUCCEEDED", "reference": "VP-1", "extra": "ignored"})
REFUSED = body({"status": "REFUSED", "reason": "ACCOUNT_NOT_FOUND", "message": "no such account"})


@pytest.mark.parametrize(
    ("status", "content", "outcome", "error"),
    [
        (200, SUCCEEDED, O.SUCCEEDED, None),
        (422, REFUSED, O.REFUSED, None),
        (422, body({"status": "REFUSED", "reason": "X"}), O.REFUSED, None),
        (200, REFUSED, O.MALFORMED, "unexpected_body"),  # a refusal must come as a 422
        (422, SUCCEEDED, O.MALFORMED, "unexpected_body"),
        (200, body({"status": "SUCCEEDED"}), O.MALFORMED, "unexpected_body"),
        (200, body({"status": "SUCCEEDED", "reference": ""}), O.MALFORMED, "unexpected_body"),
        (200, body({"status": "SUCCEEDED", "reference": 12}), O.MALFORMED, "unexpected_body"),
        (200, body({"status": "SUCCEEDED", "reference": "x" * 257}), O.MALFORMED, "unexpected_body"),
        # a reference is kept on the reservation (200 characters): a longer one is outside the contract
        (200, body({"status": "SUCCEEDED", "reference": "x" * 201}), O.MALFORMED, "unexpected_body"),
        (200, body({"status": "SUCCEEDED", "reference": "x" * 200}), O.SUCCEEDED, None),
        (200, body({"status": ["SUCCEEDED"], "reference": "VP"}), O.MALFORMED, "unexpected_body"),
        (200, body(["SUCCEEDED"]), O.MALFORMED, "invalid_json"),
        (200, b"OK", O.MALFORMED, "invalid_json"),
        (200, b"", O.MALFORMED, "invalid_json"),
        (422, body({"status": "REFUSED"}), O.MALFORMED, "unexpected_body"),
        (201, SUCCEEDED, O.MALFORMED, "unexpected_status"),
        (302, b"", O.MALFORMED, "unexpected_status"),
        (400, b"", O.REJECTED, "unexpected_status"),
        (401, b"", O.REJECTED, "unexpected_status"),
        (409, b"", O.REJECTED, "unexpected_status"),
        (408, b"", O.UNANSWERED, None),
        (429, b"", O.UNANSWERED, None),
        (500, SUCCEEDED, O.UNANSWERED, None),
        (503, b"", O.UNANSWERED, None),
    ],
)
def test_reading_recharge_answers(status: int, content: bytes, outcome: O, error: str | None) -> None:
    reading = read_recharge(status, content)
    assert (reading.outcome, reading.error) == (outcome, error)


def test_what_a_reading_carries() -> None:
    assert read_recharge(200, SUCCEEDED).reference == "VP-1"
    refused = read_recharge(422, REFUSED)
    assert (refused.reason, refused.message, refused.detail) == ("ACCOUNT_NOT_FOUND", "no such account",
                                                                 "ACCOUNT_NOT_FOUND")
    long = read_recharge(422, body({"status": "REFUSED", "reason": "R", "message": "m" * 5000}))
    assert len(long.message or "") == 1000


@pytest.mark.parametrize(
    ("status", "content", "outcome"),
    [
        (200, SUCCEEDED, O.SUCCEEDED),
        (200, body({"status": "REFUSED", "reason": "ACCOUNT_NOT_FOUND"}), O.REFUSED),
        (200, body({"status": "PENDING"}), O.PENDING),
        (404, body({"status": "UNKNOWN"}), O.NOT_RECEIVED),
        (404, b"<html>Not Found</html>", O.MALFORMED),  # not the contract's "never received"
        (404, body({"status": "PENDING"}), O.MALFORMED),
        (200, body({"status": "UNKNOWN"}), O.MALFORMED),
        (401, b"", O.REJECTED),
        (504, b"", O.UNANSWERED),
    ],
)
def test_reading_status_answers(status: int, content: bytes, outcome: O) -> None:
    assert read_status(status, content).outcome is outcome


def test_reading_revoke_answers() -> None:
    assert read_revoke(200, body({"status": "REVOKED"})).outcome is O.REVOKED
    assert read_revoke(422, REFUSED).reason == "ACCOUNT_NOT_FOUND"
    for status in (405, 501):
        assert read_revoke(status, b"").reason == "REVOKE_NOT_SUPPORTED"
    assert read_revoke(200, SUCCEEDED).outcome is O.MALFORMED
    assert read_revoke(502, b"").outcome is O.UNANSWERED


def test_requests_are_checked() -> None:
    good = {"idempotency_key": "k-1", "account": "demo-a", "duration_days": 30, "benefit_id": "b", "member_ref": "m"}
    assert orjson.loads(RechargeRequest(**good).body())["durationDays"] == 30
    for field, value in [("idempotency_key", ""), ("idempotency_key", "a/b"), ("idempotency_key", "k" * 129),
                         ("account", ""), ("account", "a\nb"), ("benefit_id", "x" * 129), ("member_ref", 5),
                         ("duration_days", 0), ("duration_days", 3661), ("duration_days", True),
                         ("duration_days", 1.5)]:
        with pytest.raises(InvalidInput):
            RechargeRequest(**{**good, field: value})


def test_endpoints_are_checked_and_keys_escaped() -> None:
    endpoint = FulfilmentEndpoint("http://127.0.0.1:4010/", ("s",))
    assert endpoint.recharges_url() == "http://127.0.0.1:4010/recharges"
    assert endpoint.recharge_url("a:b~c") == "http://127.0.0.1:4010/recharges/a%3Ab~c"
    assert endpoint.revoke_url("k") == "http://127.0.0.1:4010/recharges/k/revoke"
    for url, secrets in [("ftp://x/", ("s",)), ("https:///path", ("s",)), ("https://x/?q=1", ("s",)),
                         ("https://x/", ()), ("https://x/", ("",))]:
        with pytest.raises(InvalidInput):
            FulfilmentEndpoint(url, secrets)


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3)
    assert [policy.delay(n, 0.0) for n in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert [policy.delay(n, 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    for bad in ({"max_attempts": 0}, {"request_timeout": 0}, {"max_total_seconds": -1}):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)
