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
    ttl: int = DEV_TOKEN_TTL_SECONDS,
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
    return mint_token(kind_name, subject, role_list, ttl_seconds=ttl, settings=settings)
