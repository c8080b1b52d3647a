"""Differential tests against the reference tools from the npm registry (Apollo's composer, gateway and planner,
The Guild's composition library, Hive Gateway): same inputs, same supergraph; our output accepted as it is."""

from __future__ import annotations

import pytest
from composition_cases import CASES
from composition_support import (
    as_payload,
    canonical_sdl,
    compose_scenario,
    load_scenario,
    run_reference_tools,
    scenario_names,
    scenario_queries,
    type_names,
)

pytestmark = pytest.mark.node

SCENARIOS = scenario_names()


@pytest.fixture(scope="module")
def apollo_supergraphs() -> dict:
    return run_reference_tools({"op": "compose", "scenarios": {n: as_payload(load_scenario(n)) for n in SCENARIOS}})


@pytest.fixture(scope="module")
def our_supergraphs() -> dict[str, str]:
    out = {}
    for name in SCENARIOS:
        result = compose_scenario(name)
        assert result.ok, f"{name}: " + "\n".join(map(str, result.errors))
        out[name] = result.supergraph_sdl
    return out


@pytest.fixture(scope="module")
def reference_checks(our_supergraphs: dict[str, str], apollo_supergraphs: dict) -> dict:
    supergraphs = {f"ours:{n}": sdl for n, sdl in our_supergraphs.items()}
    supergraphs.update({f"apollo:{n}": apollo_supergraphs[n]["supergraphSdl"] for n in SCENARIOS})
    queries = {f"{side}:{n}": scenario_queries(n) for n in SCENARIOS for side in ("ours", "apollo")}
    return run_reference_tools({"op": "check", "supergraphs": supergraphs, "queries": queries})


def test_every_scenario_is_exercised() -> None:
    assert len(SCENARIOS) >= 20


@pytest.mark.parametrize("name", SCENARIOS)
def test_supergraph_equals_apollos_modulo_order(name: str, our_supergraphs: dict, apollo_supergraphs: dict) -> None:
    apollo = apollo_supergraphs[name]
    assert "supergraphSdl" in apollo, apollo
    assert canonical_sdl(our_supergraphs[name]) == canonical_sdl(apollo["supergraphSdl"])


@pytest.mark.parametrize("name", SCENARIOS)
def test_supergraph_text_is_identical_to_apollos(name: str, our_supergraphs: dict, apollo_supergraphs: dict) -> None:
    """Stricter than needed (order does not matter to gateways), but keeps diffs against Apollo's output readable."""
    assert our_supergraphs[name] == apollo_supergraphs[name]["supergraphSdl"] + "\n"


@pytest.mark.parametrize("name", SCENARIOS)
def test_reference_tools_accept_our_supergraph(name: str, reference_checks: dict, our_supergraphs: dict) -> None:
    """Apollo builds and validates it (satisfiability included), its gateway loads it, Hive Gateway serves it, and
    The Guild's public-schema transform sees the same API as Apollo's gateway."""
    report = reference_checks[f"ours:{name}"]
    # Apollo Gateway (unlike Apollo Router) refuses some SECURITY features, and The Guild's transform trips on an
    # @inaccessible union member: whatever a tool says of Apollo's own supergraph, it must say of ours, and nothing more.
    assert _first_lines(report["problems"]) == _first_lines(reference_checks[f"apollo:{name}"]["problems"])
    assert "apollo Supergraph.build" not in " ".join(report["problems"])
    assert "apollo validateSatisfiability" not in " ".join(report["problems"])
    assert "hive gateway" not in " ".join(report["problems"])
    if "apolloApiSchema" not in report or "guildApiSchema" not in report:
        return
    # (The Guild keeps composed directive definitions in the API, Apollo drops them: compare the types.)
    assert canonical_sdl(report["guildApiSchema"], False) == canonical_sdl(report["apolloApiSchema"], False)
    api_types = type_names(report["apolloApiSchema"])
    assert set(report["hiveTypes"]) - {"Boolean", "String", "Int", "Float", "ID"} == api_types - {
        "Boolean",
        "String",
        "Int",
        "Float",
        "ID",
    }
    # The API keeps user types only: no join/link machinery leaks through.
    assert not {t for t in api_types if t.startswith(("join__", "link__"))}
    assert api_types <= type_names(our_supergraphs[name])


@pytest.mark.parametrize("name", [n for n in SCENARIOS if scenario_queries(n)])
def test_apollo_plans_the_same_queries_on_both_supergraphs(name: str, reference_checks: dict) -> None:
    ours = reference_checks[f"ours:{name}"]["plans"]
    theirs = reference_checks[f"apollo:{name}"]["plans"]
    assert set(ours) == set(scenario_queries(name))
    assert ours == theirs


@pytest.mark.parametrize("case", [c for c in CASES if c.apollo_agrees], ids=[c.id for c in CASES if c.apollo_agrees])
def test_apollo_reports_the_same_error_codes(case, apollo_errors: dict) -> None:
    from composition_support import compose_inline

    ours = sorted({e.code for e in compose_inline(case.subgraphs).errors})
    theirs = sorted({e["code"] for e in apollo_errors[case.id].get("errors", [])})
    assert ours == theirs


@pytest.fixture(scope="module")
def apollo_errors() -> dict:
    scenarios = {
        c.id: [{"name": n, "url": f"http://{n}.example/graphql", "sdl": s} for n, s in c.subgraphs.items()]
        for c in CASES
        if c.apollo_agrees
    }
    return run_reference_tools({"op": "compose", "scenarios": scenarios})


def _first_lines(problems: list[str]) -> list[str]:
    return sorted(p.splitlines()[0] for p in problems)
