"""Random subgraph sets (a fixed seed) composed by us and by Apollo's composer: the same supergraph text, or the
same error codes when both refuse. A longer run with any seed: tools/composition_agreement.py."""

from __future__ import annotations

import random

import pytest
from agreement import APOLLO_CRASHED, COMPOSED, REFUSED, compare
from random_subgraphs import random_case

pytestmark = pytest.mark.node

SEED = 20261204
CASES = 200

# Case id -> why we differ from Apollo there on purpose (see gateway/README.md). None today.
DELIBERATE_DIFFERENCES: dict[str, str] = {}


def _acceptable(kind: str) -> bool:
    # Where Apollo's composer throws (e.g. on a renamed @requires it refuses), refusing with an error is right.
    return kind.startswith(f"{APOLLO_CRASHED} (we refuse")


def _cases() -> dict[str, dict[str, str]]:
    rng = random.Random(SEED)
    return {f"case-{i}": random_case(rng)[0] for i in range(CASES)}


def test_the_generator_is_deterministic_and_varied() -> None:
    first, second = _cases(), _cases()
    assert first == second
    texts = "\n".join(sdl for case in first.values() for sdl in case.values())
    for directive in ("@shareable", "@external", "@requires", "@provides", "@override", "@interfaceObject",
                      "@inaccessible", "@tag", "enum Tier", "input Filter"):
        assert directive in texts, directive


def test_our_composer_agrees_with_apollos_on_random_subgraph_sets() -> None:
    verdicts = compare(_cases())
    disagreements = {
        case_id: v
        for case_id, v in verdicts.items()
        if not v.agrees and case_id not in DELIBERATE_DIFFERENCES and not _acceptable(v.kind)
    }
    assert not disagreements, "\n\n".join(f"{k}: {v.kind}\n{v.detail}" for k, v in disagreements.items())
    # Both paths are exercised: the printed supergraph and the error codes.
    outcomes = [v.outcome for v in verdicts.values() if v.agrees]
    assert outcomes.count(COMPOSED) >= CASES // 5
    assert outcomes.count(REFUSED) >= CASES // 5
