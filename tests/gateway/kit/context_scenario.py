"""The `context` scenario: @context / @fromContext across two subgraphs.

`shelves` sets two contexts — `shelf` on the `Shelf` type (its `currency`, which may be null) and
`place` on the `Place` interface (its `region`), implemented by `Store` and `Warehouse` — and
resolves `Item.price` and `Lot.origin` from them. `labels` owns the `shelves` root field and the
names. One item sits on shelves of different currencies, so one entity needs two values; a shelf's
sections are shelves, whose own (possibly null) currency is the nearest.
"""

from __future__ import annotations

from typing import Any

from .scenarios import Scenario

# a shelf's sections are shelves too: their items read the section's currency, the nearest
SHELVES = {
    "s1": {"id": "s1", "label": "Front", "currency": "USD", "items": ["i1", "i2"], "sections": ["s3"]},
    "s2": {"id": "s2", "label": "Back", "currency": "EUR", "items": ["i1"], "sections": ["s1"]},
    "s3": {"id": "s3", "label": "Bin", "currency": None, "items": ["i2"], "sections": []},
}
PLACES = [
    {"__typename": "Store", "id": "p1", "region": "north", "lots": ["l1", "l2"]},
    {"__typename": "Warehouse", "id": "p2", "region": "south", "dock": 7, "lots": ["l1"]},
    {"__typename": "Store", "id": "p3", "region": None, "lots": ["l2"]},
]
NAMES = {"i1": "Tea", "i2": "Jam", "l1": "Crate", "l2": "Pallet"}


def _shelf(rep: dict[str, Any]) -> dict[str, Any] | None:
    found = SHELVES.get(rep["id"])
    if found is None:
        return None
    return {
        **found,
        "items": [{"id": item} for item in found["items"]],
        "sections": [_shelf({"id": section}) for section in found["sections"]],
    }


def _place(place: dict[str, Any]) -> dict[str, Any]:
    return {**place, "lots": [{"id": lot} for lot in place["lots"]]}


class Context(Scenario):
    name = "context"

    def __init__(self) -> None:
        super().__init__()
        self.add(
            "shelves",
            resolvers={
                "Query": {"places": lambda *_: [_place(p) for p in PLACES]},
                # the resolvers print the argument they got, so tests see which value arrived
                "Item": {"price": lambda item, _info, currency=None: f"{item['id']} in {currency}"},
                "Lot": {"origin": lambda lot, _info, region=None: f"{lot['id']} from {region}"},
            },
            references={
                "Shelf": _shelf,
                "Store": lambda rep: next((_place(p) for p in PLACES if p["id"] == rep["id"]), None),
                "Warehouse": lambda rep: next((_place(p) for p in PLACES if p["id"] == rep["id"]), None),
            },
        )
        self.add(
            "labels",
            resolvers={"Query": {"shelves": lambda *_: [{"id": s["id"], "label": s["label"]} for s in SHELVES.values()]}},
            references={
                "Shelf": lambda rep: {"id": rep["id"], "label": SHELVES[rep["id"]]["label"]},
                "Item": lambda rep: {"id": rep["id"], "name": NAMES.get(rep["id"])},
                "Lot": lambda rep: {"id": rep["id"], "name": NAMES.get(rep["id"])},
            },
        )
