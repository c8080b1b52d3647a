"""POST /oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for partners.

The client authenticates with its API key as the client secret: either in the form body
(`client_secret`, with an optional `client_id` = the partner id) or with HTTP Basic
(`client_id` = the partner id, password = the key; RFC 6749 §2.3.1), never both. Answers
`{access_token, token_type: "Bearer", expires_in}`, or an error per §5.2: `invalid_request` (400),
`unsupported_grant_type` (400), `invalid_client` (401); and 429 after too many failed attempts.
The route authenticates its callers itself, so the app mounts it as a public route.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.benefits.credentials import service
from services.benefits.errors import RateLimited

PATH = "/oauth/token"
MAX_BODY = 4096
_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class _Refused(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, headers or {}


def _json(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers={**_NO_STORE, **(headers or {})})


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise _Refused(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    if len(body) > MAX_BODY:
        raise _Refused(400, "invalid_request", f"the body is over {MAX_BODY} bytes")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise _Refused(400, "invalid_request", "the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # §3.2: parameters MUST NOT be included more than once
            raise _Refused(400, "invalid_request", f"{name} is given more than once")
        form[name] = value
    return form


def _basic(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _Refused(401, "invalid_client", "authenticate with HTTP Basic or the form's client_secret",
                       {"www-authenticate": 'Basic realm="partners"'})
    try:
        user, colon, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        user, colon, password = "", "", ""
    if not colon:
        raise _Refused(401, "invalid_client", "malformed HTTP Basic credentials", {"www-authenticate": 'Basic realm="partners"'})
    return unquote_plus(user), unquote_plus(password)  # §2.3.1: form-encoded before Basic


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None, bool]:
    """(key, client_id, whether Basic was used)."""
    basic = _basic(request.headers.get("authorization"))
    if basic is not None:
        if "client_secret" in form:
            raise _Refused(400, "invalid_request", "use one way to authenticate: HTTP Basic or client_secret")
        if "client_id" in form and form["client_id"] != basic[0]:
            raise _Refused(400, "invalid_request", "client_id differs from the HTTP Basic user")
        return basic[1], basic[0], True
    if not form.get("client_secret"):
        raise _Refused(401, "invalid_client", "client authentication is required (HTTP Basic or client_secret)",
                       {"www-authenticate": 'Basic realm="partners"'})
    return form["client_secret"], form.get("client_id") or None, False


async def token(request: Request) -> Response:
    try:
        form = _form(await request.body(), request.headers.get("content-type", ""))
        grant = form.get("grant_type")
        if not grant:
            raise _Refused(400, "invalid_request", "grant_type is required")
        if grant != "client_credentials":
            raise _Refused(400, "unsupported_grant_type", "only the client_credentials grant is supported")
        key, client_id, basic = _credentials(request, form)
        try:
            issued = await service.exchange_api_key(request.app.state.service.db, key, client_id=client_id)
        except service.InvalidClient as error:
            challenge = {"www-authenticate": 'Basic realm="partners"'} if basic else None
            raise _Refused(401, "invalid_client", error.message, challenge) from None
        except RateLimited as error:
            retry = str(error.extensions.get("retryAfter", 60))
            raise _Refused(429, "invalid_client", error.message, {"retry-after": retry}) from None
    except _Refused as refused:
        return _json(refused.status, {"error": refused.error, "error_description": refused.description}, refused.headers)
    return _json(200, {"access_token": issued.access_token, "token_type": issued.token_type, "expires_in": issued.expires_in})


def route() -> Route:
    return Route(PATH, token, methods=["POST"], name="benefits:oauth-token")
