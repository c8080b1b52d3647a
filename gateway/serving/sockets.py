"""The listening sockets the supervisor binds once and hands to its workers.

Where the system has SO_REUSEPORT (Linux) each worker slot gets a socket of its own on the same
port, and the kernel spreads new connections evenly over them. With one shared socket instead,
every idle worker wakes on each connection and asyncio accepts up to a backlog's worth at a time,
so a burst of connections (a client pool opening) can land on one worker while the others idle.
The supervisor keeps every socket open, so when a worker dies the connections queued on its
socket wait for the replacement rather than being reset. Elsewhere all workers share one socket.
"""

from __future__ import annotations

import socket

BACKLOG = 2048


def _listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def bind_worker_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """One listening socket per worker slot (the same shared socket N times without SO_REUSEPORT).
    Port 0 picks a free port, the same for all. Raises OSError when the port is taken."""
    if not hasattr(socket, "SO_REUSEPORT"):
        shared = _listening_socket(host, port, reuse_port=False)
        return [shared] * workers
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(_listening_socket(host, port, reuse_port=True))
            port = sockets[0].getsockname()[1]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
