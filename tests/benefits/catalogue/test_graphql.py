"""The catalogue over the benefits subgraph's HTTP API: the flow a partner and a member go through,
typed errors, every role against every operation, entity references in one query per batch, and
`Member.eligibleBenefits` from the representation the gateway sends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import event

from services.benefits.schema import schema
from shared.auth.tokens import mint_token
from shared.database import get_database
from shared.federation import create_subgraph_app

OPERATOR = {"kind": "staff", "subject": "ops-1", "roles": ["operator"]}
CS = {"kind": "staff", "subject": "cs-1", "roles": ["customer_service"]}
SERVICE = {"kind": "service", "subject": "redemptions"}


def who(kind: str, subject: object) -> dict:
    return {"kind": kind, "subject": str(subject), "roles": []}


class Client:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, query: str, as_: dict | None = None, **variables: object) -> dict:
        headers = {}
        if as_ is not None:
            headers["authorization"] = f"Bearer {mint_token(as_['kind'], as_['subject'], roles=as_.get('roles', []))}"
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        return response.json()

    async def ok(self, query: str, as_: dict | None = None, **variables: object) -> dict:
        body = await self.call(query, as_, **variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error(self, query: str, as_: dict | None = None, **variables: object) -> dict:
        body = await self.call(query, as_, **variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]


@pytest.fixture
async def client(db: str) -> AsyncIterator[Client]:
    app = create_subgraph_app(service="benefits", schema=schema)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://benefits") as http:
            yield Client(http)


CREATE = """mutation($input: CreateBenefitInput!, $key: String) { createBenefit(input: $input, idempotencyKey: $key) {
  id status kind delivery title categories tags pointsPrice settlementPrice { amountMinor currency } faceValue { amountMinor currency }
  validityDays limits { perDay perMonth lifetime } redeemableNow unavailableReasons partner { id } } }"""
STATUS = """mutation($id: ID!, $s: BenefitStatus!) { setBenefitStatus(id: $id, status: $s) { id status } }"""
UPDATE = """mutation($id: ID!, $input: UpdateBenefitInput!) { updateBenefit(id: $id, input: $input) { id title minTier } }"""
BUDGET = """mutation($input: SetBudgetInput!) { setBudget(input: $input) { id scope limit { amountMinor currency }
  remaining { amountMinor } thresholdsPercent hardStop period } }"""
ONE = """query($id: ID!) { benefit(id: $id) { id title settlementPrice { amountMinor } budget { limit { amountMinor } } } }"""
LIST = """query($f: BenefitFilter, $s: BenefitSort!, $first: Int, $after: String) { benefits(filter: $f, sort: $s, first: $first, after: $after) {
  edges { cursor node { id title pointsPrice redeemableNow } } pageInfo { hasNextPage endCursor } } }"""

VOUCHER = {
    "kind": "VOUCHER", "title": "¥20 voucher", "pointsPrice": 2000, "settlementPrice": {"amountMinor": 1800, "currency": "CNY"},
    "faceValue": {"amountMinor": 2000, "currency": "CNY"}, "validityDays": 30, "categories": ["Grocery"], "tags": ["everyday"],
    "limits": {"perMonth": 4},
}
RECHARGE = {
    "kind": "VIDEO_MEMBERSHIP", "delivery": "RECHARGE", "title": "StreamBox 30 days", "pointsPrice": 1500,
    "settlementPrice": {"amountMinor": 1200, "currency": "CNY"}, "platform": "streambox", "durationDays": 30,
    "categories": ["video"],
}


async def partner_with_benefit(kit, client: Client, columns: dict | None = None, status: str = "ACTIVE") -> tuple[uuid.UUID, str]:  # noqa: ANN001
    partner = await kit.partner()
    created = (await client.ok(CREATE, who("partner", partner), input=columns or RECHARGE))["createBenefit"]
    if status != "DRAFT":
        await client.ok(STATUS, who("partner", partner), id=created["id"], s=status)
    return partner, created["id"]


async def test_a_partner_builds_its_catalogue_and_a_member_browses_it(kit, client: Client) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = who("partner", partner)
    created = (await client.ok(CREATE, me, input=VOUCHER, key="v-1"))["createBenefit"]
    assert created["status"] == "DRAFT" and created["delivery"] == "CODE" and created["categories"] == ["grocery"]
    assert created["settlementPrice"] == {"amountMinor": 1800, "currency": "CNY"} and created["limits"]["perMonth"] == 4
    assert created["partner"] == {"id": str(partner)} and created["unavailableReasons"] == ["NOT_AVAILABLE", "OUT_OF_STOCK"]
    assert (await client.ok(CREATE, me, input=VOUCHER, key="v-1"))["createBenefit"]["id"] == created["id"]
    await client.ok(STATUS, me, id=created["id"], s="ACTIVE")
    assert (await client.ok(UPDATE, me, id=created["id"], input={"title": "Metro ¥20", "minTier": "silver"}))["updateBenefit"] == {
        "id": created["id"], "title": "Metro ¥20", "minTier": "SILVER"}
    video = (await client.ok(CREATE, me, input=RECHARGE))["createBenefit"]["id"]
    await client.ok(STATUS, me, id=video, s="ACTIVE")
    budget = (await client.ok(BUDGET, me, input={"benefitId": video, "limit": {"amountMinor": 120000, "currency": "CNY"}}))["setBudget"]
    assert budget["scope"] == "BENEFIT" and budget["thresholdsPercent"] == [80, 100] and budget["period"] == "MONTH"
    assert budget["remaining"] == {"amountMinor": 120000}

    member = who("member", uuid.uuid4())
    page = (await client.ok(LIST, member, s="POINTS_DESC", first=1))["benefits"]
    assert [e["node"]["title"] for e in page["edges"]] == ["Metro ¥20"] and page["pageInfo"]["hasNextPage"]
    rest = (await client.ok(LIST, member, s="POINTS_DESC", first=5, after=page["pageInfo"]["endCursor"]))["benefits"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["StreamBox 30 days"]
    redeemable = (await client.ok(LIST, member, s="TITLE", f={"redeemableNow": True}))["benefits"]["edges"]
    assert [e["node"]["title"] for e in redeemable] == ["StreamBox 30 days"]  # the voucher has no codes yet
    seen_by_member = (await client.ok(ONE, member, id=video))["benefit"]
    assert seen_by_member["settlementPrice"] is None and seen_by_member["budget"] is None
    seen_by_owner = (await client.ok(ONE, me, id=video))["benefit"]
    assert seen_by_owner["settlementPrice"] == {"amountMinor": 1200} and seen_by_owner["budget"] == {"limit": {"amountMinor": 120000}}


async def test_typed_errors(kit, client: Client) -> None:  # noqa: ANN001
    partner, benefit = await partner_with_benefit(kit, client)
    me = who("partner", partner)
    bad = await client.error(CREATE, me, input={**VOUCHER, "validityDays": None})
    assert (bad["code"], bad["field"]) == ("BAD_USER_INPUT", "validityDays")
    assert (await client.error(CREATE, me, input={**VOUCHER, "title": "x" * 10_000}))["field"] == "title"
    assert (await client.error(CREATE, me, input={**VOUCHER, "pointsPrice": 2**53}))["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")
    assert (await client.error(CREATE, None, input=VOUCHER))["code"] == "UNAUTHENTICATED"
    assert (await client.error(ONE, me, id="not-an-id"))["code"] == "BAD_USER_INPUT"
    assert (await client.error(ONE, me, id=str(uuid.uuid4())))["code"] == "NOT_FOUND"
    assert (await client.error(STATUS, me, id=benefit, s="DRAFT"))["code"] == "CONFLICT"
    assert (await client.error(LIST, me, s="TITLE", after="nope"))["code"] == "BAD_USER_INPUT"
    await client.ok(CREATE, me, input=VOUCHER, key="same")
    assert (await client.error(CREATE, me, input={**VOUCHER, "title": "Other"}, key="same"))["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await client.error(BUDGET, me, input={"limit": {"amountMinor": -5, "currency": "CNY"}}))["field"] == "limit.amountMinor"


# Every role against every operation: None = allowed, else the error code.
OPERATIONS = ("list", "read", "create", "update", "status", "budget", "read budget", "partner benefits", "partner budget", "eligible")
MATRIX = {
    "owner": (None, None, None, None, None, None, "shown", None, "shown", "FORBIDDEN"),
    "operator": (None, None, None, None, None, None, "shown", None, "shown", None),
    "cs": (None, None, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "shown", None, "shown", None),
    "other partner": (None, None, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "hidden", None, "hidden", "FORBIDDEN"),
    "member": (None, None, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "hidden", None, "hidden", None),
    "other member": (None, None, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "hidden", None, "hidden", "FORBIDDEN"),
    "service": (None, None, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "shown", None, "shown", None),
    "anonymous": ("UNAUTHENTICATED",) * 6 + ("UNAUTHENTICATED",) * 4,
}


@pytest.mark.parametrize("role", list(MATRIX))
async def test_every_role_against_every_operation(kit, client: Client, role: str) -> None:  # noqa: ANN001
    partner, benefit = await partner_with_benefit(kit, client)
    await client.ok(BUDGET, OPERATOR, input={"partnerId": str(partner), "limit": {"amountMinor": 500, "currency": "CNY"}})
    await client.ok(BUDGET, OPERATOR, input={"benefitId": benefit, "limit": {"amountMinor": 400, "currency": "CNY"}})
    member_id = uuid.uuid4()
    principal = {"owner": who("partner", partner), "operator": OPERATOR, "cs": CS, "other partner": who("partner", await kit.partner()),
                 "member": who("member", member_id), "other member": who("member", uuid.uuid4()), "service": SERVICE,
                 "anonymous": None}[role]
    representation = {"__typename": "Member", "id": str(member_id), "tier": "GOLD", "status": "ACTIVE", "birthdayMonth": 3,
                      "preferences": {"categories": ["video"]}}
    calls = {
        "list": (LIST, {"s": "POINTS_ASC"}),
        "read": (ONE, {"id": benefit}),
        "create": (CREATE, {"input": {**RECHARGE, "partnerId": str(partner)}}),
        "update": (UPDATE, {"id": benefit, "input": {"title": "Renamed"}}),
        "status": (STATUS, {"id": benefit, "s": "PAUSED"}),
        "budget": (BUDGET, {"input": {"benefitId": benefit, "limit": {"amountMinor": 400, "currency": "CNY"}}}),
        "read budget": ("""query($id: ID!) { benefit(id: $id) { budget { id } } }""", {"id": benefit}),
        "partner benefits": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { benefits { nodes { id } } } } }""",
                             {"r": [{"__typename": "Partner", "id": str(partner)}]}),
        "partner budget": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { budget { id } } } }""",
                           {"r": [{"__typename": "Partner", "id": str(partner)}]}),
        "eligible": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { eligibleBenefits { nodes { redeemable } } } } }""",
                     {"r": [representation]}),
    }
    for operation, expected in zip(OPERATIONS, MATRIX[role]):
        query, variables = calls[operation]
        body = await client.call(query, principal, **variables)
        code = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
        if expected in ("shown", "hidden"):
            assert code is None, (operation, body)
            data = body["data"]
            value = data["benefit"]["budget"] if "benefit" in data else data["_entities"][0]["budget"]
            assert (value is not None) == (expected == "shown"), (operation, value)
        else:
            assert code == expected, (operation, body)


