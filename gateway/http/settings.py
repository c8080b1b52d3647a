"""Settings of the gateway's HTTP server, from environment variables or the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .limits import OperationLimits


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("none", "off"):
        return None  # no limit
    return int(raw)


def _env_seconds(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("none", "off", "0"):
        return None
    return float(raw)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in ("1", "true", "yes", "on")


def default_workers(production: bool) -> int:
    """One worker process per core the gateway may run on in production, one elsewhere."""
    if not production:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours taskset/cpuset limits
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _env_workers(production: bool) -> int:
    raw = os.environ.get("ABG_GATEWAY_WORKERS", "").strip().lower()
    if raw == "":
        return default_workers(production)
    if raw == "auto":
        return default_workers(production=True)
    workers = int(raw)
    if workers < 1:
        raise ValueError(f"ABG_GATEWAY_WORKERS must be at least 1, got {workers}")
    return workers


def _env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 4000
    workers: int = 1  # processes serving the port (gateway/serving); from the environment: cores in production
    watch_supergraph: bool = False  # reload the supergraph file when it changes, as SIGHUP does
    graphql_path: str = "/graphql"
    max_body_bytes: int = 1_000_000
    introspection: bool = True
    suggestions: bool = True  # "Did you mean ...?" in validation and variable errors
    limits: OperationLimits = field(default_factory=OperationLimits)
    cors_origins: tuple[str, ...] = ()  # empty: no CORS headers at all; "*" allows any origin
    cors_allow_credentials: bool = False
    # client request headers passed on to every subgraph (lower case); besides these, every
    # subgraph request carries x-request-id and x-client-ip (the client's address, never the
    # client's own x-client-ip header)
    forward_headers: tuple[str, ...] = ("authorization", "x-device-id")
    request_id_header: str = "x-request-id"
    subgraph_timeout_seconds: float = 30.0
    # the whole request's time (None: no bound but the subgraph timeouts); a client asks for less
    # with x-request-timeout-ms, and the subgraphs are told what remains
    request_timeout_seconds: float | None = 30.0
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)  # per subgraph name
    # identical queries in flight to one subgraph at once are sent once, their answer shared
    deduplicate_subgraph_queries: bool = True
    subgraph_ca_file: str | None = None  # PEM CAs for https subgraphs (default: the system's)
    override_labels: tuple[str, ...] = ()
    # reject requests with an invalid bearer token (401) before any subgraph is called; off when
    # the app is built in code, on by default from the environment / command line
    verify_tokens: bool = False
    metrics: bool = True  # Prometheus metrics at metrics_path
    metrics_path: str = "/metrics"
    metrics_token: str | None = None  # when set, /metrics needs `Authorization: Bearer <it>`
    explorer: bool = True  # the explorer page (assets served by the gateway itself) at explorer_path
    explorer_path: str = "/explorer"
    # a manifest of trusted documents (off when empty); enforce: only those run, allow: ids resolved
    trusted_documents: str | None = None
    trusted_documents_mode: str = "enforce"
    # per-caller token buckets (requests per second, and how many at once); None: no limit. Off
    # when the app is built in code; from the environment, on by default outside development/test
    rate_limit_per_second: float | None = None
    rate_limit_burst: int = 100
    # subscriptions (WebSocket and SSE): how many may run at once on one WebSocket and in the
    # process (None: no limit), and how long a WebSocket may take to send connection_init
    max_subscriptions_per_connection: int | None = 50
    max_subscriptions: int | None = 10000
    subscription_init_timeout_seconds: float = 3.0

    @classmethod
    def from_env(cls) -> ServerSettings:
        """`ABG_GATEWAY_*` variables; anything unset keeps its default. In production
        (`ABG_ENV=production`) the defaults disclose nothing: no introspection, no suggestions,
        no explorer, and metrics only behind `ABG_GATEWAY_METRICS_TOKEN`."""
        defaults = cls()
        production = os.environ.get("ABG_ENV", "development").strip().lower() == "production"
        metrics_token = os.environ.get("ABG_GATEWAY_METRICS_TOKEN") or os.environ.get("ABG_METRICS_TOKEN") or None
        limits = OperationLimits(
            max_depth=_env_int("ABG_GATEWAY_MAX_DEPTH", defaults.limits.max_depth),
            max_aliases=_env_int("ABG_GATEWAY_MAX_ALIASES", defaults.limits.max_aliases),
            max_cost=_env_int("ABG_GATEWAY_MAX_COST", defaults.limits.max_cost),
            max_tokens=_env_int("ABG_GATEWAY_MAX_TOKENS", defaults.limits.max_tokens),
        )
        return cls(
            host=os.environ.get("ABG_GATEWAY_HOST", defaults.host),
            port=int(os.environ.get("ABG_GATEWAY_PORT", defaults.port)),
            workers=_env_workers(production),
            watch_supergraph=_env_bool("ABG_GATEWAY_WATCH_SUPERGRAPH", defaults.watch_supergraph),
            graphql_path=os.environ.get("ABG_GATEWAY_PATH", defaults.graphql_path),
            max_body_bytes=_env_int("ABG_GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes) or defaults.max_body_bytes,
            introspection=_env_bool("ABG_GATEWAY_INTROSPECTION", _env_bool("ABG_INTROSPECTION", not production)),
            suggestions=_env_bool("ABG_GATEWAY_SUGGESTIONS", _env_bool("ABG_SUGGESTIONS", not production)),
            limits=limits,
            cors_origins=_env_list("ABG_GATEWAY_CORS_ORIGINS", defaults.cors_origins),
            cors_allow_credentials=_env_bool("ABG_GATEWAY_CORS_CREDENTIALS", defaults.cors_allow_credentials),
            forward_headers=tuple(h.lower() for h in _env_list("ABG_GATEWAY_FORWARD_HEADERS", defaults.forward_headers)),
            subgraph_timeout_seconds=float(
                os.environ.get("ABG_GATEWAY_SUBGRAPH_TIMEOUT_SECONDS", defaults.subgraph_timeout_seconds)
            ),
            request_timeout_seconds=_env_seconds("ABG_GATEWAY_REQUEST_TIMEOUT_SECONDS", defaults.request_timeout_seconds),
            subgraph_timeouts=parse_timeouts(_env_list("ABG_GATEWAY_SUBGRAPH_TIMEOUTS", ())),
            override_labels=_env_list("ABG_GATEWAY_OVERRIDE_LABELS", defaults.override_labels),
            deduplicate_subgraph_queries=_env_bool(
                "ABG_GATEWAY_DEDUPLICATE_SUBGRAPH_QUERIES", defaults.deduplicate_subgraph_queries
            ),
            subgraph_ca_file=os.environ.get("ABG_GATEWAY_SUBGRAPH_CA_FILE") or None,
            verify_tokens=_env_bool("ABG_GATEWAY_VERIFY_TOKENS", True),
            # in production only behind a token, whatever ABG_GATEWAY_METRICS says
            metrics=_env_bool("ABG_GATEWAY_METRICS", True) and (not production or metrics_token is not None),
            metrics_path=os.environ.get("ABG_GATEWAY_METRICS_PATH", defaults.metrics_path),
            metrics_token=metrics_token,
            explorer=_env_bool("ABG_GATEWAY_EXPLORER", not production),
            explorer_path=os.environ.get("ABG_GATEWAY_EXPLORER_PATH", defaults.explorer_path),
            trusted_documents=os.environ.get("ABG_GATEWAY_TRUSTED_DOCUMENTS") or None,
            trusted_documents_mode=os.environ.get("ABG_GATEWAY_TRUSTED_DOCUMENTS_MODE") or defaults.trusted_documents_mode,
            rate_limit_per_second=_env_seconds(
                "ABG_GATEWAY_RATE_LIMIT_PER_SECOND",
                None if os.environ.get("ABG_ENV", "development") in ("development", "test") else 50.0,
            ),
            rate_limit_burst=_env_int("ABG_GATEWAY_RATE_LIMIT_BURST", defaults.rate_limit_burst) or defaults.rate_limit_burst,
            max_subscriptions_per_connection=_env_int(
                "ABG_GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION", defaults.max_subscriptions_per_connection
            ),
            max_subscriptions=_env_int("ABG_GATEWAY_MAX_SUBSCRIPTIONS", defaults.max_subscriptions),
            subscription_init_timeout_seconds=_env_seconds(
                "ABG_GATEWAY_SUBSCRIPTION_INIT_TIMEOUT_SECONDS", defaults.subscription_init_timeout_seconds
            )
            or defaults.subscription_init_timeout_seconds,
        )


def parse_timeouts(items: tuple[str, ...] | list[str]) -> dict[str, float]:
    """`accounts=2.5` items -> {"accounts": 2.5}."""
    timeouts: dict[str, float] = {}
    for item in items:
        name, _, seconds = item.partition("=")
        if not seconds:
            raise ValueError(f"expected NAME=SECONDS, got {item!r}")
        timeouts[name.strip()] = float(seconds)
    return timeouts
