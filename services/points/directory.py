"""Which members exist: points must refuse a purchase for a member id nobody has registered.

Members are owned by the members service. Points knows a member once it has an account for them
(opened by a TierChanged event or by a confirmed earlier call); other ids are confirmed with the
members subgraph in one `_entities` call per batch, before any database transaction opens (never
call another service inside one). Members' ids stay valid after erasure, so "known" never expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

import httpx
import orjson
from services.points.config import get_points_settings
from services.points.ledger.store import known_accounts
from shared.auth.tokens import service_token
from shared.database import Database
from shared.errors import UpstreamError
from shared.http import get_http_client
from shared.settings import get_settings

_ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }"


class MemberDirectory(Protocol):
    async def existing(self, db: Database, member_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The ids among `member_ids` that belong to registered members."""
        ...


class MembersServiceDirectory:
    """Known accounts first; the rest confirmed by the members subgraph."""

    async def existing(self, db: Database, member_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        ids = set(member_ids)
        known = await known_accounts(db, ids)
        unknown = sorted(ids - known)
        if unknown:
            known |= await self._ask_members(unknown)
        return known

    async def _ask_members(self, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        settings = get_settings()
        body = {"query": _ENTITIES, "variables": {"r": [{"__typename": "Member", "id": str(i)} for i in ids]}}
        try:
            response = await get_http_client(settings).post(
                settings.url_of("members"),
                content=orjson.dumps(body),
                headers={"content-type": "application/json", "authorization": f"Bearer {service_token('points', settings)}"},
            )
            payload = orjson.loads(response.content)
        except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
            raise UpstreamError("could not confirm the members with the members service", service="members", reason=type(exc).__name__) from exc
        entities = (payload.get("data") or {}).get("_entities") if isinstance(payload, dict) else None
        if not isinstance(entities, list) or len(entities) != len(ids):
            raise UpstreamError("the members service did not answer the member lookup", service="members", reason="invalid_response")
        # An unknown member comes back as null (with or without a NOT_FOUND error beside it).
        return {member_id for member_id, entity in zip(ids, entities) if isinstance(entity, dict) and entity.get("id")}


class TrustingDirectory:
    """Accepts every id: for development setups that run points without members, and tests."""

    async def existing(self, db: Database, member_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        return set(member_ids)


class StaticDirectory:
    """A fixed set of members (tests)."""

    def __init__(self, members: Iterable[uuid.UUID]) -> None:
        self.members = set(members)

    async def existing(self, db: Database, member_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        return set(member_ids) & self.members


def default_directory() -> MemberDirectory:
    return TrustingDirectory() if get_points_settings().member_check == "trust" else MembersServiceDirectory()
