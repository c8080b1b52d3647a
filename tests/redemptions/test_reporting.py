"""Operators' figures: redemptions started, completed, failed and refunded in a period, per partner and
per benefit (codes used since), for staff only; and the document that composes them with the figures
other services own is valid against the composed supergraph."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from graphql import parse, validate

from abg.services import SERVICES
from gateway.composition import SubgraphSource, compose
from gateway.supergraph.loader import load_supergraph
from services.redemptions import events
from services.redemptions.refunds import service as refunds
from services.redemptions.reporting import service as reporting
from services.redemptions.schema import schema
from shared.auth.principals import Principal, PrincipalKind
from shared.errors import Forbidden, InvalidInput
from shared.events import Event
from shared.federation.context import Context
from shared.timeutil import utcnow

from tests.redemptions.kit import OPERATOR, SERVICE, World, member_principal

SUPPORT = Principal(PrincipalKind.STAFF, "cs-test", frozenset({"customer_service"}))

FIGURES = """query($from: DateTime!, $to: DateTime!) { redemptionFigures(from: $from, to: $to) {
  started completed failed refunded needingAttention membersRedeemed pointsRedeemed pointsRefunded refundRate
  partners { partner { id } completed pointsRedeemed refunds pointsRefunded settlement { currency completedMinor refundedMinor } }
  benefits { benefit { id } partner { id } completed codesIssued codesUsed codesVoided usageRate } } }"""

# What an operator's dashboard asks the gateway in one document: the figures redemptions owns, the
# active members (members), budget burn (benefits) and the earning liability (points) of each partner
# listed, and one partner's settlement statement (points).
COMPOSED = """query($from: DateTime!, $to: DateTime!, $partner: ID!) {
  activeMembers: memberCount(status: ACTIVE)
  redemptionFigures(from: $from, to: $to) {
    membersRedeemed pointsRedeemed refundRate
    partners {
      partner { id name budget { limit { amountMinor currency } spent { amountMinor currency } remaining { amountMinor } }
                points { outstandingPoints outstandingLiability { amountMinor currency } } }
      pointsRedeemed settlement { currency completedMinor refundedMinor }
    }
    benefits { benefit { id title budget { spent { amountMinor } limit { amountMinor } } } codesIssued codesUsed usageRate }
  }
  settlementStatement(partnerId: $partner, from: $from, to: $to) {
    lines { currency pointsPayable pointsReceivable net { amountMinor currency } }
  }
}"""


async def _write_off(world: World, redemption_id: uuid.UUID) -> None:
    """Benefits' CodeWrittenOff event, handled as redemptions' inbox handles it."""
    event = Event(uuid.uuid4(), events.CODE_WRITTEN_OFF, {"reservationKey": f"redemption:{redemption_id}", "occurredAt": utcnow().isoformat()},
                  utcnow(), "benefits")
    await world.db.run_transaction(lambda session: events.HANDLERS[events.CODE_WRITTEN_OFF](session, event))


async def test_the_figures_count_each_redemption_in_the_period_it_happened(world: World) -> None:
    start = utcnow()
    shop, cinema = await world.partner(name="Metro Mart"), await world.partner(name="Cine City")
    coffee = await world.benefit(shop, points=100, settlement=500, codes=5)
    cake = await world.benefit(shop, points=200, settlement=800, codes=5)
    ticket = await world.benefit(cinema, points=150, settlement=300, codes=5)
    ann, bob, poor = await world.member(points=1000), await world.member(points=1000), await world.member(points=50)

    ann_coffee = await world.redeem(ann, coffee)
    assert (await world.redeem(ann, cake)).status == "COMPLETED"
    assert (await world.redeem(bob, coffee)).status == "COMPLETED"
    bob_ticket = await world.redeem(bob, ticket)
    failed = await world.redeem(poor, coffee)
    assert (failed.status, failed.failure_code) == ("FAILED", "INSUFFICIENT_POINTS")
    assert (ann_coffee.status, bob_ticket.status) == ("COMPLETED", "COMPLETED")
    assert (await refunds.refund(world.db, OPERATOR, bob_ticket.id, reason="changed plans")).status == "REFUNDED"
    await _write_off(world, ann_coffee.id)
    end = utcnow() + timedelta(seconds=1)

    found = await reporting.figures(world.db, OPERATOR, start, end)

    assert (found.started, found.completed, found.failed, found.refunded, found.needing_attention) == (5, 4, 1, 1, 0)
    assert (found.members_redeemed, found.points_redeemed, found.points_refunded, found.refund_rate) == (2, 550, 150, 0.25)
    assert [(p.partner_id, p.completed, p.points_redeemed, p.refunds, p.points_refunded) for p in found.partners] == [
        (shop, 3, 400, 0, 0), (cinema, 1, 150, 1, 150)]
    assert [[(s.currency, s.completed_minor, s.refunded_minor) for s in p.settlement] for p in found.partners] == [
        [("CNY", 1800, 0)], [("CNY", 300, 300)]]
    by_benefit = {b.benefit_id: (b.partner_id, b.completed, b.codes_issued, b.codes_used, b.codes_voided, b.usage_rate)
                  for b in found.benefits}
    assert by_benefit == {coffee: (shop, 2, 2, 1, 0, 0.5), cake: (shop, 1, 1, 0, 0, 0.0), ticket: (cinema, 1, 1, 0, 1, 0.0)}
    assert found.benefits[0].benefit_id == coffee  # most completions first

    # The same through GraphQL, for customer service too.
    result = await schema.execute(FIGURES, variable_values={"from": start.isoformat(), "to": end.isoformat()},
                                  context_value=Context(request=None, principal=SUPPORT, db=world.db))
    assert result.errors is None, result.errors
    figures = result.data["redemptionFigures"]  # type: ignore[index]
    assert (figures["completed"], figures["membersRedeemed"], figures["pointsRedeemed"], figures["refundRate"]) == (4, 2, 550, 0.25)
    assert figures["partners"][1] == {"partner": {"id": str(cinema)}, "completed": 1, "pointsRedeemed": 150, "refunds": 1,
                                      "pointsRefunded": 150, "settlement": [{"currency": "CNY", "completedMinor": 300, "refundedMinor": 300}]}

    # Periods that miss the redemptions count nothing; the refund alone counts in a period after the completions.
    before = await reporting.figures(world.db, OPERATOR, start - timedelta(days=1), start)
    assert (before.started, before.completed, before.members_redeemed, before.refund_rate, before.partners, before.benefits) == (
        0, 0, 0, None, (), ())


async def test_a_refund_counts_in_its_own_period(world: World) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, settlement=500, codes=2)
    member = await world.member(points=300)
    done = await world.redeem(member, benefit)
    between = utcnow()
    await refunds.refund(world.db, OPERATOR, done.id)
    end = utcnow() + timedelta(seconds=1)

    first = await reporting.figures(world.db, OPERATOR, between - timedelta(hours=1), between)
    second = await reporting.figures(world.db, OPERATOR, between, end)

    assert (first.completed, first.refunded, first.points_redeemed, first.refund_rate) == (1, 0, 100, 0.0)
    assert (second.started, second.completed, second.refunded, second.points_refunded, second.refund_rate) == (0, 0, 1, 100, None)
    assert [(p.completed, p.refunds, [(s.completed_minor, s.refunded_minor) for s in p.settlement]) for p in second.partners] == [
        (0, 1, [(0, 500)])]
    assert second.benefits == ()  # codes are read off the period's completions


async def test_the_figures_are_for_staff_only_and_periods_are_checked(world: World) -> None:
    partner = await world.partner()
    member = await world.member()
    now = utcnow()
    for who in (member_principal(member), Principal(PrincipalKind.PARTNER, str(partner)), SERVICE):
        with pytest.raises(Forbidden):
            await reporting.figures(world.db, who, now - timedelta(days=1), now)
    result = await schema.execute(FIGURES, variable_values={"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()},
                                  context_value=Context(request=None, principal=member_principal(member), db=world.db))
    assert [e.extensions["code"] for e in result.errors or []] == ["FORBIDDEN"]  # type: ignore[index]
    for start, end in ((now, now), (now, now - timedelta(days=1)), (now - timedelta(days=400), now), (now.replace(tzinfo=None), now)):
        with pytest.raises(InvalidInput):
            await reporting.figures(world.db, OPERATOR, start, end)


def test_one_document_asks_every_service_for_the_operators_figures() -> None:
    """Budget burn, active members and the settlement position are not copied into redemptions: the
    gateway answers them beside redemptionFigures in one document."""
    sources = []
    for service in SERVICES:
        result = service.federation_schema().execute_sync("{ _service { sdl } }")
        assert result.errors is None, result.errors
        sources.append(SubgraphSource(service.name, f"http://{service.name}:8000/graphql", result.data["_service"]["sdl"]))
    composed = compose(sources, run_satisfiability=False)
    assert composed.errors == [], composed.errors
    api = load_supergraph(composed.supergraph_sdl).api_schema
    assert validate(api, parse(COMPOSED)) == []
    assert validate(api, parse(COMPOSED.replace("outstandingPoints", "noSuchField")))  # the check can fail
