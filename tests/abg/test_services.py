"""The launcher's list of services: what it derives for each from the service's package."""

from __future__ import annotations

import importlib

import pytest

from abg.services import SERVICES, Service, get_service, service_names


def test_names_are_unique_and_each_service_owns_the_schema_of_its_name() -> None:
    assert len(set(service_names())) == len(SERVICES) >= 2
    assert all(service.schema == service.name for service in SERVICES)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_has_what_the_launcher_needs(service: Service) -> None:
    migrations = service.migrations
    assert migrations.schema == service.name
    assert (migrations.folder / "env.py").is_file() and list((migrations.folder / "versions").glob("*.py"))
    assert migrations.folder.parent.name == service.name
    module, _, attribute = service.app.partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))  # what uvicorn will load
    assert hasattr(service.federation_schema(), "execute_sync")
    seed = service.seed_module()
    assert seed is not None and callable(seed.seed_demo)


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    assert get_service("points") is SERVICES[service_names().index("points")]
    with pytest.raises(KeyError, match="known: members, points"):
        get_service("loyalty")
    with pytest.raises(LookupError, match="no package"):
        Service("loyalty").migrations
