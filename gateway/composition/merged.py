"""The merged supergraph model, and how subgraph names become join__Graph values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .compose_directives import ComposedDirectives
from .links import Version
from .model import Directive, DirectiveDef, TypeDef
from .specs import SupergraphFeature
from .subgraph import Subgraph


@dataclass
class Supergraph:
    """The merged schema: user types carrying join and merged directives, ready to print."""

    subgraphs: list[Subgraph]
    graph_enum: dict[str, str]
    join_version: Version
    federation_version: Version
    types: dict[str, TypeDef] = field(default_factory=dict)
    directive_defs: dict[str, DirectiveDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)
    schema_description: str | None = None
    schema_directives: list[Directive] = field(default_factory=list)
    features: list[SupergraphFeature] = field(default_factory=list)
    feature_imports: dict[str, list[str | tuple[str, str]]] = field(default_factory=dict)
    composed: ComposedDirectives = field(default_factory=ComposedDirectives)
    # Federation directives the subgraphs apply under another name: spec name -> printed name.
    directive_names: dict[str, str] = field(default_factory=dict)


def sanitize_graph_name(name: str) -> str:
    """join__Graph value for a subgraph name, as Apollo derives it."""
    value = re.sub(r"\W", "_", name)
    if re.match(r"^\d", value):
        value = "_" + value
    if re.search(r"_\d+$", value):
        value += "_"
    return value.upper()


def graph_enum_values(names: list[str]) -> dict[str, str]:
    by_value: dict[str, list[str]] = {}
    for name in names:
        by_value.setdefault(sanitize_graph_name(name), []).append(name)
    result: dict[str, str] = {}
    for value, group in by_value.items():
        if len(group) == 1:
            result[group[0]] = value
        else:
            for i, name in enumerate(group):
                result[name] = f"{value}_{i + 1}"
    return result
