"""Composition pipeline: read subgraphs, upgrade fed1 ones, check each, merge, check the result, print it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .default_values import normalise_defaults
from .errors import Code, CompositionError, CompositionFailed, CompositionHint, error
from .merge import Merger
from .metadata import compute_meta
from .post_merge import post_merge_checks
from .printer import print_supergraph
from .rules import validate_subgraph
from .satisfiability import check_satisfiability
from .subgraph import Subgraph, parse_subgraph
from .upgrade import upgrade_subgraphs


@dataclass(frozen=True)
class SubgraphSource:
    """A subgraph to compose: its name (unique), the URL the gateway calls, and its SDL."""

    name: str
    url: str
    sdl: str


@dataclass
class CompositionResult:
    supergraph_sdl: str | None
    errors: list[CompositionError] = field(default_factory=list)
    hints: list[CompositionHint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None and not self.errors

    def require_supergraph(self) -> str:
        """The supergraph SDL, or CompositionFailed carrying the errors."""
        if self.supergraph_sdl is None or self.errors:
            raise CompositionFailed(self.errors)
        return self.supergraph_sdl


def _as_sources(subgraphs: Iterable[SubgraphSource] | Mapping[str, tuple[str, str]]) -> list[SubgraphSource]:
    if isinstance(subgraphs, Mapping):
        return [SubgraphSource(name, url, sdl) for name, (url, sdl) in subgraphs.items()]
    return list(subgraphs)


def _check_names(sources: list[SubgraphSource]) -> list[CompositionError]:
    errors = []
    seen: set[str] = set()
    for s in sources:
        if not s.name or s.name == "_":
            errors.append(
                error(
                    Code.INVALID_SUBGRAPH_NAME,
                    f'Invalid subgraph name "{s.name}": a subgraph needs a name other than "_".',
                    [s.name],
                )
            )
        if s.name in seen:
            errors.append(
                error(Code.INVALID_SUBGRAPH_NAME, f'A subgraph named "{s.name}" is given more than once.', [s.name])
            )
        seen.add(s.name)
    return errors


def compose(
    subgraphs: Iterable[SubgraphSource] | Mapping[str, tuple[str, str]], *, run_satisfiability: bool = True
) -> CompositionResult:
    """Compose subgraphs into a supergraph SDL, or report why they do not compose."""
    sources = _as_sources(subgraphs)
    errors = _check_names(sources)
    if errors:
        return CompositionResult(None, errors)
    parsed: list[Subgraph] = []
    for s in sources:
        sg, sg_errors = parse_subgraph(s.name, s.url, s.sdl)
        errors.extend(sg_errors)
        if sg is not None:
            parsed.append(sg)
    if errors:
        # Apollo's composer checks each subgraph on its own: the rules broken in the readable ones are reported too.
        for sg in parsed:
            if sg.is_fed2:
                errors.extend(validate_subgraph(sg, compute_meta(sg)))
        return CompositionResult(None, errors)

    upgraded, errors = upgrade_subgraphs(parsed)
    if errors:
        # Apollo checks each subgraph before upgrading the federation 1 ones: those rules' errors come first.
        rule_errors = [e for sg in parsed if sg.is_fed2 for e in validate_subgraph(sg, compute_meta(sg))]
        return CompositionResult(None, rule_errors or errors)
    metas = [compute_meta(sg) for sg in upgraded]
    for sg, meta in zip(upgraded, metas, strict=True):
        errors.extend(validate_subgraph(sg, meta))
    if errors:
        return CompositionResult(None, errors)

    merger = Merger(upgraded, metas)
    supergraph = merger.merge()
    hints = merger.hints
    if merger.errors or supergraph is None:
        return CompositionResult(None, merger.errors, hints)
    errors = post_merge_checks(supergraph)
    if errors:
        return CompositionResult(None, errors, hints)
    if run_satisfiability:
        errors = check_satisfiability(supergraph, merger.metas)
        if errors:
            return CompositionResult(None, errors, hints)
    normalise_defaults(supergraph)
    return CompositionResult(print_supergraph(supergraph), [], hints)
