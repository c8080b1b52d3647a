"""Root fields of code pools: uploads, generation, the low-stock threshold, a member's codes."""

from __future__ import annotations

import strawberry

from services.benefits.codes import ingest
from services.benefits.codes import service as codes_service
from services.benefits.schema.codes_types import BenefitStock, Code, CodeState, CodeUpload
from shared.auth.principals import require_member
from shared.federation import Info
from shared.graphql_pagination import Connection
from shared.ids import parse_id


@strawberry.type
class CodeQueries:
    @strawberry.field(description="The calling member's codes, newest first, in clear.")
    async def my_codes(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Code]:
        member_id = require_member(info.context.principal)
        page = await codes_service.member_codes(info.context.db, info.context.principal, member_id=member_id, first=first, after=after)
        return Connection[Code].from_page(page, Code.of)

    @strawberry.field(description="A benefit's pool, masked: for its partner and staff.")
    async def benefit_codes(self, info: Info, benefit_id: strawberry.ID, state: CodeState | None = None,
                            first: int | None = None, after: str | None = None) -> Connection[Code]:
        page = await codes_service.benefit_codes(info.context.db, info.context.principal, benefit_id=parse_id(benefit_id, "benefitId"),
                                                 state=state.value if state else None, first=first, after=after)
        return Connection[Code].from_page(page, Code.of)


@strawberry.type
class CodeMutations:
    @strawberry.mutation(description="The owner (or an operator) uploads codes to a CODE benefit's pool (at most maxCodesPerCall; "
                                     "POST /benefits/{id}/codes takes 100,000s). Idempotent by (benefit, key).")
    async def upload_codes(self, info: Info, benefit_id: strawberry.ID, codes: list[str], idempotency_key: str) -> CodeUpload:
        answer = await ingest.upload_codes(info.context.db, info.context.principal, benefit_id=parse_id(benefit_id, "benefitId"),
                                           codes=codes, idempotency_key=idempotency_key)
        return CodeUpload.of(answer)

    @strawberry.mutation(description="The owner (or an operator) has `count` random codes generated into the pool (look-alike-free "
                                     "alphabet, check character). Idempotent by (benefit, key).")
    async def generate_codes(self, info: Info, benefit_id: strawberry.ID, count: int, idempotency_key: str,
                             length: int | None = None, alphabet: str | None = None) -> CodeUpload:
        answer = await ingest.generate_codes(info.context.db, info.context.principal, benefit_id=parse_id(benefit_id, "benefitId"),
                                             count=count, length=length, alphabet=alphabet, idempotency_key=idempotency_key)
        return CodeUpload.of(answer)

    @strawberry.mutation(description="The owner (or an operator) sets below how many available codes benefits.LowStock fires "
                                     "(once per crossing); null turns it off.")
    async def set_low_stock_threshold(self, info: Info, benefit_id: strawberry.ID, threshold: int | None) -> BenefitStock:
        answer = await codes_service.set_low_stock_threshold(info.context.db, info.context.principal,
                                                             benefit_id=parse_id(benefit_id, "benefitId"), threshold=threshold)
        return BenefitStock.of(answer)
