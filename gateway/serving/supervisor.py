"""Pre-fork supervisor: N gateway worker processes on one port, kept alive, stopped gracefully.

Why a supervisor of our own and not uvicorn's `workers=`: uvicorn needs an import string to
start workers, while our app is built from command-line settings and a supergraph loaded (and
checked) once here; and we want SIGHUP to reload the supergraph in place instead of restarting
workers. Workers are forked after the supergraph is loaded, so they start without parsing it
again, and they share the listening sockets bound here (gateway/serving/sockets.py).

Signals: SIGTERM or SIGINT drain and stop every worker (SIGKILL after the grace period); SIGHUP
(or, with --watch, a change of the file) checks the supergraph file and passes SIGHUP on, so each
worker switches to it; a worker that
dies is replaced (with a growing pause if it keeps dying at start-up). The supervisor waits for
signals synchronously (blocked, then `sigtimedwait`), so there is no handler racing the loop.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..http.settings import ServerSettings
from ..supergraph import SupergraphError, load_supergraph_file
from ..supergraph.model import Supergraph
from .sockets import bind_worker_sockets
from .watch import FileWatch

log = logging.getLogger("gateway.supervisor")

_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
_QUICK_DEATH_SECONDS = 5.0  # a worker that dies sooner than this after starting is restarted after a pause
_MAX_PAUSE_SECONDS = 10.0


@dataclass
class _Slot:
    index: int
    sock: socket.socket
    pid: int | None = None
    started: float = 0.0
    pause: float = 0.0  # before the next start, after quick deaths
    restart_at: float = 0.0


def prepare_metrics_directory() -> Path:
    """A fresh directory for this run's multiprocess metrics, switched on before any worker makes
    a metric. Figures of an earlier run must not add up with ours, hence one per run."""
    from prometheus_client import values

    base = os.environ.get("ABG_GATEWAY_METRICS_DIR") or None
    directory = Path(tempfile.mkdtemp(prefix="gateway-metrics-", dir=base))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus_client picks its value class from that variable when first imported (and the
    # gateway's modules may have imported it already): choose again, as its own tests do
    values.ValueClass = values.get_value_class()
    return directory


class Supervisor:
    def __init__(
        self, settings: ServerSettings, supergraph: Supergraph, path: str, log_level: str, metrics_dir: Path | None
    ) -> None:
        self.settings = settings
        self.supergraph = supergraph  # the last one that loaded: what a replacement worker starts with
        self.path = path
        self.log_level = log_level
        self.metrics_dir = metrics_dir
        self.slots: list[_Slot] = []
        self.watch = FileWatch(path) if settings.watch_supergraph else None

    def run(self) -> int:
        """Serves until SIGTERM/SIGINT; OSError when the port cannot be bound."""
        try:
            sockets = bind_worker_sockets(self.settings.host, self.settings.port, self.settings.workers)
        except OSError:
            self._remove_metrics_directory()
            raise
        self.slots = [_Slot(index, sock) for index, sock in enumerate(sockets)]
        host, port = sockets[0].getsockname()[:2]
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            log.info("gateway supervisor (pid %d): %d workers on http://%s:%d%s",
                     os.getpid(), len(self.slots), host, port, self.settings.graphql_path)
            for slot in self.slots:
                self._start(slot)
            return self._loop()
        finally:
            self._stop_workers()
            for sock in {id(s.sock): s.sock for s in self.slots}.values():
                sock.close()
            # signals stay blocked: a second SIGTERM while draining must not kill us half-way,
            # and the process exits next
            self._remove_metrics_directory()

    def _remove_metrics_directory(self) -> None:
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    # ---- the loop ------------------------------------------------------------------------------

    def _loop(self) -> int:
        while True:
            info = signal.sigtimedwait(_SIGNALS, 0.5)
            signo = info.si_signo if info is not None else None
            if signo in (signal.SIGTERM, signal.SIGINT):
                log.info("%s: draining and stopping %d workers", signal.Signals(signo).name, len(self.slots))
                return 0
            if signo == signal.SIGHUP or (self.watch is not None and self.watch.changed()):
                self._reload()
            fatal = self._reap()
            if fatal is not None:
                return fatal
            self._restart_due()

    def _reload(self) -> None:
        try:
            self.supergraph = load_supergraph_file(self.path)
        except (OSError, SupergraphError) as error:
            # the workers would refuse it too; they are told anyway so each one's log says so
            log.error("supergraph reload refused, workers keep the current one: %s: %s", self.path, error)
        for slot in self.slots:
            if slot.pid is not None:
                os.kill(slot.pid, signal.SIGHUP)

    def _reap(self) -> int | None:
        """Notes dead workers and schedules their replacement; an exit status when the gateway
        cannot run at all (a worker found the configuration unusable)."""
        from .worker import EXIT_CONFIG

        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == 0:
                return None
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            slot.pid = None
            self._forget_metrics_of(pid)
            code = os.waitstatus_to_exitcode(status)
            if code == EXIT_CONFIG:
                log.error("worker %d cannot start with this configuration: stopping", slot.index)
                return EXIT_CONFIG
            lived = time.monotonic() - slot.started
            slot.pause = min(_MAX_PAUSE_SECONDS, max(0.5, slot.pause * 2)) if lived < _QUICK_DEATH_SECONDS else 0.0
            slot.restart_at = time.monotonic() + slot.pause
            log.warning("worker %d (pid %d) exited with %s after %.1f s: replacing it%s", slot.index, pid,
                        _describe(code), lived, f" in {slot.pause:.1f} s" if slot.pause else "")

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.pid is None and now >= slot.restart_at:
                self._start(slot)

    # ---- workers -------------------------------------------------------------------------------

    def _start(self, slot: _Slot) -> None:
        supervisor_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            code = 1
            try:
                code = self._work(slot, supervisor_pid)
            except BaseException:
                logging.getLogger("gateway").exception("worker %d failed", slot.index)
            finally:
                logging.shutdown()
                os._exit(code)
        slot.pid, slot.started = pid, time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, pid)

    def _work(self, slot: _Slot, supervisor_pid: int) -> int:
        from .worker import EXIT_CONFIG, ConfigurationError, serve

        # SIGHUP stays blocked until the worker can note it (worker.serve); the others act at once
        signal.pthread_sigmask(signal.SIG_SETMASK, {signal.SIGHUP})
        for other in self.slots:
            if other.sock is not slot.sock:
                other.sock.close()
        try:
            serve(self.settings, self.supergraph, self.path, self.log_level, slot.sock, supervisor_pid)
        except ConfigurationError as error:
            print(error, file=sys.stderr)
            return EXIT_CONFIG
        except SystemExit as exit_:  # uvicorn exits with 1 when it cannot start
            return exit_.code if isinstance(exit_.code, int) else 1
        except KeyboardInterrupt:  # Ctrl-C reaches the workers too: uvicorn re-raises it once drained
            return 0
        return 0

    def _stop_workers(self) -> None:
        live = [slot for slot in self.slots if slot.pid is not None]
        for slot in live:
            os.kill(slot.pid, signal.SIGTERM)  # type: ignore[arg-type]
        # uvicorn gives requests in flight this long, and then a little to exit
        deadline = time.monotonic() + (self.settings.request_timeout_seconds or 30) + 5
        while any(slot.pid is not None for slot in live) and time.monotonic() < deadline:
            for slot in live:
                if slot.pid is not None and os.waitpid(slot.pid, os.WNOHANG)[0] == slot.pid:
                    self._forget_metrics_of(slot.pid)
                    slot.pid = None
            time.sleep(0.05)
        for slot in live:
            if slot.pid is not None:
                log.error("worker %d (pid %d) did not stop in time: killing it", slot.index, slot.pid)
                os.kill(slot.pid, signal.SIGKILL)
                os.waitpid(slot.pid, 0)
                slot.pid = None

    def _forget_metrics_of(self, pid: int) -> None:
        # a dead worker's gauges (requests in flight) must not count; its counters still do
        if self.metrics_dir is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, str(self.metrics_dir))


def _describe(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"
