"""The entity types of the benefits subgraph.

`Partner @key(id)` and `Benefit @key(id)` are owned here; `Member @key(id)` is the members
subgraph's, referenced (and given `eligibleBenefits`, `codes`) here. Each concept writes its fields
in its own section below, with the resolvers in that concept's schema module, so the concepts can
grow side by side.
"""

from __future__ import annotations

import strawberry

# --- partners (schema/partners.py) ------------------------------------------------------------------

# --- catalogue and budgets (schema/catalogue.py) -------------------------------------------------------

# --- codes, reservations, write-offs (schema/codes.py) -------------------------------------------------
# Fields added to the entities as mixins (Benefit.stock/codes, Member.codes, Partner.writeOffs/codeUsage).
from services.benefits.schema.codes_types import BenefitCodeFields, MemberCodeFields, PartnerCodeFields  # noqa: E402

# --- the entities: each concept's fields mixed in ---------------------------------------------------------


@strawberry.federation.type(keys=["id"], description="An alliance partner (brand or platform).")
class Partner(PartnerCodeFields):
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Partner:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="Something a member can redeem points for, owned by one partner.")
class Benefit(BenefitCodeFields):
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Benefit:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="An alliance member (owned by the members subgraph).")
class Member(MemberCodeFields):
    id: strawberry.ID

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Member:
        return cls(id=id)


ENTITY_TYPES: list[type] = [Partner, Benefit, Member]
