"""Bearer-token verification with the project's shared auth, as a request hook.

Runs before planning and execution: a request whose `Authorization` header carries an expired,
malformed or wrongly signed token is answered with 401 and a GraphQL error (code UNAUTHENTICATED),
so no subgraph is called. No header means an anonymous caller, which passes; the header itself
is forwarded to subgraphs as before (see `ServerSettings.forward_headers`).
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from shared.auth.tokens import principal_from_authorization_header
from shared.errors import Unauthenticated

from ..execution.pipeline import GraphQLRequest

log = logging.getLogger("gateway.http")


async def verify_bearer_token(request: Request, graphql_request: GraphQLRequest) -> Response | None:
    try:
        principal = principal_from_authorization_header(request.headers.get("authorization"))
    except Unauthenticated as exc:
        request_id = graphql_request.request_id or "-"
        log.info("request %s rejected: %s", request_id, exc)
        body = {
            "errors": [
                {"message": f"Unauthenticated: {exc}", "extensions": {"code": "UNAUTHENTICATED", "requestId": request_id}}
            ]
        }
        return Response(
            orjson.dumps(body),
            status_code=401,
            media_type="application/json",
            headers={"www-authenticate": 'Bearer error="invalid_token"'},
        )
    request.state.principal = principal
    return None


__all__ = ["verify_bearer_token"]
