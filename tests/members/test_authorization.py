"""The authorization matrix: every role against every field that holds personal (or private) data,
over both ways a member is read: `member(id)` and other subgraphs' references (`_entities`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from shared.auth.principals import Principal
from shared.database import Database

from services.members.profiles import service as profiles
from tests.members.conftest import (
    EMAIL, OPERATOR, PARTNER, PHONE, POINTS, SUPPORT, as_member, error_codes, gql, purchase, register,
)

FIELDS = """id status tier displayName phone email birthday birthdayMonth joinedAt lastActivityAt lifecycleStage
  preferences { categories weeklyNotificationCap } tierProgress { rollingGrowth } tierHistory { toTier }"""
BY_ID = f"query($id: ID!) {{ member(id: $id) {{ {FIELDS} }} }}"
BY_REFERENCE = f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Member {{ {FIELDS} }} }} }}"

FULL = {
    "displayName": "Jane Doe", "phone": PHONE, "email": EMAIL, "birthday": "02-29", "birthdayMonth": 2,
}
MASKED = {
    "displayName": "Jane Doe", "phone": "138****1362", "email": "j***@example.com", "birthday": "02-29", "birthdayMonth": 2,
}
SERVICE = {"displayName": None, "phone": None, "email": None, "birthday": None, "birthdayMonth": 2}
NOTHING = {"displayName": None, "phone": None, "email": None, "birthday": None, "birthdayMonth": None}
PRIVATE = ("joinedAt", "lastActivityAt", "lifecycleStage", "preferences", "tierProgress", "tierHistory")

# viewer -> (personal fields it sees, whether it sees the private profile, whether member(id) answers)
MATRIX: dict[str, tuple[dict[str, Any], bool, bool]] = {
    "self": (FULL, True, True),
    "operator": (FULL, True, True),
    "customer_service": (MASKED, True, True),
    "service": (SERVICE, True, True),
    "partner": (NOTHING, False, False),
    "other_member": (NOTHING, False, False),
}


def viewer(name: str, member_id: uuid.UUID) -> Principal:
    return {
        "self": as_member(member_id),
        "operator": OPERATOR,
        "customer_service": SUPPORT,
        "service": POINTS,
        "partner": PARTNER,
        "other_member": as_member(uuid.uuid4()),
    }[name]


@pytest.fixture
async def jane(database: Database) -> uuid.UUID:
    me = await register(database)
    await purchase(database, me.id, 100)
    await profiles.update_preferences(database, as_member(me.id), me.id, categories=["video"])
    return me.id


def check(member: dict[str, Any], name: str, member_id: uuid.UUID) -> None:
    personal, private, _ = MATRIX[name]
    assert member["id"] == str(member_id) and member["status"] == "ACTIVE" and member["tier"] == "BASIC"
    assert {k: member[k] for k in personal} == personal, name
    for field in PRIVATE:
        assert (member[field] is not None) is private, (name, field)


@pytest.mark.parametrize("name", list(MATRIX))
async def test_references_from_other_subgraphs(client: httpx.AsyncClient, jane: uuid.UUID, name: str) -> None:
    body = await gql(client, BY_REFERENCE, {"r": [{"__typename": "Member", "id": str(jane)}]}, as_=viewer(name, jane))
    assert "errors" not in body, body
    check(body["data"]["_entities"][0], name, jane)


@pytest.mark.parametrize("name", list(MATRIX))
async def test_whole_member_reads(client: httpx.AsyncClient, jane: uuid.UUID, name: str) -> None:
    body = await gql(client, BY_ID, {"id": str(jane)}, as_=viewer(name, jane))
    if MATRIX[name][2]:
        assert "errors" not in body, body
        check(body["data"]["member"], name, jane)
    else:
        assert body["data"] is None and error_codes(body) == ["FORBIDDEN"]
        assert "Jane" not in str(body) and PHONE[-4:] not in str(body)


@pytest.mark.parametrize("name", list(MATRIX))
async def test_the_service_layer_applies_the_same_matrix(database: Database, jane: uuid.UUID, name: str) -> None:
    from shared.errors import Forbidden

    personal, private, may_read = MATRIX[name]
    who = viewer(name, jane)
    if not may_read:
        with pytest.raises(Forbidden):
            await profiles.get_member(database, who, jane)
        return
    view = await profiles.get_member(database, who, jane)
    seen = {
        "displayName": view.display_name, "phone": view.phone, "email": view.email,
        "birthday": str(view.birthday) if view.birthday else None, "birthdayMonth": view.birthday_month,
    }
    assert seen == personal
    assert (view.lifecycle_stage is not None) is private and view.shows_profile is private


@pytest.mark.parametrize("name", list(MATRIX))
async def test_an_erased_member_holds_no_personal_data_for_anyone(
    client: httpx.AsyncClient, database: Database, jane: uuid.UUID, name: str
) -> None:
    await profiles.erase_member(database, OPERATOR, jane)
    body = await gql(client, BY_REFERENCE, {"r": [{"__typename": "Member", "id": str(jane)}]}, as_=viewer(name, jane))
    member = body["data"]["_entities"][0]
    assert member["id"] == str(jane) and member["status"] == "ERASED"
    assert member["displayName"] in (None, "[erased]")
    for field in ("phone", "email", "birthday", "birthdayMonth", *PRIVATE):
        assert member[field] is None, (name, field)
    assert "Jane" not in str(body)
