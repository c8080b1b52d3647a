import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import tokens
from shared.auth.principals import ANONYMOUS, Principal, PrincipalKind
from shared.auth.tokens import (
    mint_token,
    principal_from_authorization_header,
    service_token,
    verify_token,
)
from shared.errors import Unauthenticated
from shared.settings import Settings

SECRET = "test-secret-long-enough-for-every-hmac-algorithm-" + "x" * 24  # >= 64 bytes (HS512 test)
ISSUER = "abg-test-issuer"
AUDIENCE = "abg-test-audience"
MEMBER_ID = "01a20263-a80f-7329-8a56-8c3bbebfbfda"

HS = Settings(jwt_algorithm="HS256", jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
              jwt_leeway_seconds=30, service_token_ttl_seconds=600)


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    return _pem_pair()


@pytest.fixture(scope="module")
def rs(rsa_keys) -> Settings:
    private, public = rsa_keys
    return Settings(jwt_algorithm="RS256", jwt_private_key=private, jwt_public_key=public,
                    jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_leeway_seconds=30)


@pytest.fixture(scope="module")
def rs_verify_only(rsa_keys) -> Settings:
    return Settings(jwt_algorithm="RS256", jwt_public_key=rsa_keys[1], jwt_issuer=ISSUER, jwt_audience=AUDIENCE)


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"sub": MEMBER_ID, "kind": "member", "roles": [], "iss": ISSUER, "aud": AUDIENCE,
            "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def craft(key=SECRET, algorithm="HS256", **overrides) -> str:
    return jwt.encode(claims(**overrides), key, algorithm=algorithm)


def rejected(token: str, settings: Settings = HS) -> str:
    with pytest.raises(Unauthenticated) as info:
        verify_token(token, settings)
    assert info.value.code == "UNAUTHENTICATED"
    return info.value.message


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject", "roles"),
    [
        (PrincipalKind.MEMBER, MEMBER_ID, ()),
        (PrincipalKind.PARTNER, "01a20263-a80f-7000-8000-000000000001", ()),
        (PrincipalKind.STAFF, "alice", ("operator",)),
        (PrincipalKind.STAFF, "bob", ("customer_service", "operator")),
        (PrincipalKind.SERVICE, "redemptions", ()),
    ],
)
def test_round_trip_hs256(kind, subject, roles) -> None:
    principal = verify_token(mint_token(kind, subject, roles, settings=HS), HS)
    assert principal == Principal(kind, subject, frozenset(roles))


def test_round_trip_rs256_verifies_with_the_public_key_alone(rs, rs_verify_only) -> None:
    token = mint_token("staff", "alice", ["operator"], settings=rs)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verify_token(token, rs_verify_only) == Principal(PrincipalKind.STAFF, "alice", frozenset({"operator"}))


def test_rs256_accepts_pem_with_escaped_newlines(rs, rsa_keys) -> None:
    escaped = Settings(jwt_algorithm="RS256", jwt_public_key=rsa_keys[1].replace("\n", "\\n"),
                       jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    assert verify_token(mint_token("service", "points", settings=rs), escaped).is_service


def test_minting_rs256_needs_the_private_key(rs_verify_only) -> None:
    with pytest.raises(RuntimeError, match="PRIVATE_KEY"):
        mint_token("service", "points", settings=rs_verify_only)


def test_verifying_rs256_needs_the_public_key(rs) -> None:
    token = mint_token("service", "points", settings=rs)
    no_public = Settings(jwt_algorithm="RS256", jwt_private_key=rs.jwt_private_key,
                         jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    with pytest.raises(RuntimeError, match="PUBLIC_KEY"):
        verify_token(token, no_public)


def test_minted_claims() -> None:
    before = int(time.time())
    token = mint_token(PrincipalKind.STAFF, "alice", ["operator"], ttl_seconds=120, settings=HS)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert payload["sub"] == "alice" and payload["kind"] == "staff" and payload["roles"] == ["operator"]
    assert payload["iss"] == ISSUER and payload["aud"] == AUDIENCE
    assert before <= payload["iat"] <= int(time.time())
    assert payload["exp"] - payload["iat"] == 120
    other = jwt.decode(mint_token("staff", "alice", ["operator"], settings=HS), SECRET,
                       algorithms=["HS256"], audience=AUDIENCE)
    assert payload["jti"] and other["jti"] != payload["jti"]


def test_mint_accepts_a_uuid_subject() -> None:
    assert verify_token(mint_token("member", uuid.UUID(MEMBER_ID), settings=HS), HS).is_member(MEMBER_ID)


@pytest.mark.parametrize(
    ("kind", "subject", "roles", "ttl"),
    [
        ("anonymous", "x", (), 60),
        ("member", "not-a-uuid", (), 60),
        ("staff", "alice", (), 60),
        ("staff", "alice", ("admin",), 60),
        ("member", MEMBER_ID, ("operator",), 60),
        ("service", "points", (), 0),
        ("wizard", "x", (), 60),
    ],
)
def test_mint_refuses_principals_that_cannot_exist(kind, subject, roles, ttl) -> None:
    with pytest.raises(ValueError):
        mint_token(kind, subject, roles, ttl_seconds=ttl, settings=HS)


# --- rejections --------------------------------------------------------------------------------


def test_a_crafted_valid_token_is_accepted() -> None:
    # The baseline the rejection tests vary: only the one changed claim makes them fail.
    assert verify_token(craft(), HS).is_member(MEMBER_ID)


def test_expired() -> None:
    now = int(time.time())
    assert "expired" in rejected(craft(iat=now - 600, exp=now - 31))


def test_expiry_within_leeway_is_tolerated() -> None:
    now = int(time.time())
    assert verify_token(craft(iat=now - 600, exp=now - 10), HS).is_member(MEMBER_ID)


def test_issued_in_the_future() -> None:
    now = int(time.time())
    assert "not yet valid" in rejected(craft(iat=now + 120, exp=now + 600))


def test_not_before_in_the_future() -> None:
    assert "not yet valid" in rejected(craft(nbf=int(time.time()) + 120))


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "", "eyJhbGciOiJIUzI1NiJ9.not-base64!.sig", "x" * 10_000,
     base64.urlsafe_b64encode(b"[1,2]").decode() + ".e30.sig"],
)
def test_malformed(token) -> None:
    assert "malformed" in rejected(token)


