import json

import pytest
from service_keys_env import public_keys

from shared.auth.principals import Principal, PrincipalKind
from shared.auth.tokens import verify_token
from abg.dev_tokens import DEV_TOKEN_TTL_SECONDS, mint_dev_token
from shared.settings import Settings

DEV = Settings(env="development", jwt_secret="cli-test-secret-" + "c" * 40)
MEMBER_ID = "01a20263-a80f-7329-8a56-8c3bbebfbfda"


def test_dev_token_verifies_as_the_requested_principal() -> None:
    token = mint_dev_token("member", MEMBER_ID, settings=DEV)
    assert verify_token(token, DEV) == Principal(PrincipalKind.MEMBER, MEMBER_ID)


def test_kind_is_case_insensitive_and_roles_may_be_comma_separated() -> None:
    token = mint_dev_token(" Staff ", "alice", ["operator,customer_service"], settings=DEV)
    assert verify_token(token, DEV).roles == frozenset({"operator", "customer_service"})
    token = mint_dev_token(PrincipalKind.STAFF, "bob", ["customer_service", ""], settings=DEV)
    assert verify_token(token, DEV).roles == frozenset({"customer_service"})


def test_ttl() -> None:
    import jwt

    default = jwt.decode(mint_dev_token("member", MEMBER_ID, settings=DEV), options={"verify_signature": False})
    assert default["exp"] - default["iat"] == DEV_TOKEN_TTL_SECONDS
    service = mint_dev_token("service", "points", settings=DEV)  # capped at the service maximum
    claims = jwt.decode(service, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == DEV.service_token_max_lifetime_seconds
    assert verify_token(service, DEV).subject == "points"
    short = jwt.decode(mint_dev_token("service", "points", ttl=60, settings=DEV), options={"verify_signature": False})
    assert short["exp"] - short["iat"] == 60


@pytest.mark.parametrize(
    ("kind", "subject", "roles", "message"),
    [
        ("admin", "x", (), "choose one of member, partner, staff, service"),
        ("anonymous", "x", (), "unknown kind"),
        ("staff", "alice", ("root",), "unknown staff role"),
        ("staff", "alice", (), "at least one role"),
        ("member", "not-a-uuid", (), "must be a UUID"),
        ("service", "evil", (), "unknown service 'evil'"),
    ],
)
def test_clear_errors(kind, subject, roles, message) -> None:
    with pytest.raises(ValueError, match=message):
        mint_dev_token(kind, subject, roles, settings=DEV)


def test_refused_in_production() -> None:
    production = Settings(env="production", jwt_secret="p" * 64, master_key=DEV.blind_index_key,
                          blind_index_key=DEV.master_key, service_public_keys=json.loads(public_keys()["ABG_SERVICE_PUBLIC_KEYS"]))
    with pytest.raises(ValueError, match="production"):
        mint_dev_token("service", "points", settings=production)


def test_a_ttl_beyond_what_verifiers_accept_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds the maximum of 3600s .* service tokens"):
        mint_dev_token("service", "points", ttl=3601, settings=DEV)
    with pytest.raises(ValueError, match="exceeds the maximum of 86400s .* member tokens"):
        mint_dev_token("member", MEMBER_ID, ttl=86401, settings=DEV)
