"""The services of the alliance, as the launcher, the tests and the benchmarks see them.

Adding a service is one line in SERVICES. Each service is the package `services.<name>`, laid
out the same way (app.py, schema, migrations/, optionally seed.py), and owns the PostgreSQL
schema of its own name. Nothing of a service is imported until asked for, so `abg --help` and
uvicorn's child processes do not pay for the others.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.database.migrations import Migrations


@dataclass(frozen=True)
class Service:
    name: str
    # Tables its runtime database role may only read and append to (see shared.database.roles).
    append_only: tuple[str, ...] = ()

    @property
    def package(self) -> str:
        return f"services.{self.name}"

    @property
    def schema(self) -> str:
        """The PostgreSQL schema it owns."""
        return self.name

    @property
    def app(self) -> str:
        """Import path of the ASGI app, for uvicorn."""
        return f"{self.package}.app:app"

    @property
    def migrations(self) -> Migrations:
        """Its migration history: `migrations/` in its package, for its own schema."""
        from shared.database.migrations import Migrations  # alembic is slow to import

        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise LookupError(f"service {self.name!r} has no package {self.package}")
        folder = Path(spec.submodule_search_locations[0]) / "migrations"
        return Migrations(folder, self.schema, self.append_only)

    def seed_module(self) -> ModuleType | None:
        """Its demo data (`seed_demo(database)`, optionally `seed_live(seeded)`), if it has any."""
        name = f"{self.package}.seed"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # a broken import inside the seed is an error, not "no seed"
                raise
            return None

    def federation_schema(self) -> Any:
        """Its strawberry schema (the subgraph's SDL is `{ _service { sdl } }` on it)."""
        return importlib.import_module(f"{self.package}.schema").schema


SERVICES: tuple[Service, ...] = (
    Service("members"),
    Service("points", append_only=("ledger_transactions", "postings")),
    Service("benefits"),
    Service("redemptions"),
)


def service_names() -> list[str]:
    return [service.name for service in SERVICES]


def get_service(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"unknown service {name!r}; known: {', '.join(service_names())}")
