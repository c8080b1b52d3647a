"""Bearer-token verification with the project's shared auth, as a request hook.

Runs before planning and execution: a request whose `Authorization` header carries an expired,
malformed or wrongly signed token is answered with 401 and a GraphQL error (code UNAUTHENTICATED),
so no subgraph is called. No header means an anonymous caller, which passes; the header itself
is forwarded to subgraphs as before (see `ServerSettings.forward_headers`).

The verified principal also decides what the supergraph's `@authenticated`, `@requiresScopes` and
`@policy` let the caller see (`planning/authorization.py`). Our tokens carry a kind and, for
staff, roles, not OAuth scopes; `scopes_of` says which scopes each one holds.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import principal_from_authorization_header
from shared.errors import Unauthenticated

from ..execution.pipeline import GraphQLRequest
from ..planning.authorization import Caller

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
    graphql_request.caller = caller_of(principal)
    return None


def scopes_of(principal: Principal) -> frozenset[str]:
    """The scopes a verified token holds: its kind (`member`, `partner`, `staff`, `service`), each
    staff role (`operator`, `customer_service`), and `service:<name>` for a service. So
    `@requiresScopes(scopes: [["operator"], ["service:points"]])` admits operators and the points
    service. Anonymous callers hold none."""
    if principal.is_anonymous:
        return frozenset()
    scopes = {principal.kind.value, *principal.roles}
    if principal.kind is PrincipalKind.SERVICE:
        scopes.add(f"service:{principal.subject}")
    return frozenset(scopes)


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.is_authenticated, scopes_of(principal), principal)


__all__ = ["caller_of", "scopes_of", "verify_bearer_token"]
