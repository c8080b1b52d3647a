"""A DEMO video platform: a stand-in partner that implements the direct-recharge contract.

THIS IS NOT A REAL VIDEO PLATFORM. It exists so that a local run (and the tests) can deliver video
memberships end to end without a partner: it keeps recharges in memory (they vanish when it
stops), treats any account named `demo-…` as existing and refuses every other one with
`ACCOUNT_NOT_FOUND`, and labels every answer as a demo (`"demo": true` and an `ABG-Demo` header).

It implements services/benefits/delivery/CONTRACT.md: signed requests (checked with the same
signing module partners use), one recharge per idempotency key, replays answered with the first
answer, the status lookup and revocation. To rehearse failures it can be made slow or flaky:

    ABG_DEMO_VIDEO_SECRET             signing secret(s), comma-separated during a rotation
                                      (default: the demo StreamBox partner's development
                                      fulfilment secret, announced at start-up)
    ABG_DEMO_VIDEO_HOST / _PORT       where to listen (127.0.0.1:4010)
    ABG_DEMO_VIDEO_DELAY_MS           wait this long before answering anything (0)
    ABG_DEMO_VIDEO_FAILURE_RATE       share of recharges answered 503 without doing anything (0)
    ABG_DEMO_VIDEO_LOST_ANSWER_RATE   share of recharges done, then answered 503, as when an
                                      answer is lost on the way back (0)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.benefits.delivery.demo import DEMO_FULFILMENT_SECRET
from services.benefits.errors import SignatureRejected
from services.benefits.webhooks.signing import SIGNATURE_HEADER, verify

__all__ = ["BANNER", "DEFAULT_SECRET", "DemoSettings", "DemoVideoPlatform", "create_app", "main"]

BANNER = "ABG DEMO video platform: a stand-in partner for local runs, not a real video platform"
# The demo StreamBox partner's fulfilment secret in development (services/benefits/seed.py).
DEFAULT_SECRET = DEMO_FULFILMENT_SECRET
DEFAULT_PORT = 4010
_DEMO_ACCOUNT = re.compile(r"demo-[A-Za-z0-9._-]{1,60}")
_KEY = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
_MAX_BODY = 16 * 1024
_TEXT_FIELDS = ("account", "benefitId", "memberRef")


@dataclass(frozen=True, slots=True)
class DemoSettings:
    secrets: tuple[str, ...] = (DEFAULT_SECRET,)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    delay_seconds: float = 0.0
    failure_rate: float = 0.0
    lost_answer_rate: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DemoSettings:
        env = os.environ if environ is None else environ

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low:g} and {high:g}, not {raw}")
            return value

        secrets = tuple(s.strip() for s in env.get("ABG_DEMO_VIDEO_SECRET", DEFAULT_SECRET).split(",") if s.strip())
        if not secrets:
            raise ValueError("ABG_DEMO_VIDEO_SECRET must hold at least one secret")
        return cls(
            secrets=secrets,
            host=env.get("ABG_DEMO_VIDEO_HOST", "127.0.0.1"),
            port=int(number("ABG_DEMO_VIDEO_PORT", DEFAULT_PORT, 0, 65535)),
            delay_seconds=number("ABG_DEMO_VIDEO_DELAY_MS", 0, 0, 600_000) / 1000,
            failure_rate=number("ABG_DEMO_VIDEO_FAILURE_RATE", 0, 0, 1),
            lost_answer_rate=number("ABG_DEMO_VIDEO_LOST_ANSWER_RATE", 0, 0, 1),
        )


@dataclass(slots=True)
class _Recharge:
    fingerprint: str | None  # of the request body; None for a key revoked before it arrived
    status: str  # SUCCEEDED, REFUSED or REVOKED
    reference: str | None = None
    reason: str | None = None
    message: str | None = None

    def answer(self) -> tuple[int, dict[str, Any]]:
        """What a recharge (or a replay of it) answers."""
        if self.status == "SUCCEEDED":
            return 200, {"status": "SUCCEEDED", "reference": self.reference}
        if self.status == "REVOKED":
            return 422, {"status": "REFUSED", "reason": "REVOKED", "message": "this recharge was revoked"}
        return 422, {"status": "REFUSED", "reason": self.reason, "message": self.message}


@dataclass
class DemoVideoPlatform:
    """The platform's state: recharges by idempotency key, in memory only."""

    settings: DemoSettings = field(default_factory=DemoSettings)
    clock: Callable[[], float] = time.time
    chance: Callable[[], float] = random.random
    recharges: dict[str, _Recharge] = field(default_factory=dict)

    def recharge(self, key: str, account: str, fingerprint: str) -> tuple[int, dict[str, Any]]:
        existing = self.recharges.get(key)
        if existing is not None:
            if existing.fingerprint not in (None, fingerprint):
                return 409, {"status": "CONFLICT", "message": "this key was used with another request"}
            return existing.answer()
        if _DEMO_ACCOUNT.fullmatch(account):
            record = _Recharge(fingerprint, "SUCCEEDED", reference=f"DEMO-VP-{uuid.uuid4().hex[:12].upper()}")
        else:
            record = _Recharge(fingerprint, "REFUSED", reason="ACCOUNT_NOT_FOUND",
                               message="the demo platform only knows accounts named demo-…")
        self.recharges[key] = record
        return record.answer()

    def status(self, key: str) -> tuple[int, dict[str, Any]]:
        record = self.recharges.get(key)
        if record is None or record.fingerprint is None:  # a barred key was never received
            return 404, {"status": "UNKNOWN"}
        return 200, record.answer()[1]

    def revoke(self, key: str) -> tuple[int, dict[str, Any]]:
        record = self.recharges.setdefault(key, _Recharge(None, "REVOKED"))
        record.status = "REVOKED"
        return 200, {"status": "REVOKED"}


