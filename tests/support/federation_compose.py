"""Composing subgraph SDLs with the reference composers (Apollo's and The Guild's, Node tools).

Shared by the subgraphs' composition tests: `compose(subgraphs)` returns what each composer said,
`{"apollo": {"ok", "errors", "supergraphSdl"}, "guild": {...}}`; it skips the test when the Node
tools are not installed (scripts/npm-tools installs them).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from shared.settings import PROJECT_ROOT

NODE = PROJECT_ROOT / ".venv" / "bin" / "node"
TOOLS = PROJECT_ROOT / "tools" / "npm"
SCRIPT = Path(__file__).with_name("compose_sdl.mjs")


def compose(subgraphs: list[dict[str, str]]) -> dict:
    """`subgraphs`: [{"name", "url", "sdl"}]."""
    if not NODE.exists() or not (TOOLS / "node_modules" / "@apollo" / "composition").exists():
        pytest.skip("the Node tools are not installed (scripts/npm-tools installs them)")
    done = subprocess.run(
        [str(NODE), str(SCRIPT), str(TOOLS)],
        input=json.dumps({"subgraphs": subgraphs}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
