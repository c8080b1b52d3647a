"""The catalogue's service layer: creating, changing and moving benefits (every role), the catalogue
as each role sees it, its filters, sort orders and cursors."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from catalogue_kit import ANONYMOUS, CS, OPERATOR, SERVICE, member_principal, partner_principal, recharge, voucher

from services.benefits.catalogue import service
from services.benefits.catalogue.inputs import CatalogueFilter, Sort
from shared.errors import DomainError
from shared.timeutil import utcnow


async def code_of(call) -> str:  # noqa: ANN001
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value.code


# --- creating ------------------------------------------------------------------------------------------


async def test_a_partner_creates_a_draft_of_its_own_with_normalised_slugs(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await service.create_benefit(
        kit.db, partner_principal(partner), None, voucher(categories=[" Grocery ", "grocery", "FOOD"], tags=["Weekend"])
    )
    assert created.partner_id == partner and created.status == "DRAFT" and created.delivery == "CODE"
    assert created.categories == ("grocery", "food") and created.tags == ("weekend",)
    assert created.settlement_minor == 1800 and created.currency == "CNY"
    assert not created.redeemable_now and "NOT_AVAILABLE" in [r.value for r in created.unavailable]


@pytest.mark.parametrize(
    ("status", "roles", "code"),
    [("PENDING", ("REDEMPTION",), "FORBIDDEN"), ("SUSPENDED", ("REDEMPTION",), "FORBIDDEN"), ("ACTIVE", ("EARNING",), "CONFLICT")],
)
async def test_a_partner_creates_only_while_active_with_the_redemption_role(kit, status, roles, code) -> None:  # noqa: ANN001
    partner = await kit.partner(status=status, roles=roles)
    assert await code_of(service.create_benefit(kit.db, partner_principal(partner), None, voucher())) == code


async def test_an_operator_prepares_benefits_of_a_pending_partner_but_not_of_an_earning_one(kit) -> None:  # noqa: ANN001
    pending = await kit.partner(status="PENDING", roles=("REDEMPTION",))
    assert (await service.create_benefit(kit.db, OPERATOR, pending, voucher())).status == "DRAFT"
    earning = await kit.partner(roles=("EARNING",))
    assert await code_of(service.create_benefit(kit.db, OPERATOR, earning, voucher())) == "CONFLICT"
    assert await code_of(service.create_benefit(kit.db, OPERATOR, uuid.uuid4(), voucher())) == "NOT_FOUND"
    assert await code_of(service.create_benefit(kit.db, OPERATOR, None, voucher())) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("who", "code"),
    [("other partner", "FORBIDDEN"), ("member", "FORBIDDEN"), ("cs", "FORBIDDEN"), ("service", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")],
)
async def test_nobody_else_creates_a_partners_benefits(kit, who, code) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    principal = {"other partner": partner_principal(other), "member": member_principal(uuid.uuid4()), "cs": CS,
                 "service": SERVICE, "anonymous": ANONYMOUS}[who]
    assert await code_of(service.create_benefit(kit.db, principal, partner, voucher())) == code


async def test_prices_are_in_the_partners_currency(kit) -> None:  # noqa: ANN001
    partner = await kit.partner(currency="CNY")
    with pytest.raises(DomainError) as caught:
        await service.create_benefit(kit.db, OPERATOR, partner, voucher(currency="USD"))
    assert caught.value.code == "BAD_USER_INPUT" and caught.value.extensions["field"] == "settlementPrice.currency"
    with pytest.raises(DomainError) as caught:
        await service.create_benefit(kit.db, OPERATOR, partner, voucher(face_currency="USD"))
    assert caught.value.extensions["field"] == "faceValue.currency"


async def test_a_retried_creation_with_its_key_makes_one_benefit(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = partner_principal(partner)
    results = await asyncio.gather(*(service.create_benefit(kit.db, me, None, voucher(), idempotency_key="create-1") for _ in range(10)))
    assert len({r.id for r in results}) == 1
    again = await service.create_benefit(kit.db, me, None, voucher(), idempotency_key="create-1")
    assert again.id == results[0].id
    assert await code_of(service.create_benefit(kit.db, me, None, voucher(title="Other"), idempotency_key="create-1")) == "IDEMPOTENCY_KEY_REUSED"
    assert await code_of(service.create_benefit(kit.db, me, None, voucher(), idempotency_key="x" * 201)) == "BAD_USER_INPUT"
    page = await service.list_benefits(kit.db, me, CatalogueFilter(partner_id=partner))
    assert len(page.rows) == 1


# --- changing ------------------------------------------------------------------------------------------


async def test_an_update_changes_what_is_given_and_clears_nulls(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = partner_principal(partner)
    created = await service.create_benefit(kit.db, me, None, voucher(limit_per_day=1, min_tier="GOLD"))
    changed = await service.update_benefit(kit.db, me, created.id, {"title": "  New title ", "min_tier": None, "tags": ["A"]})
    assert (changed.title, changed.min_tier, changed.tags, changed.limit_per_day) == ("New title", None, ("a",), 1)
    assert changed.updated_at >= created.updated_at
    # The whole benefit must stay valid: a voucher keeps exactly one validity.
    with pytest.raises(DomainError) as caught:
        await service.update_benefit(kit.db, me, created.id, {"valid_until": utcnow() + timedelta(days=9)})
    assert caught.value.extensions["field"] == "validityDays"
    moved = await service.update_benefit(kit.db, me, created.id, {"valid_until": utcnow() + timedelta(days=9), "validity_days": None})
    assert moved.validity_days is None and moved.valid_until is not None


@pytest.mark.parametrize("column", ["kind", "delivery", "partner_id", "status", "id"])
async def test_what_an_update_may_not_touch(kit, column) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner, status="DRAFT")
    assert await code_of(service.update_benefit(kit.db, OPERATOR, created.id, {column: "x"})) == "BAD_USER_INPUT"


async def test_a_recharges_stock_cannot_go_below_what_is_held(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner, recharge(stock_total=10))
    assert (await service.update_benefit(kit.db, OPERATOR, created.id, {"stock_total": 0})).stock_total == 0
    assert (await service.update_benefit(kit.db, OPERATOR, created.id, {"stock_total": None})).stock_total is None
    from services.benefits.catalogue.store import benefits_t

    async with kit.db.transaction() as session:
        await session.exec(benefits_t.update().where(benefits_t.c.id == created.id).values(stock_total=5, stock_issued=3))
    assert await code_of(service.update_benefit(kit.db, OPERATOR, created.id, {"stock_total": 2})) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("who", "code"),
    [("other partner", "FORBIDDEN"), ("member", "FORBIDDEN"), ("cs", "FORBIDDEN"), ("service", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")],
)
async def test_nobody_else_changes_a_benefit(kit, who, code) -> None:  # noqa: ANN001
    partner, other = await kit.partner(), await kit.partner()
    active = await kit.benefit(partner)
    principal = {"other partner": partner_principal(other), "member": member_principal(uuid.uuid4()), "cs": CS,
                 "service": SERVICE, "anonymous": ANONYMOUS}[who]
    assert await code_of(service.update_benefit(kit.db, principal, active.id, {"title": "Mine"})) == code
    assert await code_of(service.set_benefit_status(kit.db, principal, active.id, "PAUSED")) == code
    # Another partner's draft does not exist as far as they can tell.
    draft = await kit.benefit(partner, status="DRAFT")
    if who in ("other partner", "member"):
        assert await code_of(service.update_benefit(kit.db, principal, draft.id, {"title": "Mine"})) == "NOT_FOUND"
    assert (await service.get_benefit(kit.db, OPERATOR, active.id)).title == active.title


async def test_status_moves_by_the_owner_and_by_operators(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    me = partner_principal(partner)
    created = await kit.benefit(partner, status="DRAFT")
    assert await code_of(service.set_benefit_status(kit.db, me, created.id, "PAUSED")) == "CONFLICT"
    assert (await service.set_benefit_status(kit.db, me, created.id, "ACTIVE")).status == "ACTIVE"
    assert (await service.set_benefit_status(kit.db, me, created.id, "ACTIVE")).status == "ACTIVE"  # a retry changes nothing
    assert (await service.set_benefit_status(kit.db, OPERATOR, created.id, "PAUSED")).status == "PAUSED"
    assert (await service.set_benefit_status(kit.db, me, created.id, "ACTIVE")).status == "ACTIVE"
    assert await code_of(service.set_benefit_status(kit.db, me, created.id, "DRAFT")) == "CONFLICT"
    assert await code_of(service.set_benefit_status(kit.db, me, created.id, "GONE")) == "BAD_USER_INPUT"
    assert (await service.set_benefit_status(kit.db, me, created.id, "RETIRED")).status == "RETIRED"
    for target in ("ACTIVE", "PAUSED", "DRAFT"):
        assert await code_of(service.set_benefit_status(kit.db, OPERATOR, created.id, target)) == "CONFLICT"
    assert await code_of(service.update_benefit(kit.db, OPERATOR, created.id, {"title": "Again"})) == "CONFLICT"


async def test_a_suspended_partner_cannot_touch_its_benefits_but_operators_can_pause_them(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner)
    await kit.set_partner_status(partner, "SUSPENDED")
    assert await code_of(service.set_benefit_status(kit.db, partner_principal(partner), created.id, "PAUSED")) == "FORBIDDEN"
    assert (await service.set_benefit_status(kit.db, OPERATOR, created.id, "PAUSED")).status == "PAUSED"


async def test_concurrent_status_changes_leave_one_coherent_answer(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner, status="DRAFT")
    outcomes = await asyncio.gather(
        *(service.set_benefit_status(kit.db, OPERATOR, created.id, s) for s in ["ACTIVE", "RETIRED"] * 10), return_exceptions=True
    )
    final = await service.get_benefit(kit.db, OPERATOR, created.id)
    assert final.status == "RETIRED"
    assert all(isinstance(o, DomainError) and o.code == "CONFLICT" for o in outcomes if not hasattr(o, "status"))


# --- reading -------------------------------------------------------------------------------------------


async def catalogue_titles(kit, principal, **filters) -> list[str]:  # noqa: ANN001
    page = await service.list_benefits(kit.db, principal, CatalogueFilter(**filters), Sort.TITLE, first=100)
    return [b.title for b in page.rows]


async def test_who_sees_what_in_the_catalogue(kit) -> None:  # noqa: ANN001
    a, b, suspended = await kit.partner(), await kit.partner(), await kit.partner()
    await kit.benefit(a, voucher(title="A active"), codes=1)
    await kit.benefit(a, voucher(title="A draft"), status="DRAFT")
    await kit.benefit(a, voucher(title="A paused"), status="PAUSED")
    await kit.benefit(b, voucher(title="B active"))
    await kit.benefit(b, voucher(title="B retired"), status="RETIRED")
    await kit.benefit(suspended, voucher(title="S active"))
    await kit.set_partner_status(suspended, "SUSPENDED")
    member = member_principal(uuid.uuid4())
    assert await catalogue_titles(kit, member) == ["A active", "B active"]
    assert await catalogue_titles(kit, partner_principal(a)) == ["A active", "A draft", "A paused", "B active"]
    assert await catalogue_titles(kit, partner_principal(b)) == ["A active", "B active", "B retired"]
    everything = ["A active", "A draft", "A paused", "B active", "B retired", "S active"]
    for staff in (OPERATOR, CS, SERVICE):
        assert await catalogue_titles(kit, staff) == everything
    assert await catalogue_titles(kit, partner_principal(a), status="DRAFT") == ["A draft"]
    assert await catalogue_titles(kit, member, status="ACTIVE") == ["A active", "B active"]
    assert await code_of(service.list_benefits(kit.db, member, CatalogueFilter(status="DRAFT"))) == "FORBIDDEN"
    assert await code_of(service.list_benefits(kit.db, ANONYMOUS)) == "UNAUTHENTICATED"


async def test_one_benefit_and_batches_follow_the_same_visibility(kit) -> None:  # noqa: ANN001
    a, b = await kit.partner(), await kit.partner()
    active, draft = await kit.benefit(a), await kit.benefit(a, status="DRAFT")
    member = member_principal(uuid.uuid4())
    assert (await service.get_benefit(kit.db, member, active.id)).settlement_minor is None  # not a member's business
    assert (await service.get_benefit(kit.db, partner_principal(b), active.id)).settlement_minor is None
    assert (await service.get_benefit(kit.db, partner_principal(a), active.id)).settlement_minor == 1800
    assert (await service.get_benefit(kit.db, CS, active.id)).settlement_minor == 1800
    assert await code_of(service.get_benefit(kit.db, member, draft.id)) == "NOT_FOUND"
    assert await code_of(service.get_benefit(kit.db, partner_principal(b), draft.id)) == "NOT_FOUND"
    missing = uuid.uuid4()
    found = await service.load_benefits(kit.db, member, [draft.id, active.id, missing, active.id])
    assert [f.id if f else None for f in found] == [None, active.id, None, active.id]
    assert [f.id if f else None for f in await service.load_benefits(kit.db, SERVICE, [draft.id])] == [draft.id]


async def test_filters(kit) -> None:  # noqa: ANN001
    a, b = await kit.partner(), await kit.partner()
    await kit.benefit(a, voucher(title="Cheap grocery", points_price=100, tags=["weekend"]), codes=1)
    await kit.benefit(a, voucher(title="Grocery no codes", points_price=300))
    await kit.benefit(b, recharge(title="Video", points_price=1500))
    await kit.benefit(b, recharge(title="Video later", points_price=900, available_from=utcnow() + timedelta(days=3)))
    await kit.benefit(b, recharge(title="Video sold out", points_price=50, stock_total=0))
    member = member_principal(uuid.uuid4())
    assert await catalogue_titles(kit, member, partner_id=a) == ["Cheap grocery", "Grocery no codes"]
    assert await catalogue_titles(kit, member, kind="VIDEO_MEMBERSHIP") == ["Video", "Video later", "Video sold out"]
    assert await catalogue_titles(kit, member, category="Video") == ["Video", "Video later", "Video sold out"]
    assert await catalogue_titles(kit, member, tag="weekend") == ["Cheap grocery"]
    assert await catalogue_titles(kit, member, points_min=100, points_max=900) == ["Cheap grocery", "Grocery no codes", "Video later"]
    assert await catalogue_titles(kit, member, redeemable_now=True) == ["Cheap grocery", "Video"]
    assert await catalogue_titles(kit, member, redeemable_now=False) == ["Grocery no codes", "Video later", "Video sold out"]
    for bad in ({"points_min": -1}, {"points_max": 10**10}, {"points_min": 5, "points_max": 4}, {"category": "no spaces"},
                {"tag": "x" * 40}):
        assert await code_of(service.list_benefits(kit.db, member, CatalogueFilter(**bad))) == "BAD_USER_INPUT"


@pytest.mark.parametrize("sort", list(Sort))
async def test_every_sort_pages_through_everything_once_even_while_benefits_are_added(kit, sort) -> None:  # noqa: ANN001
    partner = await kit.partner()
    for i in range(7):
        await kit.benefit(partner, voucher(title=f"T{(i * 3) % 7}", points_price=100 + (i % 3)))
    member = member_principal(uuid.uuid4())
    seen, after = [], None
    while True:
        page = await service.list_benefits(kit.db, member, None, sort, first=3, after=after)
        seen.extend(page.rows)
        await kit.benefit(partner, voucher(title="Added", points_price=101))  # lands somewhere in the order
        if not page.has_next_page:
            break
        after = page.end_cursor
    keys = {
        Sort.POINTS_ASC: lambda v: (v.points_price, v.id), Sort.POINTS_DESC: lambda v: (-v.points_price, [-x for x in v.id.bytes]),
        Sort.NEWEST: lambda v: (-v.created_at.timestamp(), [-x for x in v.id.bytes]), Sort.TITLE: lambda v: (v.title, v.id),
    }
    assert seen == sorted(seen, key=keys[sort])
    assert len({v.id for v in seen}) == len(seen)
    originals = {v.id for v in seen if v.title != "Added"}
    assert len(originals) == 7


async def test_cursors_and_page_sizes_are_checked(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    for _ in range(3):
        await kit.benefit(partner)
    page = await service.list_benefits(kit.db, OPERATOR, None, Sort.POINTS_ASC, first=1)
    assert page.has_next_page and not page.has_previous_page
    assert await code_of(service.list_benefits(kit.db, OPERATOR, None, Sort.POINTS_DESC, after=page.end_cursor)) == "BAD_USER_INPUT"
    assert await code_of(service.list_benefits(kit.db, OPERATOR, None, Sort.TITLE, after=page.end_cursor)) == "BAD_USER_INPUT"
    for bad in ("garbage", "", "e30", "W10", "x" * 2000):
        assert await code_of(service.list_benefits(kit.db, OPERATOR, after=bad)) == "BAD_USER_INPUT"
    for first in (0, -1, 101):
        assert await code_of(service.list_benefits(kit.db, OPERATOR, first=first)) == "BAD_USER_INPUT"
    second = await service.list_benefits(kit.db, OPERATOR, None, Sort.POINTS_ASC, first=1, after=page.end_cursor)
    assert second.has_previous_page and second.rows[0].id != page.rows[0].id