def _json(status: int, payload: Mapping[str, Any]) -> Response:
    return Response(orjson.dumps({**payload, "demo": True}), status_code=status, media_type="application/json",
                    headers={"ABG-Demo": "true"})


def _fingerprint(payload: Mapping[str, Any]) -> str:
    fields = {name: payload[name] for name in ("idempotencyKey", *_TEXT_FIELDS, "durationDays")}
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _bad_recharge(payload: Any) -> str | None:
    """Why a recharge body breaks the contract, or None."""
    if not isinstance(payload, dict):
        return "the body is a JSON object"
    key = payload.get("idempotencyKey")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return "idempotencyKey is 1 to 128 of A-Z a-z 0-9 . _ ~ : -"
    for name in _TEXT_FIELDS:
        value = payload.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= 128:
            return f"{name} is 1 to 128 characters"
    days = payload.get("durationDays")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
        return "durationDays is a whole number from 1 to 3660"
    return None


def create_app(settings: DemoSettings | None = None, *, platform: DemoVideoPlatform | None = None) -> Starlette:
    """The demo platform's ASGI app (state in `app.state.platform`)."""
    state = platform or DemoVideoPlatform(settings or DemoSettings())
    config = state.settings

    async def checked(request: Request, body: bytes) -> Response | None:
        """Refuse a request that is unsigned or badly signed; then play slow if asked to."""
        try:
            verify(request.headers.get(SIGNATURE_HEADER), body, config.secrets, now=state.clock())
        except SignatureRejected as rejected:
            return _json(401, {"status": "UNAUTHORIZED", "reason": rejected.reason, "message": rejected.message})
        if config.delay_seconds:
            await asyncio.sleep(config.delay_seconds)
        return None

    async def home(request: Request) -> Response:
        return _json(200, {"name": "ABG demo video platform", "notice": BANNER, "recharges": len(state.recharges)})

    async def recharge(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > _MAX_BODY:
            return _json(413, {"status": "BAD_REQUEST", "message": "the body is too large"})
        body = await request.body()
        if refused := await checked(request, body):
            return refused
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _json(400, {"status": "BAD_REQUEST", "message": "the body is not JSON"})
        if problem := _bad_recharge(payload):
            return _json(400, {"status": "BAD_REQUEST", "message": problem})
        if state.chance() < config.failure_rate:
            return _json(503, {"status": "UNAVAILABLE", "message": "demo flakiness: nothing was done"})
        status, answer = state.recharge(payload["idempotencyKey"], payload["account"], _fingerprint(payload))
        if state.chance() < config.lost_answer_rate:
            return _json(503, {"status": "UNAVAILABLE", "message": "demo flakiness: done, but this answer is lost"})
        return _json(status, answer)

    async def lookup(request: Request) -> Response:
        if refused := await checked(request, await request.body()):
            return refused
        return _json(*state.status(request.path_params["key"]))

    async def revoke(request: Request) -> Response:
        if refused := await checked(request, await request.body()):
            return refused
        return _json(*state.revoke(request.path_params["key"]))

    app = Starlette(routes=[
        Route("/", home),
        Route("/recharges", recharge, methods=["POST"]),
        Route("/recharges/{key}", lookup, methods=["GET"]),
        Route("/recharges/{key}/revoke", revoke, methods=["POST"]),
    ])
    app.state.platform = state
    return app


def main() -> None:
    """Serve the demo platform with uvicorn on ABG_DEMO_VIDEO_HOST:ABG_DEMO_VIDEO_PORT."""
    import uvicorn

    if os.environ.get("ABG_ENV", "").strip().lower() == "production":
        sys.exit("the demo video platform does not run when ABG_ENV=production (it is a demo, never a partner)")
    settings = DemoSettings.from_env()
    print(f"{BANNER}\nlistening on http://{settings.host}:{settings.port}", file=sys.stderr)
    if DEFAULT_SECRET in settings.secrets:
        print("signing secret: the development default (set ABG_DEMO_VIDEO_SECRET to change it)", file=sys.stderr)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
