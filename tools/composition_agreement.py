"""How often our composer agrees with Apollo's on random subgraph sets.

    .venv/bin/python tools/composition_agreement.py 1000 7 [--examples 1]

Draws the cases with tests/gateway/composition/random_subgraphs.py, composes each with our composer and with
@apollo/composition (the Node tools installed under tools/npm), and prints the agreement rate and the disagreements
grouped by kind, most frequent first, with examples. Agreement: the same supergraph text, or, when both refuse, the
same set of error codes.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "gateway" / "composition")]

from agreement import COMPOSED, compare, summary  # noqa: E402
from composition_support import node_tools_available  # noqa: E402
from random_subgraphs import random_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", type=int, help="number of random subgraph sets")
    parser.add_argument("seed", type=int, nargs="?", default=1, help="seed of the random cases (default 1)")
    parser.add_argument("--examples", type=int, default=1, help="examples printed per kind of disagreement")
    parser.add_argument("--batch", type=int, default=500, help="cases per Node process")
    args = parser.parse_args()
    if not node_tools_available():
        print("Node.js or the npm reference tools are missing (scripts/npm-tools installs them)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    cases = {}
    mistakes = {}
    for i in range(args.cases):
        cases[f"case-{i}"], mistakes[f"case-{i}"] = random_case(rng)
    started = time.monotonic()
    verdicts = {}
    ids = list(cases)
    for start in range(0, len(ids), args.batch):
        verdicts.update(compare({k: cases[k] for k in ids[start : start + args.batch]}))
    agreed = [v for v in verdicts.values() if v.agrees]
    composed = sum(1 for v in agreed if v.outcome == COMPOSED)
    print(
        f"seed {args.seed}: {len(agreed)}/{len(cases)} agree ({100 * len(agreed) / max(len(cases), 1):.1f}%;"
        f" {composed} composed alike, {len(agreed) - composed} refused alike) in {time.monotonic() - started:.0f} s"
    )
    for kind, count in summary(verdicts).most_common():
        print(f"\n{count:5d}  {kind}")
        examples = [k for k, v in verdicts.items() if v.kind == kind][: args.examples]
        for case_id in examples:
            mistake = mistakes[case_id] or "none"
            print(f"       {case_id} (mistake put in: {mistake})")
            print("         " + verdicts[case_id].detail.replace("\n", "\n         ")[:3000])
    return 0 if len(agreed) == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
