"""Async engines and sessions, one engine per (database URL) in a process.

Each service's tables live in its own PostgreSQL schema, named in the models' `__table_args__`,
so several services may share one database server (the embedded default) or have one each.

Every statement is bounded: by `db_statement_timeout_seconds` on each connection, and within a
request by what remains of the caller's deadline (`shared.deadline`), set per transaction only
when it is the nearer bound. A transaction whose deadline has passed by the time its work is done
is rolled back instead of committed: the caller has been told it failed, so it must not happen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import deadline
from shared.database import faults
from shared.database.retry import DEFAULT_ATTEMPTS, retrying
from shared.database.statements import Prepared, Rows
from shared.database.urls import to_async_url
from shared.settings import get_settings

T = TypeVar("T")


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, pool_size: int | None = None, max_overflow: int | None = None) -> None:
        settings = get_settings()
        self.url = to_async_url(url)
        self.statement_timeout = settings.db_statement_timeout_seconds or None
        server_settings = {"application_name": "alliance-benefits-graph"}
        if self.statement_timeout:
            server_settings["statement_timeout"] = str(max(1, int(self.statement_timeout * 1000)))
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size if pool_size is not None else settings.db_pool_size,
            max_overflow=max_overflow if max_overflow is not None else settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            pool_pre_ping=False,
            # asyncpg's statement cache is per connection and safe with our static SQL.
            connect_args={"server_settings": server_settings, "async_creator_fn": faults.connect},
        )
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short session for reads; GraphQL resolvers run concurrently, so each takes its own."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self, isolation_level: str | None = None) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            if isolation_level:  # set as the transaction procures its connection, before any SQL
                await session.connection(execution_options={"isolation_level": isolation_level})
            bound = self._deadline_bound()
            if bound is not None:
                await (await session.connection()).exec_driver_sql(bound)
            yield session
            self._before_commit()

    async def run_transaction(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        isolation_level: str | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> T:
        """Runs `work` on an ORM session in a transaction, retrying the whole of it on
        serialization failures and deadlocks (see `retry`). `work` must not call other services."""

        async def attempt() -> T:
            async with self.transaction(isolation_level) as session:
                return await work(session)

        return await retrying(attempt, attempts=attempts)

    async def run_core_transaction(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        isolation_level: str | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> T:
        """`run_transaction` on a Core connection: no ORM session (which costs about 0.1 ms of CPU
        per transaction that Core-only code never uses). Statements `work` runs on the asyncpg
        connection underneath (see `statements`) are inside the same transaction and retried alike."""

        async def attempt() -> T:
            bound = self._deadline_bound()
            async with self.engine.connect() as connection:
                if isolation_level:
                    connection = await connection.execution_options(isolation_level=isolation_level)
                async with connection.begin():
                    if bound is not None:
                        await connection.exec_driver_sql(bound)
                    result = await work(connection)
                    self._before_commit()
                return result

        return await retrying(attempt, attempts=attempts)

    async def read(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Rows:
        """One read statement on a pooled connection's driver, outside any transaction: a single
        statement sees one snapshot anyway, and this spares the BEGIN and ROLLBACK round trips
        (and SQLAlchemy's execution layer) that a session would wrap around it."""
        left = deadline.remaining()
        if left is not None and left <= 0:
            raise deadline.exceeded("before reading")
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            try:
                return Rows(
                    await raw.driver_connection.fetch(statement.compiled().sql, *statement.args(params), timeout=left)
                )
            except TimeoutError as error:  # asyncpg cancelled the statement on the server
                raise deadline.exceeded("a read ran out of time") from error

    def _deadline_bound(self) -> str | None:
        """`SET LOCAL statement_timeout` for a transaction when the caller's deadline is nearer
        than the connection's own bound (None otherwise: no round trip); raises once it has passed."""
        left = deadline.remaining()
        if left is None:
            return None
        if left <= 0:
            raise deadline.exceeded("before the transaction began")
        if self.statement_timeout is not None and left >= self.statement_timeout:
            return None
        return f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}"

    @staticmethod
    def _before_commit() -> None:
        """Refuses to commit work the caller has stopped waiting for (raising rolls it back);
        otherwise notes that this request may have changed something."""
        deadline.check_time_left("refused to commit after the deadline")
        deadline.note_effects()

    async def dispose(self) -> None:
        await self.engine.dispose()


_databases: dict[str, Database] = {}


def get_database(url: str) -> Database:
    """The process's one `Database` for a URL (engines are pooled and costly to create)."""
    key = to_async_url(url)
    database = _databases.get(key)
    if database is None:
        database = _databases[key] = Database(key)
    return database


async def dispose_databases() -> None:
    for database in list(_databases.values()):
        await database.dispose()
    _databases.clear()
