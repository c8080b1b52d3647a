"""Fixtures of the catalogue tests; the kit lives beside them (the suite imports with importlib, so
this folder goes on the path)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from catalogue_kit import Kit  # noqa: E402

from shared.database import get_database  # noqa: E402


@pytest.fixture
async def kit(db: str) -> AsyncIterator[Kit]:
    yield Kit(get_database(db))
