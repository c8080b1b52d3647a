"""Two strawberry federation subgraphs (the stack our services use), for the gateway's tests.

`members` owns `Member`; `wallet` extends it with a balance and a greeting that @requires the
member's name, and lists wallets. Their SDLs are stored in fixtures/strawberry/ (composed into
its supergraph by fixtures/compose.mjs); a test checks the stored SDLs still match.
"""

from __future__ import annotations

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

NAMES = {"m1": "Ada", "m2": "Grace"}
BALANCES = {"m1": 120, "m2": 45}
seen_representations: list[list[str]] = []


@strawberry.federation.type(keys=["id"])
class Member:
    id: strawberry.ID
    name: str

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID) -> Member:
        return Member(id=id, name=NAMES[str(id)])


@strawberry.type
class MembersQuery:
    @strawberry.field
    def member(self, id: strawberry.ID) -> Member | None:
        return Member(id=id, name=NAMES[str(id)]) if str(id) in NAMES else None


@strawberry.federation.type(keys=["id"], name="Member")
class WalletMember:
    id: strawberry.ID
    name: str = strawberry.federation.field(external=True)

    @strawberry.field
    def balance(self) -> int:
        return BALANCES[str(self.id)]

    @strawberry.federation.field(requires=["name"])
    def greeting(self) -> str:
        return f"Hello {self.name}, you have {BALANCES[str(self.id)]} points"

    @classmethod
    async def resolve_reference(cls, id: strawberry.ID, name: str | None = None) -> WalletMember:
        seen_representations.append([str(id), str(name)])
        return WalletMember(id=id, name=name or "")


@strawberry.type
class Wallet:
    owner: WalletMember
    points: int


@strawberry.type
class WalletQuery:
    @strawberry.field
    def wallets(self) -> list[Wallet]:
        return [Wallet(owner=WalletMember(id=strawberry.ID(i), name=""), points=p) for i, p in BALANCES.items()]


members_schema = strawberry.federation.Schema(query=MembersQuery, federation_version="2.9")
wallet_schema = strawberry.federation.Schema(query=WalletQuery, types=[WalletMember], federation_version="2.9")
SCHEMAS = {"members": members_schema, "wallet": wallet_schema}


def app(name: str) -> Starlette:
    return Starlette(routes=[Route("/graphql", GraphQL(SCHEMAS[name], graphql_ide=None), methods=["GET", "POST"])])
