"""GraphQL types of code pools, reservations and write-offs, made from the service layer's answers,
and the fields this concept adds to the entities (`Benefit.stock`, `Benefit.codes`, `Member.codes`,
`Partner.writeOffs`, `Partner.codeUsage`) as mixins that `types.py` puts into the entity classes.

Entity references (`benefit`, `member`, `partner` fields) resolve through `refs`, which `types.py`
fills: this module does not import the entity classes it is mixed into.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from services.benefits.codes import service as codes_service
from services.benefits.codes.answers import CodeAnswer, StockAnswer, UploadAnswer, UsageAnswer
from services.benefits.reservations.answers import IssuedAnswer, JobAnswer, ReservationAnswer
from services.benefits.schema.delivery_types import ReservationDeliveryFields
from services.benefits.writeoffs import service as writeoffs_service
from services.benefits.writeoffs.answers import WriteOffAnswer
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

from services.benefits.schema import refs

_TYPES = "services.benefits.schema.types"
BenefitRef = Annotated["Benefit", strawberry.lazy(_TYPES)]
MemberRef = Annotated["Member", strawberry.lazy(_TYPES)]
PartnerRef = Annotated["Partner", strawberry.lazy(_TYPES)]


@strawberry.enum(description="AVAILABLE → RESERVED (a redemption in flight) → ISSUED (to one member) → USED (written off) / "
                             "VOIDED (refunded) / EXPIRED; RESERVED → AVAILABLE when released.")
class CodeState(enum.Enum):
    AVAILABLE = "AVAILABLE"
    RESERVED = "RESERVED"
    ISSUED = "ISSUED"
    USED = "USED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"


@strawberry.enum(description="RESERVED until issued to the member or released (by the redemption, or when its time runs "
                             "out); an issued one is VOIDED by a refund.")
class ReservationState(enum.Enum):
    RESERVED = "RESERVED"
    ISSUED = "ISSUED"
    RELEASED = "RELEASED"
    VOIDED = "VOIDED"


@strawberry.enum(description="What runBenefitsJob runs.")
class BenefitsJob(enum.Enum):
    RELEASE_EXPIRED_RESERVATIONS = "RELEASE_EXPIRED_RESERVATIONS"
    EXPIRE_CODES = "EXPIRE_CODES"
    ALL = "ALL"


@strawberry.type(description="A benefit's stock. For a code pool: its codes by state; for a recharge: its counters "
                             "(available and total null = unlimited).")
class BenefitStock:
    available: int | None
    reserved: int
    issued: int
    used: int
    voided: int
    expired: int
    total: int | None
    low_stock_threshold: int | None = strawberry.field(
        description="Below this many available, the owner is alerted (owner and staff only).")
    low_stock_alerted: bool | None = strawberry.field(
        description="Whether the alert for the current crossing was sent (owner and staff only).")

    @classmethod
    def of(cls, a: StockAnswer) -> BenefitStock:
        return cls(available=a.available, reserved=a.reserved, issued=a.issued, used=a.used, voided=a.voided, expired=a.expired,
                   total=a.total, low_stock_threshold=a.low_stock_threshold, low_stock_alerted=a.low_stock_alerted)


@strawberry.type(description="A refused line of an upload.")
class CodeUploadError:
    line: int = strawberry.field(description="1-based, counting empty lines.")
    reason: str = strawberry.field(
        description="TOO_LONG, BAD_CHARACTER, DUPLICATE (repeats an earlier line) or ALREADY_EXISTS (already in a code pool).")
    message: str
    column: int | None


@strawberry.type(description="An upload (or generation) of codes into a benefit's pool. The counts are complete; `errors` "
                             "holds the first refused lines.")
class CodeUpload:
    id: strawberry.ID
    benefit_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def benefit(self, info: Info) -> BenefitRef:
        return await refs.benefit(info, self.benefit_id)

    idempotency_key: str
    accepted: int
    rejected: int
    errors: list[CodeUploadError]
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, a: UploadAnswer) -> CodeUpload:
        return cls(id=strawberry.ID(str(a.id)), benefit_id=a.benefit_id, idempotency_key=a.key, accepted=a.accepted,
                   rejected=a.rejected, errors=[CodeUploadError(line=e.line, reason=e.reason, message=e.message, column=e.column)
                                                for e in a.errors], created_at=a.created_at, created_by=a.created_by)


@strawberry.type(description="A voucher or activation code. In clear only for the member who holds it; masked (••••••AB12) "
                             "for everyone else.")
class Code:
    id: strawberry.ID
    benefit_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def benefit(self, info: Info) -> BenefitRef:
        return await refs.benefit(info, self.benefit_id)

    state: CodeState
    code: str = strawberry.field(description="In clear for its holder, masked for everyone else.")
    masked_code: str
    member_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description='Who holds it, once issued.')
    async def member(self, info: Info) -> MemberRef | None:
        return await refs.member(info, self.member_id)

    issued_at: datetime | None
    valid_until: datetime | None
    used_at: datetime | None
    voided_at: datetime | None

    @classmethod
    def of(cls, a: CodeAnswer) -> Code:
        return cls(id=strawberry.ID(str(a.id)), benefit_id=a.benefit_id, state=CodeState(a.state), code=a.code,
                   masked_code=a.masked_code, member_id=a.member_id, issued_at=a.issued_at, valid_until=a.valid_until,
                   used_at=a.used_at, voided_at=a.voided_at)


@strawberry.type(description="A benefit held for one redemption in flight (keyed by the redemption's key).")
class Reservation(ReservationDeliveryFields):
    id: strawberry.ID
    key: str
    benefit_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def benefit(self, info: Info) -> BenefitRef:
        return await refs.benefit(info, self.benefit_id)

    member_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def member(self, info: Info) -> MemberRef:
        return await refs.member(info, self.member_id)

    state: ReservationState
    code: str | None = strawberry.field(description="The reserved code, masked (null for a recharge).")
    expires_at: datetime
    # Not a `Money`: points' `Money` is not @shareable, so a second one would not compose.
    settlement_minor: int = strawberry.field(description="What the owner is paid for it (minor units), fixed when reserved.")
    currency: str
    created_at: datetime
    issued_at: datetime | None
    released_at: datetime | None = strawberry.field(description="When it was released or voided.")
    delivery_reference: str | None

    @classmethod
    def of(cls, a: ReservationAnswer) -> Reservation:
        return cls(id=strawberry.ID(str(a.id)), key=a.key, benefit_id=a.benefit_id, member_id=a.member_id,
                   state=ReservationState(a.state), code=a.masked_code, expires_at=a.expires_at,
                   settlement_minor=a.settlement_minor, currency=a.currency, created_at=a.created_at,
                   issued_at=a.issued_at, released_at=a.released_at, delivery_reference=a.delivery_reference)


@strawberry.type(description="An issued reservation, with the code in clear for the calling service to deliver to the member.")
class IssuedReservation:
    reservation: Reservation
    code: str | None = strawberry.field(description="The code in clear (null for a recharge). Only in this answer.")
    valid_until: datetime | None

    @classmethod
    def of(cls, a: IssuedAnswer) -> IssuedReservation:
        return cls(reservation=Reservation.of(a.reservation), code=a.code, valid_until=a.valid_until)


@strawberry.type(description="A code written off at a partner's store (audit). The code is masked, except in the answer of "
                             "the write-off itself.")
class WriteOff:
    id: strawberry.ID
    code: str
    benefit_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def benefit(self, info: Info) -> BenefitRef:
        return await refs.benefit(info, self.benefit_id)

    partner_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def partner(self, info: Info) -> PartnerRef:
        return await refs.partner(info, self.partner_id)

    member_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def member(self, info: Info) -> MemberRef | None:
        return await refs.member(info, self.member_id)

    store_id: str
    created_at: datetime
    created_by: str
    undone_at: datetime | None
    undone_by: str | None
    undoable_until: datetime
    reservation_key: str | None = strawberry.field(description="The key of the redemption that issued the code.")

    @classmethod
    def of(cls, a: WriteOffAnswer) -> WriteOff:
        return cls(id=strawberry.ID(str(a.id)), code=a.code or a.masked_code, benefit_id=a.benefit_id,
                   partner_id=a.partner_id, member_id=a.member_id, store_id=a.store_id, created_at=a.created_at,
                   created_by=a.created_by, undone_at=a.undone_at, undone_by=a.undone_by, undoable_until=a.undoable_until,
                   reservation_key=a.reservation_key)


@strawberry.type(description="Codes of one benefit issued to members (not voided) and written off: its usage rate.")
class BenefitUsage:
    benefit_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def benefit(self, info: Info) -> BenefitRef:
        return await refs.benefit(info, self.benefit_id)

    issued: int
    used: int
    usage_rate: float | None = strawberry.field(description="used / issued (null before any is issued).")

    @classmethod
    def of(cls, a: UsageAnswer) -> BenefitUsage:
        return cls(benefit_id=a.benefit_id, issued=a.issued, used=a.used, usage_rate=a.rate)


@strawberry.type(description="What one run of the benefits jobs did.")
class BenefitsJobRun:
    released_reservations: int
    expired_codes: int

    @classmethod
    def of(cls, a: JobAnswer) -> BenefitsJobRun:
        return cls(released_reservations=a.released_reservations, expired_codes=a.expired_codes)


# --- the fields this concept adds to the entities ------------------------------------------------------


def _stock_loader(info: Info):  # noqa: ANN202
    db, principal = info.context.db, info.context.principal
    return info.context.loader("benefits.stock", lambda ids: codes_service.stocks(db, principal, ids))


@strawberry.type
class BenefitCodeFields:
    id: strawberry.ID

    @strawberry.field(description="Stock: a code pool's codes by state, or a recharge's counters.")
    async def stock(self, info: Info) -> BenefitStock:
        return BenefitStock.of(await _stock_loader(info).load(parse_id(self.id)))

    @strawberry.field(description="The pool's codes in upload order, masked: for the owner and staff.")
    async def codes(self, info: Info, state: CodeState | None = None, first: int | None = None,
                    after: str | None = None) -> Connection[Code]:
        page = await codes_service.benefit_codes(info.context.db, info.context.principal, benefit_id=parse_id(self.id),
                                                 state=state.value if state else None, first=first, after=after)
        return Connection[Code].from_page(page, Code.of)


@strawberry.type
class MemberCodeFields:
    id: strawberry.ID

    @strawberry.field(description="The member's codes, newest first: in clear for the member, masked for staff.")
    async def codes(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Code]:
        page = await codes_service.member_codes(info.context.db, info.context.principal, member_id=parse_id(self.id),
                                                first=first, after=after)
        return Connection[Code].from_page(page, Code.of)


@strawberry.type
class PartnerCodeFields:
    id: strawberry.ID

    @strawberry.field(description="Codes written off at the partner's stores, newest first, in [from, to).")
    async def write_offs(self, info: Info, from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
                         to: datetime | None = None, first: int | None = None, after: str | None = None) -> Connection[WriteOff]:
        page = await writeoffs_service.write_offs(info.context.db, info.context.principal, partner_id=parse_id(self.id),
                                                  since=from_, until=to, first=first, after=after)
        return Connection[WriteOff].from_page(page, WriteOff.of)

    @strawberry.field(description="Per code benefit: codes issued and used (usage rate).")
    async def code_usage(self, info: Info) -> list[BenefitUsage]:
        found = await codes_service.usage(info.context.db, info.context.principal, partner_id=parse_id(self.id))
        return [BenefitUsage.of(a) for a in found]
