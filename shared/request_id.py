"""Request ids: taken from `X-Request-Id` (so the gateway's id follows a request) or made up,
kept in a context variable for the log and for masked errors, and echoed in the response."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HEADER = "x-request-id"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def pick_request_id(incoming: str | None) -> str:
    """A caller's id is kept only if it is short and plain (it ends up in logs)."""
    if incoming and _ACCEPTABLE.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every log record so formats can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True
