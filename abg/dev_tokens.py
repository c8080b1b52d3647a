"""Development tokens for `abg token`, so a developer can call the graph as anyone."""

from __future__ import annotations

from collections.abc import Iterable

from shared.auth.principals import PrincipalKind
from shared.auth.tokens import mint_token
from shared.settings import Settings, get_settings

DEV_TOKEN_TTL_SECONDS = 12 * 3600  # a working day


def mint_dev_token(
    kind: str | PrincipalKind,
    subject: str,
    roles: Iterable[str] = (),
    ttl: int | None = None,
    settings: Settings | None = None,
) -> str:
    """A token for `kind`/`subject`; `ValueError` with a message fit for the terminal if it cannot be.

    Refused in production: real tokens come from the identity provider, and a CLI holding the
    production signing key would be a way around it.
    """
    settings = settings or get_settings()
    if settings.env == "production":
        raise ValueError("development tokens cannot be minted when ABG_ENV=production")
    kinds = [k.value for k in PrincipalKind if k is not PrincipalKind.ANONYMOUS]
    kind_name = kind.value if isinstance(kind, PrincipalKind) else str(kind).strip().lower()
    if kind_name not in kinds:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(kinds)}")
    # Accept "operator,customer_service" as well as separate values, as shells make both natural.
    role_list = [r.strip() for item in roles for r in item.split(",") if r.strip()]
    # Verifiers refuse tokens living longer than the maximum, so never mint one they would refuse.
    is_service = kind_name == PrincipalKind.SERVICE.value
    longest = settings.service_token_max_lifetime_seconds if is_service else settings.jwt_max_lifetime_seconds
    if ttl is None:
        ttl = min(DEV_TOKEN_TTL_SECONDS, longest)
    elif ttl > longest:
        raise ValueError(f"ttl {ttl}s exceeds the maximum of {longest}s that verifiers accept for {kind_name} tokens")
    if is_service and subject not in settings.known_service_names:
        raise ValueError(f"unknown service {subject!r}; choose one of {', '.join(sorted(settings.known_service_names))}")
    return mint_token(kind_name, subject, role_list, ttl_seconds=ttl, settings=settings)
