"""One gateway process serving HTTP: the app over a reloadable gateway, run by uvicorn.

Alone (one worker) it binds the port itself; under the supervisor it serves the socket it was
handed. Either way SIGHUP reloads the supergraph file in place (gateway/serving/reload.py), as
does a change of the file with --watch (watched here when alone, else by the supervisor), and
SIGTERM stops accepting, lets the requests in flight finish, then exits (uvicorn's shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ..execution.client import SubgraphSettings
from ..execution.pipeline import Gateway, PipelineOptions
from ..http.settings import ServerSettings
from ..supergraph.model import Supergraph
from .reload import ReloadableGateway
from .watch import FileWatch

log = logging.getLogger("gateway")

# sysexits' EX_CONFIG: the worker cannot start as configured, so starting it again will not help
EXIT_CONFIG = 78


class ConfigurationError(Exception):
    pass


def build_app(settings: ServerSettings, supergraph: Supergraph, path: str | Path) -> tuple[Starlette, ReloadableGateway]:
    """The gateway's ASGI app over `supergraph`, which `path` reloads; ConfigurationError when
    the trusted documents or the subgraph CA file cannot be used."""
    from ..http.app import create_app  # imported here: prometheus_client reads its mode on import
    from ..http.trusted import TrustedDocumentsError

    options = PipelineOptions(
        introspection=settings.introspection,
        override_labels=frozenset(settings.override_labels),
        subgraphs=SubgraphSettings(
            timeout_seconds=settings.subgraph_timeout_seconds,
            timeouts=dict(settings.subgraph_timeouts),
            deduplicate=settings.deduplicate_subgraph_queries,
            ca_file=settings.subgraph_ca_file,
        ),
    )
    try:
        gateway = ReloadableGateway(Gateway(supergraph, options), path)
        app = create_app(gateway, settings)  # type: ignore[arg-type]  # a Gateway in all it uses
    except TrustedDocumentsError as error:
        raise ConfigurationError(f"cannot use the trusted documents: {error}") from error
    except OSError as error:  # ssl.SSLError included: an unreadable or invalid subgraph CA file
        raise ConfigurationError(f"cannot use the subgraph CA file {settings.subgraph_ca_file}: {error}") from error
    return app, gateway


class WorkerServer(uvicorn.Server):
    """uvicorn's server, plus: SIGHUP reloads the supergraph; under a supervisor, the worker
    stops by itself if the supervisor is gone (killed with no chance to stop its workers)."""

    def __init__(
        self,
        config: uvicorn.Config,
        gateway: ReloadableGateway,
        supervisor_pid: int | None,
        early: _EarlyHangups,
        watch: FileWatch | None = None,
    ) -> None:
        super().__init__(config)
        self.gateway = gateway
        self.supervisor_pid = supervisor_pid
        self.early = early
        self.watch = watch  # a lone worker watches the file itself; under a supervisor, it does
        self._reloads: set[asyncio.Task[bool]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._reload)
        if self.early.seen:  # the file changed while we were starting: take it now
            self._reload()

    def _reload(self) -> None:
        task = asyncio.get_running_loop().create_task(self.gateway.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def on_tick(self, counter: int) -> bool:
        # every second (uvicorn ticks every 0.1 s): orphaned workers would hold the port forever
        if self.supervisor_pid is not None and counter % 10 == 0 and os.getppid() != self.supervisor_pid:
            log.warning("the supervisor (pid %d) is gone: stopping", self.supervisor_pid)
            self.should_exit = True
        if self.watch is not None and counter % 10 == 0 and self.watch.changed():
            self._reload()
        return await super().on_tick(counter)


class _EarlyHangups:
    """Notes a SIGHUP that comes before the server listens for it (its default would kill us)."""

    def __init__(self) -> None:
        self.seen = False
        signal.signal(signal.SIGHUP, self._note)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})  # the supervisor forks us with it blocked

    def _note(self, signo: int, frame: object) -> None:
        self.seen = True


def serve(
    settings: ServerSettings,
    supergraph: Supergraph,
    path: str | Path,
    log_level: str,
    sock: socket.socket | None = None,
    supervisor_pid: int | None = None,
) -> None:
    """Serves until SIGTERM/SIGINT: on `sock` when given (a supervisor's worker), else on the
    settings' host and port. Raises ConfigurationError before serving when it cannot start."""
    early = _EarlyHangups()
    watch = FileWatch(path) if settings.watch_supergraph and supervisor_pid is None else None
    app, gateway = build_app(settings, supergraph, path)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        access_log=False,
        loop="auto",
        http="auto",
        lifespan="on",
        # requests in flight get as long as a request may take; then they are cancelled
        timeout_graceful_shutdown=int(settings.request_timeout_seconds or 30) + 1,
    )
    server = WorkerServer(config, gateway, supervisor_pid, early, watch)
    server.run(sockets=[sock] if sock is not None else None)
