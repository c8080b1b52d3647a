"""Helpers for the composition tests: scenario files, the reference npm tools, and SDL normalisation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import parse
from graphql.language import (
    DirectiveDefinitionNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    UnionTypeDefinitionNode,
    print_ast,
)

from gateway.composition import CompositionResult, SubgraphSource, compose
from gateway.composition.sdl import print_value

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
REPO = HERE.parents[2]
NODE_MODULES = Path(os.environ.get("ABG_NODE_MODULES", REPO / "tools" / "npm" / "node_modules"))
TOOLS = HERE / "reference_tools.cjs"


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir())


def load_scenario(name: str) -> list[SubgraphSource]:
    return [
        SubgraphSource(f.stem, f"http://{f.stem}.example/graphql", f.read_text(encoding="utf-8"))
        for f in sorted((SCENARIOS / name).glob("*.graphql"))
    ]


def scenario_queries(name: str) -> list[str]:
    path = SCENARIOS / name / "queries.txt"
    if not path.exists():
        return []
    return [q.strip() for q in path.read_text(encoding="utf-8").split("\n---\n") if q.strip()]


def compose_scenario(name: str) -> CompositionResult:
    return compose(load_scenario(name))


def compose_inline(subgraphs: dict[str, str]) -> CompositionResult:
    return compose([SubgraphSource(name, f"http://{name}.example/graphql", sdl) for name, sdl in subgraphs.items()])


def fed2(sdl: str, version: str = "2.3", imports: str | None = None) -> str:
    """A fed2 subgraph SDL linking the usual federation directives."""
    imports = (
        imports
        or '"@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"'
    )
    return f'extend schema @link(url: "https://specs.apollo.dev/federation/v{version}", import: [{imports}])\n{sdl}'


# -- reference tools (Node) ---------------------------------------------------------------------------------------


def node_binary() -> str | None:
    beside = Path(sys.executable).parent / "node"
    if beside.exists():
        return str(beside)
    return shutil.which("node")


def node_tools_available() -> bool:
    return node_binary() is not None and (NODE_MODULES / "@apollo" / "composition").is_dir()


def run_reference_tools(request: dict) -> dict:
    if not node_tools_available():
        pytest.skip("Node.js or the npm reference tools are not installed")
    completed = subprocess.run(
        [node_binary(), str(TOOLS)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ABG_NODE_MODULES": str(NODE_MODULES)},
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout)


def as_payload(sources: list[SubgraphSource]) -> list[dict]:
    return [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in sources]


# -- normalisation -------------------------------------------------------------------------------------------------


def _directives(nodes) -> list[str]:
    return sorted(print_ast(d) for d in nodes or ())


def _input_value(node: InputValueDefinitionNode) -> str:
    text = f"{node.name.value}: {print_ast(node.type)}"
    if node.default_value is not None:
        text += f" = {print_ast(node.default_value)}"
    return " ".join([text, *_directives(node.directives)])


def _description(node) -> list[str]:
    return [f'"{node.description.value.strip()}"'] if getattr(node, "description", None) else []


def canonical_sdl(sdl: str, with_directive_definitions: bool = True) -> str:
    """The schema with every order-insensitive list sorted, one element per line: equal iff equal modulo order."""
    blocks = []
    for definition in parse(sdl).definitions:
        if isinstance(definition, DirectiveDefinitionNode) and not with_directive_definitions:
            continue
        lines: list[str] = []
        if isinstance(definition, SchemaDefinitionNode):
            lines.append("schema " + " ".join(_directives(definition.directives)))
            lines += sorted(f"  {op.operation.value}: {op.type.name.value}" for op in definition.operation_types)
            blocks.append(("0", "\n".join(lines)))
            continue
        name = definition.name.value
        if isinstance(definition, DirectiveDefinitionNode):
            args = ", ".join(sorted(_input_value(a) for a in definition.arguments or ()))
            locations = " | ".join(sorted(loc.value for loc in definition.locations))
            repeatable = " repeatable" if definition.repeatable else ""
            args = f"({args})" if args else ""
            blocks.append(
                (
                    "1" + name,
                    "\n".join([*_description(definition), f"directive @{name}{args}{repeatable} on {locations}"]),
                )
            )
            continue
        head = f"{type(definition).__name__.replace('TypeDefinitionNode', '').lower()} {name}"
        lines += _description(definition)
        interfaces = sorted(i.name.value for i in getattr(definition, "interfaces", None) or ())
        if interfaces:
            head += " implements " + " & ".join(interfaces)
        lines.append(head)
        lines += [f"  {d}" for d in _directives(definition.directives)]
        if isinstance(definition, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            for f in sorted(definition.fields or (), key=lambda f: f.name.value):
                lines += ["    " + d for d in _description(f)]
                lines.append("    " + _field(f))
                for a in sorted(f.arguments or (), key=lambda a: a.name.value):
                    lines += ["      " + d for d in _description(a)]
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            for f in sorted(definition.fields or (), key=lambda f: f.name.value):
                lines += ["    " + d for d in _description(f)]
                lines.append("    " + _input_value(f))
        elif isinstance(definition, EnumTypeDefinitionNode):
            for v in sorted(definition.values or (), key=lambda v: v.name.value):
                lines += ["    " + d for d in _description(v)]
                lines.append("    " + " ".join([v.name.value, *_directives(v.directives)]))
        elif isinstance(definition, UnionTypeDefinitionNode):
            lines.append("  = " + " | ".join(sorted(m.name.value for m in definition.types or ())))
        elif not isinstance(definition, ScalarTypeDefinitionNode):
            raise AssertionError(f"unexpected definition {definition.kind}")
        blocks.append(("2" + name, "\n".join(lines)))
    return "\n\n".join(text for _, text in sorted(blocks)) + "\n"


def _field(f: FieldDefinitionNode) -> str:
    args = ", ".join(sorted(_input_value(a) for a in f.arguments or ()))
    text = f.name.value + (f"({args})" if args else "") + f": {print_ast(f.type)}"
    return " ".join([text, *_directives(f.directives)])


def _print_directive(d: DirectiveNode) -> str:
    if not d.arguments:
        return f"@{d.name.value}"
    return f"@{d.name.value}(" + ", ".join(f"{a.name.value}: {print_value(a.value)}" for a in d.arguments) + ")"


def directives_on(sdl: str, type_name: str, field_name: str | None = None) -> list[str]:
    """Printed directive applications on a type (or one of its fields / enum values) of a supergraph."""
    for definition in parse(sdl).definitions:
        if getattr(definition, "name", None) is None or definition.name.value != type_name:
            continue
        if isinstance(definition, DirectiveDefinitionNode):
            continue
        if field_name is None:
            return [_print_directive(d) for d in definition.directives or ()]
        children = list(getattr(definition, "fields", None) or ()) + list(getattr(definition, "values", None) or ())
        for child in children:
            if child.name.value == field_name:
                return [_print_directive(d) for d in child.directives or ()]
        raise AssertionError(f"{type_name}.{field_name} not in the supergraph")
    raise AssertionError(f"type {type_name} not in the supergraph")


def type_names(sdl: str) -> set[str]:
    return {
        d.name.value
        for d in parse(sdl).definitions
        if not isinstance(d, (SchemaDefinitionNode, DirectiveDefinitionNode, DirectiveNode))
    }
