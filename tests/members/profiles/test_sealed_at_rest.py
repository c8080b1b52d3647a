"""Personal data at rest: display name, birthday, phone and email appear nowhere in the members
schema in clear (before or after erasure), existing rows are sealed by the migration, and reads
decrypt only the fields asked for, once per member per request."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from shared.crypto import encrypt_field, field_aad, new_data_key, wrap_data_key
from shared.database import Database
from shared.database.migrations import upgrade_async
from shared.database.urls import to_libpq_url, with_database

from services.members.profiles import personal, service as profiles, store
from services.members.profiles.answers import ProfileChanges
from tests.members.conftest import OPERATOR, SUPPORT, as_member, fetch, gql, register

NAME, PHONE_E164, PHONE_NATIONAL, EMAIL, BIRTHDAY = "Zhang Wenjing", "+8613912345678", "13912345678", "wenjing.z@example.cn", "02-29"
SECRETS = (NAME, "Wenjing", PHONE_E164, PHONE_NATIONAL, EMAIL, "wenjing.z", BIRTHDAY, "0229")


async def dump_members_schema(database: Database) -> list[tuple[str, str, str]]:
    """Every text-like, binary, JSON and array column of every table in the members schema, as text
    (binary also decoded as UTF-8, so a value stored in clear in bytea is seen too)."""
    columns = await fetch(
        database,
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'members'"
        " AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json', 'ARRAY', 'USER-DEFINED', 'character')",
    )
    assert {c["table_name"] for c in columns} >= {"members", "member_keys", "status_changes", "outbox_events"}
    seen = []
    for c in columns:
        for row in await fetch(database, f'SELECT "{c["column_name"]}" AS v FROM members."{c["table_name"]}"'):
            value = row["v"]
            if value is None:
                continue
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            seen.append((c["table_name"], c["column_name"], text))
    return seen


def in_clear(dump: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [(table, column, secret) for table, column, text in dump for secret in SECRETS if secret.lower() in text.lower()]


async def test_no_personal_value_is_stored_in_clear_before_or_after_erasure(database: Database) -> None:
    me = await register(database, phone=PHONE_NATIONAL, display_name=NAME, email=EMAIL, birthday=BIRTHDAY)
    await profiles.update_preferences(database, as_member(me.id), me.id, categories=["video"])
    await profiles.suspend_member(database, OPERATOR, me.id, "checking")
    await profiles.reactivate_member(database, OPERATOR, me.id)
    view = await profiles.get_member(database, OPERATOR, me.id)
    assert (view.display_name, view.phone, view.email, str(view.birthday)) == (NAME, PHONE_E164, EMAIL, BIRTHDAY)
    before = await dump_members_schema(database)
    assert any(column == "display_name_ciphertext" for _, column, _ in before)  # the dump sees sealed columns
    assert in_clear(before) == []
    (row,) = await fetch(database, "SELECT birthday_month FROM members.members")
    assert row["birthday_month"] == 2  # kept in clear on purpose: points and benefits use it

    await profiles.erase_member(database, as_member(me.id), me.id, "forget me")
    after = await dump_members_schema(database)
    assert in_clear(after) == []
    (row,) = await fetch(database, "SELECT * FROM members.members")
    for column in ("display_name_ciphertext", "birthday_ciphertext", "phone_ciphertext", "email_ciphertext", "birthday_month"):
        assert row[column] is None, column
    assert await fetch(database, "SELECT 1 FROM members.member_keys") == []


async def test_a_sealed_value_copied_to_another_member_or_field_does_not_open(database: Database) -> None:
    a = await register(database, display_name="Alice A")
    b = await register(database, phone="+8613700000000", email=None, display_name="Bob B")
    (row_a,) = await fetch(database, "SELECT display_name_ciphertext FROM members.members WHERE id = $1", a.id)
    conn = await asyncpg.connect(to_libpq_url(database.url))
    try:  # a stolen name moved into Bob's row, and Alice's name moved into her own birthday
        await conn.execute("UPDATE members.members SET display_name_ciphertext = $1 WHERE id = $2", row_a[0], b.id)
        await conn.execute("UPDATE members.members SET birthday_ciphertext = $1 WHERE id = $2", row_a[0], a.id)
    finally:
        await conn.close()
    with pytest.raises(ValueError):
        _ = (await profiles.get_member(database, OPERATOR, b.id)).display_name
    with pytest.raises(ValueError):
        _ = (await profiles.get_member(database, OPERATOR, a.id)).birthday


async def test_profile_changes_are_sealed_and_read_back(database: Database) -> None:
    me = await register(database)
    changed = await profiles.update_profile(
        database, OPERATOR, me.id, ProfileChanges(display_name="Li Na", birthday="12-31")
    )
    assert (changed.display_name, str(changed.birthday), changed.birthday_month) == ("Li Na", "12-31", 12)
    cleared = await profiles.update_profile(database, OPERATOR, me.id, ProfileChanges(birthday=None))
    assert (cleared.birthday, cleared.birthday_month) == (None, None)
    masked = await profiles.get_member(database, SUPPORT, me.id)
    assert masked.display_name == "Li Na" and masked.phone is not None and "*" in masked.phone
    (row,) = await fetch(database, "SELECT display_name_ciphertext, birthday_ciphertext FROM members.members")
    assert b"Li Na" not in row["display_name_ciphertext"] and row["birthday_ciphertext"] is None


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Counts key unwraps and field decryptions."""
    calls: dict[str, list] = {"unwrap": [], "decrypt": []}
    unwrap, decrypt = store.unwrap_data_key, personal.decrypt_field

    def counting_unwrap(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["unwrap"].append(args)
        return unwrap(*args, **kwargs)

    def counting_decrypt(key, blob, aad):  # noqa: ANN001, ANN202
        calls["decrypt"].append(aad.split(b"\x00")[1].decode())
        return decrypt(key, blob, aad)

    monkeypatch.setattr(store, "unwrap_data_key", counting_unwrap)
    monkeypatch.setattr(personal, "decrypt_field", counting_decrypt)
    return calls


async def test_reads_decrypt_only_the_fields_asked_for_once_per_request(client, database: Database, counted) -> None:  # noqa: ANN001
    me = await register(database)
    answer = await gql(client, "{ me { tier } }", as_=as_member(me.id))
    assert answer["data"]["me"]["tier"] == "BASIC"
    assert counted == {"unwrap": [], "decrypt": []}  # nothing personal asked: the key is not even unwrapped

    answer = await gql(client, "{ me { displayName tier } a: me { displayName } }", as_=as_member(me.id))
    assert answer["data"]["me"]["displayName"] == "Jane Doe" and answer["data"]["a"]["displayName"] == "Jane Doe"
    assert len(counted["unwrap"]) == 1 and counted["decrypt"] == ["display_name"]  # once, for both

    counted["unwrap"].clear(), counted["decrypt"].clear()
    view = await profiles.get_member(database, OPERATOR, me.id)
    assert (view.display_name, view.display_name, view.email) == ("Jane Doe", "Jane Doe", "jane.doe@example.com")
    assert len(counted["unwrap"]) == 1 and counted["decrypt"] == ["display_name", "email"]


async def test_the_migration_seals_existing_names_and_birthdays(database_server_url: str, service_migrations) -> None:  # noqa: ANN001
    """A database at the revision before sealing, with a member in the old shape, upgraded."""
    migrations = next(m for m in service_migrations if m.schema == "members")
    name = f"abg_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(to_libpq_url(database_server_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(database_server_url, name)
    try:
        await upgrade_async(migrations, url, "8e0fe0c5f1de")
        member_id, key = uuid.uuid4(), new_data_key()
        conn = await asyncpg.connect(to_libpq_url(url))
        try:
            await conn.execute(
                "INSERT INTO members.members (id, status, display_name, phone_ciphertext, birthday_month, birthday_day,"
                " tier, tier_since, joined_at) VALUES ($1, 'ACTIVE', $2, $3, 2, 29, 'BASIC', now(), now())",
                member_id, NAME, encrypt_field(key, PHONE_E164, field_aad(member_id, "phone")),
            )
            await conn.execute(
                "INSERT INTO members.member_keys (member_id, wrapped_key) VALUES ($1, $2)",
                member_id, wrap_data_key(key, member_id.bytes),
            )
            await conn.execute(  # an erased member: no key, nothing to seal
                "INSERT INTO members.members (id, status, tier, tier_since, joined_at) VALUES ($1, 'ERASED', 'BASIC', now(), now())",
                uuid.uuid4(),
            )
        finally:
            await conn.close()
        await upgrade_async(migrations, url)
        conn = await asyncpg.connect(to_libpq_url(url))
        try:
            rows = await conn.fetch("SELECT * FROM members.members ORDER BY status")
            columns = set(rows[0].keys())
        finally:
            await conn.close()
        assert "display_name" not in columns and "birthday_day" not in columns
        active = rows[0]
        assert active["birthday_month"] == 2 and NAME.encode() not in active["display_name_ciphertext"]
        fields = personal.PersonalFields(
            member_id, {f: active[f"{f}_ciphertext"] for f in personal.SEALED_FIELDS}, lambda: key
        )
        assert (fields.get("display_name"), fields.get("birthday"), fields.get("phone")) == (NAME, BIRTHDAY, PHONE_E164)
        assert rows[1]["display_name_ciphertext"] is None
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
