"""The members subgraph over HTTP: operations, typed errors, tokens, DataLoader batching."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import httpx
import jwt
import pytest

from sent_statements import sent_statements
from shared.database import Database
from shared.database.urls import to_libpq_url
from shared.settings import get_settings
from shared.timeutil import add_months, utcnow

from services.members.access import SYSTEM
from services.members.profiles import service as profiles
from services.members.tiers import service as tiers
from tests.members.conftest import (
    OPERATOR, PARTNER, PHONE, POINTS, SIGNUP, SUPPORT, as_member, error_codes, gql, purchase, register, token,
)

REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) { id status tier displayName phone email birthday }
}
"""
ME = "{ me { id displayName phone email birthday tier status lifecycleStage preferences { categories weeklyNotificationCap } } }"


async def count_members(database: Database) -> int:
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        return await connection.fetchval("SELECT count(*) FROM members.members")
    finally:
        await connection.close()


async def test_register_then_read_yourself(client: httpx.AsyncClient, database: Database) -> None:
    body = await gql(
        client, REGISTER,
        {"input": {"phone": "138 0013 1362", "displayName": "Jane", "email": "Jane@Example.com", "birthday": "02-29"}},
        as_=SIGNUP,
    )
    created = body["data"]["registerMember"]
    # A registering service learns the id, not the personal data back.
    assert created["status"] == "ACTIVE" and created["tier"] == "BASIC" and created["phone"] is None
    me = (await gql(client, ME, as_=as_member(created["id"])))["data"]["me"]
    assert me == {
        "id": created["id"], "displayName": "Jane", "phone": PHONE, "email": "jane@example.com", "birthday": "02-29",
        "tier": "BASIC", "status": "ACTIVE", "lifecycleStage": "NEW",
        "preferences": {"categories": [], "weeklyNotificationCap": 7},
    }


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "9" * 5000}, "phone"),
        ({"birthday": "02-30"}, "birthday"),
        ({"birthday": "13-01"}, "birthday"),
        ({"email": "nope"}, "email"),
        ({"displayName": "n" * 41}, "displayName"),
    ],
)
async def test_bad_registrations_are_typed_errors_and_write_nothing(
    client: httpx.AsyncClient, database: Database, input: dict, field: str
) -> None:
    values = {"phone": PHONE, "displayName": "Jane"} | input
    body = await gql(client, REGISTER, {"input": values}, as_=SIGNUP)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await count_members(database) == 0


async def test_a_duplicate_phone_is_a_conflict(client: httpx.AsyncClient, database: Database) -> None:
    await register(database)
    body = await gql(client, REGISTER, {"input": {"phone": PHONE[3:], "displayName": "Twin"}}, as_=OPERATOR)
    assert error_codes(body) == ["CONFLICT"] and await count_members(database) == 1


def _forged(**claims: object) -> str:
    settings = get_settings()
    base = {"sub": "members", "kind": "service", "roles": [], "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
            "iat": 1_700_000_000, "exp": 4_000_000_000}
    return jwt.encode(base | claims, settings.jwt_secret, algorithm="HS256")


@pytest.mark.parametrize(
    "bearer",
    [
        "not-a-jwt",
        token(SIGNUP)[:-4] + "AAAA",  # signature altered
        jwt.encode({"sub": "members", "kind": "service"}, "another secret that is long enough for HS256", algorithm="HS256"),
        "expired",
        "wrong audience",
    ],
)
async def test_bad_tokens_are_refused_before_anything_runs(
    client: httpx.AsyncClient, database: Database, bearer: str
) -> None:
    if bearer == "expired":
        bearer = _forged(iat=1_600_000_000, exp=1_600_000_100)
    elif bearer == "wrong audience":
        bearer = _forged(aud="someone-else")
    body = await gql(client, REGISTER, {"input": {"phone": PHONE, "displayName": "Jane"}}, bearer=bearer)
    assert body["_status"] == 401 and error_codes(body) == ["UNAUTHENTICATED"]
    assert await count_members(database) == 0


