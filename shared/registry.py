"""The services of the alliance, as the runner, the CLI and the tests see them.

A service is listed once it exists; each owns the PostgreSQL schema of its own name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str

    @property
    def schema(self) -> str:
        return self.name

    @property
    def app(self) -> str:
        """Import path of the ASGI app, for uvicorn."""
        return f"services.{self.name}.app:app"


SERVICES: tuple[ServiceSpec, ...] = (ServiceSpec("members"), ServiceSpec("points"), ServiceSpec("benefits"))


def service_names() -> list[str]:
    return [spec.name for spec in SERVICES]


def get_service(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown service {name!r}; known: {', '.join(service_names())}")
