"""A fault hook for crash tests: ABG_REDEMPTIONS_CRASH_AT=`<STEP>:called` kills this process
(SIGKILL: no cleanup, no finally) right after the step's call answered and before it is recorded;
`<STEP>:recorded` right after it is recorded. Never honoured in production."""

from __future__ import annotations

import os
import signal

from shared.settings import get_settings

from services.redemptions.config import get_redemptions_settings


def crash_point(step: str, moment: str) -> None:
    wanted = get_redemptions_settings().crash_at
    if wanted and wanted == f"{step}:{moment}" and get_settings().env != "production":
        os.kill(os.getpid(), signal.SIGKILL)
