import hashlib
import hmac

import pytest

from services.benefits.errors import SignatureRejected
from services.benefits.webhooks.signing import (
    SIGNATURE_HEADER,
    SignatureProblem,
    Verified,
    compute_signature,
    sign,
    verify,
)
from shared.errors import Unauthenticated

NOW = 1_800_000_000
OLD, NEW = "old-secret-0123456789", b"new-secret-9876543210"
BODY = b'{"event":"redemption.completed","id":"e-1"}'


def refusal(header: str | None, body: bytes | str = BODY, secrets=(OLD,), now: float = NOW, **kw) -> str:
    with pytest.raises(SignatureRejected) as caught:
        verify(header, body, secrets, now, **kw)
    assert caught.value.as_extensions()["code"] == "UNAUTHENTICATED"
    return caught.value.reason


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(OLD.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(OLD, NOW, BODY) == expected
    assert sign(BODY, [OLD], NOW) == f"t={NOW},v1={expected}"
    assert SIGNATURE_HEADER == "ABG-Signature"
    assert verify(sign(BODY, [OLD], NOW), BODY, [OLD], NOW) == Verified(NOW, 0)
    # text bodies sign as their UTF-8 bytes; a GET signs the empty body
    assert verify(sign(BODY.decode(), [OLD], NOW), BODY, [OLD], NOW).timestamp == NOW
    assert verify(sign(b"", [OLD], NOW), "", [OLD], NOW).timestamp == NOW


def test_a_missing_header_is_refused() -> None:
    for header in (None, "", "   "):
        assert refusal(header) == SignatureProblem.MISSING_HEADER


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"v1={'a' * 64}",  # no timestamp
        f"t={NOW}",  # no signature
        f"t={NOW},t={NOW},v1={'a' * 64}",
        f"t=-5,v1={'a' * 64}",
        f"t=12.5,v1={'a' * 64}",
        f"t={NOW},v1=abc",
        f"t={NOW},v1={'g' * 64}",
        f"t={NOW},=x,v1={'a' * 64}",
        f"t={NOW}," + ",".join([f"v1={'a' * 64}"] * 9),
        f"t={NOW},v1={'a' * 64}," + "x" * 3000,
    ],
)
def test_a_garbled_header_is_refused(header: str) -> None:
    assert refusal(header) == SignatureProblem.MALFORMED_HEADER


def test_stale_and_future_timestamps_are_refused_outside_the_window() -> None:
    header = sign(BODY, [OLD], NOW)
    assert verify(header, BODY, [OLD], NOW + 300).timestamp == NOW  # the window's edges are in
    assert verify(header, BODY, [OLD], NOW - 300).timestamp == NOW
    assert refusal(header, now=NOW + 301) == SignatureProblem.STALE_TIMESTAMP
    assert refusal(header, now=NOW - 301) == SignatureProblem.FUTURE_TIMESTAMP
    assert refusal(header, now=NOW + 61, tolerance=60) == SignatureProblem.STALE_TIMESTAMP
    # re-dating a captured request breaks its signature
    forged = header.replace(f"t={NOW}", f"t={NOW + 1000}")
    assert refusal(forged, now=NOW + 1000) == SignatureProblem.BAD_SIGNATURE


def test_a_wrong_signature_is_refused() -> None:
    header = sign(BODY, [OLD], NOW)
    assert refusal(header, body=BODY + b" ") == SignatureProblem.BAD_SIGNATURE
    assert refusal(header, secrets=("another-secret",)) == SignatureProblem.BAD_SIGNATURE
    assert refusal(f"t={NOW},v1={'0' * 64}") == SignatureProblem.BAD_SIGNATURE


def test_during_rotation_both_secrets_verify_and_afterwards_only_the_new_one() -> None:
    overlap = sign(BODY, [OLD, NEW], NOW)
    assert overlap.count("v1=") == 2
    # a partner that knows either secret (or both) accepts what we send during the overlap
    assert verify(overlap, BODY, [OLD], NOW) == Verified(NOW, 0)
    assert verify(overlap, BODY, [NEW], NOW) == Verified(NOW, 0)
    assert verify(overlap, BODY, [NEW, OLD], NOW) == Verified(NOW, 0)
    # a receiver holding both during the overlap accepts a request signed with the old one alone
    assert verify(sign(BODY, [OLD], NOW), BODY, [NEW, OLD], NOW) == Verified(NOW, 1)
    # once the old secret is removed, what is signed with it alone no longer verifies
    assert refusal(sign(BODY, [OLD], NOW), secrets=(NEW,)) == SignatureProblem.BAD_SIGNATURE
    assert verify(sign(BODY, [NEW], NOW), BODY, [NEW], NOW) == Verified(NOW, 0)


def test_unknown_schemes_and_spacing_are_tolerated() -> None:
    signature = compute_signature(OLD, NOW, BODY)
    header = f" t = {NOW} , v2=whatever , v1={signature.upper()} "
    assert verify(header, BODY, [OLD], NOW).timestamp == NOW


def test_a_rejection_is_an_authentication_error_with_a_stable_reason() -> None:
    with pytest.raises(Unauthenticated) as caught:
        verify(None, BODY, [OLD], NOW)
    assert caught.value.as_extensions() == {"code": "UNAUTHENTICATED", "reason": "MISSING_HEADER"}


def test_signing_and_verifying_need_a_secret() -> None:
    with pytest.raises(ValueError, match="no active secret"):
        sign(BODY, [], NOW)
    with pytest.raises(ValueError, match="no secret"):
        verify(sign(BODY, [OLD], NOW), BODY, [], NOW)
    with pytest.raises(ValueError, match="must not be empty"):
        sign(BODY, [""], NOW)
