"""Applications of composed custom directives must fit the definition the supergraph keeps.

Subgraphs may define a composed directive (@composeDirective) differently; the supergraph keeps one definition, and
an application written against another one (an argument the kept definition lacks, a required one left out) would
make the supergraph invalid. Apollo's composer refuses it with graphql-js's message and no code; we say
INVALID_GRAPHQL.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import Code, CompositionError, error
from .merged import Supergraph
from .model import Directive


def check_composed_applications(sup: Supergraph) -> list[CompositionError]:
    messages: dict[str, None] = {}
    for d in _applications(sup):
        definition = sup.directive_defs.get(d.name)
        if definition is None:
            continue
        for name in d.args:
            if name not in definition.args:
                messages[f'Unknown argument "{name}" on directive "@{d.name}".'] = None
        for name, arg in definition.args.items():
            if arg.type.non_null and arg.default is None and name not in d.args:
                messages[
                    f'Directive "@{d.name}" argument "{name}" of type "{arg.type}" is required, but it was not provided.'
                ] = None
    names = [s.name for s in sup.subgraphs]
    return [error(Code.INVALID_GRAPHQL, message, names) for message in messages]


def _applications(sup: Supergraph) -> Iterator[Directive]:
    yield from sup.schema_directives
    for t in sup.types.values():
        yield from t.directives
        for f in t.fields.values():
            yield from f.directives
            for a in f.args.values():
                yield from a.directives
        for child in [*t.input_fields.values(), *t.values.values()]:
            yield from child.directives
