"""API keys through the service layer: issued once, stored as a keyed hash, capped, revocable;
exchanged for bearer tokens with one answer for every bad key, a brake on guessing, and a
consistent state under concurrent exchanges and revocations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from shared.auth.principals import PrincipalKind
from shared.auth.tokens import verify_token
from shared.database import Database
from shared.errors import Forbidden, InvalidInput, LimitExceeded, NotFound, Unauthenticated

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.credentials import rules, service
from services.benefits.credentials.answers import PartnerToken
from services.benefits.credentials.store import API_KEYS
from services.benefits.errors import RateLimited
from services.benefits.partners import service as partners
from tests.benefits.kit import MEMBER, OPERATOR, SERVICE, STRANGER, SUPPORT, as_partner, register


@pytest.fixture(autouse=True)
def no_remembered_failures() -> Iterator[None]:
    service.reset_failures()
    yield
    service.reset_failures()


async def _stored(database: Database, key_id: uuid.UUID):  # noqa: ANN202
    async with database.engine.connect() as connection:
        return (await connection.execute(select(API_KEYS).where(API_KEYS.c.id == key_id))).one()


async def test_a_key_is_shown_once_and_kept_only_as_a_keyed_hash(database: Database) -> None:
    partner = await register(database)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, "  till  system ")
    prefix, secret = rules.parse_key(issued.api_key)  # type: ignore[misc]
    assert issued.api_key == f"abk_{prefix}_{secret}" and len(secret) >= 43  # 32 random bytes
    assert (issued.key.prefix, issued.key.label, issued.key.created_by, issued.key.active) == (prefix, "till system", "staff:ops-1", True)
    row = await _stored(database, issued.key.id)
    assert secret.encode() not in row.secret_hash and row.secret_hash == rules.hash_secret(prefix, secret)
    assert row.secret_hash != rules.hash_secret(prefix, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    keys = (await service.keys_of(database, as_partner(partner.id), [partner.id]))[0]
    assert [k.id for k in keys or []] == [issued.key.id]


async def test_exchange_gives_a_short_lived_partner_token_and_notes_the_use(database: Database) -> None:
    partner = await register(database)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, None)
    token = await service.exchange_api_key(database, issued.api_key)
    principal = verify_token(token.access_token)
    assert (principal.kind, principal.subject) == (PrincipalKind.PARTNER, str(partner.id))
    assert (token.token_type, token.expires_in) == ("Bearer", 900)
    first_use = (await _stored(database, issued.key.id)).last_used_at
    assert first_use is not None
    await service.exchange_api_key(database, issued.api_key, client_id=str(partner.id))
    assert (await _stored(database, issued.key.id)).last_used_at == first_use  # at most once a minute


async def test_every_bad_key_gets_the_same_answer(database: Database) -> None:
    partner = await register(database)
    good = (await service.issue_api_key(database, OPERATOR, partner.id, None)).api_key
    revoked = await service.issue_api_key(database, OPERATOR, partner.id, None)
    await service.revoke_api_key(database, OPERATOR, revoked.key.id)
    prefix, secret = rules.parse_key(good)  # type: ignore[misc]
    unknown = f"abk_{'0' * 12}_{secret}"
    wrong_secret = f"abk_{prefix}_{'A' * 43}"
    messages = set()
    for key in (unknown, wrong_secret, revoked.api_key):
        with pytest.raises(service.InvalidClient) as refused:
            await service.exchange_api_key(database, key)
        messages.add((refused.value.code, refused.value.message))
    with pytest.raises(service.InvalidClient):
        await service.exchange_api_key(database, good, client_id=str(uuid.uuid4()))  # another partner's id
    assert messages == {("UNAUTHENTICATED", "invalid API key")}
    for malformed in ("", "abk_", "Bearer " + good, good + "x", "x" * 10_000, f"abk_{prefix.upper()}_{secret}"):
        with pytest.raises(service.InvalidClient):
            await service.exchange_api_key(database, malformed)


async def test_unknown_wrong_and_revoked_keys_do_the_same_work(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """No early exit on the paths an attacker can tell apart: one lookup, one hash, one comparison."""
    partner = await register(database)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, None)
    await service.revoke_api_key(database, OPERATOR, issued.key.id)
    prefix, secret = rules.parse_key(issued.api_key)  # type: ignore[misc]
    compared: list[bool] = []
    original = rules.same_hash
    monkeypatch.setattr(rules, "same_hash", lambda a, b: compared.append(len(a) == len(b) == 32) or original(a, b))
    for key in (f"abk_{'f' * 12}_{secret}", f"abk_{prefix}_{'B' * 43}", issued.api_key):
        with pytest.raises(service.InvalidClient):
            await service.exchange_api_key(database, key)
    assert compared == [True, True, True]


async def test_partners_that_are_not_active_get_no_tokens(database: Database) -> None:
    pending = await register(database, active=False)
    suspended = await register(database)
    keys = {p.id: (await service.issue_api_key(database, OPERATOR, p.id, None)).api_key for p in (pending, suspended)}
    await partners.suspend_partner(database, OPERATOR, suspended.id, "unpaid")
    for partner_id, key in keys.items():
        with pytest.raises(service.InvalidClient) as refused:
            await service.exchange_api_key(database, key)
        assert refused.value.message == "the key's partner is not active"
    await partners.activate_partner(database, OPERATOR, suspended.id)
    assert (await service.exchange_api_key(database, keys[suspended.id])).partner_id == suspended.id


async def test_failed_exchanges_of_one_prefix_are_braked_for_a_while(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_API_KEY_FAILURE_LIMIT", "3")
    reset_benefits_settings_cache()
    partner = await register(database)
    good = (await service.issue_api_key(database, OPERATOR, partner.id, None)).api_key
    other = (await service.issue_api_key(database, OPERATOR, partner.id, None)).api_key
    prefix, _ = rules.parse_key(good)  # type: ignore[misc]
    for _ in range(3):
        with pytest.raises(service.InvalidClient):
            await service.exchange_api_key(database, f"abk_{prefix}_{'C' * 43}")
    with pytest.raises(RateLimited) as braked:
        await service.exchange_api_key(database, good)  # even the right secret waits: the prefix is braked
    assert 0 < braked.value.extensions["retryAfter"] <= 301
    assert (await service.exchange_api_key(database, other)).partner_id == partner.id  # other keys are not


def test_the_brake_forgets_after_its_window_and_stays_bounded() -> None:
    now = [1000.0]
    limiter = rules.FailureLimiter(2, 60, max_prefixes=3, clock=lambda: now[0])
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") == 60
    now[0] += 59
    assert limiter.retry_after("a") == pytest.approx(1)
    now[0] += 2
    assert limiter.retry_after("a") is None
    for prefix in "bcde":
        limiter.failed(prefix)
        limiter.failed(prefix)
    assert limiter.retry_after("b") is None and limiter.retry_after("e") is not None  # the oldest was forgotten


async def test_the_cap_on_active_keys_holds_under_concurrent_issues(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_MAX_API_KEYS_PER_PARTNER", "3")
    reset_benefits_settings_cache()
    partner = await register(database)
    outcomes = await asyncio.gather(
        *(service.issue_api_key(database, OPERATOR, partner.id, f"k{i}") for i in range(10)), return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 3
    assert all(isinstance(o, LimitExceeded) for o in outcomes if isinstance(o, BaseException))
    made = [o for o in outcomes if not isinstance(o, BaseException)]
    await service.revoke_api_key(database, as_partner(partner.id), made[0].key.id)  # type: ignore[union-attr]
    assert (await service.issue_api_key(database, OPERATOR, partner.id, "rotated")).key.active


async def test_concurrent_exchanges_and_revocations_keep_one_state(database: Database) -> None:
    partner = await register(database)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, None)
    tokens = await asyncio.gather(*(service.exchange_api_key(database, issued.api_key) for _ in range(30)))
    assert {t.partner_id for t in tokens} == {partner.id}
    used = (await _stored(database, issued.key.id)).last_used_at
    revocations = await asyncio.gather(
        service.revoke_api_key(database, OPERATOR, issued.key.id),
        service.revoke_api_key(database, as_partner(partner.id), issued.key.id),
        *(service.revoke_api_key(database, OPERATOR, issued.key.id) for _ in range(5)),
    )
    row = await _stored(database, issued.key.id)
    assert {(r.revoked_at, r.revoked_by) for r in revocations} == {(row.revoked_at, row.revoked_by)}  # the first one stands
    assert row.last_used_at == used
    with pytest.raises(service.InvalidClient):
        await service.exchange_api_key(database, issued.api_key)


async def test_exchanges_racing_a_revocation_succeed_before_it_and_fail_after(database: Database) -> None:
    partner = await register(database)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, None)
    outcomes = await asyncio.gather(
        *(service.exchange_api_key(database, issued.api_key) for _ in range(20)),
        service.revoke_api_key(database, OPERATOR, issued.key.id),
        *(service.exchange_api_key(database, issued.api_key) for _ in range(20)),
        return_exceptions=True,
    )
    exchanges, revocation = outcomes[:20] + outcomes[21:], outcomes[20]
    assert not isinstance(revocation, BaseException) and not revocation.active  # type: ignore[union-attr]
    # Each exchange either ran before the revocation committed (a token) or after it (refused): nothing else.
    assert all(isinstance(o, (PartnerToken, service.InvalidClient)) for o in exchanges), exchanges
    with pytest.raises(service.InvalidClient):  # and from then on, never again
        await service.exchange_api_key(database, issued.api_key)


ROLES_THAT_MAY_NOT_ISSUE = [SUPPORT, SERVICE, MEMBER, STRANGER]


async def test_who_may_issue_and_revoke(database: Database) -> None:
    partner = await register(database)
    own = as_partner(partner.id)
    for who in (*ROLES_THAT_MAY_NOT_ISSUE, own):
        with pytest.raises(Forbidden):
            await service.issue_api_key(database, who, partner.id, None)
    issued = await service.issue_api_key(database, OPERATOR, partner.id, None)
    for who in ROLES_THAT_MAY_NOT_ISSUE:
        with pytest.raises(Forbidden):
            await service.revoke_api_key(database, who, issued.key.id)
    revoked = await service.revoke_api_key(database, own, issued.key.id)
    assert (revoked.active, revoked.revoked_by) == (False, f"partner:{partner.id}")
    with pytest.raises(NotFound):
        await service.revoke_api_key(database, OPERATOR, uuid.uuid4())
    with pytest.raises(NotFound):
        await service.issue_api_key(database, OPERATOR, uuid.uuid4(), None)
    with pytest.raises(InvalidInput):
        await service.issue_api_key(database, OPERATOR, partner.id, "l" * 101)
    from shared.auth.principals import ANONYMOUS

    for call in (service.issue_api_key(database, ANONYMOUS, partner.id, None), service.revoke_api_key(database, ANONYMOUS, issued.key.id)):
        with pytest.raises(Unauthenticated):
            await call
