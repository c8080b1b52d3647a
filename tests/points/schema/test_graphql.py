"""The points subgraph over HTTP: the whole flow, authorization, idempotency, typed errors,
entity references batched per request, the event inbox, and SDL composition."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from federation_compose import compose
from sent_statements import sent_statements
from services.points import events
from services.points.schema import schema
from shared.auth.tokens import mint_token
from shared.federation import create_subgraph_app
from shared.timeutil import utcnow

OPERATOR = {"kind": "staff", "subject": "ops-1", "roles": ["operator"]}
CS = {"kind": "staff", "subject": "cs-1", "roles": ["customer_service"]}
SERVICE = {"kind": "service", "subject": "redemptions"}


def who(kind: str, subject: object, roles: list[str] | None = None) -> dict:
    return {"kind": kind, "subject": str(subject), "roles": roles or []}


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

    async def code(self, query: str, as_: dict | None = None, **variables: object) -> str:
        body = await self.call(query, as_, **variables)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]


@pytest.fixture
async def client(db: str) -> AsyncIterator[Client]:
    app = create_subgraph_app(service="points", schema=schema, routes=[events.events_route()])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://points") as http:
            yield Client(http)


PROGRAM = """mutation($input: PointsProgramInput!) { setPointsProgram(input: $input) { partnerId currency expiryMonths costPerPoint { amountMinor currency } } }"""
PURCHASE = """mutation($input: PurchaseInput!) { recordPurchase(input: $input) { purchaseId points pending lotId member { id } } }"""
HOLD = """mutation($input: HoldInput!) { holdPoints(input: $input) { id status amount member { id } } }"""
CAPTURE = """mutation($input: CaptureInput!) { captureHold(input: $input) {
  hold { status captured released beneficiary { id } settlementValue { amountMinor currency } }
  settlements { lotId points value { amountMinor } issuer { id } } } }"""
RELEASE = """mutation($id: ID!, $key: String!) { releaseHold(holdId: $id, idempotencyKey: $key) { hold { status } } }"""
REFUND = """mutation($input: RefundInput!) { refundCapture(input: $input) { pointsRefunded toOriginalLots toGraceLots hold { refunded } } }"""
POINTS = """query($id: ID!) { memberPoints(memberId: $id) { available pending held debt lifetimeEarned lifetimeSpent tier } }"""


async def _program(client: Client, *, cost: int = 2, window: int = 0) -> str:
    partner_id = str(uuid.uuid4())
    data = await client.ok(PROGRAM, OPERATOR, input={"partnerId": partner_id, "currency": "CNY", "costPerPointMinor": cost, "returnWindowDays": window})
    assert data["setPointsProgram"]["expiryMonths"] == 36
    return partner_id


def _purchase_input(partner_id: str, member_id: str, amount: int, external_id: str | None = None) -> dict:
    return {
        "partnerId": partner_id, "memberId": member_id, "externalId": external_id or uuid.uuid4().hex,
        "amountMinor": amount, "currency": "CNY", "occurredAt": utcnow().isoformat(),
    }


async def _funded_member(client: Client, partner_id: str, points: int) -> str:
    member_id = str(uuid.uuid4())
    await client.ok(PURCHASE, who("partner", partner_id), input=_purchase_input(partner_id, member_id, points * 100))
    return member_id


async def test_the_whole_flow_through_graphql(client: Client) -> None:
    issuer, beneficiary = await _program(client), await _program(client)
    member = await _funded_member(client, issuer, 120)
    hold = (await client.ok(HOLD, SERVICE, input={"memberId": member, "points": 100, "ttlSeconds": 600, "reference": "redemption-1", "idempotencyKey": "h1"}))["holdPoints"]
    assert hold["status"] == "ACTIVE" and hold["member"]["id"] == member
    capture = (await client.ok(CAPTURE, SERVICE, input={
        "holdId": hold["id"], "points": 80, "idempotencyKey": "c1",
        "settlement": {"beneficiaryPartnerId": beneficiary, "valueMinor": 800, "currency": "CNY"},
    }))["captureHold"]
    assert capture["hold"]["status"] == "CAPTURED" and (capture["hold"]["captured"], capture["hold"]["released"]) == (80, 20)
    assert capture["settlements"][0]["issuer"]["id"] == issuer and capture["settlements"][0]["value"]["amountMinor"] == 800
    refund = (await client.ok(REFUND, SERVICE, input={"holdId": hold["id"], "points": 30, "idempotencyKey": "f1"}))["refundCapture"]
    assert (refund["pointsRefunded"], refund["toOriginalLots"], refund["toGraceLots"]) == (30, 30, 0)

    mine = who("member", member)
    points = (await client.ok(POINTS, mine, id=member))["memberPoints"]
    assert (points["available"], points["held"], points["lifetimeEarned"], points["lifetimeSpent"]) == (70, 0, 120, 50)

    entity = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { id points {
        available
        expiringSoon(withinDays: 366) { date points }
        lots(first: 5) { edges { node { id remaining status issuer { id } costPerPoint { amountMinor } } } pageInfo { hasNextPage } }
        transactions(first: 2) { edges { cursor node { sequence kind postings { account amount lot { id } } } } pageInfo { hasNextPage endCursor } }
    } } } }"""
    data = await client.ok(entity, mine, r=[{"__typename": "Member", "id": member}])
    found = data["_entities"][0]["points"]
    assert found["expiringSoon"] == []  # 36 months away
    (lot,) = [edge["node"] for edge in found["lots"]["edges"]]
    assert (lot["remaining"], lot["status"], lot["issuer"]["id"], lot["costPerPoint"]["amountMinor"]) == (70, "AVAILABLE", issuer, 2)
    transactions = found["transactions"]
    assert [e["node"]["kind"] for e in transactions["edges"]] == ["REFUND", "CAPTURE"] and transactions["pageInfo"]["hasNextPage"]
    assert any(p["lot"] and p["lot"]["id"] == lot["id"] for p in transactions["edges"][0]["node"]["postings"])
    older = await client.ok(
        """query($id: ID!, $after: String) { memberPoints(memberId: $id) { transactions(first: 5, after: $after) { edges { node { kind sequence } } } } }""",
        mine, id=member, after=transactions["pageInfo"]["endCursor"],
    )
    assert [e["node"]["kind"] for e in older["memberPoints"]["transactions"]["edges"]] == ["HOLD", "EARN"]

    partner_view = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { id points {
        pointsIssued outstandingPoints outstandingLiability { amountMinor currency } expiryForecast { month points } breakagePoints } } } }"""
    figures = (await client.ok(partner_view, who("partner", issuer), r=[{"__typename": "Partner", "id": issuer}]))["_entities"][0]["points"]
    assert (figures["pointsIssued"], figures["outstandingPoints"], figures["breakagePoints"]) == (120, 70, 0)
    assert figures["outstandingLiability"] == [{"amountMinor": 140, "currency": "CNY"}]
    assert sum(m["points"] for m in figures["expiryForecast"]) == 70

    statement = """query($p: ID!, $from: DateTime!, $to: DateTime!) { settlementStatement(partnerId: $p, from: $from, to: $to) {
        lines { counterparty { id } currency pointsPayable payable { amountMinor } pointsReceivable receivable { amountMinor } net { amountMinor } } } }"""
    window = {"from": (utcnow() - timedelta(hours=1)).isoformat(), "to": (utcnow() + timedelta(hours=1)).isoformat()}
    (line,) = (await client.ok(statement, who("partner", issuer), p=issuer, **window))["settlementStatement"]["lines"]
    assert line["counterparty"]["id"] == beneficiary
    assert (line["pointsPayable"], line["payable"]["amountMinor"], line["net"]["amountMinor"]) == (50, 500, -500)
    (line,) = (await client.ok(statement, OPERATOR, p=beneficiary, **window))["settlementStatement"]["lines"]
    assert (line["pointsReceivable"], line["receivable"]["amountMinor"], line["net"]["amountMinor"]) == (50, 500, 500)

    checks = await client.ok("{ ledgerCheck { ok problems } verifyLedgerChain { ok chains transactions firstBrokenLink { sequence } } }", OPERATOR)
    assert checks["ledgerCheck"] == {"ok": True, "problems": []}
    assert checks["verifyLedgerChain"] == {"ok": True, "chains": 1, "transactions": 4, "firstBrokenLink": None}


async def test_who_may_read_and_do_what(client: Client) -> None:
    partner, other_partner = await _program(client), await _program(client)
    member = await _funded_member(client, partner, 50)
    stranger = who("member", uuid.uuid4())
    read = POINTS
    assert await client.code(read, None, id=member) == "UNAUTHENTICATED"
    assert await client.code(read, stranger, id=member) == "FORBIDDEN"
    assert await client.code(read, who("partner", partner), id=member) == "FORBIDDEN"
    for allowed in (who("member", member), CS, OPERATOR, SERVICE):
        assert (await client.ok(read, allowed, id=member))["memberPoints"]["available"] == 50

    partner_read = """query($id: ID!) { pointsPartner(id: $id) { points { pointsIssued } pointsProgram { currency } } }"""
    assert (await client.ok(partner_read, who("partner", partner), id=partner))["pointsPartner"]["points"]["pointsIssued"] == 50
    assert await client.code(partner_read, who("partner", other_partner), id=partner) == "FORBIDDEN"
    assert await client.code(partner_read, who("member", member), id=partner) == "FORBIDDEN"
    assert await client.code(partner_read, CS, id=partner) == "FORBIDDEN"
    await client.ok(partner_read, OPERATOR, id=partner)

    hold_input = {"memberId": member, "points": 10, "ttlSeconds": 60, "reference": "r", "idempotencyKey": "k"}
    for refused in (who("member", member), who("partner", partner), OPERATOR):
        assert await client.code(HOLD, refused, input=hold_input) == "FORBIDDEN"
    assert await client.code(PURCHASE, who("partner", other_partner), input=_purchase_input(partner, member, 100)) == "FORBIDDEN"
    assert await client.code(PURCHASE, who("member", member), input=_purchase_input(partner, member, 100)) == "FORBIDDEN"
    assert await client.code(PURCHASE, SERVICE, input=_purchase_input(partner, member, 100, external_id="svc-1")) == "FORBIDDEN"
    await client.ok(PURCHASE, who("partner", partner), input=_purchase_input(partner, member, 100, external_id="svc-1"))
    give_back = """mutation($input: ReturnInput!) { recordReturn(input: $input) { pointsClawedBack } }"""
    return_input = {"partnerId": partner, "externalId": "svc-1", "amountMinor": 100, "currency": "CNY", "idempotencyKey": "r1"}
    assert await client.code(give_back, who("partner", other_partner), input=return_input) == "FORBIDDEN"
    assert await client.code(give_back, who("member", member), input=return_input) == "FORBIDDEN"
    assert (await client.ok(give_back, who("partner", partner), input=return_input))["recordReturn"]["pointsClawedBack"] == 1

    adjust = """mutation($input: AdjustInput!) { adjustPoints(input: $input) { points } }"""
    adjust_input = {"memberId": member, "points": 5, "reason": "goodwill", "idempotencyKey": "a"}
    assert await client.code(adjust, SERVICE, input=adjust_input) == "FORBIDDEN"
    assert await client.code(adjust, CS, input=adjust_input) == "FORBIDDEN"
    assert (await client.ok(adjust, OPERATOR, input=adjust_input))["adjustPoints"]["points"] == 5
    for operator_only in ("{ ledgerCheck { ok } }", "{ verifyLedgerChain { ok } }", "{ earningPolicy { birthdayMultiplierBps } }"):
        assert await client.code(operator_only, CS) == "FORBIDDEN"
        await client.ok(operator_only, OPERATOR)
    assert await client.code(PROGRAM, who("partner", partner), input={"partnerId": partner, "currency": "CNY"}) == "FORBIDDEN"

    purchases = """query($p: ID, $m: ID) { purchases(partnerId: $p, memberId: $m) { edges { node { externalId points: pointsEarned } } } }"""
    assert len((await client.ok(purchases, who("partner", partner), p=partner))["purchases"]["edges"]) == 2
    assert await client.code(purchases, who("partner", other_partner), p=partner) == "FORBIDDEN"
    assert len((await client.ok(purchases, who("member", member), m=member))["purchases"]["edges"]) == 2
    assert await client.code(purchases, stranger, m=member) == "FORBIDDEN"


async def test_replays_answer_the_same_and_a_reused_key_is_refused(client: Client) -> None:
    partner = await _program(client)
    member = await _funded_member(client, partner, 100)
    hold_input = {"memberId": member, "points": 40, "ttlSeconds": 600, "reference": "r", "idempotencyKey": "same"}
    first = await client.ok(HOLD, SERVICE, input=hold_input)
    assert await client.ok(HOLD, SERVICE, input=hold_input) == first
    assert await client.code(HOLD, SERVICE, input={**hold_input, "points": 41}) == "IDEMPOTENCY_KEY_REUSED"
    item = _purchase_input(partner, member, 500, external_id="order-9")
    once = await client.ok(PURCHASE, who("partner", partner), input=item)
    assert await client.ok(PURCHASE, who("partner", partner), input=item) == once
    assert await client.code(PURCHASE, who("partner", partner), input={**item, "amountMinor": 501}) == "IDEMPOTENCY_KEY_REUSED"
    points = (await client.ok(POINTS, SERVICE, id=member))["memberPoints"]
    assert (points["available"], points["held"]) == (65, 40)


async def test_bad_input_gets_typed_errors_and_writes_nothing(client: Client) -> None:
    partner, beneficiary = await _program(client), await _program(client)
    member = await _funded_member(client, partner, 100)
    before = (await client.ok(POINTS, SERVICE, id=member))["memberPoints"]
    as_partner = who("partner", partner)
    hold = lambda points, key: {"memberId": member, "points": points, "ttlSeconds": 600, "reference": "r", "idempotencyKey": key}  # noqa: E731
    assert await client.code(HOLD, SERVICE, input=hold(0, "z")) == "BAD_USER_INPUT"
    assert await client.code(HOLD, SERVICE, input=hold(-5, "n")) == "BAD_USER_INPUT"
    assert await client.code(HOLD, SERVICE, input=hold(101, "big")) == "INSUFFICIENT_POINTS"
    assert await client.code(HOLD, SERVICE, input={**hold(1, "who"), "memberId": str(uuid.uuid4())}) == "NOT_FOUND"
    assert await client.code(HOLD, SERVICE, input={**hold(1, "bad-id"), "memberId": "not-a-uuid"}) == "BAD_USER_INPUT"
    assert await client.code(PURCHASE, as_partner, input=_purchase_input(partner, member, 0)) == "BAD_USER_INPUT"
    assert await client.code(PURCHASE, as_partner, input=_purchase_input(partner, member, -100)) == "BAD_USER_INPUT"
    assert await client.code(PURCHASE, as_partner, input={**_purchase_input(partner, member, 100), "currency": "USD"}) == "BAD_USER_INPUT"
    unknown_partner = str(uuid.uuid4())
    assert await client.code(PURCHASE, who("partner", unknown_partner), input=_purchase_input(unknown_partner, member, 100)) == "NOT_FOUND"
    assert await client.code(PURCHASE, as_partner, input=_purchase_input(beneficiary, member, 100)) == "FORBIDDEN"

    held = (await client.ok(HOLD, SERVICE, input=hold(50, "h")))["holdPoints"]
    settlement = {"beneficiaryPartnerId": beneficiary, "valueMinor": 100, "currency": "CNY"}
    capture = lambda points, key, **s: {"holdId": held["id"], "points": points, "idempotencyKey": key, "settlement": {**settlement, **s}}  # noqa: E731
    assert await client.code(CAPTURE, SERVICE, input=capture(51, "c-above")) == "BAD_USER_INPUT"
    assert await client.code(CAPTURE, SERVICE, input=capture(10, "c-usd", currency="USD")) == "BAD_USER_INPUT"
    assert await client.code(CAPTURE, SERVICE, input=capture(10, "c-who", beneficiaryPartnerId=str(uuid.uuid4()))) == "NOT_FOUND"
    await client.ok(RELEASE, SERVICE, id=held["id"], key="rel")
    assert await client.code(CAPTURE, SERVICE, input=capture(10, "c-after")) == "CONFLICT"

    held = (await client.ok(HOLD, SERVICE, input=hold(50, "h2")))["holdPoints"]
    await client.ok(CAPTURE, SERVICE, input={**capture(20, "c-ok"), "holdId": held["id"]})
    assert await client.code(REFUND, SERVICE, input={"holdId": held["id"], "points": 21, "idempotencyKey": "f-above"}) == "BAD_USER_INPUT"
    assert await client.code(REFUND, SERVICE, input={"holdId": held["id"], "points": 0, "idempotencyKey": "f-zero"}) == "BAD_USER_INPUT"

    after = (await client.ok(POINTS, SERVICE, id=member))["memberPoints"]
    assert after["available"] == before["available"] - 20 and after["held"] == 0  # only the successful capture moved points
    assert (await client.ok("{ ledgerCheck { ok problems } }", OPERATOR))["ledgerCheck"]["ok"]


async def test_bulk_purchases_answer_per_item(client: Client) -> None:
    partner = await _program(client)
    member = str(uuid.uuid4())
    items = [_purchase_input(partner, member, 1000), _purchase_input(partner, member, 0), {**_purchase_input(partner, member, 100), "memberId": "x"}]
    query = """mutation($items: [PurchaseInput!]!) { recordPurchases(purchases: $items) { index result { points } error { code field } } }"""
    results = (await client.ok(query, who("partner", partner), items=items))["recordPurchases"]
    assert results == [
        {"index": 0, "result": {"points": 10}, "error": None},
        {"index": 1, "result": None, "error": {"code": "BAD_USER_INPUT", "field": "amountMinor"}},
        {"index": 2, "result": None, "error": {"code": "BAD_USER_INPUT", "field": "memberId"}},
    ]


async def test_entity_references_load_in_one_query_per_batch(client: Client, db: str) -> None:
    from shared.database import get_database

    partner = await _program(client)
    members = [await _funded_member(client, partner, n) for n in (10, 20, 30)]
    async with sent_statements(get_database(db).engine) as sent:
        query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { points { available } } } }"""
        data = await client.ok(query, OPERATOR, r=[{"__typename": "Member", "id": m} for m in members])
    statements = [s for s in sent if "member_accounts" in s]
    assert [e["points"]["available"] for e in data["_entities"]] == [10, 20, 30]
    assert len(statements) == 1


