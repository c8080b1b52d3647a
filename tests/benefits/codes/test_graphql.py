"""Code pools, reservations and write-offs through the benefits subgraph over HTTP: the whole
journey, every role against every operation, typed errors, batched entity fields, and the bulk
upload path."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from codes_kit import Kit

from services.benefits.app import app as benefits_app
from shared.auth.tokens import mint_token

OPERATOR = {"kind": "staff", "subject": "ops-1", "roles": ["operator"]}
CS = {"kind": "staff", "subject": "cs-1", "roles": ["customer_service"]}
SERVICE = {"kind": "service", "subject": "redemptions"}


def who(kind: str, subject: object) -> dict:
    return {"kind": kind, "subject": str(subject)}


def bearer(as_: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(as_['kind'], as_['subject'], roles=as_.get('roles', []))}"}


class Client:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, query: str, as_: dict | None = None, **variables: object) -> dict:
        headers = bearer(as_) if as_ else {}
        return (await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()

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
    async with benefits_app.router.lifespan_context(benefits_app):
        transport = httpx.ASGITransport(app=benefits_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://benefits") as http:
            yield Client(http)


UPLOAD = """mutation($b: ID!, $codes: [String!]!, $key: String!) { uploadCodes(benefitId: $b, codes: $codes, idempotencyKey: $key) {
  id accepted rejected idempotencyKey errors { line reason message column } benefit { id } } }"""
GENERATE = """mutation($b: ID!, $n: Int!, $key: String!) { generateCodes(benefitId: $b, count: $n, idempotencyKey: $key, length: 8) { accepted } }"""
THRESHOLD = """mutation($b: ID!, $t: Int) { setLowStockThreshold(benefitId: $b, threshold: $t) { available lowStockThreshold lowStockAlerted } }"""
RESERVE = """mutation($b: ID!, $m: ID!, $key: String!) { reserveBenefit(benefitId: $b, memberId: $m, key: $key, ttlSeconds: 120) {
  id key state code expiresAt settlementMinor currency benefit { id } member { id } } }"""
ISSUE = """mutation($key: String!) { issueReservation(key: $key, deliveryReference: "push-1") { code validUntil reservation { state } } }"""
RELEASE = """mutation($key: String!) { releaseReservation(key: $key) { state } }"""
VOID = """mutation($key: String!) { voidReservation(key: $key) { state } }"""
RESERVATION = """query($key: String!) { reservation(key: $key) { state code } }"""
WRITE_OFF = """mutation($code: String!, $key: String!) { writeOffCode(code: $code, storeId: "store-1", idempotencyKey: $key) {
  id code storeId reservationKey member { id } benefit { id } partner { id } } }"""
UNDO = """mutation($id: ID!, $key: String!) { undoWriteOff(writeOffId: $id, idempotencyKey: $key) { undoneAt code } }"""
MY_CODES = """{ myCodes { nodes { code maskedCode state validUntil benefit { id } } } }"""
POOL = """query($b: ID!) { benefitCodes(benefitId: $b, first: 10) { nodes { code state member { id } } pageInfo { hasNextPage } } }"""
WRITE_OFFS = """query($p: ID!) { writeOffs(partnerId: $p) { nodes { code storeId } } }"""
USAGE = """query($p: ID!) { codeUsage(partnerId: $p) { issued used usageRate benefit { id } } }"""
JOB = """mutation { runBenefitsJob { releasedReservations expiredCodes } }"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Benefit { id stock { available reserved issued used total lowStockThreshold } }
  ... on Member { id codes { nodes { code state } } }
  ... on Partner { id writeOffs { nodes { code } } codeUsage { issued used } } } }"""


async def test_the_journey_of_a_code_through_graphql(client: Client, kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    owner, member = who("partner", partner), uuid.uuid4()
    up = (await client.ok(UPLOAD, owner, b=str(benefit), codes=["GQL-0001", "GQL-0002", "GQL-0001", "bad code"], key="u1"))["uploadCodes"]
    assert (up["accepted"], up["rejected"], up["idempotencyKey"], up["benefit"]["id"]) == (2, 2, "u1", str(benefit))
    assert [(e["line"], e["reason"]) for e in up["errors"]] == [(3, "DUPLICATE"), (4, "BAD_CHARACTER")]
    assert (await client.ok(THRESHOLD, owner, b=str(benefit), t=2))["setLowStockThreshold"]["lowStockAlerted"] is False

    reserved = (await client.ok(RESERVE, SERVICE, b=str(benefit), m=str(member), key="redeem-9"))["reserveBenefit"]
    assert (reserved["state"], reserved["code"], reserved["settlementMinor"], reserved["member"]["id"]) == (
        "RESERVED", "••••••0001", 500, str(member))
    issued = (await client.ok(ISSUE, SERVICE, key="redeem-9"))["issueReservation"]
    assert issued["code"] == "GQL-0001" and issued["reservation"]["state"] == "ISSUED"
    assert (await client.ok(RESERVATION, CS, key="redeem-9"))["reservation"] == {"state": "ISSUED", "code": "••••••0001"}

    mine = (await client.ok(MY_CODES, who("member", member)))["myCodes"]["nodes"]
    assert [(c["code"], c["maskedCode"], c["state"]) for c in mine] == [("GQL-0001", "••••••0001", "ISSUED")]
    done = (await client.ok(WRITE_OFF, owner, code="gql-0001", key="w1"))["writeOffCode"]
    assert (done["code"], done["reservationKey"], done["member"]["id"], done["partner"]["id"]) == ("GQL-0001", "redeem-9", str(member), str(partner))
    assert (await client.ok(WRITE_OFFS, owner, p=str(partner)))["writeOffs"]["nodes"] == [{"code": "••••••0001", "storeId": "store-1"}]
    assert (await client.ok(USAGE, CS, p=str(partner)))["codeUsage"] == [
        {"issued": 1, "used": 1, "usageRate": 1.0, "benefit": {"id": str(benefit)}}]

    data = await client.ok(ENTITIES, owner, r=[{"__typename": "Benefit", "id": str(benefit)},
                                               {"__typename": "Partner", "id": str(partner)}])
    assert data["_entities"][0]["stock"] == {"available": 1, "reserved": 0, "issued": 0, "used": 1, "total": 2, "lowStockThreshold": 2}
    assert data["_entities"][1]["writeOffs"]["nodes"] == [{"code": "••••••0001"}]
    members = await client.ok(ENTITIES, who("member", member), r=[{"__typename": "Member", "id": str(member)}])
    assert members["_entities"][0]["codes"]["nodes"] == [{"code": "GQL-0001", "state": "USED"}]
    cs_view = await client.ok(ENTITIES, CS, r=[{"__typename": "Member", "id": str(member)}])
    assert cs_view["_entities"][0]["codes"]["nodes"] == [{"code": "••••••0001", "state": "USED"}]

    undone = (await client.ok(UNDO, owner, id=done["id"], key="u1"))["undoWriteOff"]
    assert undone["undoneAt"] and undone["code"] == "••••••0001"
    assert (await client.ok(JOB, OPERATOR))["runBenefitsJob"] == {"releasedReservations": 0, "expiredCodes": 0}


async def test_typed_errors_reach_the_client(client: Client, kit: Kit) -> None:
    partner, benefit, _ = await kit.pool(1)
    recharge = await kit.benefit(partner, delivery="RECHARGE")
    owner = who("partner", partner)
    assert await client.code(UPLOAD, owner, b=str(recharge), codes=["A"], key="k") == "BAD_USER_INPUT"
    assert await client.code(UPLOAD, owner, b="not-an-id", codes=["A"], key="k") == "BAD_USER_INPUT"
    assert await client.code(UPLOAD, owner, b=str(benefit), codes=[], key="k") == "BAD_USER_INPUT"
    assert await client.code(UPLOAD, owner, b=str(uuid.uuid4()), codes=["A"], key="k") == "NOT_FOUND"
    await client.ok(RESERVE, SERVICE, b=str(benefit), m=str(uuid.uuid4()), key="only")
    assert await client.code(RESERVE, SERVICE, b=str(benefit), m=str(uuid.uuid4()), key="second") == "OUT_OF_STOCK"
    assert await client.code(RESERVE, SERVICE, b=str(benefit), m=str(uuid.uuid4()), key="only") == "IDEMPOTENCY_KEY_REUSED"
    assert await client.code(VOID, SERVICE, key="only") == "CONFLICT"
    await kit.set_status(benefit, "PAUSED")
    assert await client.code(RESERVE, SERVICE, b=str(benefit), m=str(uuid.uuid4()), key="paused") == "NOT_AVAILABLE"
    assert await client.code(WRITE_OFF, owner, code="NOPE-NOPE", key="w") == "NOT_YOURS"


# --- every role against every operation ------------------------------------------------------------------

ROLES = ("operator", "customer_service", "owner", "other_partner", "member", "service", "anonymous")


async def _setup(kit: Kit) -> dict:
    partner, benefit, codes = await kit.pool(10)
    member = uuid.uuid4()
    issued = await kit.issued(benefit, member)
    other = await kit.partner()
    principals = {"operator": OPERATOR, "customer_service": CS, "owner": who("partner", partner), "other_partner": who("partner", other),
                  "member": who("member", member), "service": SERVICE, "anonymous": None}
    return {"partner": partner, "benefit": benefit, "member": member, "issued": issued, "principals": principals}


def _operations(s: dict, kit: Kit) -> dict[str, tuple[str, dict, set[str]]]:
    """operation → (document, variables, roles allowed)."""
    b, p, m = str(s["benefit"]), str(s["partner"]), str(s["member"])
    return {
        "uploadCodes": (UPLOAD, {"b": b, "codes": [f"R-{uuid.uuid4().hex[:10]}"], "key": kit.key()}, {"operator", "owner"}),
        "generateCodes": (GENERATE, {"b": b, "n": 2, "key": kit.key()}, {"operator", "owner"}),
        "setLowStockThreshold": (THRESHOLD, {"b": b, "t": 1}, {"operator", "owner"}),
        "reserveBenefit": (RESERVE, {"b": b, "m": m, "key": kit.key()}, {"service"}),
        "reservation": (RESERVATION, {"key": s["issued"].reservation.key}, {"service", "operator", "customer_service"}),
        "writeOffs": (WRITE_OFFS, {"p": p}, {"operator", "customer_service", "owner"}),
        "codeUsage": (USAGE, {"p": p}, {"operator", "customer_service", "owner", "service"}),
        "benefitCodes": (POOL, {"b": b}, {"operator", "customer_service", "owner"}),
        "myCodes": (MY_CODES, {}, {"member"}),
        "runBenefitsJob": (JOB, {}, {"operator"}),
        "Benefit.stock": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Benefit { stock { available } } } }""",
                          {"r": [{"__typename": "Benefit", "id": b}]}, set(ROLES) - {"anonymous"}),
        "Member.codes": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Member { codes { nodes { state } } } } }""",
                         {"r": [{"__typename": "Member", "id": m}]}, {"member", "operator", "customer_service"}),
        "Partner.writeOffs": ("""query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { writeOffs { nodes { code } } } } }""",
                              {"r": [{"__typename": "Partner", "id": p}]}, {"operator", "customer_service", "owner"}),
    }


async def test_every_role_against_every_operation(client: Client, kit: Kit) -> None:
    s = await _setup(kit)
    seen = []
    for role in ROLES:
        for name, (document, variables, allowed) in _operations(s, kit).items():
            body = await client.call(document, s["principals"][role], **variables)
            errors = body.get("errors")
            if role in allowed:
                assert not errors, (role, name, errors)
            else:
                expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
                assert errors and errors[0]["extensions"]["code"] == expected, (role, name, body)
            seen.append((role, name))
    assert len(seen) == len(ROLES) * 13


async def test_steps_on_a_reservation_and_write_offs_by_role(client: Client, kit: Kit) -> None:
    s = await _setup(kit)
    key = s["issued"].reservation.key
    for role in ROLES:
        expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
        if role != "service":
            for document in (ISSUE, RELEASE, VOID):
                assert await client.code(document, s["principals"][role], key=key) == expected, role
        if role not in ("owner", "other_partner"):
            assert await client.code(WRITE_OFF, s["principals"][role], code=s["issued"].code, key=kit.key()) == expected, role
            assert await client.code(UNDO, s["principals"][role], id=str(uuid.uuid4()), key=kit.key()) == expected, role
    assert await client.code(WRITE_OFF, s["principals"]["other_partner"], code=s["issued"].code, key="x") == "NOT_YOURS"
    done = (await client.ok(WRITE_OFF, s["principals"]["owner"], code=s["issued"].code, key="mine"))["writeOffCode"]
    assert await client.code(UNDO, s["principals"]["other_partner"], id=done["id"], key="x") == "NOT_FOUND"
    assert (await client.ok(VOID, SERVICE, key=(await kit.issued(s["benefit"])).reservation.key))["voidReservation"]["state"] == "VOIDED"


async def test_entity_stock_loads_in_one_query_per_batch(client: Client, kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.benefits import statements

    partner = await kit.partner()
    benefits = [await kit.benefit(partner) for _ in range(4)]
    seen: list[str] = []
    fetch = statements.fetch

    async def counted(session, sql, **params):  # type: ignore[no-untyped-def]  # noqa: ANN001
        seen.append(sql)
        return await fetch(session, sql, **params)

    monkeypatch.setattr(statements, "fetch", counted)
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Benefit { stock { available } } } }"""
    data = await client.ok(query, OPERATOR, r=[{"__typename": "Benefit", "id": str(b)} for b in benefits])
    assert [e["stock"]["available"] for e in data["_entities"]] == [0, 0, 0, 0]
    assert len(seen) == 2  # the benefits, then their codes by state


