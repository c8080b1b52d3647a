"""Database access shared by every service: engines and sessions, the embedded server, migrations."""

from shared.database.engine import Database, get_database, dispose_databases, is_serialization_failure
from shared.database.urls import to_async_url

__all__ = ["Database", "get_database", "dispose_databases", "is_serialization_failure", "to_async_url"]
