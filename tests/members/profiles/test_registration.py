"""Registration on real PostgreSQL: validation, uniqueness under concurrency, encryption at rest."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.auth.principals import ANONYMOUS
from shared.database import Database
from shared.database.urls import to_libpq_url
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput, Unauthenticated

from services.members.profiles import service as profiles
from services.members.profiles import store
from services.members.profiles.answers import ProfileChanges
from tests.members.conftest import EMAIL, OPERATOR, PARTNER, PHONE, SUPPORT, as_member, history, register


async def count(database: Database, table: str = "members") -> int:
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        return await connection.fetchval(f"SELECT count(*) FROM members.{table}")
    finally:
        await connection.close()


async def dump_schema(database: Database) -> str:
    """Every row of every members table, as PostgreSQL prints it (bytea as hex)."""
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'members'")
        parts = []
        for table in tables:
            rows = await connection.fetch(f'SELECT t::text AS row FROM members."{table["tablename"]}" t')
            parts += [row["row"] for row in rows]
        return "\n".join(parts)
    finally:
        await connection.close()


async def test_a_registered_member_reads_back_for_an_operator(database: Database) -> None:
    created = await register(database, phone="138 0013 1362", email=" Jane.Doe@Example.com ")
    view = await profiles.get_member(database, OPERATOR, created.id)
    assert (view.phone, view.email, view.display_name, str(view.birthday)) == (PHONE, EMAIL, "Jane Doe", "02-29")
    assert view.status == "ACTIVE" and view.tier == "BASIC"
    assert view.joined_at is not None and view.last_activity_at is None
    changes = await history(database, created.id)
    assert [(c.sequence, c.from_tier, c.to_tier, c.reason) for c in changes] == [(0, None, "BASIC", "JOINED")]


async def test_no_personal_data_is_readable_in_any_table(database: Database) -> None:
    created = await register(database)
    await profiles.update_profile(database, OPERATOR, created.id, ProfileChanges(display_name="J. Doe"))
    await profiles.erase_member(database, OPERATOR, (await register(database, phone="+8613900001111", email="zed@example.com")).id)
    everything = await dump_schema(database)
    assert str(created.id) in everything  # the dump does contain the member's row
    for secret in (PHONE, PHONE[3:], "13800131362", EMAIL, "jane.doe", "+8613900001111", "zed@example.com", "J. Doe", "Jane Doe", "02-29"):
        assert secret not in everything
        assert secret.encode().hex() not in everything  # nor as bytea
    # What is there is ciphertext and a keyed hash, which decrypt only with the member's key.
    row = await _raw_member(database, created.id)
    assert row["phone_ciphertext"] and row["phone_index"] and row["email_ciphertext"] and row["email_index"]
    assert len(row["phone_index"]) == 32


async def _raw_member(database: Database, member_id: object) -> asyncpg.Record:
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        return await connection.fetchrow("SELECT * FROM members.members WHERE id = $1", member_id)
    finally:
        await connection.close()


async def test_phone_is_unique_whatever_its_format(database: Database) -> None:
    await register(database, phone="13800131362")
    with pytest.raises(Conflict) as caught:
        await register(database, phone="+86 138 0013 1362", email="other@example.com")
    assert caught.value.code == "CONFLICT" and caught.value.extensions["field"] == "phone"
    assert await count(database) == 1


async def test_email_is_unique_whatever_its_case(database: Database) -> None:
    await register(database)
    with pytest.raises(Conflict) as caught:
        await register(database, phone="+8613900001111", email="JANE.DOE@example.com")
    assert caught.value.extensions["field"] == "email"
    assert await count(database) == 1


async def test_email_is_optional(database: Database) -> None:
    first = await register(database, email=None)
    second = await register(database, phone="+8613900001111", email="   ")
    assert (await profiles.get_member(database, OPERATOR, first.id)).email is None
    assert (await profiles.get_member(database, OPERATOR, second.id)).email is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+86 10 8888 8888"}, "phone"),
        ({"phone": "1" * 500}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 300 + "@example.com"}, "email"),
        ({"birthday": "02-30"}, "birthday"),
        ({"birthday": "13-01"}, "birthday"),
        ({"birthday": "1990-01-01"}, "birthday"),
        ({"display_name": ""}, "displayName"),
        ({"display_name": "x" * 41}, "displayName"),
        ({"display_name": "x" * 100_000}, "displayName"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(database: Database, fields: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await register(database, **fields)
    assert caught.value.code == "BAD_USER_INPUT" and caught.value.extensions["field"] == field
    assert await count(database) == 0 and await count(database, "member_keys") == 0


@pytest.mark.parametrize(
    ("actor", "error"),
    [(ANONYMOUS, Unauthenticated), (PARTNER, Forbidden), (as_member("01a20263-a80f-7329-8a56-8c3bbebfbfda"), Forbidden)],
)
async def test_only_the_signup_service_and_staff_register_members(
    database: Database, actor: object, error: type[DomainError]
) -> None:
    with pytest.raises(error):
        await profiles.register_member(database, actor, phone=PHONE, display_name="Jane")  # type: ignore[arg-type]
    assert await count(database) == 0
    assert (await profiles.register_member(database, SUPPORT, phone=PHONE, display_name="Jane")).tier == "BASIC"
    assert (await profiles.register_member(database, OPERATOR, phone="+8613900001111", display_name="Jo")).id


async def test_two_concurrent_registrations_of_one_phone_exactly_one_wins(database: Database) -> None:
    for round_ in range(5):
        phone = f"+86139000011{round_:02d}"
        results = await asyncio.gather(
            register(database, phone=phone, email=f"a{round_}@example.com"),
            register(database, phone=phone[3:], email=f"b{round_}@example.com"),  # same number, other format
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1 and len(losers) == 1
        assert isinstance(losers[0], Conflict) and losers[0].extensions["field"] == "phone"
    assert await count(database) == 5 and await count(database, "member_keys") == 5


async def test_a_crowd_registering_one_phone_leaves_one_member(database: Database) -> None:
    results = await asyncio.gather(
        *(register(database, email=f"m{i}@example.com") for i in range(12)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await count(database) == 1


async def test_each_member_has_their_own_data_key(database: Database) -> None:
    a = await register(database)
    b = await register(database, phone="+8613900001111", email="b@example.com")
    loaded = await store.read(database, [a.id, b.id])
    keys = [m.data_key for m in loaded if m is not None]
    assert len(keys) == 2 and keys[0] != keys[1] and all(len(k) == 32 for k in keys)
    # The stored form is wrapped by the master key, not the key itself.
    connection = await asyncpg.connect(to_libpq_url(database.url))
    try:
        stored = await connection.fetch("SELECT wrapped_key FROM members.member_keys")
    finally:
        await connection.close()
    assert all(key not in row["wrapped_key"] for row in stored for key in keys)
