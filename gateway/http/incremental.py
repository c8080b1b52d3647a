"""Incremental delivery over HTTP: a `@defer` answer as `multipart/mixed` parts.

The format Apollo Router and Hive Gateway answer and Apollo Client reads (`deferSpec=20220824`):
each part is a JSON object after a `---` delimiter; the first carries `data` and `hasNext: true`,
the last `hasNext: false` and the `incremental` items; `-----` closes the body. The initial part
is written as soon as it is ready, so a client sees it before the deferred data is fetched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import StreamingResponse

MEDIA_TYPE = 'multipart/mixed; boundary="-"; deferSpec=20220824'
_PART = b"\r\n---\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
_END = b"\r\n-----\r\n"


def incremental_response(
    initial: dict[str, Any], subsequent: Callable[[], Awaitable[dict[str, Any]]]
) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        yield _PART + orjson.dumps(initial)
        try:
            last = await subsequent()
        except Exception:  # the pipeline masks errors itself; never leave a client waiting
            last = {
                "hasNext": False,
                "errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
            }
        yield _PART + orjson.dumps(last) + _END

    # no-transform: proxies must not buffer or compress the parts into one
    return StreamingResponse(parts(), media_type=MEDIA_TYPE, headers={"cache-control": "no-cache, no-transform"})
