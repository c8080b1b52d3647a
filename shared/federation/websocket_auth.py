"""Who is asking over a GraphQL WebSocket (graphql-transport-ws).

The upgrade request's `Authorization` header is verified exactly as an HTTP request's (a gateway
forwards the client's token there); a bad token refuses the upgrade with the usual typed 401 body
where the server can send one (else the handshake is closed, which clients see as a 403). Browsers
cannot set headers on a WebSocket, so when the upgrade carried none, the `connection_init` payload
may carry the token instead: `{"headers": {"authorization": "Bearer …"}}` or
`{"authorization": "Bearer …"}` (names in any case). A bad one there closes the socket with 4403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from shared.errors import DomainError

HTTP_DENIAL = "websocket.http.response"  # the ASGI extension for answering an upgrade with HTTP


def authorization_in(params: Mapping[str, Any] | None) -> str | None:
    """The `Authorization` value a `connection_init` payload carries, if any."""
    if not isinstance(params, Mapping):
        return None
    headers = params.get("headers")
    for source in (headers if isinstance(headers, Mapping) else {}, params):
        for name, value in source.items():
            if isinstance(name, str) and name.lower() == "authorization" and isinstance(value, str):
                return value
    return None


def denial_payload(error: DomainError) -> dict[str, Any]:
    return {"message": error.message, "extensions": error.as_extensions()}


async def deny_upgrade(scope: Scope, receive: Receive, send: Send, error: DomainError, extra_headers: list[tuple[bytes, bytes]]) -> None:
    """Refuses a WebSocket upgrade before it is accepted: 401 with the typed error as JSON."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client went away first
    if HTTP_DENIAL not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008, "reason": error.message[:120]})
        return
    body = orjson.dumps({"data": None, "errors": [denial_payload(error)]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"www-authenticate", b'Bearer error="invalid_token"'), *extra_headers]
    await send({"type": "websocket.http.response.start", "status": 401, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
