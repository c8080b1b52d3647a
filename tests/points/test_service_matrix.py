"""Which services may call which points operation: the allowed ones pass, every other known service
and an unknown subject are refused with FORBIDDEN (and nothing moves)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from services.points import access
from services.points.directory import TrustingDirectory
from services.points.earning import service as earning
from services.points.earning.rules import PurchaseInput
from services.points.ledger.answers import Balances
from services.points.ledger.service import set_points_profile
from services.points.reporting import service as reporting
from services.points.spending import service as spending
from shared.auth import Principal, PrincipalKind
from shared.errors import DomainError, Forbidden
from shared.timeutil import utcnow

KNOWN = ("gateway", "members", "points", "benefits", "redemptions")
CALLERS = (*KNOWN, "evil")


@dataclass
class Scene:
    member: uuid.UUID
    partner: object
    hold: uuid.UUID  # held, not captured
    captured: uuid.UUID  # captured in full


async def _scene(kit) -> Scene:  # noqa: ANN001
    partner = await kit.partner()
    member = await kit.member(100, partner=partner)
    hold = await kit.hold(member, 10)
    captured = await kit.hold(member, 10)
    await kit.capture(captured.id, 10, partner)
    return Scene(member, partner, hold.id, captured.id)


def _ok(found: list) -> None:  # batch reads answer errors in place
    if isinstance(found[0], DomainError):
        raise found[0]


Operation = Callable[..., Awaitable[object]]
OPERATIONS: dict[str, tuple[frozenset[str], Operation]] = {
    "holdPoints": (access.SPENDERS, lambda kit, p, s: spending.hold_points(
        kit.db, p, member_id=s.member, points=1, ttl_seconds=60, reference="r", idempotency_key=kit.key())),
    "captureHold": (access.SPENDERS, lambda kit, p, s: spending.capture_hold(
        kit.db, p, hold_id=s.hold, points=1, beneficiary_partner_id=s.partner.id, value_minor=0, currency="CNY",
        idempotency_key=kit.key())),
    "releaseHold": (access.SPENDERS, lambda kit, p, s: spending.release_hold(kit.db, p, hold_id=s.hold, idempotency_key=kit.key())),
    "refundCapture": (access.SPENDERS, lambda kit, p, s: spending.refund_capture(
        kit.db, p, hold_id=s.captured, points=1, idempotency_key=kit.key())),
    "hold": (access.SPENDERS, lambda kit, p, s: spending.get_hold(kit.db, p, s.hold)),
    "setPointsProfile": (access.PROFILE_WRITERS, lambda kit, p, s: set_points_profile(
        kit.db, p, member_id=s.member, birthday_month=5, directory=TrustingDirectory())),
    "memberPoints": (access.MEMBER_READERS, lambda kit, p, s: _read(reporting.balances_of(kit.db, p, [s.member]))),
    "pointsPartner": (access.PARTNER_READERS, lambda kit, p, s: _read(reporting.partner_figures(kit.db, p, [s.partner.id]))),
    "recordPurchase (any partner)": (access.PURCHASE_RECORDERS, lambda kit, p, s: earning.record_purchase(
        kit.db, p, PurchaseInput(s.partner.id, s.member, kit.key("x"), 100, "CNY", utcnow()), directory=TrustingDirectory())),
}


async def _read(batch: Awaitable[list]) -> None:
    _ok(await batch)


def _cases() -> list:
    return [
        pytest.param(name, caller, caller in allowed, id=f"{name}-{caller}")
        for name, (allowed, _) in OPERATIONS.items()
        for caller in CALLERS
    ]


def test_the_matrix_names_only_known_services() -> None:
    for allowed, _ in OPERATIONS.values():
        assert allowed <= set(KNOWN)
    assert access.SPENDERS == {"redemptions"}  # the saga is the only one that moves held points


@pytest.mark.parametrize(("operation", "caller", "allowed"), _cases())
async def test_service_operations_admit_only_their_callers(kit, operation: str, caller: str, allowed: bool) -> None:  # noqa: ANN001
    scene = await _scene(kit)
    before = await kit.balances(scene.member)
    _, run = OPERATIONS[operation]
    principal = Principal(PrincipalKind.SERVICE, caller)
    if allowed:
        await run(kit, principal, scene)
        return
    with pytest.raises(Forbidden):
        await run(kit, principal, scene)
    after = await kit.balances(scene.member)
    assert isinstance(after, Balances) and after == before