# --- the bulk upload path ---------------------------------------------------------------------------------


async def _body(lines: int) -> AsyncIterator[bytes]:
    chunk: list[str] = []
    for i in range(lines):
        chunk.append(f"HTTP-{i:07d}\n")
        if len(chunk) == 5000:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


async def test_the_bulk_path_streams_a_large_upload_past_the_graphql_body_limit(client: Client, kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    url = f"/benefits/{benefit}/codes"
    headers = {**bearer(who("partner", partner)), "content-type": "text/plain; charset=utf-8", "idempotency-key": "bulk-1"}
    response = await client.http.post(url, content=_body(90_000), headers=headers)  # about 1.2 MB, chunked
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"], answer["idempotencyKey"], answer["benefitId"]) == (90_000, 0, "bulk-1", str(benefit))
    assert response.headers["x-request-id"]
    replay = await client.http.post(url, content=_body(90_000), headers=headers)
    assert replay.status_code == 200 and replay.json() == answer
    reused = await client.http.post(url, content=b"OTHER-1\n", headers=headers)
    assert reused.status_code == 409 and reused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await kit.scalar("SELECT count(*) FROM benefits.codes WHERE benefit_id = :b", b=benefit) == 90_000


async def test_the_bulk_path_refuses_what_it_should(client: Client, kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.benefits.config import reset_benefits_settings_cache

    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    recharge = await kit.benefit(partner, delivery="RECHARGE")
    owner = {**bearer(who("partner", partner)), "content-type": "text/plain"}

    async def post(benefit_id: object, headers: dict, body: bytes = b"A-1\nA-2\n", method: str = "POST") -> tuple[int, str]:
        response = await client.http.request(method, f"/benefits/{benefit_id}/codes", content=body, headers=headers)
        return response.status_code, response.json()["errors"][0]["extensions"]["code"] if response.status_code != 200 else ""

    assert await post(benefit, {"content-type": "text/plain", "idempotency-key": "k"}) == (401, "UNAUTHENTICATED")
    assert await post(benefit, {"authorization": "Bearer nonsense", "content-type": "text/plain", "idempotency-key": "k"}) == (401, "UNAUTHENTICATED")
    assert await post(benefit, owner) == (400, "BAD_USER_INPUT")  # no Idempotency-Key
    assert await post(benefit, {**owner, "content-type": "application/json", "idempotency-key": "k"}) == (400, "BAD_USER_INPUT")
    assert await post("nope", {**owner, "idempotency-key": "k"}) == (400, "BAD_USER_INPUT")
    assert await post(uuid.uuid4(), {**owner, "idempotency-key": "k"}) == (404, "NOT_FOUND")
    assert await post(recharge, {**owner, "idempotency-key": "k"}) == (400, "BAD_USER_INPUT")
    assert await post(benefit, {**owner, "idempotency-key": "k"}, body=b"\n\n") == (400, "BAD_USER_INPUT")
    other = {**bearer(who("partner", await kit.partner())), "content-type": "text/plain", "idempotency-key": "k"}
    assert await post(benefit, other) == (403, "FORBIDDEN")
    assert await post(benefit, {**bearer(who("member", uuid.uuid4())), "content-type": "text/plain", "idempotency-key": "k"}) == (403, "FORBIDDEN")
    assert await post(benefit, {**owner, "idempotency-key": "k"}, method="PUT") == (405, "BAD_REQUEST")
    monkeypatch.setenv("ABG_BENEFITS_MAX_UPLOAD_BYTES", "2048")
    reset_benefits_settings_cache()
    assert await post(benefit, {**owner, "idempotency-key": "big"}, body=b"X-12345678\n" * 300) == (413, "PAYLOAD_TOO_LARGE")
    assert await kit.scalar("SELECT count(*) FROM benefits.codes") == 0
    assert await post(benefit, {**bearer(OPERATOR), "content-type": "text/plain", "idempotency-key": "ops"}) == (200, "")
