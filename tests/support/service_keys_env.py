"""Per-service signing keys for tests that run in production mode (which refuses to start without
them): made once per test run, as `abg service-keys` makes them."""

from __future__ import annotations

from functools import cache

from abg.service_keys import service_key_environment


@cache
def service_keys() -> dict[str, str]:
    """`ABG_SERVICE_PUBLIC_KEYS` and each known service's `ABG_<SERVICE>_SERVICE_PRIVATE_KEY`."""
    return service_key_environment(["gateway", "members", "points", "benefits", "redemptions"])


def public_keys() -> dict[str, str]:
    """What every process in production needs: the public keys of all services."""
    return {"ABG_SERVICE_PUBLIC_KEYS": service_keys()["ABG_SERVICE_PUBLIC_KEYS"]}


def signing_as(service: str) -> dict[str, str]:
    """The environment of a production process that signs as `service`."""
    return public_keys() | {"ABG_SERVICE_PRIVATE_KEY": service_keys()[f"ABG_{service.upper()}_SERVICE_PRIVATE_KEY"]}
