"""Fixtures of the code-pool tests; the kit itself is in `codes_kit` (importable by the tests)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the suite imports with importlib: make `codes_kit` importable

from codes_kit import Kit  # noqa: E402

from shared.database import get_database  # noqa: E402


@pytest.fixture
async def kit(db: str) -> AsyncIterator[Kit]:
    yield Kit(get_database(db))
