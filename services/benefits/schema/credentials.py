"""Root fields of partner credentials: API keys, and exchanging one for a bearer token."""

from __future__ import annotations

import strawberry

from shared.federation import Info
from shared.ids import parse_id

from services.benefits.credentials import service
from services.benefits.schema.partner_types import PartnerApiKey


@strawberry.type(description="A key just issued. `apiKey` is shown this once and kept nowhere: store it now.")
class IssuedPartnerApiKey:
    api_key: str = strawberry.field(description="abk_<prefix>_<secret>")
    key: PartnerApiKey


@strawberry.type(description="A bearer token for a partner (OAuth 2.0 client credentials, also at POST /oauth/token).")
class PartnerToken:
    access_token: str
    token_type: str = strawberry.field(description="Bearer")
    expires_in: int = strawberry.field(description="Seconds.")
    partner_id: strawberry.ID


@strawberry.type
class CredentialMutations:
    @strawberry.mutation(description="Operators: a new API key for a partner (several may be active, to rotate them).")
    async def issue_partner_api_key(self, info: Info, partner_id: strawberry.ID, label: str | None = None) -> IssuedPartnerApiKey:
        issued = await service.issue_api_key(info.context.db, info.context.principal, parse_id(partner_id, "partnerId"), label)
        return IssuedPartnerApiKey(api_key=issued.api_key, key=PartnerApiKey.of(issued.key))

    @strawberry.mutation(description="The key's partner or an operator: the key stops working at once.")
    async def revoke_partner_api_key(self, info: Info, key_id: strawberry.ID) -> PartnerApiKey:
        return PartnerApiKey.of(await service.revoke_api_key(info.context.db, info.context.principal, parse_id(key_id, "keyId")))

    @strawberry.mutation(
        description="Exchanges a partner's API key for a short-lived bearer token every subgraph accepts (no sign-in needed)."
    )
    async def partner_token(self, info: Info, api_key: str) -> PartnerToken:
        # The key is the credential: whoever calls, the answer depends on the key alone.
        token = await service.exchange_api_key(info.context.db, api_key)
        return PartnerToken(
            access_token=token.access_token, token_type=token.token_type, expires_in=token.expires_in,
            partner_id=strawberry.ID(str(token.partner_id)),
        )