async def test_tier_changes_arrive_through_the_event_inbox(client: Client) -> None:
    partner = await _program(client)
    member = str(uuid.uuid4())
    body = {"events": [{
        "id": str(uuid.uuid4()), "type": "members.TierChanged", "producer": "members", "occurredAt": utcnow().isoformat(),
        "payload": {"memberId": member, "fromTier": "BASIC", "toTier": "DIAMOND", "occurredAt": utcnow().isoformat(), "sequence": 3},
    }]}
    token = mint_token("service", "members")
    for _ in range(2):  # a redelivery is a duplicate
        answer = (await client.http.post("/events", json=body, headers={"authorization": f"Bearer {token}"})).json()
    assert answer["duplicates"] == [body["events"][0]["id"]]
    forged = (await client.http.post("/events", json=body, headers={"authorization": f"Bearer {mint_token('service', 'redemptions')}"}))
    assert forged.status_code == 403
    earned = await client.ok(PURCHASE, who("partner", partner), input=_purchase_input(partner, member, 1000))
    assert earned["recordPurchase"]["points"] == 20  # DIAMOND: 2x
    assert (await client.ok(POINTS, SERVICE, id=member))["memberPoints"]["tier"] == "DIAMOND"


async def _points_sdl(client: Client) -> str:
    return (await client.ok("{ _service { sdl } }"))["_service"]["sdl"]


