"""Noticing that the supergraph file was replaced (`serve --watch`), by polling its metadata.

Polling (once a second by the callers) needs no extra dependency and sees every way a file is
replaced: rewritten in place, renamed over (a new inode), or a Kubernetes ConfigMap swapping the
symlink behind the path (stat follows it).
"""

from __future__ import annotations

import os
from pathlib import Path


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        found = os.stat(path)
    except OSError:  # missing for a moment while being replaced: not a change yet
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


class FileWatch:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen = _signature(self.path)

    def changed(self) -> bool:
        """True once per change since the last call (or since the watch began)."""
        now = _signature(self.path)
        if now is None or now == self._seen:
            return False
        self._seen = now
        return True
