"""Relay connection types for strawberry, built from `shared.pagination.Page`.

`Connection[Member]` prints as `MemberConnection` with `MemberEdge`; `PageInfo` is shared by all.
The types are `@shareable`: every subgraph defines the same `PageInfo` (and may expose the same
connection of another service's entity), which Federation 2 composition refuses otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from shared.pagination import Page

NodeT = TypeVar("NodeT")


@strawberry.federation.type(
    shareable=True, description="Where a page sits in its list (Relay cursor connections)."
)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.federation.type(shareable=True)
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str = strawberry.field(description="Opaque; pass as `after` to continue from here.")


@strawberry.federation.type(shareable=True)
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: Page[Any], to_node: Callable[[Any], NodeT] | None = None) -> Connection[NodeT]:
        """The connection for `page`; `to_node` turns a row into its strawberry object."""
        convert = to_node or (lambda row: row)
        return cls(
            edges=[Edge(node=convert(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors)],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
        )