# How the members and benefits subgraphs own the entities points extends.
OWNERS = [
    {"name": "members", "url": "http://members:4001/graphql", "sdl": """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Member @key(fields: "id") { id: ID! displayName: String }
type Query { me: Member }
"""},
    {"name": "benefits", "url": "http://benefits:4003/graphql", "sdl": """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Partner @key(fields: "id") { id: ID! name: String! }
type Query { partners: [Partner!]! }
"""},
]


@pytest.mark.node
async def test_the_points_sdl_composes_under_both_composers(client: Client) -> None:
    sdl = await _points_sdl(client)
    assert 'type Member @key(fields: "id")' in sdl and 'type Partner @key(fields: "id")' in sdl
    points = {"name": "points", "url": "http://points:4002/graphql", "sdl": sdl}
    for subgraphs in ([points], [points, *OWNERS]):
        report = compose(subgraphs)
        for composer in ("apollo", "guild"):
            assert report[composer]["ok"], (composer, report[composer]["errors"])
            supergraph = report[composer]["supergraphSdl"]
            assert "settlementStatement" in supergraph and "holdPoints" in supergraph


@pytest.mark.node
async def test_the_points_sdl_composes_with_the_members_subgraph(client: Client) -> None:
    from services.members.schema import schema as members_schema

    members_sdl = (await members_schema.execute("{ _service { sdl } }")).data["_service"]["sdl"]  # type: ignore[index]
    report = compose([
        {"name": "points", "url": "http://points:4002/graphql", "sdl": await _points_sdl(client)},
        {"name": "members", "url": "http://members:4001/graphql", "sdl": members_sdl},
    ])
    for composer in ("apollo", "guild"):
        assert report[composer]["ok"], (composer, report[composer]["errors"])


