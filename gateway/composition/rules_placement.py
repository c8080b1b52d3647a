"""Where some federation directives may not go, beyond what their GraphQL definitions allow.

- @shareable is declared repeatable only so that a type's definition and its extensions can each carry it; twice on
  one field, or twice on one declaration of a type, is refused (Apollo: INVALID_SHAREABLE_USAGE).
- @authenticated, @requiresScopes and @policy cannot sit on interfaces, their fields or interface objects: access to
  an interface is decided by its implementations (Apollo: AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE).
"""

from __future__ import annotations

from .errors import Code, CompositionError, error
from .model import TypeDef, TypeKind
from .subgraph import Subgraph

_SHAREABLE_RULE = (
    "@shareable is only repeatable on types so it can be used simultaneously on a type definition and its extensions,"
    " but it should not be duplicated on the same definition/extension declaration"
)
_ACCESS_CONTROL = ("authenticated", "requiresScopes", "policy")


def check_directive_placement(sg: Subgraph) -> list[CompositionError]:
    errors: list[CompositionError] = []

    def fail(code: str, message: str, coordinate: str) -> None:
        errors.append(error(code, f"[{sg.name}] {message}", [sg.name], [coordinate]))

    for t in sg.types.values():
        for message, coordinate in _duplicate_shareable(t):
            fail(Code.INVALID_SHAREABLE_USAGE, message, coordinate)
        for message, coordinate in _access_control_on_interface(t):
            fail(Code.AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE, message, coordinate)
    return errors


def _duplicate_shareable(t: TypeDef) -> list[tuple[str, str]]:
    found = []
    # Only the definition is checked on types: several extensions are not told apart in the model.
    on_definition = [d for d in t.fed.get("shareable", []) if not d.from_extension]
    if len(on_definition) > 1:
        found.append(
            (f'Invalid duplicate application of @shareable on the same type declaration of "{t.name}": {_SHAREABLE_RULE}',
             t.name)
        )
    for f in t.fields.values():
        if len(f.fed.get("shareable", [])) > 1:
            coordinate = f"{t.name}.{f.name}"
            found.append(
                (f'Invalid duplicate application of @shareable on field "{coordinate}": {_SHAREABLE_RULE}', coordinate)
            )
    return found


def _access_control_on_interface(t: TypeDef) -> list[tuple[str, str]]:
    if t.kind is TypeKind.INTERFACE:
        what = f'interface "{t.name}"'
    elif t.fed.get("interfaceObject"):
        what = f'interface object "{t.name}"'
    else:
        return []
    found = []
    for spec in _ACCESS_CONTROL:
        rule = f"@{spec} cannot be applied on interfaces, interface fields and interface objects"
        if t.fed.get(spec):
            found.append((f"Invalid use of @{spec} on {what}: {rule}", t.name))
        # (Apollo accepts these on the fields of an interface object: only true interfaces' fields are refused.)
        if t.kind is TypeKind.INTERFACE:
            for f in t.fields.values():
                if f.fed.get(spec):
                    coordinate = f"{t.name}.{f.name}"
                    found.append((f'Invalid use of @{spec} on field "{coordinate}": {rule}', coordinate))
    return found
