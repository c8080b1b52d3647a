"""The names the supergraph gives the federation directives it keeps (@tag, @inaccessible, @authenticated, ...).

A subgraph may import such a directive under another name (`{name: "@tag", as: "@mytag"}`) or apply it by its
namespaced name (`@federation__tag`). Apollo's composer keeps that name in the supergraph (with a renaming import on
the spec's @link), so clients and routers see what the subgraph authors wrote. Subgraphs applying the directive must
all use one name for it (LINK_IMPORT_NAME_MISMATCH otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import Code, CompositionError, error
from .model import Directive
from .specs import FEATURE_BY_DIRECTIVE, FED1_UPGRADE_VERSION
from .subgraph import Subgraph


def supergraph_directive_names(sgs: list[Subgraph]) -> tuple[dict[str, str], list[CompositionError]]:
    """Spec name -> name in the supergraph, for the directives renamed by the subgraphs that apply them."""
    by_spec: dict[str, dict[str, list[str]]] = {}
    for sg in sgs:
        for spec, d in _applications(sg):
            if spec in FEATURE_BY_DIRECTIVE:
                names = by_spec.setdefault(spec, {}).setdefault(d.name, [])
                if sg.name not in names:
                    names.append(sg.name)
    renamed: dict[str, str] = {}
    errors = []
    for spec, names in by_spec.items():
        if len(names) > 1:
            errors.append(_mismatch(spec, names, sgs))
            continue
        (name,) = names
        if name != spec:
            renamed[spec] = name
    return renamed, errors


def first_subgraph_using(sgs: list[Subgraph]) -> dict[str, int]:
    """Spec name -> index of the first subgraph (in the order given) that applies the directive. Apollo links the
    supergraph's specs in that order (and, within one subgraph, in the federation spec's order)."""
    first: dict[str, int] = {}
    for idx, sg in enumerate(sgs):
        for spec, _ in _applications(sg):
            first.setdefault(spec, idx)
    return first


def _mismatch(spec: str, names: dict[str, list[str]], sgs: list[Subgraph]) -> CompositionError:
    version = max((sg.federation_version or FED1_UPGRADE_VERSION for sg in sgs), default=FED1_UPGRADE_VERSION)
    uses = [f'"@{name}" in subgraph "{subgraphs[0]}"' for name, subgraphs in names.items()]
    return error(
        Code.LINK_IMPORT_NAME_MISMATCH,
        f'The "@{spec}" directive (from https://specs.apollo.dev/federation/v{version}) is imported with mismatched'
        f" name between subgraphs: it is imported as {' but '.join(uses)}",
        [s for subgraphs in names.values() for s in subgraphs],
        [f"@{spec}"],
    )


def _applications(sg: Subgraph) -> Iterator[tuple[str, Directive]]:
    elements: list[object] = [_Fed(sg.schema_fed)]
    for t in sg.types.values():
        elements.append(t)
        for f in t.fields.values():
            elements += [f, *f.args.values()]
        elements += [*t.input_fields.values(), *t.values.values()]
    for d in sg.directive_defs.values():
        elements += d.args.values()
    for element in elements:
        for spec, applications in getattr(element, "fed", {}).items():
            for d in applications:
                yield spec, d


class _Fed:
    def __init__(self, fed: dict[str, list[Directive]]):
        self.fed = fed