async def test_caps_are_set_per_partner_and_refusals_name_them(client: Client) -> None:
    partner_id = str(uuid.uuid4())
    program = """mutation($input: PointsProgramInput!) { setPointsProgram(input: $input) {
      maxPurchaseMinor maxPointsPerMemberDay maxPurchaseAgeDays } }"""
    caps = {"maxPurchaseMinor": 100_000, "maxPointsPerMemberDay": 1_500, "maxPurchaseAgeDays": 30}
    data = await client.ok(program, OPERATOR, input={"partnerId": partner_id, "currency": "CNY", "returnWindowDays": 0, **caps})
    assert data["setPointsProgram"] == caps
    member = str(uuid.uuid4())
    body = await client.call(PURCHASE, who("partner", partner_id), input=_purchase_input(partner_id, member, 100_001))
    assert body["errors"][0]["extensions"] == {
        "code": "PURCHASE_OVER_CAP", "field": "amountMinor", "cap": 100_000, "currency": "CNY", "partnerId": partner_id,
    }
    old = {**_purchase_input(partner_id, member, 100), "occurredAt": "1970-01-01T00:00:00+00:00"}
    assert await client.code(PURCHASE, who("partner", partner_id), input=old) == "PURCHASE_TOO_OLD"
    await client.ok(PURCHASE, who("partner", partner_id), input=_purchase_input(partner_id, member, 100_000))  # 1,000 points
    assert await client.code(PURCHASE, who("partner", partner_id), input=_purchase_input(partner_id, member, 60_000)) == "POINTS_OVER_DAILY_CAP"
    assert await client.code(program, OPERATOR, input={"partnerId": partner_id, "currency": "CNY", "maxPurchaseMinor": 0}) == "BAD_USER_INPUT"