async def test_entity_references_load_in_one_query_per_batch(kit, client: Client, db: str) -> None:  # noqa: ANN001
    partner = await kit.partner()
    ids = []
    for i in range(5):
        created = (await client.ok(CREATE, who("partner", partner), input={**RECHARGE, "title": f"B{i}"}))["createBenefit"]["id"]
        await client.ok(BUDGET, OPERATOR, input={"benefitId": created, "limit": {"amountMinor": 1000 * (i + 1), "currency": "CNY"}})
        ids.append(created)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]  # noqa: ANN001
        if "FROM benefits.benefits" in statement or "FROM benefits.budgets" in statement:
            statements.append(statement)

    engine = get_database(db).engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Benefit { id title budget { limit { amountMinor } } } } }"""
        reps = [{"__typename": "Benefit", "id": i} for i in [*ids, str(uuid.uuid4())]]
        data = await client.ok(query, OPERATOR, r=reps)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [e["title"] if e else None for e in data["_entities"]] == ["B0", "B1", "B2", "B3", "B4", None]
    assert [e["budget"]["limit"]["amountMinor"] for e in data["_entities"][:5]] == [1000, 2000, 3000, 4000, 5000]
    assert len(statements) == 2  # one for the benefits, one for their budgets


async def test_eligible_benefits_from_the_gateways_representation(kit, client: Client) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = who("partner", partner)
    for columns, status in [({**RECHARGE, "title": "open"}, "ACTIVE"), ({**RECHARGE, "title": "gold", "minTier": "GOLD"}, "ACTIVE"),
                            ({**RECHARGE, "title": "coffee", "categories": ["coffee"]}, "ACTIVE"), ({**RECHARGE, "title": "draft"}, None)]:
        created = (await client.ok(CREATE, me, input=columns))["createBenefit"]["id"]
        if status:
            await client.ok(STATUS, me, id=created, s=status)
    query = """query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Member { id
      eligibleBenefits(first: $first, after: $after) { edges { cursor node { redeemable reasons interestMatches benefit { title } } }
      pageInfo { hasNextPage endCursor } } } } }"""
    silver, gold = uuid.uuid4(), uuid.uuid4()
    reps = [
        {"__typename": "Member", "id": str(silver), "tier": "SILVER", "status": "ACTIVE", "birthdayMonth": None, "preferences": {"categories": ["coffee"]}},
        {"__typename": "Member", "id": str(gold), "tier": "GOLD", "status": "SUSPENDED", "birthdayMonth": 2, "preferences": None},
    ]
    data = await client.ok(query, SERVICE, r=reps)
    first, second = (e["eligibleBenefits"]["edges"] for e in data["_entities"])
    assert [(e["node"]["benefit"]["title"], e["node"]["reasons"], e["node"]["interestMatches"]) for e in first] == [
        ("coffee", [], 1), ("open", [], 0), ("gold", ["TIER_TOO_LOW"], 0)]
    assert all(e["node"]["reasons"] == ["MEMBER_NOT_ACTIVE"] and not e["node"]["redeemable"] for e in second)
    paged = (await client.ok(query, who("member", silver), r=reps[:1], first=2))["_entities"][0]["eligibleBenefits"]
    assert paged["pageInfo"]["hasNextPage"] and len(paged["edges"]) == 2
    after = paged["pageInfo"]["endCursor"]
    rest = (await client.ok(query, who("member", silver), r=reps[:1], first=2, after=after))["_entities"][0]["eligibleBenefits"]
    assert [e["node"]["benefit"]["title"] for e in rest["edges"]] == ["gold"] and not rest["pageInfo"]["hasNextPage"]
    # A representation without the @requires fields did not come through the gateway.
    bare = await client.error(query, SERVICE, r=[{"__typename": "Member", "id": str(silver)}])
    assert bare["code"] == "BAD_USER_INPUT"


async def test_partner_benefits_filter_sort_and_page(kit, client: Client) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = who("partner", partner)
    for i, price in enumerate([300, 100, 200]):
        await client.ok(CREATE, me, input={**RECHARGE, "title": f"P{i}", "pointsPrice": price})
    other, _ = await partner_with_benefit(kit, client)
    query = """query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Partner {
      benefits(sort: POINTS_ASC, first: 2, after: $after, filter: {status: DRAFT}) { nodes { title } pageInfo { hasNextPage endCursor } } } } }"""
    page = (await client.ok(query, me, r=[{"__typename": "Partner", "id": str(partner)}]))["_entities"][0]["benefits"]
    assert [n["title"] for n in page["nodes"]] == ["P1", "P2"] and page["pageInfo"]["hasNextPage"]
    rest = (await client.ok(query, me, r=[{"__typename": "Partner", "id": str(partner)}], after=page["pageInfo"]["endCursor"]))
    assert [n["title"] for n in rest["_entities"][0]["benefits"]["nodes"]] == ["P0"]
    # Another partner sees none of these drafts, and a member may not ask for drafts.
    theirs = (await client.ok(query, who("partner", other), r=[{"__typename": "Partner", "id": str(partner)}]))
    assert theirs["_entities"][0]["benefits"]["nodes"] == []
    assert (await client.error(query, who("member", uuid.uuid4()), r=[{"__typename": "Partner", "id": str(partner)}]))["code"] == "FORBIDDEN"


async def test_an_update_that_clears_a_required_price_says_so(kit, client: Client) -> None:  # noqa: ANN001
    partner, benefit = await partner_with_benefit(kit, client)
    me = who("partner", partner)
    assert (await client.error(UPDATE, me, id=benefit, input={"settlementPrice": None}))["field"] == "settlementPrice.amountMinor"
    assert (await client.error(UPDATE, me, id=benefit, input={"pointsPrice": None}))["field"] == "pointsPrice"
    wrong = await client.error(UPDATE, me, id=benefit, input={"settlementPrice": {"amountMinor": 5, "currency": "USD"}})
    assert wrong["field"] == "settlementPrice.currency"
    assert (await client.ok(UPDATE, me, id=benefit, input={"settlementPrice": {"amountMinor": 5, "currency": "CNY"}, "title": "T"}))
