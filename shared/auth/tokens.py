"""Bearer tokens (JWT): minting, verification, and the service tokens subgraphs call each other with.

HS256 with a shared secret by default; RS256 when configured, verifying with the public key only
(minting RS256 needs the private key, which only the issuer and the development CLI hold). The
configured algorithm is the only one accepted, whatever a token's header says, which shuts out
`alg: none` and HS256-signed-with-the-public-key forgeries (algorithm confusion).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from shared.auth import service_keys
from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from shared.auth.verified import VerifiedTokens
from shared.errors import Unauthenticated
from shared.settings import Settings, get_settings

DEFAULT_TTL_SECONDS = 3600
# Headers are size-limited by servers anyway; refusing huge tokens early keeps parsing cheap.
MAX_TOKEN_LENGTH = 8192
_REQUIRED_CLAIMS = ["sub", "iss", "aud", "iat", "exp"]
_TOKEN_KINDS = {k.value: k for k in PrincipalKind if k is not PrincipalKind.ANONYMOUS}


def _now() -> float:
    """Wall-clock seconds; a function so tests can move time for the service-token cache."""
    return time.time()


def mint_token(
    kind: PrincipalKind | str,
    subject: str | uuid.UUID,
    roles: Iterable[str] = (),
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    settings: Settings | None = None,
) -> str:
    """A signed token for `kind`/`subject`. Raises `ValueError` for a principal that could not exist."""
    settings = settings or get_settings()
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    principal = Principal(PrincipalKind(kind), str(subject), frozenset(roles))  # validates
    if principal.is_anonymous:
        raise ValueError("anonymous callers have no token")
    issued_at = int(_now())
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "kind": principal.kind.value,
        "roles": sorted(principal.roles),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    own = service_keys.signing_key(settings) if principal.kind is PrincipalKind.SERVICE else None
    if own is not None:  # a service signs with its own key, which verifiers know as its own
        return jwt.encode(claims, own.key, algorithm=own.algorithm, headers={"kid": own.kid})
    return jwt.encode(claims, _signing_key(settings), algorithm=settings.jwt_algorithm)


def verify_token(token: str, settings: Settings | None = None) -> Principal:
    """The principal a token carries; `Unauthenticated` with the reason when it is not acceptable."""
    settings = settings or get_settings()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("malformed token")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False}) if settings.service_public_keys else {}
    except jwt.InvalidTokenError:
        raise Unauthenticated("malformed token") from None
    algorithm = header.get("alg")
    if isinstance(unverified, dict) and unverified.get("kind") == PrincipalKind.SERVICE.value:
        # The key is chosen among those of the service the token names, never from all keys.
        own = service_keys.verification_key(settings, unverified.get("sub"), header.get("kid"))
        key, expected = own.key, own.algorithm
    else:
        key, expected = _verification_key(settings), settings.jwt_algorithm
    if algorithm != expected:
        raise Unauthenticated(f"token algorithm {algorithm!r} is not accepted (expected {expected})")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[expected],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token has expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthenticated("token is not yet valid") from None
    except jwt.InvalidSignatureError:
        raise Unauthenticated("token signature is invalid") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated("token was issued by an unknown issuer") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("token is meant for another audience") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated(f"token lacks the {exc.claim!r} claim") from None
    except jwt.DecodeError:
        raise Unauthenticated("malformed token") from None
    except jwt.InvalidTokenError as exc:  # bad sub/jti/iat types and the like
        raise Unauthenticated(f"invalid token: {exc}") from None
    principal = _principal_from_claims(claims)
    _check_lifetime(claims, principal, settings)
    if principal.kind is PrincipalKind.SERVICE and principal.subject not in settings.known_service_names:
        raise Unauthenticated(f"token names an unknown service {principal.subject!r}")
    return principal


def _check_lifetime(claims: dict[str, Any], principal: Principal, settings: Settings) -> None:
    """A token lives at most the configured maximum, whatever its `exp` says: a leaked long-lived
    token would otherwise stay good for as long as its minter chose."""
    if principal.kind is PrincipalKind.SERVICE:
        limit, setting = settings.service_token_max_lifetime_seconds, "ABG_SERVICE_TOKEN_MAX_LIFETIME_SECONDS"
    else:
        limit, setting = settings.jwt_max_lifetime_seconds, "ABG_JWT_MAX_LIFETIME_SECONDS"
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > limit:
        raise Unauthenticated(
            f"token lifetime of {lifetime:g}s exceeds the maximum of {limit}s for {principal.kind.value} tokens ({setting})"
        )


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    raw_kind = claims.get("kind")
    kind = _TOKEN_KINDS.get(raw_kind) if isinstance(raw_kind, str) else None
    if kind is None:
        raise Unauthenticated(f"token has an unknown kind {claims.get('kind')!r}")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("token roles must be a list of strings")
    try:
        return Principal(kind, claims["sub"], frozenset(roles))
    except ValueError as exc:  # unknown staff role, member subject not a UUID, ...
        raise Unauthenticated(f"invalid token: {exc}") from None


def principal_from_authorization_header(value: str | None, settings: Settings | None = None) -> Principal:
    """`ANONYMOUS` without a header; the token's principal for `Bearer <token>`; else `Unauthenticated`."""
    if value is None or not value.strip():
        return ANONYMOUS
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":  # schemes are case-insensitive (RFC 9110)
        raise Unauthenticated(f"unsupported authorization scheme {scheme!r}; use 'Bearer <token>'")
    token = token.strip()
    if not token:
        raise Unauthenticated("the Authorization header has no token after 'Bearer'")
    settings = settings or get_settings()
    now = _now()
    principal = verified_tokens.get(settings, token, now)
    if principal is None:
        principal = verify_token(token, settings)
        # Verified above, so its `exp` can be read without checking the signature again.
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
        verified_tokens.put(settings, token, principal, float(expires_at))
    return principal


