import uuid
import strawberry

from shared.graphql_pagination import Connection, Edge, PageInfo
from shared.pagination import PageRequest, paginate

ROWS = [{"id": uuid.UUID(int=i), "name": f"member {i}"} for i in range(7)]


@strawberry.type
class Member:
    id: strawberry.ID
    name: str


@strawberry.type
class Benefit:
    id: strawberry.ID


def key(row: dict) -> tuple:
    return (row["id"],)


@strawberry.type
class Query:
    @strawberry.field
    def members(self, first: int | None = None, after: str | None = None) -> Connection[Member]:
        request = PageRequest(first, after, cursor_types=(uuid.UUID,))
        start = request.after_values
        fetched = [r for r in ROWS if start is None or key(r) > start][: request.fetch_limit]
        page = paginate(fetched, request, key)
        return Connection[Member].from_page(page, lambda r: Member(id=str(r["id"]), name=r["name"]))

    @strawberry.field
    def benefits(self) -> Connection[Benefit]:
        return Connection.from_page(paginate([], PageRequest(), key))


schema = strawberry.federation.Schema(Query, federation_version="2.9")

QUERY = """
query ($first: Int, $after: String) {
  members(first: $first, after: $after) {
    edges { cursor node { id name } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def test_generic_types_are_named_per_node() -> None:
    sdl = schema.as_str()
    for name in ("MemberConnection", "MemberEdge", "BenefitConnection", "BenefitEdge", "PageInfo"):
        assert f"type {name}" in sdl
    assert "members(first: Int = null, after: String = null): MemberConnection!" in sdl
    assert "edges: [MemberEdge!]!" in sdl and "nodes: [Member!]!" in sdl


def test_types_are_shareable_for_federation() -> None:
    # Every subgraph defines PageInfo; Federation 2 composition needs it @shareable.
    federated = schema.as_str()
    for name in ("PageInfo", "MemberConnection", "MemberEdge"):
        assert f"type {name} @shareable" in federated


def test_paging_through_graphql() -> None:
    seen, after, cursors = [], None, []
    while True:
        result = schema.execute_sync(QUERY, variable_values={"first": 3, "after": after})
        assert result.errors is None, result.errors
        conn = result.data["members"]
        assert [e["node"]["id"] for e in conn["edges"]] == [n["id"] for n in conn["nodes"]]
        info = conn["pageInfo"]
        assert info["startCursor"] == conn["edges"][0]["cursor"]
        assert info["endCursor"] == conn["edges"][-1]["cursor"]
        assert info["hasPreviousPage"] == (after is not None)
        seen += [e["node"]["name"] for e in conn["edges"]]
        cursors += [e["cursor"] for e in conn["edges"]]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == [r["name"] for r in ROWS]
    assert len(set(cursors)) == len(ROWS)


def test_empty_connection() -> None:
    result = schema.execute_sync(
        "{ benefits { edges { cursor } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    assert result.errors is None
    assert result.data == {"benefits": {"edges": [], "nodes": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}}


def test_bad_arguments_surface_as_typed_errors() -> None:
    result = schema.execute_sync(QUERY, variable_values={"first": 0})
    assert result.errors and "between 1 and" in result.errors[0].message
    assert result.errors[0].original_error.code == "BAD_USER_INPUT"
    result = schema.execute_sync(QUERY, variable_values={"first": 2, "after": "bogus!"})
    assert result.errors and result.errors[0].original_error.code == "BAD_USER_INPUT"


def test_from_page_without_converter_keeps_rows_as_nodes() -> None:
    request = PageRequest(2)
    conn = Connection.from_page(paginate(["a", "b", "c"], request, lambda r: (r,)))
    assert [e.node for e in conn.edges] == ["a", "b"] and conn.nodes() == ["a", "b"]
    assert isinstance(conn.edges[0], Edge) and isinstance(conn.page_info, PageInfo)
    assert conn.page_info.has_next_page and conn.page_info.end_cursor == conn.edges[1].cursor
