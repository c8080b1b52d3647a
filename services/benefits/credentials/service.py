"""Partner credentials: operators issue API keys, a partner exchanges one for a short-lived bearer
token that every subgraph accepts (the OAuth 2.0 client-credentials grant, or `partnerToken`).

An exchange refuses an unknown key, a wrong secret and a revoked key with the same error after the
same work (one lookup by prefix, one HMAC, one constant-time comparison), so neither the answer nor
its timing says which it was. A partner that is not ACTIVE is refused too, once the key is proven.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, PrincipalKind, require_authenticated
from shared.auth.tokens import mint_token
from shared.database import Database
from shared.ids import new_id
from shared.errors import Forbidden, LimitExceeded, NotFound, Unauthenticated

from services.benefits import access
from services.benefits.config import get_benefits_settings
from services.benefits.credentials import rules, store
from services.benefits.credentials.answers import ApiKeyView, IssuedApiKey, PartnerToken
from services.benefits.errors import RateLimited
from services.benefits.models import ApiKey
from services.benefits.partners import store as partners_store
from services.benefits.partners.rules import PartnerStatus, clean_optional_text

__all__ = [
    "InvalidClient",
    "exchange_api_key",
    "issue_api_key",
    "keys_of",
    "reset_failures",
    "revoke_api_key",
]


class InvalidClient(Unauthenticated):
    """The key is unknown, wrong or revoked, or its partner may not sign in (RFC 6749 invalid_client)."""

    def __init__(self, message: str = "invalid API key") -> None:
        super().__init__(message, reason="INVALID_CLIENT")


_failures: rules.FailureLimiter | None = None


def _limiter() -> rules.FailureLimiter:
    global _failures
    settings = get_benefits_settings()
    if _failures is None or (_failures.limit, _failures.window) != (
        settings.api_key_failure_limit, settings.api_key_failure_window_seconds
    ):
        _failures = rules.FailureLimiter(settings.api_key_failure_limit, settings.api_key_failure_window_seconds)
    return _failures


def reset_failures() -> None:
    """Forgets every failed attempt (tests; an operator's restart does the same)."""
    _limiter().clear()


async def issue_api_key(db: Database, principal: Principal, partner_id: uuid.UUID, label: str | None) -> IssuedApiKey:
    """Operators: a new key for the partner, shown once in the answer."""
    cleaned = clean_optional_text(label, "label", max_length=rules.MAX_LABEL)
    access.require_operator(principal)
    settings = get_benefits_settings()
    key = rules.new_key()

    async def work(session: AsyncSession) -> ApiKey:
        # The partner's lock makes concurrent issues take turns, so the cap holds.
        if await partners_store.lock(session, partner_id) is None:
            raise NotFound("no partner with this id", id=str(partner_id))
        active = await store.count_active(session, partner_id)
        if active >= settings.max_api_keys_per_partner:
            raise LimitExceeded(
                f"a partner holds at most {settings.max_api_keys_per_partner} active API keys; revoke one first",
                limit=settings.max_api_keys_per_partner,
            )
        return await store.insert_key(
            session,
            {
                "id": new_id(),
                "partner_id": partner_id,
                "prefix": key.prefix,
                "secret_hash": rules.hash_secret(key.prefix, key.secret),
                "label": cleaned,
                "created_by": access.actor(principal),
            },
        )

    row = await db.run_transaction(work)
    return IssuedApiKey(api_key=key.text, key=ApiKeyView.of(row))


async def revoke_api_key(db: Database, principal: Principal, key_id: uuid.UUID) -> ApiKeyView:
    """The key's partner or an operator. Revoking a revoked key answers it unchanged."""
    require_authenticated(principal)
    if not (principal.is_operator or principal.kind is PrincipalKind.PARTNER):
        raise Forbidden("only the key's partner or an operator may revoke it")

    async def work(session: AsyncSession) -> ApiKey:
        row = await store.lock(session, key_id)
        if row is None:
            raise NotFound("no API key with this id", id=str(key_id))
        access.require_partner_manager(principal, row.partner_id)
        return await store.revoke(session, key_id, access.actor(principal)) or row

    return ApiKeyView.of(await db.run_transaction(work))


async def keys_of(db: Database, principal: Principal, partner_ids: Sequence[uuid.UUID]) -> list[list[ApiKeyView] | None]:
    """Each partner's keys (metadata only), newest first; None where the caller may not see them."""
    visible = [i for i in partner_ids if access.may_read_partner_private(principal, i)]
    async with db.session() as session:
        found = await store.keys_of(session, visible)
    return [[ApiKeyView.of(k) for k in found[i]] if i in found else None for i in partner_ids]


async def exchange_api_key(db: Database, api_key: str, *, client_id: str | None = None) -> PartnerToken:
    """A bearer token for the key's partner. `client_id` (HTTP Basic's user name) must then be the
    key's partner id. Raises `InvalidClient`, or `RateLimited` after too many failures of one key
    prefix (in this process: see `rules.FailureLimiter`)."""
    parsed = rules.parse_key(api_key)
    if parsed is None:
        raise InvalidClient("an API key reads abk_<prefix>_<secret>")
    prefix, secret = parsed
    limiter = _limiter()
    wait = limiter.retry_after(prefix)
    if wait is not None:
        raise RateLimited("too many failed attempts with this key; try again later", retryAfter=int(wait) + 1)
    candidate = rules.hash_secret(prefix, secret)
    async with db.session() as session:
        found = await store.for_exchange(session, prefix)
        proven = rules.same_hash(found.secret_hash if found else rules.unknown_key_hash(), candidate)
        if not proven or found is None or found.revoked or not _same_partner(client_id, found.partner_id):
            limiter.failed(prefix)
            raise InvalidClient()
        # Only a proven key learns about its partner.
        partner = (await partners_store.load(session, [found.partner_id])).get(found.partner_id)
    if partner is None or partner.status != PartnerStatus.ACTIVE:
        raise InvalidClient("the key's partner is not active")
    if found.stale_use:
        async with db.transaction() as session:
            await store.touch(session, found.id)
    ttl = get_benefits_settings().partner_token_ttl_seconds
    token = mint_token(PrincipalKind.PARTNER, found.partner_id, ttl_seconds=ttl)
    return PartnerToken(access_token=token, expires_in=ttl, partner_id=found.partner_id)


def _same_partner(client_id: str | None, partner_id: uuid.UUID) -> bool:
    if client_id is None:
        return True
    try:
        return uuid.UUID(client_id) == partner_id
    except ValueError:
        return False
