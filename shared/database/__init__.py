"""Database access shared by every service: engines and sessions, the embedded server, migrations,
and the transaction kit (retry, prepared statements, units of work, operations with idempotency keys).
"""

from shared.database.engine import Database, dispose_databases, get_database
from shared.database.operation import Idempotency, UnitFactory, run_operation, run_unit
from shared.database.retry import backoff, is_retryable, retrying
from shared.database.statements import Executor, Prepared, Row, Rows
from shared.database.unit import TrackedRow, Unit
from shared.database.urls import to_async_url

__all__ = [
    "Database",
    "Executor",
    "Idempotency",
    "Prepared",
    "Row",
    "Rows",
    "TrackedRow",
    "Unit",
    "UnitFactory",
    "backoff",
    "dispose_databases",
    "get_database",
    "is_retryable",
    "retrying",
    "run_operation",
    "run_unit",
    "to_async_url",
]
