"""The two federation scenarios the gateway's tests run against.

`shop`: accounts, products, inventory, reviews and a federation-1 `legacy` subgraph — entities,
@requires (with arguments and in a chain), @provides, a non-resolvable key, mutations.
`catalog`: catalog, ratings, studio and stock — interfaces and unions, an entity interface with
an @interfaceObject, @inaccessible, @override (plain and progressive), @shareable root fields,
composite, nested and multiple keys.

The SDLs are the fixture files the supergraphs were composed from (fixtures/compose.mjs).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from graphql import GraphQLError

from gateway.execution.client import SubgraphSettings
from gateway.execution.pipeline import Gateway, GraphQLRequest, PipelineOptions
from gateway.supergraph import Supergraph, load_supergraph_file

from .servers import LiveServer
from .subgraph import Subgraph

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Scenario:
    name = ""

    def __init__(self) -> None:
        self.subgraphs: dict[str, Subgraph] = {}
        self.servers: dict[str, LiveServer] = {}
        self.supergraph: Supergraph = load_supergraph_file(FIXTURES / self.name / "supergraph.graphql")

    def sdl(self, subgraph: str) -> str:
        return (FIXTURES / self.name / f"{subgraph}.graphql").read_text()

    def add(self, name: str, **kwargs: Any) -> None:
        self.subgraphs[name] = Subgraph(name, self.sdl(name), **kwargs)

    async def start(self) -> None:
        for name, subgraph in self.subgraphs.items():
            self.servers[name] = await LiveServer(subgraph.app()).start()

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def reset(self) -> None:
        for subgraph in self.subgraphs.values():
            subgraph.reset()

    def gateway(self, **options: Any) -> Gateway:
        subgraph_settings = SubgraphSettings(
            urls=self.urls,
            timeout_seconds=options.pop("timeout_seconds", 5.0),
            timeouts=options.pop("timeouts", {}),
        )
        return Gateway(self.supergraph, PipelineOptions(subgraphs=subgraph_settings, **options))

    def requests(self) -> dict[str, int]:
        return {name: len(sub.requests) for name, sub in self.subgraphs.items() if sub.requests}


async def run(
    gateway: Gateway, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> dict[str, Any]:
    response = await gateway.execute(GraphQLRequest(query=query, variables=variables, operation_name=operation_name))
    return response.body


# ---- shop ---------------------------------------------------------------------------------------

USERS = {
    "u1": {"id": "u1", "name": "Ada Lovelace", "username": "ada", "email": "ada@example.test"},
    "u2": {"id": "u2", "name": "Grace Hopper", "username": "grace", "email": None},
    "u3": {"id": "u3", "name": "Linus Torvalds", "username": "linus", "email": "linus@example.test"},
}
PRODUCTS = {
    "p1": {"upc": "p1", "name": "Table", "price": 100, "weight": 20, "createdBy": {"id": "u2"}},
    "p2": {"upc": "p2", "name": "Couch", "price": 1000, "weight": 50, "createdBy": {"id": "u1"}},
    "p3": {"upc": "p3", "name": "Chair", "price": 50, "weight": 5, "createdBy": {"id": "u2"}},
}
STOCK = {"p1": 3, "p2": 0, "p3": 12}
REVIEWS = [
    {"id": "r1", "body": "Sturdy", "rating": 5, "author": "u1", "product": "p1"},
    {"id": "r2", "body": "Too big", "rating": 2, "author": "u1", "product": "p2"},
    {"id": "r3", "body": "Nice", "rating": 4, "author": "u2", "product": "p1"},
    {"id": "r4", "body": "Wobbly", "rating": 1, "author": "u3", "product": "p3"},
]
RATES = {"USD": 1, "EUR": 2}


class Shop(Scenario):
    name = "shop"

    def __init__(self) -> None:
        super().__init__()
        self.products: dict[str, dict[str, Any]] = {}
        self.stock: dict[str, int] = {}
        self.reset()
        self.add(
            "accounts",
            resolvers={
                "Query": {
                    "me": lambda *_: USERS["u1"],
                    "user": lambda _root, _info, id: USERS.get(id),
                    "users": lambda *_: list(USERS.values()),
                }
            },
            references={"User": lambda rep: USERS.get(rep["id"])},
        )
        self.add(
            "products",
            resolvers={
                "Query": {
                    "products": lambda _root, _info, first=5: list(self.products.values())[:first],
                    "product": lambda _root, _info, upc: self.products.get(upc),
                },
                "Mutation": {"createProduct": self.create_product, "setPrice": self.set_price},
                "Product": {"localPrice": lambda product, _info, currency: product["price"] * RATES[currency]},
            },
            references={"Product": lambda rep: self.products.get(rep["upc"])},
        )
        self.add(
            "inventory",
            resolvers={
                "Mutation": {"restock": self.restock},
                "Product": {"shippingEstimate": self.shipping_estimate},
            },
            references={"Product": self.inventory_product},
        )
        self.add(
            "reviews",
            resolvers={
                "Query": {
                    "latestReviews": lambda *_: [self.review(r) for r in REVIEWS],
                    "review": lambda _root, _info, id: next((self.review(r) for r in REVIEWS if r["id"] == id), None),
                },
                "User": {
                    "reviews": lambda user, _info: [self.review(r) for r in REVIEWS if r["author"] == user["id"]]
                },
                "Product": {
                    "reviews": lambda product, _info: [self.review(r) for r in REVIEWS if r["product"] == product["upc"]]
                },
            },
            references={
                "Review": lambda rep: next((self.review(r) for r in REVIEWS if r["id"] == rep["id"]), None),
                "User": lambda rep: {"id": rep["id"]},
                "Product": self.reviews_product,
            },
        )
        self.add(
            "legacy",
            references={"User": lambda rep: {"id": rep["id"], "loyaltyTier": "gold" if rep["id"] == "u1" else "silver"}},
        )

    def reset(self) -> None:
        super().reset()
        self.products = copy.deepcopy(PRODUCTS)
        self.stock = dict(STOCK)

    def create_product(self, _root: Any, _info: Any, upc: str, name: str, price: int) -> dict[str, Any]:
        self.products[upc] = {"upc": upc, "name": name, "price": price, "weight": 1, "createdBy": None}
        self.stock.setdefault(upc, 0)
        return self.products[upc]

    def set_price(self, _root: Any, _info: Any, upc: str, price: int) -> dict[str, Any] | None:
        product = self.products.get(upc)
        if product is not None:
            product["price"] = price
        return product

    def restock(self, _root: Any, _info: Any, upc: str, quantity: int) -> int:
        if upc not in self.stock:
            raise GraphQLError(f"unknown product {upc}", extensions={"code": "NOT_FOUND"})
        self.stock[upc] += quantity
        return self.stock[upc]

    def inventory_product(self, rep: dict[str, Any]) -> dict[str, Any] | None:
        upc = rep["upc"]
        if upc not in self.stock:
            return None
        found: dict[str, Any] = {
            "upc": upc,
            "inStock": self.stock[upc] > 0,
            "warehouse": {"code": "W1", "city": "Berlin"},
        }
        if "price" in rep or "weight" in rep:
            found["required"] = (rep.get("price"), rep.get("weight"))
        if "localPrice" in rep:
            found["importDuty"] = rep["localPrice"] // 10
        return found

    @staticmethod
    def shipping_estimate(product: dict[str, Any], _info: Any) -> int:
        price, weight = product.get("required") or (None, None)
        if price is None or weight is None:
            raise GraphQLError("shippingEstimate needs price and weight", extensions={"code": "MISSING_INPUT"})
        return price // 10 + weight

    def reviews_product(self, rep: dict[str, Any]) -> dict[str, Any]:
        found = {"upc": rep["upc"]}
        if "shippingEstimate" in rep:
            found["deliveryNote"] = f"ships in {rep['shippingEstimate']} days"
        return found

    @staticmethod
    def review(row: dict[str, Any]) -> dict[str, Any]:
        author = USERS[row["author"]]
        return {
            "id": row["id"],
            "body": row["body"],
            "rating": row["rating"],
            "author": {"id": author["id"], "username": author["username"]},
            "product": {"upc": row["product"]},
        }


# ---- catalog ------------------------------------------------------------------------------------

BOOKS = {
    "b1": {"__typename": "Book", "id": "b1", "title": "Dune", "pages": 412, "isbn": "978-0441013593", "format": "HARDCOVER"},
    "b2": {"__typename": "Book", "id": "b2", "title": "Neuromancer", "pages": 271, "isbn": None, "format": "EBOOK"},
}
MOVIES = {
    # the catalog's year and budget are stale: the studio subgraph took them over
    "m1": {"__typename": "Movie", "id": "m1", "title": "Alien", "minutes": 117, "year": 1900, "budget": 1},
}
PEOPLE = {"pe1": {"__typename": "Person", "id": "pe1", "name": "Ridley Scott"}}
EDITIONS = {
    "s1": {"__typename": "Edition", "book": {"id": "b1"}, "number": 1, "sku": "s1", "printedIn": 1965},
    "s2": {"__typename": "Edition", "book": {"id": "b1"}, "number": 2, "sku": "s2", "printedIn": 2005},
}
RATINGS = {"b1": (4.5, 10), "m1": (4.8, 20), "b2": (3.9, 3)}
STUDIO_MOVIES = {"m1": {"id": "m1", "title": "Alien", "studio": "20th Century", "year": 1979, "budget": 11000000}}
PRICES = {"s1": 40, "s2": 15}
COPIES = {("b1", 1): 2, ("b1", 2): 250}


def _catalog_object(object_id: str) -> dict[str, Any] | None:
    return BOOKS.get(object_id) or MOVIES.get(object_id) or PEOPLE.get(object_id)


def _edition(rep: dict[str, Any]) -> dict[str, Any] | None:
    if "sku" in rep:
        return EDITIONS.get(rep["sku"])
    for edition in EDITIONS.values():
        if edition["book"]["id"] == rep["book"]["id"] and edition["number"] == rep["number"]:
            return edition
    return None


class Catalog(Scenario):
    name = "catalog"

    def __init__(self) -> None:
        super().__init__()
        self.add(
            "catalog",
            resolvers={
                "Query": {
                    "media": lambda *_: [BOOKS["b1"], MOVIES["m1"], BOOKS["b2"]],
                    "search": lambda _root, _info, term: [
                        item
                        for item in [*BOOKS.values(), *MOVIES.values(), *PEOPLE.values()]
                        if term.lower() in (item.get("title") or item.get("name") or "").lower()
                    ],
                    "node": lambda _root, _info, id: _catalog_object(id),
                    "featured": lambda *_: MOVIES["m1"],
                    "edition": lambda _root, _info, sku: EDITIONS.get(sku),
                },
                "Edition": {"book": lambda edition, _info: BOOKS[edition["book"]["id"]]},
            },
            references={
                "Book": lambda rep: BOOKS.get(rep["id"]),
                "Movie": lambda rep: MOVIES.get(rep["id"]),
                "Person": lambda rep: PEOPLE.get(rep["id"]),
                "Media": lambda rep: BOOKS.get(rep["id"]) or MOVIES.get(rep["id"]),
                "Edition": _edition,
            },
        )
        self.add(
            "ratings",
            resolvers={
                "Query": {"topRated": lambda *_: [{"id": "m1"}, {"id": "b1"}]},
                "Media": {
                    "rating": lambda media, _info: RATINGS[media["id"]][0],
                    "reviewCount": lambda media, _info: RATINGS[media["id"]][1],
                },
            },
            references={"Media": lambda rep: {"id": rep["id"]} if rep["id"] in RATINGS else None},
        )
        self.add(
            "studio",
            resolvers={"Query": {"featured": lambda *_: STUDIO_MOVIES["m1"]}},
            references={
                "Movie": lambda rep: STUDIO_MOVIES.get(rep["id"]),
                "Edition": lambda rep: {"sku": rep["sku"], "price": PRICES.get(rep["sku"])},
            },
        )
        self.add(
            "stock",
            references={
                "Edition": lambda rep: {
                    "book": rep["book"],
                    "number": rep["number"],
                    "copies": COPIES.get((rep["book"]["id"], rep["number"])),
                }
            },
        )
