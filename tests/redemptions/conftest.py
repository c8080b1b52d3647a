"""Redemptions' tests: members, points and benefits run as real processes on the test database
(started once per session); the redemptions service runs in this process, calling them over real
HTTP. Tests that need a partner's API mocked serve benefits in this process instead (see
`benefits_here`), so respx can stand in for the partner."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from live_services import Processes, serve_in_process, start_processes, url_env
from services.redemptions.config import reset_redemptions_settings_cache
from shared.settings import reset_settings_cache

from tests.redemptions.kit import World

PEERS = ("members", "points", "benefits")


@pytest.fixture(scope="session")
def peers(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    processes = start_processes(
        PEERS, database_url=database_url, log_dir=tmp_path_factory.mktemp("peers"),
        env={"ABG_BENEFITS_REDEMPTION_EVENT_SUBSCRIBERS": "", "ABG_POINTS_JOB_INTERVAL_SECONDS": "0"},
    )
    yield processes
    processes.close()


def _set_env(values: dict[str, str]) -> dict[str, str | None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    reset_settings_cache()
    reset_redemptions_settings_cache()
    return saved


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings_cache()
    reset_redemptions_settings_cache()


@pytest.fixture(autouse=True)
def redemptions_env(peers: Processes) -> Iterator[None]:
    """This process calls the peer processes; the saga answers once it has run (most tests check
    the end state), and no recovery loop runs here unless a test drives it."""
    saved = _set_env(url_env(peers.urls) | {
        "ABG_REDEMPTIONS_ANSWER_WITHIN_SECONDS": "30", "ABG_REDEMPTIONS_RECOVERY_INTERVAL_SECONDS": "0",
        "ABG_REDEMPTIONS_RETRY_BASE_SECONDS": "0.05", "ABG_REDEMPTIONS_RETRY_MAX_SECONDS": "0.2",
    })
    yield
    _restore(saved)


@pytest.fixture
async def benefits_here(peers: Processes) -> AsyncIterator[str]:
    """Benefits served in this process (same database), and this process's calls pointed at it."""
    from services.benefits.app import app

    async with serve_in_process(app) as url:
        saved = _set_env({"ABG_BENEFITS_URL": url})
        try:
            yield url
        finally:
            _restore(saved)


@pytest.fixture
async def world(db: str, peers: Processes) -> World:
    return World(db)
