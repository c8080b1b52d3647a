"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """ABG_DATA_DIR for one `abg run`, outside pytest's tmp_path: the embedded PostgreSQL runs as its own
    user and opens the directories above its data to it, but every pytest session that starts on the
    machine makes pytest's temporary root private again, and then PostgreSQL cannot be stopped."""
    with tempfile.TemporaryDirectory(prefix="abg-e2e-", ignore_cleanup_errors=True) as path:
        yield Path(path) / "data"
