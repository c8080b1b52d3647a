"""Profile changes, preferences, suspension and erasure (service layer, real PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from shared.database import Database
from shared.errors import Conflict, Forbidden, InvalidInput, LimitExceeded, NotFound
from shared.timeutil import utcnow

from services.members.profiles import service as profiles
from services.members.profiles import store
from services.members.profiles.answers import KEEP, ProfileChanges
from tests.members.conftest import EMAIL, OPERATOR, PARTNER, PHONE, POINTS, SUPPORT, as_member, fetch, register


async def test_a_member_edits_their_own_profile(database: Database) -> None:
    me = await register(database)
    changed = await profiles.update_profile(
        database, as_member(me.id),
        me.id, ProfileChanges(display_name="  Jane   D. ", phone="+44 20 7946 0958", email="J@Example.org"),
    )
    assert (changed.display_name, changed.phone, changed.email) == ("Jane D.", "+442079460958", "j@example.org")
    # The old phone is free again, the new one is taken.
    assert (await register(database, phone=PHONE, email=None)).id
    with pytest.raises(Conflict):
        await register(database, phone="+442079460958", email=None)


async def test_the_email_can_be_removed(database: Database) -> None:
    me = await register(database)
    changed = await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(email=None))
    assert changed.email is None
    (row,) = await fetch(database, "SELECT email_ciphertext, email_index FROM members.members")
    assert row["email_ciphertext"] is None and row["email_index"] is None


async def test_a_phone_taken_by_someone_else_is_a_conflict_and_changes_nothing(database: Database) -> None:
    me = await register(database)
    other = await register(database, phone="+8613900001111", email="o@example.com")
    with pytest.raises(Conflict):
        await profiles.update_profile(
            database, as_member(me.id), me.id, ProfileChanges(display_name="New Name", phone="+8613900001111")
        )
    after = await profiles.get_member(database, OPERATOR, me.id)
    assert (after.display_name, after.phone) == ("Jane Doe", PHONE)
    assert (await profiles.get_member(database, OPERATOR, other.id)).phone == "+8613900001111"


@pytest.mark.parametrize(
    "changes",
    [
        ProfileChanges(phone="12"),
        ProfileChanges(email="@"),
        ProfileChanges(birthday="02-30"),
        ProfileChanges(display_name="y" * 41),
        ProfileChanges(display_name="fine", birthday="13-01"),  # one bad field spoils the whole change
    ],
)
async def test_bad_changes_change_nothing(database: Database, changes: ProfileChanges) -> None:
    me = await register(database, birthday=None)
    with pytest.raises(InvalidInput):
        await profiles.update_profile(database, as_member(me.id), me.id, changes)
    after = await profiles.get_member(database, OPERATOR, me.id)
    assert (after.display_name, after.phone, after.email, after.birthday) == ("Jane Doe", PHONE, EMAIL, None)


async def test_the_birthday_changes_at_most_once_in_365_days(database: Database) -> None:
    now = utcnow()
    me = await register(database, birthday="02-29", now=now)
    with pytest.raises(LimitExceeded) as caught:
        await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="03-01"), now=now + timedelta(days=364))
    assert caught.value.code == "LIMIT_EXCEEDED"
    assert caught.value.extensions["nextChangeAllowedAt"] == (now + timedelta(days=365)).isoformat()
    # Clearing it is a change too (else clear-then-set would dodge the cooldown).
    with pytest.raises(LimitExceeded):
        await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday=None), now=now + timedelta(days=1))
    assert str((await profiles.get_member(database, OPERATOR, me.id)).birthday) == "02-29"
    # The same birthday again is not a change.
    await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="02-29"), now=now + timedelta(days=2))
    later = now + timedelta(days=365)
    changed = await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="03-01"), now=later)
    assert str(changed.birthday) == "03-01"
    with pytest.raises(LimitExceeded):
        await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="03-02"), now=later + timedelta(days=30))


async def test_a_first_birthday_is_free_and_then_the_cooldown_applies(database: Database) -> None:
    now = utcnow()
    me = await register(database, birthday=None, now=now)
    await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="07-14"), now=now)
    with pytest.raises(LimitExceeded):
        await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(birthday="07-15"), now=now + timedelta(days=10))


async def test_an_operator_may_correct_a_birthday_at_any_time(database: Database) -> None:
    me = await register(database, birthday="02-29")
    fixed = await profiles.update_profile(database, OPERATOR, me.id, ProfileChanges(birthday="02-28"))
    assert str(fixed.birthday) == "02-28"


@pytest.mark.parametrize("actor", [SUPPORT, PARTNER, POINTS, "other member"])
async def test_nobody_else_edits_a_profile(database: Database, actor: object) -> None:
    me = await register(database)
    if actor == "other member":
        actor = as_member((await register(database, phone="+8613900001111", email=None)).id)
    with pytest.raises(Forbidden):
        await profiles.update_profile(database, actor, me.id, ProfileChanges(display_name="Mallory"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await profiles.update_preferences(database, actor, me.id, weekly_notification_cap=0)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await profiles.erase_member(database, actor, me.id)  # type: ignore[arg-type]
    after = await profiles.get_member(database, OPERATOR, me.id)
    assert after.display_name == "Jane Doe" and after.status == "ACTIVE"


async def test_unknown_members_are_not_found(database: Database) -> None:
    ghost = uuid.uuid4()
    with pytest.raises(NotFound):
        await profiles.get_member(database, OPERATOR, ghost)
    with pytest.raises(NotFound):
        await profiles.update_profile(database, OPERATOR, ghost, ProfileChanges(display_name="x"))
    with pytest.raises(NotFound):
        await profiles.suspend_member(database, OPERATOR, ghost)
    with pytest.raises(NotFound):
        await profiles.erase_member(database, OPERATOR, ghost)


async def test_preferences(database: Database) -> None:
    me = await register(database)
    assert (await profiles.get_member(database, as_member(me.id), me.id)).preferences.weekly_notification_cap == 7  # type: ignore[union-attr]
    changed = await profiles.update_preferences(
        database, as_member(me.id), me.id, categories=[" Video", "coffee", "video", "dining-out"], weekly_notification_cap=0
    )
    assert changed.preferences is not None
    assert changed.preferences.categories == ("video", "coffee", "dining-out")
    assert changed.preferences.weekly_notification_cap == 0
    # Leaving a field out keeps it.
    kept = await profiles.update_preferences(database, as_member(me.id), me.id, weekly_notification_cap=50)
    assert kept.preferences is not None and kept.preferences.categories == ("video", "coffee", "dining-out")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"categories": [f"c{i}" for i in range(21)]},
        {"categories": ["x" * 33]},
        {"categories": ["has space"]},
        {"categories": [""]},
        {"weekly_notification_cap": 51},
        {"weekly_notification_cap": -1},
    ],
)
async def test_bad_preferences_change_nothing(database: Database, kwargs: dict) -> None:
    me = await register(database)
    await profiles.update_preferences(database, as_member(me.id), me.id, categories=["video"])
    with pytest.raises(InvalidInput):
        await profiles.update_preferences(database, as_member(me.id), me.id, **kwargs)
    prefs = (await profiles.get_member(database, OPERATOR, me.id)).preferences
    assert prefs is not None and prefs.categories == ("video",) and prefs.weekly_notification_cap == 7


async def test_suspension_is_for_operators_and_freezes_self_service(database: Database) -> None:
    me = await register(database)
    for actor in (SUPPORT, as_member(me.id), POINTS, PARTNER):
        with pytest.raises(Forbidden):
            await profiles.suspend_member(database, actor, me.id, "fraud check")
    suspended = await profiles.suspend_member(database, OPERATOR, me.id, "  fraud   check ")
    assert suspended.status == "SUSPENDED"
    again = await profiles.suspend_member(database, OPERATOR, me.id, "again")  # a retry changes nothing
    assert again.status == "SUSPENDED"
    with pytest.raises(Forbidden):
        await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(display_name="x"))
    await profiles.update_profile(database, OPERATOR, me.id, ProfileChanges(display_name="Checked"))
    with pytest.raises(Forbidden):
        await profiles.reactivate_member(database, SUPPORT, me.id)
    assert (await profiles.reactivate_member(database, OPERATOR, me.id, "cleared")).status == "ACTIVE"
    await profiles.update_profile(database, as_member(me.id), me.id, ProfileChanges(display_name="Back"))
    audit = await fetch(database, "SELECT from_status, to_status, reason, actor FROM members.status_changes ORDER BY occurred_at")
    assert [tuple(r) for r in audit] == [
        ("ACTIVE", "SUSPENDED", "fraud check", "staff:ops-1"),
        ("SUSPENDED", "ACTIVE", "cleared", "staff:ops-1"),
    ]
    with pytest.raises(InvalidInput):
        await profiles.suspend_member(database, OPERATOR, me.id, "r" * 201)
    assert (await profiles.get_member(database, OPERATOR, me.id)).status == "ACTIVE"


async def test_erasure_shreds_the_key_and_keeps_the_id(database: Database) -> None:
    me = await register(database)
    await profiles.update_preferences(database, as_member(me.id), me.id, categories=["video"])
    (before,) = await fetch(database, "SELECT phone_ciphertext FROM members.members")
    erased = await profiles.erase_member(database, as_member(me.id), me.id, "my right to be forgotten")
    assert erased.status == "ERASED" and erased.erased_at is not None
    assert (erased.display_name, erased.phone, erased.email, erased.birthday) == ("[erased]", None, None, None)
    assert await fetch(database, "SELECT 1 FROM members.member_keys") == []  # the key is gone
    (row,) = await fetch(database, "SELECT * FROM members.members")
    for column in ("display_name_ciphertext", "birthday_ciphertext", "phone_ciphertext", "phone_index", "email_ciphertext", "email_index", "birthday_month"):
        assert row[column] is None, column
    assert row["categories"] == [] and before["phone_ciphertext"] is not None
    # The id still resolves (ledgers elsewhere point at it), and reads as erased for everyone.
    (loaded,) = await store.read(database, [me.id])
    assert loaded is not None and loaded.data_key is None
    for viewer in (OPERATOR, SUPPORT, POINTS, as_member(me.id)):
        view = await profiles.get_member(database, viewer, me.id)
        assert view.status == "ERASED"
        assert (view.phone, view.email, view.birthday, view.birthday_month, view.preferences, view.lifecycle_stage) == (None,) * 6
    # The phone and email are free for a new membership.
    assert (await register(database)).id != me.id
    # Erasing again is a no-op; nothing else can change an erased member.
    assert (await profiles.erase_member(database, OPERATOR, me.id)).status == "ERASED"
    with pytest.raises(Conflict):
        await profiles.update_profile(database, OPERATOR, me.id, ProfileChanges(display_name="Back"))
    with pytest.raises(Conflict):
        await profiles.reactivate_member(database, OPERATOR, me.id)
    (event,) = await fetch(database, "SELECT type, payload FROM members.outbox_events")
    assert event["type"] == "members.MemberErased" and str(me.id) in event["payload"]


async def test_an_operator_may_erase_any_member(database: Database) -> None:
    me = await register(database)
    assert (await profiles.erase_member(database, OPERATOR, me.id)).status == "ERASED"
    assert (await profiles.get_member(database, as_member(me.id), me.id)).display_name == "[erased]"


def test_keep_means_keep() -> None:
    assert ProfileChanges().display_name is KEEP and ProfileChanges(email=None).email is None


async def test_status_changes_are_published_once_each_for_points(database: Database) -> None:
    me = await register(database)
    await profiles.suspend_member(database, OPERATOR, me.id, "fraud check")
    await profiles.suspend_member(database, OPERATOR, me.id, "again")  # no change: nothing published
    await profiles.reactivate_member(database, OPERATOR, me.id)
    rows = await fetch(
        database,
        "SELECT e.payload, d.subscriber FROM members.outbox_events e JOIN members.outbox_deliveries d ON d.event_id = e.id"
        " WHERE e.type = 'members.MemberStatusChanged' ORDER BY e.occurred_at",
    )
    payloads = [json.loads(row["payload"]) for row in rows]
    assert [(p["memberId"], p["status"]) for p in payloads] == [(str(me.id), "SUSPENDED"), (str(me.id), "ACTIVE")]
    assert {row["subscriber"] for row in rows} == {"points"} and all(p["occurredAt"] for p in payloads)
