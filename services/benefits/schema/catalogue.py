"""The catalogue's root fields: `benefits`, `benefit`, and the benefit and budget mutations. Each
resolver calls one service-layer function; the types are in types.py and catalogue_types.py.
"""

from __future__ import annotations

import strawberry

from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id

from services.benefits.catalogue import budgets, inputs, service
from services.benefits.schema.catalogue_types import (
    BenefitFilter,
    BenefitSort,
    BenefitStatus,
    CreateBenefitInput,
    SetBudgetInput,
    UpdateBenefitInput,
)
from services.benefits.schema.types import Benefit, Budget


# --- root fields ----------------------------------------------------------------------------------------


@strawberry.type
class Queries:
    @strawberry.field(description="The catalogue: members see ACTIVE benefits of ACTIVE partners; partners also all of their own.")
    async def benefits(
        self,
        info: Info,
        filter: BenefitFilter | None = None,
        sort: BenefitSort = inputs.Sort.POINTS_ASC,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Benefit]:
        flt = filter.domain() if filter else None
        page = await service.list_benefits(info.context.db, info.context.principal, flt, inputs.Sort(sort.value), first, after)
        return Connection.from_page(page, Benefit.of)

    @strawberry.field(description="One benefit the caller may see.")
    async def benefit(self, info: Info, id: strawberry.ID) -> Benefit:
        return Benefit.of(await service.get_benefit(info.context.db, info.context.principal, parse_id(id)))


@strawberry.type
class Mutations:
    @strawberry.mutation(description="Creates a DRAFT benefit (the partner itself, ACTIVE with the REDEMPTION role, or an operator).")
    async def create_benefit(
        self, info: Info, input: CreateBenefitInput, idempotency_key: str | None = None
    ) -> Benefit:
        partner_id = parse_id(input.partner_id, "partnerId") if input.partner_id is not None else None
        created = await service.create_benefit(
            info.context.db, info.context.principal, partner_id, input.columns(), idempotency_key=idempotency_key
        )
        return Benefit.of(created)

    @strawberry.mutation(description="Changes a benefit (its partner or an operator); RETIRED ones no longer change.")
    async def update_benefit(self, info: Info, id: strawberry.ID, input: UpdateBenefitInput) -> Benefit:
        updated = await service.update_benefit(info.context.db, info.context.principal, parse_id(id), input.columns())
        return Benefit.of(updated)

    @strawberry.mutation(description="Activates, pauses or retires a benefit (its partner or an operator).")
    async def set_benefit_status(self, info: Info, id: strawberry.ID, status: BenefitStatus) -> Benefit:
        moved = await service.set_benefit_status(info.context.db, info.context.principal, parse_id(id), status.value)
        return Benefit.of(moved)

    @strawberry.mutation(description="Sets the budget of a benefit or of a partner (the partner itself or an operator).")
    async def set_budget(self, info: Info, input: SetBudgetInput) -> Budget:
        return Budget.of(await budgets.set_budget(info.context.db, info.context.principal, input.domain()))
