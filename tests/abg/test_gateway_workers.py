"""`abg run` starts the gateway with as many workers as the services, or ABG_GATEWAY_WORKERS."""

from __future__ import annotations

from abg.gateway import gateway_args
from shared.settings import settings_of_environment


def _workers_option(args: list[str]) -> str | None:
    return args[args.index("--workers") + 1] if "--workers" in args else None


def test_the_gateway_runs_as_many_workers_as_each_service() -> None:
    settings = settings_of_environment({"ABG_WORKERS": "3"})
    assert _workers_option(gateway_args("supergraph.graphql", settings, {})) == "3"


def test_abg_gateway_workers_is_left_to_the_gateway_to_read() -> None:
    settings = settings_of_environment({"ABG_WORKERS": "3"})
    args = gateway_args("supergraph.graphql", settings, {"ABG_GATEWAY_WORKERS": "2"})
    assert _workers_option(args) is None  # the gateway reads ABG_GATEWAY_WORKERS from its environment
    assert args[args.index("--supergraph") + 1] == "supergraph.graphql"