# Principals of tokens verified by this process (see `verified`).
verified_tokens = VerifiedTokens()


# Service tokens: one per (service, signing configuration), re-minted once most of its life is gone
# so a token is never sent close enough to expiry to die in flight.
_service_tokens: dict[tuple[Any, ...], tuple[str, float]] = {}


def service_token(service_name: str, settings: Settings | None = None) -> str:
    """A cached token with which `service_name` calls other services."""
    settings = settings or get_settings()
    ttl = settings.service_token_ttl_seconds
    cache_key = (
        service_name,
        settings.jwt_algorithm,
        settings.jwt_secret,
        settings.jwt_private_key,
        settings.service_private_key,
        settings.jwt_issuer,
        settings.jwt_audience,
        ttl,
    )
    cached = _service_tokens.get(cache_key)
    now = _now()
    if cached is not None and cached[1] - now > max(ttl // 5, 1):
        return cached[0]
    token = mint_token(PrincipalKind.SERVICE, service_name, ttl_seconds=ttl, settings=settings)
    _service_tokens[cache_key] = (token, now + ttl)
    return token


def _signing_key(settings: Settings) -> str | RSAPrivateKey:
    if settings.jwt_algorithm == "HS256":
        return settings.jwt_secret
    if not settings.jwt_private_key:
        raise RuntimeError("minting RS256 tokens needs ABG_JWT_PRIVATE_KEY (a PEM private key)")
    return _load_private_key(settings.jwt_private_key)


def _verification_key(settings: Settings) -> str | RSAPublicKey:
    if settings.jwt_algorithm == "HS256":
        return settings.jwt_secret
    if not settings.jwt_public_key:
        raise RuntimeError("verifying RS256 tokens needs ABG_JWT_PUBLIC_KEY (a PEM public key)")
    return _load_public_key(settings.jwt_public_key)


# Parsing a PEM key costs far more than checking a signature; parse each configured key once.
# Environment variables often carry PEM with literal "\n"; accept both forms.


@lru_cache(maxsize=8)
def _load_public_key(pem: str) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem.replace("\\n", "\n").encode())
    if not isinstance(key, RSAPublicKey):
        raise RuntimeError("ABG_JWT_PUBLIC_KEY must be an RSA public key")
    return key


@lru_cache(maxsize=8)
def _load_private_key(pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.replace("\\n", "\n").encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise RuntimeError("ABG_JWT_PRIVATE_KEY must be an RSA private key")
    return key
