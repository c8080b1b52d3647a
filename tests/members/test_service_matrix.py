"""Which services may call which members operation: the allowed ones pass, every other known service
and an unknown subject are refused with FORBIDDEN; through GraphQL a token naming an unknown
service is not even authenticated, and no service but points can lift a member's tier."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from shared.auth.principals import Principal, PrincipalKind
from shared.database import Database
from shared.errors import Forbidden
from shared.timeutil import utcnow

from services.members import access
from services.members.profiles import service as profiles
from services.members.tiers import service as tiers
from services.members.tiers.answers import GrowthInput, GrowthKind
from tests.members.conftest import OPERATOR, error_codes, gql, register

KNOWN = ("gateway", "members", "points", "benefits", "redemptions")
CALLERS = (*KNOWN, "evil")


def _growth(member_id: uuid.UUID, amount_minor: int = 10_000) -> GrowthInput:
    return GrowthInput(f"e-{uuid.uuid4()}", member_id, GrowthKind.PURCHASE, utcnow(), amount_minor, "CNY")


Operation = Callable[[Database, Principal, uuid.UUID], Awaitable[object]]
OPERATIONS: dict[str, tuple[frozenset[str], Operation]] = {
    "recordGrowth": (access.GROWTH_SOURCES, lambda db, p, m: tiers.record_growth(db, p, _growth(m))),
    "registerMember": (access.REGISTRARS, lambda db, p, m: profiles.register_member(
        db, p, phone=f"+86138{uuid.uuid4().int % 10**8:08d}", display_name="New")),
    "member(id)": (access.READERS, lambda db, p, m: profiles.get_member(db, p, m)),
}


def test_the_matrix_names_only_known_services() -> None:
    for allowed, _ in OPERATIONS.values():
        assert allowed <= set(KNOWN)
    assert access.GROWTH_SOURCES == {"points", "members"}


@pytest.mark.parametrize(
    ("operation", "caller", "allowed"),
    [pytest.param(name, caller, caller in allowed, id=f"{name}-{caller}")
     for name, (allowed, _) in OPERATIONS.items() for caller in CALLERS],
)
async def test_service_operations_admit_only_their_callers(database: Database, operation: str, caller: str, allowed: bool) -> None:
    me = await register(database)
    _, run = OPERATIONS[operation]
    principal = Principal(PrincipalKind.SERVICE, caller)
    if allowed:
        await run(database, principal, me.id)
        return
    with pytest.raises(Forbidden):
        await run(database, principal, me.id)


async def test_staff_keep_registering_and_reading(database: Database) -> None:
    me = await register(database)
    assert (await profiles.get_member(database, OPERATOR, me.id)).id == me.id


RECORD = """mutation($input: RecordGrowthInput!) { recordGrowth(input: $input) { tier } }"""
TIER = """query($id: ID!) { member(id: $id) { tier } }"""


def _entry(member_id: uuid.UUID) -> dict:
    # Enough spend for the top tier at once.
    return {"eventId": f"lift-{uuid.uuid4()}", "memberId": str(member_id), "kind": "PURCHASE",
            "occurredAt": utcnow().isoformat(), "amountMinor": 100_000_000, "currency": "CNY"}


@pytest.mark.parametrize("caller", ["redemptions", "benefits", "gateway"])
async def test_no_other_service_lifts_a_member_through_graphql(client: httpx.AsyncClient, database: Database, caller: str) -> None:
    me = await register(database)
    body = await gql(client, RECORD, {"input": _entry(me.id)}, as_=Principal(PrincipalKind.SERVICE, caller))
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await gql(client, TIER, {"id": str(me.id)}, as_=OPERATOR))["data"]["member"]["tier"] == "BASIC"


@pytest.mark.parametrize("subject", ["evil", "signup", "members-seed"])
async def test_a_token_naming_an_unknown_service_is_unauthenticated(client: httpx.AsyncClient, database: Database, subject: str) -> None:
    me = await register(database)
    body = await gql(client, RECORD, {"input": _entry(me.id)}, as_=Principal(PrincipalKind.SERVICE, subject))
    assert body["_status"] == 401 and error_codes(body) == ["UNAUTHENTICATED"]
    assert (await gql(client, TIER, {"id": str(me.id)}, as_=OPERATOR))["data"]["member"]["tier"] == "BASIC"


async def test_points_still_records_growth_through_graphql(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    body = await gql(client, RECORD, {"input": _entry(me.id)}, as_=Principal(PrincipalKind.SERVICE, "points"))
    assert body["data"]["recordGrowth"]["tier"] != "BASIC"
