"""The partner registry through GraphQL: every role against every read and write, references from
other subgraphs (`_entities`), typed errors."""

from __future__ import annotations

import uuid

import pytest

from shared.database import Database

from services.benefits.partners.answers import PartnerView
from tests.benefits.kit import OPERATOR, gql, register, roles_for

ROLES = ("operator", "customer_service", "partner", "other_partner", "member", "service", "anonymous")
PRIVATE = "roles currency contact { name email } webhookUrl fulfilmentUrl statusReason version createdAt apiKeys { id } webhookSecrets { id } webhookDeliveries { edges { node { id } } }"
FIELDS = f"id name brand status logoUrl categories {PRIVATE}"
PARTNER = f"query($id: ID!) {{ partner(id: $id) {{ {FIELDS} }} }}"
PARTNERS = "{ partners(first: 5) { edges { node { id name roles } } pageInfo { hasNextPage } } }"
MINE = "{ myPartner { id name webhookUrl } }"
ENTITIES = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Partner {{ {FIELDS} }} }} }}"
REGISTER = """mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) { id status name roles contact { name email } } }"""
ACTIVATE = "mutation($id: ID!) { activatePartner(partnerId: $id) { status version } }"
SUSPEND = "mutation($id: ID!) { suspendPartner(partnerId: $id, reason: \"audit\") { status statusReason } }"
UPDATE = """mutation($id: ID!, $input: PartnerProfileInput!) { updatePartner(partnerId: $id, input: $input) {
  name contact { name email } webhookUrl categories roles } }"""

OK, FORBIDDEN, UNAUTHENTICATED = "ok", "FORBIDDEN", "UNAUTHENTICATED"


@pytest.fixture
async def metro(database: Database) -> PartnerView:
    return await register(
        database, contact_name="Li Wei", contact_email="ops@metro.example", logo_url="https://cdn.example/m.png",
        categories=["groceries"], webhook_url="https://metro.example/hooks",
    )


def _outcome(answer) -> str:  # noqa: ANN001
    return answer.codes[0] if answer.errors else OK


# role -> whether it reads the private fields
SEES_PRIVATE = {"operator": True, "customer_service": True, "partner": True, "service": True,
                "other_partner": False, "member": False}


@pytest.mark.parametrize("role", ROLES)
async def test_reads_by_role(database: Database, metro: PartnerView, role: str) -> None:
    who = roles_for(metro.id)[role]
    expected = {
        PARTNER: {"operator": OK, "customer_service": OK, "partner": OK, "service": OK, "other_partner": FORBIDDEN,
                  "member": FORBIDDEN, "anonymous": UNAUTHENTICATED},
        PARTNERS: {"operator": OK, "customer_service": OK, "service": OK, "partner": FORBIDDEN, "other_partner": FORBIDDEN,
                   "member": FORBIDDEN, "anonymous": UNAUTHENTICATED},
        MINE: {"partner": OK, "other_partner": "NOT_FOUND", "operator": FORBIDDEN, "customer_service": FORBIDDEN,
               "member": FORBIDDEN, "service": FORBIDDEN, "anonymous": UNAUTHENTICATED},
    }
    for query, outcomes in expected.items():
        answer = await gql(database, query, who, id=str(metro.id))
        assert _outcome(answer) == outcomes[role], (query, role, answer.errors)
    if role == "partner":
        assert (await gql(database, MINE, who)).ok["myPartner"]["webhookUrl"] == "https://metro.example/hooks"


@pytest.mark.parametrize("role", ROLES)
async def test_references_show_the_public_face_to_everyone_signed_in(database: Database, metro: PartnerView, role: str) -> None:
    answer = await gql(database, ENTITIES, roles_for(metro.id)[role], r=[{"__typename": "Partner", "id": str(metro.id)}])
    if role == "anonymous":
        assert answer.codes == [UNAUTHENTICATED]
        return
    (entity,) = answer.ok["_entities"]
    assert (entity["name"], entity["brand"], entity["status"], entity["logoUrl"], entity["categories"]) == (
        "Metro Mart", "Metro", "ACTIVE", "https://cdn.example/m.png", ["groceries"]
    )
    private = ("roles", "currency", "contact", "webhookUrl", "statusReason", "version", "createdAt", "apiKeys",
               "webhookSecrets", "webhookDeliveries")
    if SEES_PRIVATE[role]:
        assert entity["roles"] == ["EARNING", "REDEMPTION"] and entity["contact"] == {"name": "Li Wei", "email": "ops@metro.example"}
        assert entity["apiKeys"] == [] and entity["webhookDeliveries"] == {"edges": []}
    else:
        assert all(entity[name] is None for name in private), entity


