"""Compare our composer with Apollo's on many subgraph sets at once, and name each disagreement's kind.

Agreement: both compose and print the same supergraph text, or both refuse with the same set of error codes.
Apollo's composer runs once for the whole batch (one Node process), so hundreds of cases take seconds.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from composition_support import canonical_sdl, compose_inline, run_reference_tools

AGREE = "agree"
COMPOSED, REFUSED = "composed", "refused"
APOLLO_CRASHED = "Apollo's composer crashed"


@dataclass(frozen=True)
class Verdict:
    kind: str  # AGREE, or a short description of the disagreement (what a summary groups by)
    detail: str = ""  # the first lines of the diff, or the codes and messages on each side
    outcome: str | None = None  # for agreements: COMPOSED or REFUSED

    @property
    def agrees(self) -> bool:
        return self.kind == AGREE


def compare(cases: dict[str, dict[str, str]]) -> dict[str, Verdict]:
    """Case id -> verdict, for cases given as {case id: {subgraph name: SDL}}."""
    payload = {
        case_id: [{"name": n, "url": f"http://{n}.example/graphql", "sdl": sdl} for n, sdl in subgraphs.items()]
        for case_id, subgraphs in cases.items()
    }
    apollo = run_reference_tools({"op": "compose", "scenarios": payload})
    return {case_id: _verdict(subgraphs, apollo[case_id]) for case_id, subgraphs in cases.items()}


def _verdict(subgraphs: dict[str, str], apollo: dict) -> Verdict:
    try:
        ours = compose_inline(subgraphs)
    except Exception as exc:  # a crash is a disagreement to report, not a reason to stop the run
        return Verdict(f"our composer crashed: {type(exc).__name__}", repr(exc))
    theirs_sdl = apollo.get("supergraphSdl")
    theirs_errors = apollo.get("errors") or []
    # Apollo's composer passes some graphql-js validation errors on without a code; we call those INVALID_GRAPHQL.
    their_codes = sorted({e["code"] or "INVALID_GRAPHQL" for e in theirs_errors})
    our_codes = sorted({e.code for e in ours.errors})
    if "EXCEPTION" in their_codes:
        ours_said = "we accept" if ours.ok else "we refuse: " + " ".join(our_codes)
        return Verdict(f"{APOLLO_CRASHED} ({ours_said})", theirs_errors[0]["message"])
    if ours.ok and theirs_sdl is not None:
        if ours.supergraph_sdl == theirs_sdl + "\n":
            return Verdict(AGREE, outcome=COMPOSED)
        return _text_verdict(ours.supergraph_sdl, theirs_sdl + "\n")
    if ours.ok:
        return Verdict(f"we accept, Apollo refuses: {' '.join(their_codes)}", _messages(theirs_errors))
    if theirs_sdl is not None:
        return Verdict(f"we refuse, Apollo accepts: {' '.join(our_codes)}", "\n".join(map(str, ours.errors)))
    if our_codes == their_codes:
        return Verdict(AGREE, " ".join(our_codes), REFUSED)
    return Verdict(
        f"codes differ: ours {' '.join(our_codes)} / Apollo {' '.join(their_codes)}",
        "ours:\n" + "\n".join(map(str, ours.errors)) + "\nApollo:\n" + _messages(theirs_errors),
    )


def _text_verdict(ours: str, theirs: str) -> Verdict:
    diff = [
        line
        for line in difflib.unified_diff(theirs.splitlines(), ours.splitlines(), "apollo", "ours", lineterm="", n=1)
    ]
    if canonical_sdl(ours) == canonical_sdl(theirs):
        return Verdict("supergraphs differ in order only", "\n".join(diff[:30]))
    changed = [line for line in diff[2:] if line[:1] in "+-"]
    names = sorted({m for line in changed for m in re.findall(r"@\w+", line)} - {"@join__type", "@join__graph"})
    return Verdict("supergraphs differ" + (f" ({' '.join(names[:4])})" if names else ""), "\n".join(diff[:30]))


def _messages(errors: list[dict]) -> str:
    return "\n".join(f"[{e['code']}] {e['message']}" for e in errors)


def summary(verdicts: dict[str, Verdict]) -> Counter:
    return Counter(v.kind for v in verdicts.values() if not v.agrees)
