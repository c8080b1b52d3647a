"""Service identities: only known services, each signing with its own keys, and bounded lifetimes."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import ValidationError

from shared.auth.principals import Principal, PrincipalKind
from shared.auth.service_keys import key_id
from shared.auth.tokens import mint_token, principal_from_authorization_header, service_token, verify_token
from shared.errors import Unauthenticated
from shared.settings import Settings

SECRET = "test-secret-for-service-identities-" + "y" * 32
BASE = {"jwt_secret": SECRET, "jwt_issuer": "iss", "jwt_audience": "aud"}
MEMBER_ID = "01a20263-a80f-7329-8a56-8c3bbebfbfda"


def _ed25519() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    return _pems(key)


def _rsa() -> tuple[str, str]:
    return _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _pems(key) -> tuple[str, str]:
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, str]]:
    return {"points": _ed25519(), "redemptions": _ed25519(), "redemptions-next": _ed25519(), "members": _rsa()}


def _verifier(public_keys: dict[str, list[str]]) -> Settings:
    return Settings(**BASE, service_public_keys=public_keys)


def _signer(private: str) -> Settings:
    return Settings(**BASE, service_private_key=private)


def _all_public(keys) -> dict[str, list[str]]:
    return {"points": [keys["points"][1]], "redemptions": [keys["redemptions"][1]], "members": [keys["members"][1]]}


# --- known services ------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["evil", "redemption", "members-seed", "Points"])
def test_a_service_token_naming_an_unknown_service_is_refused(subject: str) -> None:
    settings = Settings(**BASE)
    token = mint_token(PrincipalKind.SERVICE, subject, settings=settings)
    with pytest.raises(Unauthenticated, match="unknown service"):
        verify_token(token, settings)
    with pytest.raises(Unauthenticated, match="unknown service"):
        principal_from_authorization_header(f"Bearer {token}", settings)


@pytest.mark.parametrize("subject", ["gateway", "members", "points", "benefits", "redemptions"])
def test_the_alliance_services_are_known_by_default(subject: str) -> None:
    settings = Settings(**BASE)
    assert verify_token(service_token(subject, settings), settings) == Principal(PrincipalKind.SERVICE, subject)


def test_the_known_services_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_KNOWN_SERVICES", " members, engagement ")
    settings = Settings(**BASE)
    assert settings.known_service_names == {"members", "engagement"}
    assert verify_token(mint_token("service", "engagement", settings=settings), settings).subject == "engagement"
    with pytest.raises(Unauthenticated, match="unknown service 'points'"):
        verify_token(mint_token("service", "points", settings=settings), settings)


# --- each service signs with its own keys --------------------------------------------------------


def test_a_service_signs_with_its_own_key_and_names_it(keys) -> None:
    private, public = keys["points"]
    token = service_token("points", _signer(private))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == key_id(serialization.load_pem_public_key(public.encode()))
    assert verify_token(token, _verifier(_all_public(keys))) == Principal(PrincipalKind.SERVICE, "points")


def test_rsa_service_keys_work_too(keys) -> None:
    token = mint_token("service", "members", settings=_signer(keys["members"][0]))
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verify_token(token, _verifier(_all_public(keys))).subject == "members"


@pytest.mark.parametrize("claimed", ["redemptions", "members", "benefits"])
def test_one_services_key_cannot_mint_a_token_for_another(keys, claimed: str) -> None:
    forged = mint_token("service", claimed, settings=_signer(keys["points"][0]))  # points' key, another name
    with pytest.raises(Unauthenticated):
        verify_token(forged, _verifier(_all_public(keys)))


def test_a_forged_kid_does_not_help(keys) -> None:
    """Points' key with redemptions' kid in the header: the signature still has to verify."""
    now = int(time.time())
    redemptions_kid = key_id(serialization.load_pem_public_key(keys["redemptions"][1].encode()))
    claims = {"sub": "redemptions", "kind": "service", "roles": [], "iss": "iss", "aud": "aud", "iat": now, "exp": now + 60}
    points_key = serialization.load_pem_private_key(keys["points"][0].encode(), password=None)
    forged = jwt.encode(claims, points_key, algorithm="EdDSA", headers={"kid": redemptions_kid})
    with pytest.raises(Unauthenticated, match="signature is invalid"):
        verify_token(forged, _verifier(_all_public(keys)))


def test_with_service_keys_the_shared_secret_no_longer_makes_service_tokens(keys) -> None:
    shared = mint_token("service", "redemptions", settings=Settings(**BASE))  # HS256, no kid
    with pytest.raises(Unauthenticated, match="kid"):
        verify_token(shared, _verifier(_all_public(keys)))


def test_a_service_without_configured_keys_is_refused(keys) -> None:
    token = mint_token("service", "benefits", settings=Settings(**BASE))
    with pytest.raises(Unauthenticated, match="no signing keys are configured for service 'benefits'"):
        verify_token(token, _verifier(_all_public(keys)))


def test_people_tokens_still_verify_with_the_shared_configuration(keys) -> None:
    verifier = _verifier(_all_public(keys))
    token = mint_token("member", MEMBER_ID, settings=verifier)
    assert verify_token(token, verifier).subject == MEMBER_ID


def test_rotation_accepts_old_and_new_keys_while_both_are_listed_then_refuses_the_removed_one(keys) -> None:
    old_private, old_public = keys["redemptions"]
    new_private, new_public = keys["redemptions-next"]
    old_token = mint_token("service", "redemptions", settings=_signer(old_private))
    new_token = mint_token("service", "redemptions", settings=_signer(new_private))

    overlap = _verifier({"redemptions": [old_public, new_public]})
    assert verify_token(old_token, overlap).subject == "redemptions"
    assert verify_token(new_token, overlap).subject == "redemptions"

    after = _verifier({"redemptions": [new_public]})
    assert verify_token(new_token, after).subject == "redemptions"
    with pytest.raises(Unauthenticated, match="not signed with a current key of service 'redemptions'"):
        verify_token(old_token, after)


def test_public_keys_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch, keys) -> None:
    monkeypatch.setenv("ABG_SERVICE_PUBLIC_KEYS", json.dumps({"points": [keys["points"][1].replace("\n", "\\n")]}))
    settings = Settings(**BASE)
    token = mint_token("service", "points", settings=_signer(keys["points"][0]))
    assert verify_token(token, settings).subject == "points"


def test_keys_for_an_unknown_service_are_a_configuration_error(keys) -> None:
    with pytest.raises(ValidationError, match="unknown services: evil"):
        _verifier({"evil": [keys["points"][1]]})


# --- maximum lifetime ----------------------------------------------------------------------------


def test_a_person_token_may_live_up_to_the_maximum_and_no_longer() -> None:
    settings = Settings(**BASE, jwt_max_lifetime_seconds=7200)
    assert verify_token(mint_token("member", MEMBER_ID, ttl_seconds=7200, settings=settings), settings)
    too_long = mint_token("member", MEMBER_ID, ttl_seconds=7201, settings=settings)
    with pytest.raises(Unauthenticated, match=r"lifetime of 7201s exceeds the maximum of 7200s .*ABG_JWT_MAX_LIFETIME_SECONDS"):
        verify_token(too_long, settings)


def test_the_default_maximum_is_a_day_for_people() -> None:
    settings = Settings(**BASE)
    assert verify_token(mint_token("staff", "ops", ["operator"], ttl_seconds=24 * 3600, settings=settings), settings)
    with pytest.raises(Unauthenticated, match="exceeds the maximum"):
        verify_token(mint_token("partner", MEMBER_ID, ttl_seconds=30 * 24 * 3600, settings=settings), settings)


def test_service_tokens_have_a_shorter_maximum() -> None:
    settings = Settings(**BASE)
    assert settings.service_token_max_lifetime_seconds < settings.jwt_max_lifetime_seconds
    long_service = mint_token("service", "points", ttl_seconds=settings.service_token_max_lifetime_seconds + 1, settings=settings)
    with pytest.raises(Unauthenticated, match="ABG_SERVICE_TOKEN_MAX_LIFETIME_SECONDS"):
        verify_token(long_service, settings)


def test_the_lifetime_is_measured_from_iat_not_from_now() -> None:
    """A token issued long ago with a far `exp` is refused even though it has not expired."""
    now = int(time.time())
    claims = {"sub": MEMBER_ID, "kind": "member", "roles": [], "iss": "iss", "aud": "aud",
              "iat": now - 10, "exp": now + 365 * 24 * 3600}
    with pytest.raises(Unauthenticated, match="exceeds the maximum"):
        verify_token(jwt.encode(claims, SECRET, algorithm="HS256"), Settings(**BASE))


def test_the_service_token_ttl_must_fit_the_maximum() -> None:
    with pytest.raises(ValidationError, match="ABG_SERVICE_TOKEN_TTL_SECONDS"):
        Settings(**BASE, service_token_ttl_seconds=7200, service_token_max_lifetime_seconds=3600)
