"""Root fields of reservations (alliance services only) and the operators' job trigger."""

from __future__ import annotations

import uuid

import strawberry

from services.benefits.catalogue.rules import MemberFacts
from services.benefits.reservations import expiry
from services.benefits.reservations import service as reservations
from services.benefits.schema.codes_types import BenefitsJob, BenefitsJobRun, IssuedReservation, Reservation
from shared.federation import Info
from shared.ids import parse_id


@strawberry.input(description="The member as the redemption read them from the members service.")
class ReservingMemberInput:
    tier: str
    status: str
    birthday_month: int | None = None

    def facts(self, member_id: uuid.UUID) -> MemberFacts:
        return MemberFacts(member_id=member_id, tier=self.tier, status=self.status, birthday_month=self.birthday_month)


@strawberry.type
class ReservationQueries:
    @strawberry.field(description="A reservation by its redemption's key: services and staff.")
    async def reservation(self, info: Info, key: str) -> Reservation | None:
        (found,) = await reservations.reservations(info.context.db, info.context.principal, [key])
        return Reservation.of(found) if found else None


@strawberry.type
class ReservationMutations:
    @strawberry.mutation(description="Services: hold one code (or one unit of stock) of a benefit for a redemption until it "
                                     "expires (ttlSeconds, default the service's), taking its settlement price from the "
                                     "budgets. With `member`, every eligibility rule applies (tier, birthday perk, limits). "
                                     "OUT_OF_STOCK, BUDGET_EXHAUSTED, NOT_AVAILABLE, TIER_TOO_LOW, LIMIT_EXCEEDED …")
    async def reserve_benefit(self, info: Info, benefit_id: strawberry.ID, member_id: strawberry.ID, key: str,
                              ttl_seconds: int | None = None, member: ReservingMemberInput | None = None) -> Reservation:
        member_uuid = parse_id(member_id, "memberId")
        answer = await reservations.reserve(info.context.db, info.context.principal, benefit_id=parse_id(benefit_id, "benefitId"),
                                            member_id=member_uuid, key=key, ttl_seconds=ttl_seconds,
                                            member=member.facts(member_uuid) if member else None)
        return Reservation.of(answer)

    @strawberry.mutation(description="Services: issue the reserved code to the member; the answer carries it in clear for delivery.")
    async def issue_reservation(self, info: Info, key: str, delivery_reference: str | None = None) -> IssuedReservation:
        answer = await reservations.issue(info.context.db, info.context.principal, key=key, delivery_reference=delivery_reference)
        return IssuedReservation.of(answer)

    @strawberry.mutation(description="Services: give a reserved code (or stock) back.")
    async def release_reservation(self, info: Info, key: str) -> Reservation:
        return Reservation.of(await reservations.release(info.context.db, info.context.principal, key=key))

    @strawberry.mutation(description="Services (refunds): void an issued, unused code. ALREADY_USED once written off.")
    async def void_reservation(self, info: Info, key: str) -> Reservation:
        return Reservation.of(await reservations.void(info.context.db, info.context.principal, key=key))

    @strawberry.mutation(description="Operators: run the benefits jobs now (release expired reservations, expire codes).")
    async def run_benefits_job(self, info: Info, job: BenefitsJob = BenefitsJob.ALL) -> BenefitsJobRun:
        answer = await expiry.run(info.context.db, info.context.principal, expiry.Job(job.value))
        return BenefitsJobRun.of(answer)
