"""Two small strawberry federation subgraphs (federation 2.9, as our services pin) using most federation features."""

from __future__ import annotations

import enum

import strawberry
from strawberry.federation.schema_directives import Key, Override

FEDERATION_VERSION = "2.9"


@strawberry.enum
class Tier(enum.Enum):
    BASIC = "BASIC"
    SILVER = "SILVER"
    GOLD = "GOLD"


@strawberry.federation.interface(keys=["id"])
class Benefit:
    id: strawberry.ID
    title: str


@strawberry.federation.type(keys=["id"])
class Voucher(Benefit):
    face_value: int = strawberry.federation.field(shareable=True)


@strawberry.federation.type(keys=["id"])
class Member:
    id: strawberry.ID
    display_name: str = strawberry.federation.field(shareable=True)
    tier: Tier
    phone: str | None = strawberry.federation.field(requires_scopes=[["pii:read"]], inaccessible=False, tags=["pii"])
    internal_note: str | None = strawberry.federation.field(inaccessible=True)
    # Being moved to the points subgraph with a progressive @override there.
    balance: int


@strawberry.input
class MemberFilter:
    tier: Tier | None = None
    name_prefix: str | None = None


@strawberry.type
class MembersQuery:
    @strawberry.field
    def member(self, id: strawberry.ID) -> Member | None:
        return None

    @strawberry.field
    def members(self, filter: MemberFilter | None = None, first: int = 20) -> list[Member]:
        return []

    @strawberry.federation.field(authenticated=True)
    def benefits(self) -> list[Benefit]:
        return []


members_schema = strawberry.federation.Schema(
    query=MembersQuery, types=[Voucher], federation_version=FEDERATION_VERSION
)


# -- points --------------------------------------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Member")
class PointsMember:
    id: strawberry.ID
    display_name: str = strawberry.federation.field(external=True)
    balance: int = strawberry.federation.field(override=Override(override_from="members", label="percent(10)"))
    greeting: str = strawberry.federation.field(requires=["displayName"])
    tier: Tier = strawberry.federation.field(external=True)
    tier_bonus: int = strawberry.federation.field(requires=["tier"])


@strawberry.federation.type(keys=["id"], name="Voucher")
class PointsVoucher:
    id: strawberry.ID
    face_value: int = strawberry.federation.field(shareable=True)
    points_price: int


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)])
class Partner:
    id: strawberry.ID


@strawberry.type
class Lot:
    points: int
    issuer: Partner


@strawberry.type
class PointsQuery:
    @strawberry.field
    def leaders(self, first: int = 10) -> list[PointsMember]:
        return []

    @strawberry.field
    def lots(self, member_id: strawberry.ID) -> list[Lot]:
        return []


@strawberry.type
class PointsMutation:
    @strawberry.mutation
    def earn(self, member_id: strawberry.ID, points: int, idempotency_key: str) -> int:
        return points


points_schema = strawberry.federation.Schema(
    query=PointsQuery,
    mutation=PointsMutation,
    types=[PointsVoucher],
    federation_version=FEDERATION_VERSION,
)


def service_sdl(schema: strawberry.federation.Schema) -> str:
    """The SDL a gateway gets from the subgraph: the answer to `{ _service { sdl } }`."""
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None, result.errors
    return result.data["_service"]["sdl"]
