"""The project's import map, read with `ast` (nothing is imported), and the rules the layers keep.

Layers, top to bottom: abg (the launcher) > gateway, services > shared. An import only points down;
no service imports another; shared names none of the others, not even in a string; no import
cycles; modules of services/ and shared/ stay under MAX_LINES (migrations aside).
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("abg", "gateway", "services", "shared")
ABOVE_SHARED = frozenset({"abg", "gateway", "services"})
MAX_LINES = 400
# A string that names a module, an app ("pkg.mod:app") or a folder of the layers above shared.
_MODULE_PATH = re.compile(r"^(abg|gateway|services)[.:/](\w|\{\})")
_DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


@dataclass(frozen=True)
class Reference:
    """A module a module imports (statically or through importlib), or names in a string."""

    target: str
    line: int
    kind: str  # "import", "dynamic import" or "string"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    is_package: bool
    references: list[Reference] = field(default_factory=list)

    @property
    def imports(self) -> list[Reference]:
        return [r for r in self.references if r.kind != "string"]


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.message}"


def scan(root: Path, packages: tuple[str, ...] = LAYERS) -> dict[str, Module]:
    """Every module under root/<package> for each package, with what it references."""
    modules: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            text = path.read_text(encoding="utf-8")
            modules[".".join(parts)] = Module(".".join(parts), path, len(text.splitlines()), is_package)
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        module.references = _references(module, tree, modules)
    return modules


def _references(module: Module, tree: ast.AST, modules: dict[str, Module]) -> list[Reference]:
    found: list[Reference] = []
    skip = {  # docstrings
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    # A dynamic import's name is reported once, as the import: ast.walk meets the call before its argument.
    for node in ast.walk(tree):  # function-level (lazy) imports count: they run too
        if isinstance(node, ast.Import):
            found += [Reference(alias.name, node.lineno, "import") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.append(Reference(child if child in modules else base, node.lineno, "import"))
        elif isinstance(node, ast.Call) and _called_name(node.func) in _DYNAMIC_IMPORTS and node.args:
            name = _literal(node.args[0])
            if name is not None:
                found.append(Reference(name, node.lineno, "dynamic import"))
                skip.add(id(node.args[0]))
        elif isinstance(node, (ast.Constant, ast.JoinedStr)) and id(node) not in skip:
            text = _literal(node)
            if text is not None and _MODULE_PATH.match(text):
                found.append(Reference(text, node.lineno, "string"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            # pathlib joins such as ROOT / "services" / name: a folder of a layer above
            for operand in (node.left, node.right):
                if isinstance(operand, ast.Constant) and operand.value in ABOVE_SHARED:
                    found.append(Reference(f"{operand.value}/", node.lineno, "string"))
        elif isinstance(node, ast.Call) and _called_name(node.func) in {"join", "joinpath"}:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value in ABOVE_SHARED:
                    found.append(Reference(f"{arg.value}/", node.lineno, "string"))
    return found


def _absolute(module: Module, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.name.split(".")
    package = parts if module.is_package else parts[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr) -> str | None:
    """A string constant, or an f-string with `{}` for each interpolated part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _layer(name: str) -> str:
    return name.split(".", 1)[0]


def layering_violations(modules: dict[str, Module]) -> list[Violation]:
    """Imports (and, in shared, strings) that point up or sideways between the layers."""
    found = []
    for module in modules.values():
        layer = _layer(module.name)
        for ref in module.references:
            target_layer = _layer(ref.target.split(":", 1)[0].split("/", 1)[0])
            what = f"{ref.kind} of {ref.target!r}" if ref.kind != "string" else f"string {ref.target!r}"
            if layer == "shared" and target_layer in ABOVE_SHARED:
                if ref.kind == "string" and target_layer == "abg" and not _names_abg_module(ref.target, modules):
                    continue  # "abg." also prefixes logger names and keys: only real module names count
                found.append(Violation(module.name, ref.line, f"shared must not name {target_layer}: {what}"))
            elif ref.kind == "string":
                continue
            elif layer == "gateway" and target_layer in {"services", "abg"}:
                found.append(Violation(module.name, ref.line, f"gateway must not import {target_layer}: {what}"))
            elif layer == "services" and target_layer in {"gateway", "abg"}:
                found.append(Violation(module.name, ref.line, f"services must not import {target_layer}: {what}"))
            elif layer == "services" and _other_service(module.name, ref.target):
                found.append(Violation(module.name, ref.line, f"a service must not import another service: {what}"))
    return found


def _names_abg_module(text: str, modules: dict[str, Module]) -> bool:
    """A folder of abg, or a module of it other than the bare package (maybe with `.attr`/`:attr`)."""
    if "/" in text:
        return True
    name = re.split(r"[:{]", text, maxsplit=1)[0].strip(".")
    return any(candidate in modules and candidate != "abg" for candidate in (name, name.rsplit(".", 1)[0]))


def _other_service(importer: str, target: str) -> bool:
    mine, theirs = importer.split("."), target.split(".")
    return len(mine) > 1 and len(theirs) > 1 and theirs[0] == "services" and theirs[1] != mine[1]


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a name that is not a module counts as its nearest
    enclosing one: `import a.b.thing` depends on a.b)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module in modules.values():
        for ref in module.imports:
            if "{}" in ref.target:
                continue  # a computed name: the layering rules judge it, the graph cannot follow it
            target = _nearest(ref.target, modules)
            if target is not None and target != module.name:
                graph[module.name].add(target)
    return graph


def _nearest(name: str, modules: dict[str, Module]) -> str | None:
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def import_cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Each group of modules that import one another in a circle (strongly connected, size > 1)."""
    graph = import_graph(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the depth is bounded by the module count
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def one_cycle(group: list[str], modules: dict[str, Module]) -> list[str]:
    """A shortest circle through the group's first member, for the failure message."""
    graph = import_graph(modules)
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return group


def oversized(modules: dict[str, Module], limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """Modules of services/ and shared/ longer than `limit` lines (migration scripts aside)."""
    return sorted(
        (m.name, m.lines)
        for m in modules.values()
        if _layer(m.name) in {"services", "shared"} and "migrations" not in m.name.split(".") and m.lines > limit
    )


def describe_cycles(groups: list[list[str]], modules: dict[str, Module]) -> str:
    return "\n".join(
        f"cycle among {', '.join(group)}: {' -> '.join(one_cycle(group, modules))}" for group in groups
    )