def test_wrong_secret() -> None:
    assert "signature" in rejected(craft(key="another-secret-of-at-least-thirty-two-bytes"))


def test_payload_altered_after_signing() -> None:
    header, _, signature = craft().split(".")
    forged = base64.urlsafe_b64encode(json.dumps(
        claims(kind="staff", sub="mallory", roles=["operator"])).encode()).rstrip(b"=").decode()
    assert "signature" in rejected(f"{header}.{forged}.{signature}")


def test_rs256_signed_by_another_key(rs) -> None:
    other_private, _ = _pem_pair()
    assert "signature" in rejected(craft(key=other_private, algorithm="RS256"), rs)


def test_wrong_issuer() -> None:
    assert "issuer" in rejected(craft(iss="someone-else"))


def test_wrong_audience() -> None:
    assert "audience" in rejected(craft(aud="another-app"))


def test_alg_none() -> None:
    token = jwt.encode(claims(), None, algorithm="none")
    assert "algorithm 'none'" in rejected(token)


def test_other_hmac_algorithm_with_the_right_secret() -> None:
    assert "algorithm 'HS512'" in rejected(craft(algorithm="HS512"))


def test_rs256_token_when_hs256_is_configured(rs) -> None:
    assert "algorithm 'RS256'" in rejected(mint_token("service", "points", settings=rs), HS)


def test_algorithm_confusion_hs256_signed_with_the_public_key(rs_verify_only, rsa_keys) -> None:
    # The classic forgery: an attacker signs HS256 with the (public) RSA key as the HMAC secret.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(
        claims(kind="staff", sub="mallory", roles=["operator"])).encode())
    signature = hmac.new(rsa_keys[1].encode(), signing_input.encode(), hashlib.sha256).digest()
    assert "algorithm 'HS256'" in rejected(f"{signing_input}.{b64(signature)}", rs_verify_only)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "wizard"}, "unknown kind"),
        ({"kind": "anonymous"}, "unknown kind"),
        ({"kind": DROP}, "unknown kind"),
        ({"kind": ["staff"]}, "unknown kind"),
        ({"kind": "MEMBER"}, "unknown kind"),
        ({"sub": DROP}, "'sub'"),
        ({"sub": ""}, "needs a subject"),
        ({"sub": 42}, "invalid token"),
        ({"sub": "not-a-uuid"}, "must be a UUID"),
        ({"kind": "staff", "sub": "alice", "roles": ["root"]}, "unknown staff role"),
        ({"kind": "staff", "sub": "alice", "roles": ["operator", "root"]}, "unknown staff role"),
        ({"kind": "staff", "sub": "alice", "roles": []}, "at least one role"),
        ({"kind": "staff", "sub": "alice", "roles": "operator"}, "list of strings"),
        ({"roles": ["operator"]}, "has no roles"),
        ({"exp": DROP}, "'exp'"),
        ({"iat": DROP}, "'iat'"),
        ({"iss": DROP}, "'iss'"),
        ({"aud": DROP}, "'aud'"),
    ],
    ids=lambda v: str(v),
)
def test_bad_claims(overrides, message) -> None:
    assert message in rejected(craft(**overrides))


