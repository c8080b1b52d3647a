"""Which services may reserve, issue, release, void and deliver benefits, and read beyond the
catalogue: the allowed ones pass, every other known service and an unknown subject are refused with
FORBIDDEN and no code changes state."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from services.benefits import access
from services.benefits.delivery import service as delivery
from services.benefits.reservations import service as reservations
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import DomainError, Forbidden
from tests.benefits.codes.codes_kit import SERVICE, Kit

KNOWN = ("gateway", "members", "points", "benefits", "redemptions")
CALLERS = (*KNOWN, "evil")


@dataclass
class Scene:
    partner: uuid.UUID
    benefit: uuid.UUID
    reserved: str  # a reservation key in RESERVED
    issued: str  # a reservation key in ISSUED


async def _scene(kit: Kit) -> Scene:
    partner, benefit, _ = await kit.pool(4)
    reserved = kit.key("r")
    await reservations.reserve(kit.db, SERVICE, benefit_id=benefit, member_id=uuid.uuid4(), key=reserved)
    issued = await kit.issued(benefit)
    return Scene(partner, benefit, reserved, issued.reservation.key)


Operation = Callable[[Kit, Principal, Scene], Awaitable[object]]
OPERATIONS: dict[str, tuple[frozenset[str], Operation]] = {
    "reserve": (access.RESERVERS, lambda kit, p, s: reservations.reserve(
        kit.db, p, benefit_id=s.benefit, member_id=uuid.uuid4(), key=kit.key("n"))),
    "issue": (access.RESERVERS, lambda kit, p, s: reservations.issue(kit.db, p, key=s.reserved)),
    "releaseReservation": (access.RESERVERS, lambda kit, p, s: reservations.release(kit.db, p, key=s.reserved)),
    "voidReservation": (access.RESERVERS, lambda kit, p, s: reservations.void(kit.db, p, key=s.issued)),
    # No recharge benefit in the scene: the allowed caller gets past authorization to NOT_FOUND.
    "deliverRecharge": (access.RESERVERS, lambda kit, p, s: delivery.deliver_recharge(
        kit.db, p, key=kit.key("none"), account="13800000000")),
    "revokeRecharge": (access.RESERVERS, lambda kit, p, s: delivery.revoke_recharge(kit.db, p, key=kit.key("none"))),
    "reservations": (access.READERS, lambda kit, p, s: reservations.reservations(kit.db, p, [s.issued])),
}


async def _states(kit: Kit, benefit: uuid.UUID) -> dict[str, int]:
    async with kit.db.session() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT state, count(*) AS n FROM benefits.codes WHERE benefit_id = :b GROUP BY state"), params={"b": benefit})).all()
    return {row.state: row.n for row in rows}


def test_the_matrix_names_only_known_services() -> None:
    assert access.RESERVERS == {"redemptions"} and access.READERS <= set(KNOWN)


@pytest.mark.parametrize(
    ("operation", "caller", "allowed"),
    [pytest.param(name, caller, caller in allowed, id=f"{name}-{caller}")
     for name, (allowed, _) in OPERATIONS.items() for caller in CALLERS],
)
async def test_service_operations_admit_only_their_callers(kit: Kit, operation: str, caller: str, allowed: bool) -> None:
    scene = await _scene(kit)
    before = await _states(kit, scene.benefit)
    _, run = OPERATIONS[operation]
    principal = Principal(PrincipalKind.SERVICE, caller)
    if allowed:
        try:
            await run(kit, principal, scene)
        except Forbidden:
            raise
        except DomainError:  # past authorization (e.g. NOT_FOUND for a key that does not exist)
            pass
        return
    with pytest.raises(Forbidden):
        await run(kit, principal, scene)
    assert await _states(kit, scene.benefit) == before


@pytest.mark.parametrize("caller", CALLERS)
def test_reading_beyond_the_catalogue_is_for_the_reader_services(caller: str) -> None:
    principal = Principal(PrincipalKind.SERVICE, caller)
    partner = uuid.uuid4()
    reader = caller in access.READERS
    assert access.may_read_partner_private(principal, partner) is reader
    assert access.may_see_benefit(principal, partner, "PAUSED") is reader
    assert access.may_see_benefit(principal, partner, "ACTIVE")  # the catalogue, as members see it
    expected = access.CatalogueScope.ALL if reader else access.CatalogueScope.ACTIVE
    assert access.catalogue_scope(principal) is expected
    for check in (access.require_partner_directory_reader, access.require_reservation_reader):
        if reader:
            check(principal)
        else:
            with pytest.raises(Forbidden):
                check(principal)
    if not reader:
        with pytest.raises(Forbidden):
            access.require_eligibility_reader(principal, uuid.uuid4())
