"""The three subgraphs the gateway benchmark puts behind every gateway: they answer from memory.

`catalog` owns the benefit list, `stock` adds what is left of each benefit, `partners` owns the
partner brands. They are strawberry federation subgraphs, like our services, but after the first
execution each answer is replayed from a memo keyed by the request body, so a subgraph costs a
dict lookup and the gateway in front of it is what the benchmark measures. Every request is
counted (`GET /stats`, `POST /stats/reset`), which gives subgraph requests per client request.

Run one per process: `python bench/gateway/subgraphs.py catalog 4301`.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import orjson
import strawberry
import uvicorn
from strawberry.federation.schema_directives import Key

BENEFITS = 200
PARTNERS = 12


def _benefit_title(index: int) -> str:
    return f"{['Coffee', 'Cinema', 'Streaming', 'Lounge', 'Hotel', 'Fuel'][index % 6]} voucher #{index}"


# ---- catalog: the root list of benefits ---------------------------------------------------------


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)], name="Partner")
class PartnerRef:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], name="Benefit")
class CatalogBenefit:
    id: strawberry.ID
    title: str
    points_cost: int
    partner: PartnerRef

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CatalogBenefit:
        return _catalog_benefit(int(str(id).removeprefix("b")))


def _catalog_benefit(index: int) -> CatalogBenefit:
    return CatalogBenefit(
        id=strawberry.ID(f"b{index}"),
        title=_benefit_title(index),
        points_cost=100 + (index * 37) % 900,
        partner=PartnerRef(id=strawberry.ID(f"p{index % PARTNERS}")),
    )


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def benefits(self, first: int = 10, offset: int = 0) -> list[CatalogBenefit]:
        # from `offset` on, wrapping around: every offset gives other items (rotating-variables shape)
        count = min(max(first, 0), BENEFITS)
        return [_catalog_benefit((offset + index) % BENEFITS) for index in range(count)]

    @strawberry.field
    def benefit(self, id: strawberry.ID) -> CatalogBenefit | None:
        index = int(str(id).removeprefix("b"))
        return _catalog_benefit(index) if 0 <= index < BENEFITS else None


# ---- stock: how many of each benefit are left ---------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Benefit")
class StockBenefit:
    id: strawberry.ID
    remaining: int
    redeemed_today: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> StockBenefit:
        index = int(str(id).removeprefix("b"))
        return StockBenefit(id=id, remaining=(index * 13) % 500, redeemed_today=(index * 7) % 40)


@strawberry.type
class StockQuery:
    @strawberry.field
    def stock_checked_at(self) -> str:
        return "2026-11-22T00:00:00Z"


# ---- partners: the brands behind the benefits ---------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Partner")
class Partner:
    id: strawberry.ID
    name: str
    country: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Partner:
        index = int(str(id).removeprefix("p"))
        return Partner(id=id, name=f"Brand {index}", country=["NL", "DE", "FR", "BE"][index % 4])


@strawberry.type
class PartnersQuery:
    @strawberry.field
    def partners(self) -> list[Partner]:
        return [Partner.resolve_reference(strawberry.ID(f"p{index}")) for index in range(PARTNERS)]


def build_schema(name: str) -> strawberry.federation.Schema:
    if name == "catalog":
        return strawberry.federation.Schema(query=CatalogQuery, types=[CatalogBenefit, PartnerRef])
    if name == "stock":
        return strawberry.federation.Schema(query=StockQuery, types=[StockBenefit])
    if name == "partners":
        return strawberry.federation.Schema(query=PartnersQuery, types=[Partner])
    raise SystemExit(f"unknown subgraph {name!r}: catalog, stock or partners")


class MemoSubgraph:
    """A raw ASGI app: POST /graphql answered from the memo (executed once per distinct body)."""

    def __init__(self, schema: strawberry.federation.Schema) -> None:
        self.schema = schema
        self.memo: dict[bytes, bytes] = {}
        self.requests: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        if path == "/stats":
            if scope["method"] == "POST":
                self.requests.clear()
            await self._send(send, orjson.dumps(dict(self.requests)))
            return
        answer = self.memo.get(body)
        if answer is None:
            answer = await self._execute(body)
            self.memo[body] = answer
        self.requests["graphql"] += 1
        await self._send(send, answer)

    async def _execute(self, body: bytes) -> bytes:
        payload = orjson.loads(body)
        result = await self.schema.execute(
            payload["query"], variable_values=payload.get("variables"), operation_name=payload.get("operationName")
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return orjson.dumps(answer)

    @staticmethod
    async def _send(send: Any, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    app = MemoSubgraph(build_schema(name))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop="uvloop", http="httptools")


if __name__ == "__main__":
    main()
