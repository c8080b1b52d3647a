"""Federation composition: subgraph SDLs in, a join-spec supergraph SDL (or actionable errors) out.

    result = compose([SubgraphSource("members", "http://members:8000/graphql", sdl), ...])
    if result.ok:
        print(result.supergraph_sdl)
    else:
        for e in result.errors:
            print(e.code, e.subgraphs, e.coordinates, e.message)

The output matches Apollo's composer (the same supergraph for the same subgraphs) so that Apollo Router, Hive Gateway
and our gateway can all run it. Pipeline, one module per step:

    subgraph     read an SDL: @link imports/renames, root types, federation plumbing dropped, GraphQL validity
    upgrade      federation 1 subgraphs rewritten with their federation 2 meaning
    metadata     per subgraph: external / provided / used / shareable fields
    rules        per-subgraph federation rules (@key, @requires, @provides, @external, ...)
    merge*       merging types, fields, directives into the supergraph model (merged.Supergraph)
    post_merge   rules on the merged graph (interface fields, @requires arguments, @inaccessible, validity)
    satisfiability  every API field reachable from the roots through the subgraphs
    printer      the supergraph SDL; sources / __main__: fetching SDLs and the command line
"""

from .compose import CompositionResult, SubgraphSource, compose
from .errors import Code, CompositionError, CompositionFailed, CompositionHint, HintCode
from .sources import SubgraphFetchError, compose_from_files, compose_from_urls, fetch_sdl, fetch_sources, read_sources

__all__ = [
    "Code",
    "CompositionError",
    "CompositionFailed",
    "CompositionHint",
    "CompositionResult",
    "HintCode",
    "SubgraphFetchError",
    "SubgraphSource",
    "compose",
    "compose_from_files",
    "compose_from_urls",
    "fetch_sdl",
    "fetch_sources",
    "read_sources",
]
