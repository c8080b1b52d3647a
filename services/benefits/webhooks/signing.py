"""Signing what we send partners, and verifying it: one scheme for webhooks and fulfilment calls.

A partner must be able to tell that a request came from us, unchanged, and recently. We send

    ABG-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex> ...]

where each v1 is HMAC-SHA256, keyed with one of the partner's active secrets, over the bytes
`"<t>." + body` (a GET signs an empty body). While a secret is being rotated both the old and the
new one are active and we sign with each, so a partner that still knows only one verifies either
way; once the old one is retired, its signatures stop verifying.

`verify` is what a partner runs (the demo partner and our tests use it too). It refuses, each with
a stable reason: no header (`MISSING_HEADER`); a header it cannot read (`MALFORMED_HEADER`); a
timestamp more than `tolerance` seconds old (`STALE_TIMESTAMP`, so a captured request cannot be
replayed later) or ahead (`FUTURE_TIMESTAMP`); and no v1 that matches an active secret
(`BAD_SIGNATURE`). Signatures are compared in constant time, every candidate against every
secret, so timing tells an attacker nothing about how close a guess was. Unknown schemes
(`v2=` …) are ignored, so a newer scheme can be added alongside.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.benefits.errors import SignatureRejected

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "SignatureProblem",
    "Verified",
    "compute_signature",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "ABG-Signature"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock
_MAX_HEADER = 2048
_MAX_SIGNATURES = 8
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")

Secret = str | bytes


class SignatureProblem(StrEnum):
    MISSING_HEADER = "MISSING_HEADER"
    MALFORMED_HEADER = "MALFORMED_HEADER"
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"
    BAD_SIGNATURE = "BAD_SIGNATURE"


@dataclass(frozen=True, slots=True)
class Verified:
    timestamp: int
    secret_index: int  # which of the receiver's secrets matched (tells when an old one is unused)


def _key(secret: Secret) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("a signing secret must not be empty")
    return key


def _message(timestamp: int, body: bytes | str) -> bytes:
    return f"{timestamp}.".encode() + (body.encode() if isinstance(body, str) else body)


def compute_signature(secret: Secret, timestamp: int, body: bytes | str) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>." + body` under `secret`."""
    return hmac.new(_key(secret), _message(timestamp, body), hashlib.sha256).hexdigest()


def sign(body: bytes | str, secrets: Sequence[Secret], timestamp: int | None = None) -> str:
    """The `ABG-Signature` header value for `body`: one v1 per active secret."""
    if not secrets:
        raise ValueError("there is no active secret to sign with")
    moment = int(time.time()) if timestamp is None else timestamp
    if moment < 0:
        raise ValueError("a signature timestamp is a non-negative number of unix seconds")
    signatures = ",".join(f"v1={compute_signature(secret, moment, body)}" for secret in secrets)
    return f"t={moment},{signatures}"


def _parse(header: str | None) -> tuple[int, list[str]]:
    if header is None or not header.strip():
        raise SignatureRejected(f"the {SIGNATURE_HEADER} header is missing", reason=SignatureProblem.MISSING_HEADER)

    def malformed(why: str) -> SignatureRejected:
        return SignatureRejected(f"the {SIGNATURE_HEADER} header is malformed: {why}",
                                 reason=SignatureProblem.MALFORMED_HEADER)

    if len(header) > _MAX_HEADER:
        raise malformed("too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name:
            raise malformed("each part is name=value")
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise malformed("one t=<unix seconds> is needed")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX_SHA256.fullmatch(value.lower()):
                raise malformed("a v1 signature is 64 hex digits")
            signatures.append(value.lower())
    if timestamp is None:
        raise malformed("no t=<unix seconds>")
    if not signatures:
        raise malformed("no v1 signature")
    if len(signatures) > _MAX_SIGNATURES:
        raise malformed(f"more than {_MAX_SIGNATURES} signatures")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes | str,
    secrets: Sequence[Secret],
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> Verified:
    """Check an `ABG-Signature` header against the receiver's active `secrets` at time `now`.

    Raises `SignatureRejected` (reason: a `SignatureProblem`); `ValueError` when the receiver has
    no secret at all (its configuration, not the sender, is at fault)."""
    if not secrets:
        raise ValueError("there is no secret to verify with")
    timestamp, signatures = _parse(header)
    if now - timestamp > tolerance:
        raise SignatureRejected(f"the signature is older than {tolerance} seconds",
                                reason=SignatureProblem.STALE_TIMESTAMP)
    if timestamp - now > tolerance:
        raise SignatureRejected(f"the signature is dated more than {tolerance} seconds ahead",
                                reason=SignatureProblem.FUTURE_TIMESTAMP)
    message = _message(timestamp, body)
    matched = -1
    for index, secret in enumerate(secrets):
        expected = hmac.new(_key(secret), message, hashlib.sha256).hexdigest().encode()
        for candidate in signatures:
            # no early exit: the time taken does not depend on which comparison matched
            if hmac.compare_digest(expected, candidate.encode()) and matched < 0:
                matched = index
    if matched < 0:
        raise SignatureRejected("the signature does not match", reason=SignatureProblem.BAD_SIGNATURE)
    return Verified(timestamp, matched)
