"""The catalogue's SQL: the `redeemableNow` filter says in SQL exactly what the rules say in Python,
the catalogue's pages and a member's reservations are read through indexes, and the migration
creates what the models say."""

from __future__ import annotations

from migration_drift import migration_drift

import itertools
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from catalogue_kit import OPERATOR, recharge, voucher

from services.benefits.access import CatalogueScope
from services.benefits.catalogue import budgets, listing, ranked, rules, service, store
from services.benefits.catalogue.budgets import BudgetInput
from services.benefits.catalogue.inputs import CatalogueFilter, Sort
from services.benefits.models import SCHEMA, metadata
from shared.pagination import PageRequest
from shared.timeutil import utcnow


async def test_the_redeemable_filter_agrees_with_the_rules(kit) -> None:  # noqa: ANN001
    partner, earning_only, suspended = await kit.partner(), await kit.partner(roles=("EARNING", "REDEMPTION")), await kit.partner()
    now = utcnow()
    cases = [
        recharge(), recharge(stock_total=0), recharge(stock_total=3), voucher(), voucher(validity_days=None, valid_until=now + timedelta(days=1)),
        recharge(available_from=now + timedelta(hours=1)), recharge(available_until=now + timedelta(hours=1)),
        recharge(available_from=now - timedelta(days=2), available_until=now - timedelta(days=1)),
        recharge(min_tier="GOLD"), recharge(birthday_perk=True, points_price=0), recharge(settlement_minor=0),
    ]
    made = []
    for columns in cases:
        for status in ("ACTIVE", "PAUSED", "DRAFT"):
            made.append(await kit.benefit(partner, columns, status=status))
    with_codes = await kit.benefit(partner, voucher(title="codes"), codes=1)
    reserved_codes = await kit.benefit(partner, voucher(title="reserved codes"))
    await kit.codes(reserved_codes.id, 2, state="RESERVED")
    over = await kit.benefit(partner, recharge(title="over budget", settlement_minor=700))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=500, currency="CNY", benefit_id=over.id))
    soft = await kit.benefit(earning_only, recharge(title="soft budget", settlement_minor=700))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=500, currency="CNY", benefit_id=soft.id, hard_stop=False))
    partner_capped = await kit.benefit(earning_only, recharge(title="partner cap", settlement_minor=900))
    await budgets.set_budget(kit.db, OPERATOR, BudgetInput(limit_minor=800, currency="CNY", partner_id=earning_only, hard_stop=True))
    elsewhere = await kit.benefit(suspended, recharge(title="suspended partner"))
    await kit.set_partner_status(suspended, "SUSPENDED")
    every = await service.list_benefits(kit.db, OPERATOR, None, Sort.POINTS_ASC, first=100, now=now)
    assert len(every.rows) == len(made) + 6 and not every.has_next_page
    by_rules = {b.id for b in every.rows if b.redeemable_now}
    for flag in (True, False):
        page = await service.list_benefits(kit.db, OPERATOR, CatalogueFilter(redeemable_now=flag), Sort.POINTS_ASC, first=100, now=now)
        chosen = {b.id for b in page.rows}
        assert chosen == (by_rules if flag else {b.id for b in every.rows} - by_rules)
    assert with_codes.id in by_rules and soft.id in by_rules
    assert not {reserved_codes.id, over.id, partner_capped.id, elsewhere.id} & by_rules
    assert len(by_rules) == 8  # the 7 open ACTIVE cases (two are out of window, one sold out), codes, soft budget


@pytest.fixture
async def big(kit):  # noqa: ANN001, ANN201
    partners = [await kit.partner() for _ in range(8)]
    async with kit.db.transaction() as session:
        await store.generate(session, partners, 10_000, now=utcnow(), codes=2)
        members = [uuid.uuid4() for _ in range(300)]
        await session.exec(sa.text(
            """INSERT INTO benefits.reservations (id, key, benefit_id, member_id, state, settlement_minor, period_start, expires_at, created_at, created_by)
               SELECT gen_random_uuid(), 'k' || n, b.id, (CAST(:members AS uuid[]))[1 + n % 300], 'ISSUED', 100, now(), now(), now(), 'service:test'
               FROM (SELECT id, row_number() OVER () AS n FROM benefits.benefits) b"""
        ), params={"members": [str(m) for m in members]})
    async with kit.db.engine.begin() as connection:  # committed: statistics gathered in a rolled-back transaction vanish
        await connection.exec_driver_sql("ANALYZE benefits.benefits, benefits.partners, benefits.codes, benefits.reservations")
    return partners, members


@pytest.mark.parametrize(
    ("sort", "index"),
    [(Sort.POINTS_ASC, "ix_benefits_status_points"), (Sort.POINTS_DESC, "ix_benefits_status_points"),
     (Sort.NEWEST, "ix_benefits_status_created"), (Sort.TITLE, "ix_benefits_status_title")],
)
async def test_a_members_catalogue_page_is_an_index_scan(kit, big, sort: Sort, index: str) -> None:  # noqa: ANN001
    now = utcnow()
    for flt, generic in itertools.product((CatalogueFilter(), CatalogueFilter(redeemable_now=True)), (False, True)):
        page = PageRequest(20, None, cursor_types=listing.cursor_types(sort))
        query = listing.list_query(CatalogueScope.ACTIVE, None, listing.checked(flt), sort, page)
        async with kit.db.engine.connect() as connection:
            # Also the generic plan of the prepared statement, which PostgreSQL may switch to after a
            # few runs: constants and the LIMIT are written into the SQL so that it stays this one.
            plan = await store.explain(connection, store.page_statement(query), {"now": now, "period_start": rules.month_start(now)}, generic=generic)
        print(plan)
        assert index in plan and "Seq Scan on benefits " not in plan
        assert "Sort Key" not in plan  # rows come in the index's order and stop at the page's end
        # (The stock check probes ix_codes_available per row or hashes the available codes once: the
        # planner picks by the pool's size.)


@pytest.mark.parametrize("generic", [False, True])
async def test_a_members_ranked_read_of_the_benefits_beyond_their_interests_is_an_index_scan(kit, big, generic) -> None:  # noqa: ANN001
    now = utcnow()
    statement = ranked.ranked_statement(("video", "coffee"), None, (0, 500, uuid.UUID(int=0)), 42)
    async with kit.db.engine.connect() as connection:
        plan = await store.explain(connection, statement, {"period_start": rules.month_start(now)}, generic=generic)
    print(plan)
    assert "ix_benefits_status_points" in plan and "Sort Key" not in plan


async def test_a_members_reservations_are_counted_through_their_index(kit, big) -> None:  # noqa: ANN001
    _, members = big
    now = utcnow()
    statement = store.usage_statement(members[0], day=rules.day_start(now), month=rules.month_start(now), year=rules.year_start(now))
    async with kit.db.engine.connect() as connection:
        plan = await store.explain(connection, statement)
    print(plan)
    assert "ix_reservations_member_benefit" in plan and "Seq Scan on reservations" not in plan


async def test_the_migrations_create_exactly_what_the_models_say(kit) -> None:  # noqa: ANN001
    async with kit.db.engine.connect() as connection:
        assert await migration_drift(connection, metadata, SCHEMA) == []
        definition = (await connection.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'uq_budgets_target'"
        ))).scalar_one()
    assert "NULLS NOT DISTINCT" in definition
