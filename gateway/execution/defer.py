"""`@defer`: the initial answer first, each deferred fragment after it (incremental delivery).

A query with `@defer` is split in two documents. The *initial* one leaves every deferred fragment
out; the *complete* one keeps them as plain fragments (and asks `__typename` where a fragment's
type condition must be checked). Both run at once through the same pipeline, so both are
planned, cached and limited like any query, and identical subgraph requests in flight are sent
once. The initial answer goes to the client as soon as it is ready; each deferred fragment is then
cut out of the complete answer at its path, with the errors under it.

What the spec leaves to the server, decided here: a `@defer` nested in a deferred fragment
arrives with that fragment; mutations are answered in one part (they must not run twice), and so
is every request from a client that does not accept `multipart/mixed`. The deferred data comes from
a second read of the subgraphs, so it is as fresh as the moment it was read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    is_abstract_type,
    print_ast,
    visit,
)
from graphql.language.visitor import BREAK

TYPENAME_ALIAS = "_deferTypename"  # asked in the complete document only, never shown to a client


@dataclass(frozen=True, slots=True)
class DeferredFragment:
    """One deferred fragment at one place in the operation."""

    label: str | None
    path: tuple[str, ...]  # response keys from the root to the object the fragment is on
    type_condition: str | None
    keys: tuple[str, ...]  # the response keys it selects (what its payload carries)


@dataclass(frozen=True, slots=True)
class DeferSplit:
    initial: str  # the query without the deferred fragments
    complete: str  # the query with them, as plain fragments, and the typenames they need
    complete_without_defer: str  # the query as the client wrote it, minus @defer: for one part
    deferred: tuple[DeferredFragment, ...]  # empty when every @defer is turned off (`if: false`)


def split_deferred(
    document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> DeferSplit | None:
    """The documents of a query with @defer; None when it has no @defer at all."""
    if not _has_defer(document):
        return None
    splitter = _Splitter(document, variables)
    splitter.find(operation.selection_set, (), inside_deferred=False)
    initial = _rewrite(document, splitter.deferred_nodes, drop=True)
    complete = _rewrite(document, splitter.deferred_nodes, drop=False, typename_at=splitter.typename_sets)
    plain = _rewrite(document, set(), drop=False)
    return DeferSplit(print_ast(initial), print_ast(complete), print_ast(plain), tuple(splitter.found))


def _has_defer(document: DocumentNode) -> bool:
    found = False

    class Finder(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            nonlocal found
            if node.name.value == "defer":
                found = True
                return BREAK
            return None

    visit(document, Finder())
    return found


def deferred_payloads(
    split: DeferSplit,
    schema: GraphQLSchema,
    initial: Mapping[str, Any],
    complete: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The `incremental` items: each deferred fragment's data at each object of the initial
    answer it applies to (objects the initial answer nulled get nothing: their parent is gone).
    Where the complete answer nulled that object (a deferred field failed), the item has
    `data: null` and the errors that explain it."""
    complete_data = complete.get("data")
    errors = [e for e in complete.get("errors") or () if isinstance(e, dict)]
    items: list[dict[str, Any]] = []
    for fragment in split.deferred:
        for _, path in _objects_at(initial.get("data"), fragment.path, []):
            obj = _value_at(complete_data, path)
            item: dict[str, Any]
            if isinstance(obj, dict):
                if fragment.type_condition is not None and not _applies(
                    schema, obj.get(TYPENAME_ALIAS), fragment.type_condition
                ):
                    continue
                item = {"data": {key: obj[key] for key in fragment.keys if key in obj}, "path": path}
                under = [e for e in errors if _under(e.get("path"), path, fragment.keys)]
            else:
                under = [e for e in errors if _under(e.get("path"), path, None)]
                if not under and not any(not e.get("path") for e in errors):
                    continue  # nothing came back and nothing says why: the fragment did not apply
                item = {"data": None, "path": path}
            if fragment.label is not None:
                item["label"] = fragment.label
            if under:
                item["errors"] = under
            items.append(item)
    told = {e.get("message") for e in initial.get("errors") or () if isinstance(e, dict) and not e.get("path")}
    # a whole fetch failed: say so once, unless the initial part already did
    unplaced = [e for e in errors if not e.get("path") and e.get("message") not in told]
    if unplaced and items:
        items[0].setdefault("errors", []).extend(unplaced)
    return items


