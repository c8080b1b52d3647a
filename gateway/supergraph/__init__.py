"""Reading a supergraph SDL into a model the planner can ask questions of."""

from .loader import SupergraphError, load_supergraph, load_supergraph_file
from .model import FieldJoin, Key, Subgraph, Supergraph, TypeJoin

__all__ = [
    "FieldJoin",
    "Key",
    "Subgraph",
    "Supergraph",
    "SupergraphError",
    "TypeJoin",
    "load_supergraph",
    "load_supergraph_file",
]
