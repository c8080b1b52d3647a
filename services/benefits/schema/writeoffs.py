"""Root fields of write-offs (核销) and usage counts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from services.benefits.codes import service as codes_service
from services.benefits.schema.codes_types import BenefitUsage, WriteOff
from services.benefits.writeoffs import service as writeoffs
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id


@strawberry.type
class WriteOffQueries:
    @strawberry.field(description="A partner's write-offs in [from, to), newest first: the partner and staff.")
    async def write_offs(self, info: Info, partner_id: strawberry.ID,
                         from_: Annotated[datetime | None, strawberry.argument(name="from")] = None, to: datetime | None = None,
                         first: int | None = None, after: str | None = None) -> Connection[WriteOff]:
        page = await writeoffs.write_offs(info.context.db, info.context.principal, partner_id=parse_id(partner_id, "partnerId"),
                                          since=from_, until=to, first=first, after=after)
        return Connection[WriteOff].from_page(page, WriteOff.of)

    @strawberry.field(description="Per code benefit of a partner: codes issued and used.")
    async def code_usage(self, info: Info, partner_id: strawberry.ID) -> list[BenefitUsage]:
        found = await codes_service.usage(info.context.db, info.context.principal, partner_id=parse_id(partner_id, "partnerId"))
        return [BenefitUsage.of(a) for a in found]


@strawberry.type
class WriteOffMutations:
    @strawberry.mutation(description="A partner writes off a code presented at its store: ISSUED and valid codes of its own "
                                     "benefits, exactly once (ALREADY_USED, EXPIRED, NOT_YOURS). The answer shows the code in clear.")
    async def write_off_code(self, info: Info, code: str, store_id: str, idempotency_key: str) -> WriteOff:
        answer = await writeoffs.write_off(info.context.db, info.context.principal, code=code, store_id=store_id,
                                           idempotency_key=idempotency_key)
        return WriteOff.of(answer)

    @strawberry.mutation(description="The same partner undoes its write-off within the undo window: the code is ISSUED again.")
    async def undo_write_off(self, info: Info, write_off_id: strawberry.ID, idempotency_key: str) -> WriteOff:
        answer = await writeoffs.undo(info.context.db, info.context.principal, write_off_id=parse_id(write_off_id, "writeOffId"),
                                      idempotency_key=idempotency_key)
        return WriteOff.of(answer)