# --- Authorization header ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_header_is_anonymous(value) -> None:
    assert principal_from_authorization_header(value, HS) is ANONYMOUS


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_header(scheme) -> None:
    token = mint_token("member", MEMBER_ID, settings=HS)
    assert principal_from_authorization_header(f"{scheme} {token}", HS).is_member(MEMBER_ID)


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Token abc", "abc.def.ghi"])
def test_other_schemes_are_refused(value) -> None:
    with pytest.raises(Unauthenticated, match="scheme"):
        principal_from_authorization_header(value, HS)


@pytest.mark.parametrize("value", ["Bearer", "Bearer   "])
def test_bearer_without_token(value) -> None:
    with pytest.raises(Unauthenticated, match="no token"):
        principal_from_authorization_header(value, HS)


def test_bearer_with_bad_token_is_refused_not_anonymous() -> None:
    with pytest.raises(Unauthenticated, match="signature"):
        principal_from_authorization_header("Bearer " + craft(key="another-secret-of-at-least-thirty-two-bytes"), HS)


# --- service tokens ----------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    state = {"now": time.time()}
    monkeypatch.setattr(tokens, "_now", lambda: state["now"])
    monkeypatch.setattr(tokens, "_service_tokens", {})
    return state


def test_service_token_is_a_valid_service_principal(clock) -> None:
    assert verify_token(service_token("redemptions", HS), HS) == Principal(PrincipalKind.SERVICE, "redemptions")


def test_service_token_is_cached(clock) -> None:
    first = service_token("redemptions", HS)
    clock["now"] += 300  # half of the 600 s lifetime
    assert service_token("redemptions", HS) == first


def test_service_token_is_refreshed_before_expiry(clock) -> None:
    first = service_token("redemptions", HS)
    clock["now"] += 500  # 100 s left: less than a fifth of the lifetime
    second = service_token("redemptions", HS)
    assert second != first
    exp = lambda t: jwt.decode(t, options={"verify_signature": False})["exp"]  # noqa: E731
    assert exp(second) > exp(first)
    assert service_token("redemptions", HS) == second


def test_service_tokens_differ_per_service_and_per_signing_configuration(clock) -> None:
    assert verify_token(service_token("points", HS), HS).subject == "points"
    assert verify_token(service_token("members", HS), HS).subject == "members"
    rotated = HS.model_copy(update={"jwt_secret": "a-rotated-secret-of-at-least-thirty-two-bytes"})
    assert verify_token(service_token("points", rotated), rotated).subject == "points"


# --- verified tokens are remembered until they expire --------------------------------------------


@pytest.fixture
def remembered(monkeypatch, clock):
    monkeypatch.setattr(tokens, "verified_tokens", tokens.VerifiedTokens(max_entries=3))
    calls: list[str] = []
    verify = tokens.verify_token

    def counting(token, settings=None):  # noqa: ANN001, ANN202
        calls.append(token)
        return verify(token, settings)

    monkeypatch.setattr(tokens, "verify_token", counting)
    return calls


def test_a_verified_token_is_not_verified_again(remembered, clock) -> None:
    token = mint_token("member", MEMBER_ID, ttl_seconds=600, settings=HS)
    for _ in range(3):
        assert principal_from_authorization_header(f"Bearer {token}", HS) == Principal(PrincipalKind.MEMBER, MEMBER_ID)
    assert remembered == [token]


def test_a_remembered_token_is_checked_again_once_it_expires(remembered, clock) -> None:
    token = mint_token("member", MEMBER_ID, ttl_seconds=600, settings=HS)
    principal_from_authorization_header(f"Bearer {token}", HS)
    clock["now"] += 599
    principal_from_authorization_header(f"Bearer {token}", HS)  # still remembered
    clock["now"] += 2  # past `exp`: the memory no longer answers, the full check does
    principal_from_authorization_header(f"Bearer {token}", HS)
    assert remembered == [token, token]


def test_other_settings_verify_afresh(remembered, clock) -> None:
    token = mint_token("member", MEMBER_ID, ttl_seconds=600, settings=HS)
    principal_from_authorization_header(f"Bearer {token}", HS)
    other = HS.model_copy(update={"jwt_secret": "another-secret-of-at-least-thirty-two-bytes"})
    with pytest.raises(Unauthenticated, match="signature"):
        principal_from_authorization_header(f"Bearer {token}", other)


def test_refusals_are_not_remembered(remembered, clock) -> None:
    forged = craft(key="another-secret-of-at-least-thirty-two-bytes")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            principal_from_authorization_header(f"Bearer {forged}", HS)
    assert remembered == [forged, forged]


def test_the_memory_is_bounded(remembered, clock) -> None:
    minted = [mint_token("member", MEMBER_ID, ttl_seconds=600, settings=HS) for _ in range(4)]
    for token in minted:
        principal_from_authorization_header(f"Bearer {token}", HS)
    principal_from_authorization_header(f"Bearer {minted[0]}", HS)  # the oldest was let go: checked again
    principal_from_authorization_header(f"Bearer {minted[3]}", HS)  # the newest is still remembered
    assert remembered == [*minted, minted[0]]