async def test_anonymous_callers_must_sign_in(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    for query, variables in [
        (ME, None),
        ("query($id: ID!) { member(id: $id) { id } }", {"id": str(me.id)}),
        ("{ members { nodes { id } } }", None),
        ("{ tierPolicy { version } }", None),
        ("query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id } } }",
         {"r": [{"__typename": "Member", "id": str(me.id)}]}),
    ]:
        assert "UNAUTHENTICATED" in error_codes(await gql(client, query, variables)), query


async def test_unknown_and_malformed_ids(client: httpx.AsyncClient, database: Database) -> None:
    query = "query($id: ID!) { member(id: $id) { id } }"
    assert error_codes(await gql(client, query, {"id": str(uuid.uuid4())}, as_=OPERATOR)) == ["NOT_FOUND"]
    assert error_codes(await gql(client, query, {"id": "42"}, as_=OPERATOR)) == ["BAD_USER_INPUT"]
    suspend = "mutation($id: ID!) { suspendMember(id: $id) { id } }"
    assert error_codes(await gql(client, suspend, {"id": str(uuid.uuid4())}, as_=OPERATOR)) == ["NOT_FOUND"]


async def test_profile_and_preferences_through_graphql(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    who = as_member(me.id)
    update = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { displayName email birthday } }"""
    body = await gql(client, update, {"input": {"displayName": "Jay", "email": None}}, as_=who)
    assert body["data"]["updateProfile"] == {"displayName": "Jay", "email": None, "birthday": "02-29"}
    body = await gql(client, update, {"input": {"birthday": "03-01"}}, as_=who)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED" and "nextChangeAllowedAt" in error["extensions"]
    body = await gql(client, update, {"input": {"phone": None}}, as_=who)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    prefs = """mutation($input: MemberPreferencesInput!) { updatePreferences(input: $input) {
      preferences { categories weeklyNotificationCap } } }"""
    body = await gql(client, prefs, {"input": {"categories": ["Video", "coffee"], "weeklyNotificationCap": 3}}, as_=who)
    assert body["data"]["updatePreferences"]["preferences"] == {"categories": ["video", "coffee"], "weeklyNotificationCap": 3}
    body = await gql(client, prefs, {"input": {"weeklyNotificationCap": 99}}, as_=who)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    other = as_member(uuid.uuid4())
    body = await gql(client, "mutation($id: ID) { updateProfile(id: $id, input: {displayName: \"M\"}) { id } }", {"id": str(me.id)}, as_=other)
    assert error_codes(body) == ["FORBIDDEN"]
    # An operator's `me` is not a member.
    assert error_codes(await gql(client, ME, as_=OPERATOR)) == ["FORBIDDEN"]


async def test_suspend_reactivate_and_erase_through_graphql(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    variables = {"id": str(me.id)}
    suspend = "mutation($id: ID!) { suspendMember(id: $id, reason: \"chargebacks\") { status } }"
    assert error_codes(await gql(client, suspend, variables, as_=SUPPORT)) == ["FORBIDDEN"]
    assert (await gql(client, suspend, variables, as_=OPERATOR))["data"]["suspendMember"]["status"] == "SUSPENDED"
    reactivate = "mutation($id: ID!) { reactivateMember(id: $id) { status } }"
    assert (await gql(client, reactivate, variables, as_=OPERATOR))["data"]["reactivateMember"]["status"] == "ACTIVE"
    erase = "mutation { eraseMember { id status displayName phone email birthday erasedAt } }"
    erased = (await gql(client, erase, as_=as_member(me.id)))["data"]["eraseMember"]
    assert erased["status"] == "ERASED" and erased["erasedAt"]
    assert (erased["displayName"], erased["phone"], erased["email"], erased["birthday"]) == ("[erased]", None, None, None)


async def test_growth_through_graphql_is_for_services_and_idempotent(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    record = """mutation($input: RecordGrowthInput!) { recordGrowth(input: $input) {
      eventId growth duplicate previousTier tier rollingGrowth member { id tier phone } } }"""
    entry = {"eventId": "pos-77", "memberId": str(me.id), "kind": "PURCHASE", "occurredAt": utcnow().isoformat(),
             "amountMinor": 250_000, "currency": "CNY"}
    first = (await gql(client, record, {"input": entry}, as_=POINTS))["data"]["recordGrowth"]
    assert first == {"eventId": "pos-77", "growth": 2500, "duplicate": False, "previousTier": "BASIC", "tier": "SILVER",
                     "rollingGrowth": 2500, "member": {"id": str(me.id), "tier": "SILVER", "phone": None}}
    again = (await gql(client, record, {"input": entry}, as_=POINTS))["data"]["recordGrowth"]
    assert again["duplicate"] is True and again["rollingGrowth"] == 2500
    for who in (as_member(me.id), OPERATOR, PARTNER):
        assert error_codes(await gql(client, record, {"input": entry | {"eventId": "x"}}, as_=who)) == ["FORBIDDEN"]
    naive = entry | {"eventId": "pos-78", "occurredAt": "2026-01-01T00:00:00"}
    assert error_codes(await gql(client, record, {"input": naive}, as_=POINTS)) == ["BAD_USER_INPUT"]
    changed = entry | {"amountMinor": 1}
    assert error_codes(await gql(client, record, {"input": changed}, as_=POINTS)) == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await tiers.rolling_growth(database, OPERATOR, [me.id]))[me.id] == 2500


async def test_tier_progress_and_history_fields(client: httpx.AsyncClient, database: Database) -> None:
    me = await register(database)
    await purchase(database, me.id, 2600)
    query = """{ me { tier tierProgress { tier rollingGrowth nextTier growthToNextTier growthToKeepTier windowStart windowEnd
      belowThresholdSince policyVersion } tierHistory(limit: 5) { sequence fromTier toTier reason } } }"""
    data = (await gql(client, query, as_=as_member(me.id)))["data"]["me"]
    progress = data["tierProgress"]
    assert (progress["tier"], progress["rollingGrowth"], progress["nextTier"], progress["growthToNextTier"],
            progress["growthToKeepTier"], progress["belowThresholdSince"], progress["policyVersion"]) == (
        "SILVER", 2600, "GOLD", 2400, 0, None, 1)
    assert progress["windowStart"] < progress["windowEnd"]
    assert [(h["sequence"], h["toTier"], h["reason"]) for h in data["tierHistory"]] == [(1, "SILVER", "UPGRADE"), (0, "BASIC", "JOINED")]
    assert error_codes(await gql(client, "{ me { tierHistory(limit: 0) { sequence } } }", as_=as_member(me.id))) == ["BAD_USER_INPUT"]


async def test_policy_and_review_through_graphql(client: httpx.AsyncClient, database: Database) -> None:
    now = utcnow()
    me = await register(database, email=None, joined_at=add_months(now, -24))
    spent = add_months(now, -12) - timedelta(days=60)
    await purchase(database, me.id, 2500, at=spent)
    await tiers.run_tier_review(database, SYSTEM, as_of=spent + timedelta(days=1))  # SILVER back then
    read = "{ tierPolicy { version tiers { code threshold } windowMonths graceDays createdBy } }"
    policy = (await gql(client, read, as_=as_member(me.id)))["data"]["tierPolicy"]
    assert policy["tiers"][1] == {"code": "SILVER", "threshold": 2000} and policy["createdBy"] is None
    review = "mutation($asOf: DateTime) { runTierReview(asOf: $asOf) { reviewed marked downgraded } }"
    assert error_codes(await gql(client, review, as_=SUPPORT)) == ["FORBIDDEN"]
    future = {"asOf": (now + timedelta(days=2)).isoformat()}
    assert error_codes(await gql(client, review, future, as_=OPERATOR)) == ["BAD_USER_INPUT"]
    marked = await gql(client, review, {"asOf": (now - timedelta(days=40)).isoformat()}, as_=OPERATOR)
    assert marked["data"]["runTierReview"] == {"reviewed": 1, "marked": 1, "downgraded": 0}
    done = await gql(client, review, as_=OPERATOR)  # now: 40 days later, past the 30-day grace
    assert done["data"]["runTierReview"]["downgraded"] == 1
    assert (await profiles.get_member(database, OPERATOR, me.id)).tier == "BASIC"
    change = """mutation($input: TierPolicyInput!) { updateTierPolicy(input: $input) { version graceDays createdBy note } }"""
    assert error_codes(await gql(client, change, {"input": {"graceDays": 60}}, as_=SUPPORT)) == ["FORBIDDEN"]
    changed = (await gql(client, change, {"input": {"graceDays": 60, "note": "q4"}}, as_=OPERATOR))["data"]["updateTierPolicy"]
    assert changed == {"version": 2, "graceDays": 60, "createdBy": "staff:ops-1", "note": "q4"}
    bad = {"input": {"tiers": [{"code": "BASIC", "threshold": 0}, {"code": "SILVER", "threshold": 0}]}}
    assert error_codes(await gql(client, change, bad, as_=OPERATOR)) == ["BAD_USER_INPUT"]
    history = (await gql(client, "{ tierPolicyHistory { version } }", as_=OPERATOR))["data"]["tierPolicyHistory"]
    assert [p["version"] for p in history] == [2, 1]


async def test_staff_list_through_graphql(client: httpx.AsyncClient, database: Database) -> None:
    for i in range(5):
        await register(database, phone=f"+861390000000{i}", email=f"m{i}@example.com")
    query = """query($after: String, $filter: MemberFilter) { members(first: 2, after: $after, filter: $filter) {
      edges { cursor node { id phone } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await gql(client, query, {"after": after}, as_=SUPPORT))["data"]["members"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5 and all(n["phone"].startswith("139****") for n in seen)
    found = await gql(client, query, {"filter": {"phone": "13900000003"}}, as_=OPERATOR)
    assert [e["node"]["phone"] for e in found["data"]["members"]["edges"]] == ["+8613900000003"]
    assert error_codes(await gql(client, query, {"after": "bogus"}, as_=OPERATOR)) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(client, query, as_=POINTS)) == ["FORBIDDEN"]
    count = "query($status: MemberStatus) { memberCount(status: $status) }"
    assert (await gql(client, count, {"status": "ACTIVE"}, as_=SUPPORT))["data"] == {"memberCount": 5}
    assert (await gql(client, count, {"status": "SUSPENDED"}, as_=OPERATOR))["data"] == {"memberCount": 0}
    assert error_codes(await gql(client, count, as_=POINTS)) == ["FORBIDDEN"]


async def test_entity_references_are_batched_into_one_query(client: httpx.AsyncClient, database: Database) -> None:
    ids = [(await register(database, phone=f"+861390000001{i}", email=None)).id for i in range(6)]
    engine = client._transport.app.state.service.db.engine  # type: ignore[attr-defined]
    async with sent_statements(engine) as statements:
        representations = [{"__typename": "Member", "id": str(i)} for i in ids] + [
            {"__typename": "Member", "id": str(uuid.uuid4())}  # never a member: null
        ]
        body = await gql(
            client,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id tier displayName } } }",
            {"r": representations},
            as_=OPERATOR,
        )
    entities = body["data"]["_entities"]
    assert [e["id"] for e in entities[:-1]] == [str(i) for i in ids] and entities[-1] is None
    member_reads = [s for s in statements if "FROM members.members" in s]
    assert len(member_reads) == 1, statements


async def test_the_sdl_declares_the_member_entity(client: httpx.AsyncClient) -> None:
    sdl = (await gql(client, "{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Member @key(fields: "id")' in sdl
    assert "federation/v2.9" in sdl
