"""The supervisor of `abg run`'s children: it notices a child that died and stops the rest."""

from __future__ import annotations

import os
import sys

import pytest

from abg.processes import Supervisor, uvicorn_args, wait_healthy

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_stop_all_stops_every_child_and_check_names_a_dead_one() -> None:
    supervisor = Supervisor()
    sleeper = supervisor.start("sleeper", SLEEP, dict(os.environ))
    quitter = supervisor.start("quitter", [sys.executable, "-c", "pass"], dict(os.environ))
    quitter.wait(30)
    assert supervisor.check() == "quitter"
    supervisor.stop_all(timeout=10)
    assert sleeper.poll() is not None and supervisor.children == []


def test_wait_healthy_gives_up_when_a_child_dies() -> None:
    supervisor = Supervisor()
    supervisor.start("crasher", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    try:
        with pytest.raises(RuntimeError, match="crasher exited during start-up"):
            wait_healthy("http://127.0.0.1:9/health", supervisor, timeout=30)
    finally:
        supervisor.stop_all()


def test_uvicorn_args_run_the_app_on_uvloop_and_httptools() -> None:
    args = uvicorn_args("services.points.app:app", "127.0.0.1", 4002)
    assert args[:4] == [sys.executable, "-m", "uvicorn", "services.points.app:app"]
    assert {"--loop", "uvloop", "--http", "httptools", "--no-access-log"} <= set(args)
    assert uvicorn_args("m:make", "h", 1, factory=True)[-1] == "--factory"


def test_the_demo_video_platform_runs_in_development_only_unless_asked() -> None:
    from abg.run import demo_video_enabled

    assert demo_video_enabled("development", {})
    assert not demo_video_enabled("development", {"ABG_DEMO_VIDEO_PLATFORM": "off"})
    assert not demo_video_enabled("production", {})
    assert not demo_video_enabled("test", {})
    assert demo_video_enabled("test", {"ABG_DEMO_VIDEO_PLATFORM": "on"})
    assert not demo_video_enabled("production", {"ABG_DEMO_VIDEO_PLATFORM": "on"})  # a demo is never a partner
