"""The bulk upload: `POST /benefits/{id}/codes`, text/plain, one code per line, streamed.

    curl -X POST http://localhost:<port>/benefits/<benefit id>/codes \\
         -H "Authorization: Bearer <partner token>" -H "Idempotency-Key: pool-2026-12" \\
         -H "Content-Type: text/plain" --data-binary @codes.txt

The body is read chunk by chunk as it arrives and stored in batches, so 100,000 codes (or a
million) never sit in memory at once. The subgraph's own middleware caps every body at
`max_body_bytes` (a GraphQL request's size), so this path is served in front of it by `BulkUploads`
with its own cap, `max_upload_bytes`, and its own authentication. Answers are JSON: the upload
(200; the same answer for a replay with the same key and content), or `{"errors": [...]}` with
the typed error's code and an HTTP status to match.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from services.benefits.codes import ingest
from services.benefits.codes.answers import UploadAnswer
from services.benefits.config import get_benefits_settings
from shared.auth.tokens import principal_from_authorization_header
from shared.errors import DomainError, InvalidInput, PayloadTooLarge
from shared.federation.middleware import error_body
from shared.request_id import HEADER, pick_request_id, request_id_var

_PATH = re.compile(r"/benefits/([^/]+)/codes/?")
_STATUS = {
    "BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409,
    "IDEMPOTENCY_KEY_REUSED": 409, "PAYLOAD_TOO_LARGE": 413,
}


class BulkUploads:
    """ASGI wrapper: the bulk upload path here, everything else to the subgraph app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # `state`, `router`, … of the subgraph app
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = pick_request_id(headers.get(HEADER))
        token = request_id_var.set(request_id)
        try:
            if scope["method"] != "POST":
                status, body = 405, error_body(DomainError("only POST uploads codes here"))
            else:
                status, body = await _upload(self.app, match.group(1), headers, receive)
        finally:
            request_id_var.reset(token)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (HEADER.encode(), request_id.encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


async def _upload(app: Any, raw_id: str, headers: Headers, receive: Receive) -> tuple[int, bytes]:
    settings = get_benefits_settings()
    try:
        principal = principal_from_authorization_header(headers.get("authorization"))
        try:
            benefit_id = uuid.UUID(raw_id)
        except ValueError:
            raise InvalidInput("not a benefit id", field="benefitId") from None
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "text/plain":
            raise InvalidInput("send the codes as text/plain, one code per line", field="Content-Type")
        key = headers.get("idempotency-key")
        if not key:
            raise InvalidInput("an Idempotency-Key header is required", field="Idempotency-Key")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_upload_bytes):
            raise _too_large(settings.max_upload_bytes)
        answer = await ingest.upload_stream(app.state.service.db, principal, benefit_id=benefit_id,
                                            chunks=_body(receive, settings.max_upload_bytes), idempotency_key=key)
    except DomainError as error:
        status = 401 if error.code == "UNAUTHENTICATED" else _STATUS.get(error.code, 400)
        return status, error_body(error)
    return 200, orjson.dumps(answer_json(answer))


async def _body(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client went away before the upload ended", field="body")
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise _too_large(limit)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"an upload is at most {limit} bytes; split it into several uploads", limit=limit)


def answer_json(answer: UploadAnswer) -> dict[str, Any]:
    return {
        "id": str(answer.id), "benefitId": str(answer.benefit_id), "idempotencyKey": answer.key, "accepted": answer.accepted,
        "rejected": answer.rejected, "createdAt": answer.created_at.isoformat(), "createdBy": answer.created_by,
        "errors": [e.model_dump(exclude_none=True) for e in answer.errors],
    }