# ---- finding the deferred fragments ---------------------------------------------------------


class _Splitter:
    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.found: list[DeferredFragment] = []
        self.deferred_nodes: set[int] = set()  # ids of the fragment nodes whose @defer is on
        self.typename_sets: set[int] = set()  # ids of selection sets that need the typename alias
        self._visiting: set[str] = set()

    def find(self, selection_set: SelectionSetNode, path: tuple[str, ...], inside_deferred: bool) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    key = (selection.alias or selection.name).value
                    self.find(selection.selection_set, (*path, key), inside_deferred)
                continue
            target, condition = self._fragment_of(selection)
            if target is None:
                continue
            deferred = not inside_deferred and self._is_deferred(selection)
            if deferred:
                self.deferred_nodes.add(id(selection))
                if condition is not None:
                    self.typename_sets.add(id(selection_set))
                self.found.append(
                    DeferredFragment(self._label(selection), path, condition, tuple(_keys(target, self.fragments)))
                )
            name = selection.name.value if isinstance(selection, FragmentSpreadNode) else None
            if name is not None:
                if name in self._visiting:
                    continue  # validation refuses cycles; never loop on one anyway
                self._visiting.add(name)
            self.find(target, path, inside_deferred or deferred)
            if name is not None:
                self._visiting.discard(name)

    def _fragment_of(self, selection: SelectionNode) -> tuple[SelectionSetNode | None, str | None]:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            return selection.selection_set, condition
        if isinstance(selection, FragmentSpreadNode):
            definition = self.fragments.get(selection.name.value)
            if definition is None:
                return None, None
            return definition.selection_set, definition.type_condition.name.value
        return None, None

    def _is_deferred(self, selection: InlineFragmentNode | FragmentSpreadNode) -> bool:
        directive = _defer_directive(selection)
        if directive is None:
            return False
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode):
                return value.value
            if isinstance(value, VariableNode):
                return bool(self.variables.get(value.name.value, True))
        return True

    @staticmethod
    def _label(selection: InlineFragmentNode | FragmentSpreadNode) -> str | None:
        directive = _defer_directive(selection)
        for argument in (directive.arguments if directive else None) or ():
            if argument.name.value == "label" and isinstance(argument.value, StringValueNode):
                return argument.value.value
        return None


def _defer_directive(selection: SelectionNode) -> DirectiveNode | None:
    for directive in selection.directives or ():
        if directive.name.value == "defer":
            return directive
    return None


def _keys(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    keys: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = (selection.alias or selection.name).value
            if key not in keys:
                keys.append(key)
        elif isinstance(selection, InlineFragmentNode):
            keys.extend(k for k in _keys(selection.selection_set, fragments) if k not in keys)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            keys.extend(k for k in _keys(fragments[selection.name.value].selection_set, fragments) if k not in keys)
    return keys


# ---- the two documents ------------------------------------------------------------------------


def _rewrite(
    document: DocumentNode, deferred: set[int], *, drop: bool, typename_at: set[int] | None = None
) -> DocumentNode:
    """Every `@defer` taken away: the deferred fragments dropped (`drop`) or kept as plain ones;
    a selection set left empty asks `__typename` so the document stays valid."""

    def selection_set(node: SelectionSetNode) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for selection in node.selections:
            if id(selection) in deferred and drop:
                continue
            selections.append(rewritten(selection))
        if typename_at is not None and id(node) in typename_at:
            selections.append(FieldNode(alias=NameNode(value=TYPENAME_ALIAS), name=NameNode(value="__typename")))
        if not selections:
            selections.append(FieldNode(name=NameNode(value="__typename")))
        return SelectionSetNode(selections=tuple(selections))

    def without_defer(directives: Sequence[DirectiveNode] | None) -> tuple[DirectiveNode, ...]:
        return tuple(d for d in directives or () if d.name.value != "defer")

    def rewritten(selection: SelectionNode) -> SelectionNode:
        if isinstance(selection, FieldNode):
            if selection.selection_set is None:
                return selection
            return replace(selection, selection_set=selection_set(selection.selection_set))
        if isinstance(selection, InlineFragmentNode):
            return replace(
                selection,
                directives=without_defer(selection.directives),
                selection_set=selection_set(selection.selection_set),
            )
        return replace(selection, directives=without_defer(selection.directives))

    definitions = [
        replace(d, selection_set=selection_set(d.selection_set))
        if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode))
        else d
        for d in document.definitions
    ]
    return _without_unused_variables(DocumentNode(definitions=tuple(_used_only(definitions))))


