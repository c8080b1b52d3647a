"""The partner registry through the service layer: registration, status changes and their events,
profile edits, the redeemability check, listing."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.database import Database
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

from services.benefits.errors import NotAvailable
from services.benefits.events import PARTNER_STATUS_CHANGED
from services.benefits.partners import service
from services.benefits.partners.answers import PartnerDraft, ProfileChanges
from services.benefits.partners.rules import PartnerRole, PartnerStatus
from services.benefits.seed import demo_partner_id
from tests.benefits.kit import OPERATOR, SERVICE, SUPPORT, as_partner, published, register


async def test_registration_is_pending_and_publishes_the_status_to_points(database: Database) -> None:
    draft = PartnerDraft(
        name="  Metro   Mart ", brand="Metro", roles=["REDEMPTION", "EARNING", "EARNING"], currency="CNY",
        contact_name="Li Wei", contact_email="ops@metro.example", logo_url="https://cdn.metro.example/logo.png",
        categories=["Groceries", "shopping", "groceries"], webhook_url="https://metro.example/hooks",
        fulfilment_url="http://127.0.0.1:4010",
    )
    view = await service.register_partner(database, OPERATOR, draft)
    assert (view.name, view.status, view.version) == ("Metro Mart", PartnerStatus.PENDING, 1)
    assert view.roles == (PartnerRole.EARNING, PartnerRole.REDEMPTION)
    assert view.categories == ("groceries", "shopping")
    assert (view.contact_name, view.contact_email, view.webhook_url) == ("Li Wei", "ops@metro.example", "https://metro.example/hooks")
    (event,) = await published(database, PARTNER_STATUS_CHANGED)
    assert event == {
        "partnerId": str(view.id), "status": "PENDING", "version": 1, "roles": ["EARNING", "REDEMPTION"],
        "occurredAt": view.created_at.isoformat(), "_subscribers": ["points"],
    }


async def test_a_given_id_is_kept_and_cannot_be_registered_twice(database: Database) -> None:
    wanted = demo_partner_id("metro-mart")
    view = await register(database, id=str(wanted), active=False)
    assert view.id == wanted
    with pytest.raises(Conflict):
        await register(database, id=wanted, name="Someone Else")
    assert len(await published(database, PARTNER_STATUS_CHANGED)) == 1


async def test_activation_and_suspension_publish_each_change_once_with_growing_versions(database: Database) -> None:
    view = await register(database, active=False)
    active = await service.activate_partner(database, OPERATOR, view.id)
    again = await service.activate_partner(database, OPERATOR, view.id)  # nothing to change
    assert (active.status, active.version) == (PartnerStatus.ACTIVE, 2) and again.version == 2
    suspended = await service.suspend_partner(database, OPERATOR, view.id, "  unpaid   invoices ")
    assert (suspended.status, suspended.status_reason, suspended.version) == (PartnerStatus.SUSPENDED, "unpaid invoices", 3)
    reasoned = await service.suspend_partner(database, OPERATOR, view.id, "fraud review")  # the reason changes only
    assert (reasoned.status_reason, reasoned.version) == ("fraud review", 4)
    back = await service.activate_partner(database, OPERATOR, view.id)
    assert (back.status, back.status_reason, back.version) == (PartnerStatus.ACTIVE, None, 5)
    events = await published(database, PARTNER_STATUS_CHANGED)
    assert [(e["status"], e["version"]) for e in events] == [("PENDING", 1), ("ACTIVE", 2), ("SUSPENDED", 3), ("ACTIVE", 5)]


async def test_status_changes_of_unknown_partners_are_not_found(database: Database) -> None:
    for change in (service.activate_partner(database, OPERATOR, uuid.uuid4()),
                   service.suspend_partner(database, OPERATOR, uuid.uuid4(), "why")):
        with pytest.raises(NotFound):
            await change


async def test_a_partner_edits_its_profile_and_only_operators_change_roles(database: Database) -> None:
    view = await register(database, contact_name="Li Wei", webhook_url="https://metro.example/hooks")
    me = as_partner(view.id)
    edited = await service.update_partner(
        database, me, view.id,
        ProfileChanges(name="Metro Mart Plus", contact_name=None, categories=["video"], logo_url="https://x.example/l.png"),
    )
    assert (edited.name, edited.contact_name, edited.categories, edited.webhook_url) == (
        "Metro Mart Plus", None, ("video",), "https://metro.example/hooks",  # left out: unchanged
    )
    assert edited.version == view.version + 1
    with pytest.raises(Forbidden):
        await service.update_partner(database, me, view.id, ProfileChanges(roles=["EARNING"]))
    unchanged = await service.update_partner(database, me, view.id, ProfileChanges(name="Metro Mart Plus"))
    assert unchanged.version == edited.version  # nothing different, nothing written
    narrowed = await service.update_partner(database, OPERATOR, view.id, ProfileChanges(roles=["EARNING"]))
    assert narrowed.roles == (PartnerRole.EARNING,)
    last = (await published(database, PARTNER_STATUS_CHANGED))[-1]
    assert (last["roles"], last["status"], last["version"]) == (["EARNING"], "ACTIVE", narrowed.version)


async def test_redeemable_partner_check_for_the_catalogue(database: Database) -> None:
    both = await register(database)
    earning_only = await register(database, roles=["EARNING"])
    pending = await register(database, active=False)
    suspended = await register(database)
    await service.suspend_partner(database, OPERATOR, suspended.id, "review")
    async with database.transaction() as session:
        assert (await service.require_redeemable_partner(session, both.id)).id == both.id
        assert (await service.require_redeemable_partner(session, both.id, hold=True)).id == both.id
        for partner, reason in ((earning_only, "NOT_A_REDEMPTION_PARTNER"), (pending, "PARTNER_PENDING"),
                                (suspended, "PARTNER_SUSPENDED")):
            with pytest.raises(NotAvailable) as refused:
                await service.require_redeemable_partner(session, partner.id)
            assert refused.value.extensions["reason"] == reason
        with pytest.raises(NotFound):
            await service.require_redeemable_partner(session, uuid.uuid4())


async def test_holding_a_redeemable_partner_makes_a_suspension_wait_for_the_redemption(database: Database) -> None:
    partner = await register(database)
    held = asyncio.Event()
    order: list[str] = []

    async def redemption() -> None:
        async with database.transaction() as session:
            await service.require_redeemable_partner(session, partner.id, hold=True)
            held.set()
            await asyncio.sleep(0.3)
            order.append("redeemed")

    async def suspension() -> None:
        await held.wait()
        await service.suspend_partner(database, OPERATOR, partner.id, "stop")
        order.append("suspended")

    await asyncio.gather(redemption(), suspension())
    assert order == ["redeemed", "suspended"]


async def test_concurrent_status_changes_leave_one_consistent_state_and_history(database: Database) -> None:
    partner = await register(database, active=False)
    changes = [
        service.activate_partner(database, OPERATOR, partner.id) if i % 2 else service.suspend_partner(database, OPERATOR, partner.id, "flip")
        for i in range(24)
    ]
    await asyncio.gather(*changes)
    final = await service.get_partner(database, OPERATOR, partner.id)
    events = await published(database, PARTNER_STATUS_CHANGED)
    versions = [e["version"] for e in events]
    assert len(set(versions)) == len(versions)  # every change published once, with its own version
    latest = max(events, key=lambda e: e["version"])
    assert (latest["status"], latest["version"]) == (final.status.value, final.version)
    by_version = sorted(events, key=lambda e: e["version"])
    assert all(a["status"] != b["status"] for a, b in zip(by_version, by_version[1:]))  # only real changes


async def test_listing_filters_and_pages(database: Database) -> None:
    made = [await register(database, name=f"Partner {i}", roles=["EARNING"] if i % 2 else ["REDEMPTION"]) for i in range(5)]
    await service.suspend_partner(database, OPERATOR, made[0].id, "late")
    first = await service.list_partners(database, SUPPORT, first=2)
    assert [p.id for p in first.rows] == [made[0].id, made[1].id] and first.has_next_page
    rest = await service.list_partners(database, SUPPORT, first=10, after=first.end_cursor)
    assert [p.id for p in rest.rows] == [p.id for p in made[2:]] and not rest.has_next_page
    earning = await service.list_partners(database, SERVICE, role=PartnerRole.EARNING)
    assert [p.id for p in earning.rows] == [made[1].id, made[3].id]
    suspended = await service.list_partners(database, OPERATOR, status=PartnerStatus.SUSPENDED)
    assert [p.id for p in suspended.rows] == [made[0].id]
    for bad in ({"first": 0}, {"first": 101}, {"after": "not-a-cursor"}):
        with pytest.raises(InvalidInput):
            await service.list_partners(database, OPERATOR, **bad)  # type: ignore[arg-type]


async def test_other_concepts_can_filter_by_redeemable_partners_in_their_own_sql(database: Database) -> None:
    from sqlalchemy import select

    from services.benefits.partners.store import PARTNERS, redeemable_condition

    both = await register(database)
    await register(database, roles=["EARNING"])
    await register(database, active=False)
    async with database.engine.connect() as connection:
        ids = (await connection.execute(select(PARTNERS.c.id).where(redeemable_condition(PARTNERS.c.id)))).scalars().all()
    assert ids == [both.id]