async def test_references_are_batched_and_unknown_ids_are_null(database: Database, metro: PartnerView) -> None:
    other = await register(database, name="Skyline Air")
    reps = [{"__typename": "Partner", "id": str(i)} for i in (metro.id, uuid.uuid4(), other.id, metro.id)]
    entities = (await gql(database, ENTITIES, roles_for(metro.id)["member"], r=reps)).ok["_entities"]
    assert [e["name"] if e else None for e in entities] == ["Metro Mart", None, "Skyline Air", "Metro Mart"]
    bad = await gql(database, ENTITIES, OPERATOR, r=[{"__typename": "Partner", "id": "nope"}])
    assert bad.codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("role", ROLES)
async def test_writes_by_role(database: Database, metro: PartnerView, role: str) -> None:
    who = roles_for(metro.id)[role]
    registration = {"name": "New Brand", "brand": "New", "roles": ["EARNING"], "currency": "CNY"}
    operator_only = {"operator": OK, "anonymous": UNAUTHENTICATED}
    manager = {"operator": OK, "partner": OK, "anonymous": UNAUTHENTICATED}
    cases = [
        (REGISTER, {"input": registration}, operator_only),
        (SUSPEND, {"id": str(metro.id)}, operator_only),
        (ACTIVATE, {"id": str(metro.id)}, operator_only),
        (UPDATE, {"id": str(metro.id), "input": {"name": "Renamed"}}, manager),
        (UPDATE, {"id": str(metro.id), "input": {"roles": ["EARNING"]}}, operator_only),
    ]
    for query, variables, allowed in cases:
        answer = await gql(database, query, who, **variables)
        assert _outcome(answer) == allowed.get(role, FORBIDDEN), (query, variables, role, answer.errors)


async def test_profile_edits_leave_out_unchanged_and_null_clears(database: Database, metro: PartnerView) -> None:
    me = roles_for(metro.id)["partner"]
    edited = (await gql(database, UPDATE, me, id=str(metro.id), input={"contact": {"email": None}, "categories": ["Video"]})).ok
    assert edited["updatePartner"]["contact"] == {"name": "Li Wei", "email": None}
    assert edited["updatePartner"]["categories"] == ["video"] and edited["updatePartner"]["webhookUrl"] == "https://metro.example/hooks"
    cleared = (await gql(database, UPDATE, me, id=str(metro.id), input={"contact": None, "webhookUrl": None})).ok
    assert cleared["updatePartner"]["contact"] == {"name": None, "email": None} and cleared["updatePartner"]["webhookUrl"] is None


async def test_registration_through_graphql_and_typed_errors(database: Database) -> None:
    fixed = str(uuid.uuid5(uuid.NAMESPACE_URL, "abg:partner:streambox"))
    made = (await gql(database, REGISTER, OPERATOR, input={
        "id": fixed, "name": "StreamBox Video", "brand": "StreamBox", "roles": ["REDEMPTION", "EARNING"], "currency": "CNY",
        "contact": {"name": "Ada", "email": "ada@streambox.example"},
    })).ok["registerPartner"]
    assert made == {"id": fixed, "status": "PENDING", "name": "StreamBox Video", "roles": ["EARNING", "REDEMPTION"],
                    "contact": {"name": "Ada", "email": "ada@streambox.example"}}
    twice = await gql(database, REGISTER, OPERATOR, input={"id": fixed, "name": "X", "brand": "X", "roles": ["EARNING"], "currency": "CNY"})
    assert twice.codes == ["CONFLICT"]
    bad = await gql(database, REGISTER, OPERATOR, input={"name": "X", "brand": "X", "roles": ["EARNING"], "currency": "yen"})
    assert bad.codes == ["BAD_USER_INPUT"] and bad.errors[0]["extensions"]["field"] == "currency"
    unknown_role = await gql(database, REGISTER, OPERATOR, input={"name": "X", "brand": "X", "roles": ["SPENDING"], "currency": "CNY"})
    assert unknown_role.codes == ["BAD_USER_INPUT"]  # a variable's value, as the gateway says too
    missing = await gql(database, ACTIVATE, OPERATOR, id=str(uuid.uuid4()))
    assert missing.codes == ["NOT_FOUND"]
    malformed = await gql(database, ACTIVATE, OPERATOR, id="42")
    assert malformed.codes == ["BAD_USER_INPUT"] and malformed.errors[0]["extensions"]["field"] == "partnerId"