def _without_unused_variables(document: DocumentNode) -> DocumentNode:
    """Variables only used by what was taken away (`@defer(if: $v)`, a dropped fragment) are
    no longer declared: an unused variable makes a document invalid."""
    used: set[str] = set()

    class Uses(Visitor):
        def enter_variable_definition(self, *_: Any) -> Any:
            return self.SKIP  # the declaration is not a use

        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            used.add(node.name.value)

    visit(document, Uses())
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.variable_definitions:
            kept = tuple(v for v in definition.variable_definitions if v.variable.name.value in used)
            definition = replace(definition, variable_definitions=kept)
        definitions.append(definition)
    return DocumentNode(definitions=tuple(definitions))


def _used_only(definitions: list[Any]) -> list[Any]:
    """Fragments only spread from dropped selections are dropped too (unused ones are invalid)."""
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    used: set[str] = set()

    def spreads(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in used and name in fragments:
                    used.add(name)
                    spreads(fragments[name].selection_set)
            elif selection.selection_set is not None:  # type: ignore[union-attr]
                spreads(selection.selection_set)  # type: ignore[union-attr]

    for definition in definitions:
        if isinstance(definition, OperationDefinitionNode):
            spreads(definition.selection_set)
    return [d for d in definitions if not isinstance(d, FragmentDefinitionNode) or d.name.value in used]


# ---- cutting the payloads out of the complete answer -------------------------------------------


def _objects_at(value: Any, keys: tuple[str, ...], path: list[Any]) -> list[tuple[dict[str, Any], list[Any]]]:
    if isinstance(value, list):
        found: list[tuple[dict[str, Any], list[Any]]] = []
        for index, item in enumerate(value):
            found.extend(_objects_at(item, keys, [*path, index]))
        return found
    if not isinstance(value, dict):
        return []
    if not keys:
        return [(value, path)]
    return _objects_at(value.get(keys[0]), keys[1:], [*path, keys[0]])


def _value_at(value: Any, path: list[Any]) -> Any:
    for segment in path:
        if isinstance(segment, int):
            value = value[segment] if isinstance(value, list) and segment < len(value) else None
        else:
            value = value.get(segment) if isinstance(value, dict) else None
    return value


def _applies(schema: GraphQLSchema, typename: Any, condition: str) -> bool:
    if typename == condition:
        return True
    abstract = schema.get_type(condition)
    runtime = schema.get_type(typename) if isinstance(typename, str) else None
    return bool(abstract and runtime and is_abstract_type(abstract) and schema.is_sub_type(abstract, runtime))  # type: ignore[arg-type]


def _under(error_path: Any, path: list[Any], keys: tuple[str, ...] | None) -> bool:
    """Is the error about one of these keys of the object at `path` (any key, when None)?"""
    if not isinstance(error_path, list) or len(error_path) <= len(path):
        return False
    return error_path[: len(path)] == path and (keys is None or error_path[len(path)] in keys)
