"""Uploading and generating codes through the service layer: what goes in, what is refused and
reported by line, idempotency, encryption at rest, and who may do it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from codes_kit import CS, OPERATOR, SERVICE, Kit, member_principal, partner_principal
from sqlalchemy import text

from services.benefits.codes import ingest, keys, rules
from services.benefits.codes.generate import DEFAULT_ALPHABET, CodeFormat
from services.benefits.config import reset_benefits_settings_cache
from shared.auth.principals import ANONYMOUS
from shared.crypto import CryptoError
from shared.errors import Conflict, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound, PayloadTooLarge, Unauthenticated


async def _stored(kit: Kit, benefit_id: uuid.UUID) -> list:
    async with kit.db.session() as session:
        return (await session.exec(text(  # type: ignore[call-overload]
            "SELECT id, code_hash, code_encrypted, last4, state FROM benefits.codes WHERE benefit_id = :b ORDER BY id"),
            params={"b": benefit_id})).all()


async def test_codes_go_in_encrypted_found_by_hash_and_bad_lines_are_reported(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    codes = ["ALPHA-0001", "beta0002", "", "ALPHA0001", "bad code", "x" * 65, "beta0002", "caf\u00e9", "GAMMA0003"]
    answer = await kit.upload(benefit, partner, codes)
    assert (answer.accepted, answer.rejected) == (3, 5)
    assert [(e.line, e.reason) for e in answer.errors] == [
        (4, "DUPLICATE"),  # the same code as line 1 once the hyphen is gone
        (5, "BAD_CHARACTER"), (6, "TOO_LONG"), (7, "DUPLICATE"), (8, "BAD_CHARACTER"),
    ]
    rows = await _stored(kit, benefit)
    assert len(rows) == 3 and {r.state for r in rows} == {"AVAILABLE"}
    assert {r.last4 for r in rows} == {"0001", "0002", "0003"}
    async with kit.db.session() as session:
        (wrapped,) = (await session.exec(text("SELECT data_key FROM benefits.benefits WHERE id = :b"),  # type: ignore[call-overload]
                                         params={"b": benefit})).one()
    data_key = keys.unwrap(benefit, bytes(wrapped))
    clear = sorted(keys.decrypt_code(data_key, r.id, bytes(r.code_encrypted)) for r in rows)
    assert clear == ["ALPHA-0001", "GAMMA0003", "beta0002"]  # kept as written
    for row in rows:
        assert b"0001" not in bytes(row.code_encrypted) and b"ALPHA" not in bytes(row.code_encrypted)
    assert {bytes(r.code_hash) for r in rows} == {keys.code_hash(rules.index_form(c)) for c in clear}
    # a ciphertext is bound to its row: moved to another code id, it does not decrypt
    with pytest.raises(CryptoError):
        keys.decrypt_code(data_key, rows[1].id, bytes(rows[0].code_encrypted))
    # and the data key to its benefit
    with pytest.raises(CryptoError):
        keys.unwrap(uuid.uuid4(), bytes(wrapped))


async def test_codes_already_in_any_pool_are_refused_by_line(kit: Kit) -> None:
    partner, benefit, codes = await kit.pool(3)
    other_partner = await kit.partner()
    other = await kit.benefit(other_partner)
    answer = await kit.upload(other, other_partner, ["NEW-1", codes[1], "NEW-2", codes[2].lower()])
    assert answer.accepted == 3  # a lower-cased code is another code (case is kept)
    assert [(e.line, e.reason, e.message) for e in answer.errors] == [(2, "ALREADY_EXISTS", "line 2 is already in a code pool")]
    again = await kit.upload(benefit, partner, [codes[0], "FRESH-9"])
    assert (again.accepted, again.rejected) == (1, 1) and again.errors[0].reason == "ALREADY_EXISTS"


async def test_an_upload_is_idempotent_by_benefit_and_key(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    first = await kit.upload(benefit, partner, ["K1", "K2", "K1"], key="batch-1")
    replay = await kit.upload(benefit, partner, ["K1", "K2", "K1"], key="batch-1")
    assert replay == first and (first.accepted, first.rejected) == (2, 1)
    assert len(await _stored(kit, benefit)) == 2
    with pytest.raises(IdempotencyKeyReused):
        await kit.upload(benefit, partner, ["K1", "K3"], key="batch-1")
    # the key is per benefit
    other = await kit.benefit(partner)
    assert (await kit.upload(other, partner, ["K9"], key="batch-1")).accepted == 1


async def test_concurrent_uploads_with_one_key_store_once(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    codes = [f"SAME-{i}" for i in range(300)]
    answers = await asyncio.gather(*(kit.upload(benefit, partner, codes, key="one-key") for _ in range(8)))
    assert len({a.id for a in answers}) == 1 and answers[0].accepted == 300
    assert len(await _stored(kit, benefit)) == 300


async def test_concurrent_uploads_of_overlapping_codes_take_each_code_once(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    batches = [[f"OVL-{(i * 50 + j) % 400}" for j in range(200)] for i in range(6)]
    results = await asyncio.gather(*(kit.upload(benefit, partner, b) for b in batches), return_exceptions=True)
    answers = [r for r in results if not isinstance(r, BaseException)]
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException)), results
    assert answers, results
    rows = await _stored(kit, benefit)
    assert len(rows) == len({bytes(r.code_hash) for r in rows}) == sum(a.accepted for a in answers)


async def test_bad_input_is_refused_before_anything_is_written(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    recharge = await kit.benefit(partner, delivery="RECHARGE")
    me = partner_principal(partner)
    for codes, field in (([], "codes"), ([f"C{i}" for i in range(10_001)], "codes"), (["", "  "], "codes")):
        with pytest.raises(InvalidInput) as refused:
            await ingest.upload_codes(kit.db, me, benefit_id=benefit, codes=codes, idempotency_key=kit.key())
        assert refused.value.extensions["field"] == field
    huge = await ingest.upload_codes(kit.db, me, benefit_id=benefit, codes=["x" * 1_000_000, "\x00\x01", "ok-1"],
                                     idempotency_key=kit.key())
    assert (huge.accepted, [(e.line, e.reason) for e in huge.errors]) == (1, [(1, "TOO_LONG"), (2, "BAD_CHARACTER")])
    for key in ("", " ", "k" * 201):
        with pytest.raises(InvalidInput):
            await ingest.upload_codes(kit.db, me, benefit_id=benefit, codes=["A1"], idempotency_key=key)
    with pytest.raises(InvalidInput) as refused:
        await ingest.upload_codes(kit.db, me, benefit_id=recharge, codes=["A1"], idempotency_key=kit.key())
    assert refused.value.extensions["field"] == "benefitId"
    with pytest.raises(InvalidInput):
        await ingest.generate_codes(kit.db, me, benefit_id=recharge, count=1, length=None, alphabet=None, idempotency_key=kit.key())
    with pytest.raises(NotFound):
        await ingest.upload_codes(kit.db, me, benefit_id=uuid.uuid4(), codes=["A1"], idempotency_key=kit.key())
    await kit.set_status(benefit, "RETIRED")
    with pytest.raises(Conflict):
        await ingest.upload_codes(kit.db, me, benefit_id=benefit, codes=["A1"], idempotency_key=kit.key())
    assert await kit.scalar("SELECT count(*) FROM benefits.codes") == 1  # only the one good code of the huge upload
    assert await kit.scalar("SELECT count(*) FROM benefits.code_uploads") == 1


async def test_only_the_owner_and_operators_fill_a_pool(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    other = partner_principal(await kit.partner())
    for who, error in ((other, Forbidden), (CS, Forbidden), (SERVICE, Forbidden), (member_principal(uuid.uuid4()), Forbidden),
                       (ANONYMOUS, Unauthenticated)):
        with pytest.raises(error):
            await ingest.upload_codes(kit.db, who, benefit_id=benefit, codes=["A1"], idempotency_key=kit.key())
        with pytest.raises(error):
            await ingest.generate_codes(kit.db, who, benefit_id=benefit, count=1, length=None, alphabet=None, idempotency_key=kit.key())
    answer = await ingest.upload_codes(kit.db, OPERATOR, benefit_id=benefit, codes=["OPS-1"], idempotency_key=kit.key())
    assert answer.accepted == 1 and answer.created_by == "staff:ops-1"


async def test_generated_codes_are_random_valid_and_idempotent(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    me = partner_principal(partner)
    answer = await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=2500, length=10, alphabet=None, idempotency_key="gen-1")
    assert (answer.accepted, answer.rejected) == (2500, 0)
    replay = await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=2500, length=10, alphabet=None, idempotency_key="gen-1")
    assert replay == answer
    with pytest.raises(IdempotencyKeyReused):
        await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=2501, length=10, alphabet=None, idempotency_key="gen-1")
    rows = await _stored(kit, benefit)
    assert len(rows) == 2500
    wrapped = await kit.scalar("SELECT data_key FROM benefits.benefits WHERE id = :b", b=benefit)
    data_key = keys.unwrap(benefit, bytes(wrapped))  # type: ignore[arg-type]
    fmt = CodeFormat(DEFAULT_ALPHABET, 10)
    clear = [keys.decrypt_code(data_key, r.id, bytes(r.code_encrypted)) for r in rows[:200]]
    assert all(fmt.is_valid(code) and len(code) == 10 for code in clear)
    custom = await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=5, length=8, alphabet="ABCDEFGHJK",
                                         idempotency_key="gen-2")
    assert custom.accepted == 5
    for count, length, alphabet, field in ((0, None, None, "count"), (100_001, None, None, "count"), (1, 5, None, "length"),
                                           (1, 65, None, "length"), (1, None, "AAB", "alphabet"), (1, None, "ABC\u00e9DEFGHIJ", "alphabet")):
        with pytest.raises(InvalidInput) as refused:
            await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=count, length=length, alphabet=alphabet,
                                        idempotency_key=kit.key())
        assert refused.value.extensions["field"] == field


async def test_a_small_code_space_runs_out_with_a_clear_error(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    me = partner_principal(partner)
    small = {"length": 6, "alphabet": "ACDEFGHJKM"}  # 10^5 codes (the last character is the check)
    with pytest.raises(InvalidInput) as refused:  # over half the space: refused before any work
        await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=50_001, idempotency_key=kit.key(), **small)
    assert refused.value.extensions["field"] == "length"
    assert (await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=40_000, idempotency_key=kit.key(), **small)).accepted == 40_000
    # another 40,000 would fill the space to 80 %: generation stops once most of a batch is taken
    with pytest.raises(Conflict) as crowded:
        await ingest.generate_codes(kit.db, me, benefit_id=benefit, count=40_000, idempotency_key=kit.key(), **small)
    assert crowded.value.extensions["field"] == "length"
    assert await kit.scalar("SELECT count(*) FROM benefits.codes") == 40_000


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_stream_of_100000_codes_goes_in_batch_by_batch(kit: Kit) -> None:
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    body = "".join(f"BULK-{i:07d}\r\n" for i in range(100_000)).encode() + b"bad line\nBULK-0000001\n"
    answer = await ingest.upload_stream(kit.db, partner_principal(partner), benefit_id=benefit,
                                        chunks=_chunks(body, 65_536), idempotency_key="bulk-1")
    assert (answer.accepted, answer.rejected) == (100_000, 2)
    assert [(e.line, e.reason) for e in answer.errors] == [(100_001, "BAD_CHARACTER"), (100_002, "DUPLICATE")]
    assert await kit.scalar("SELECT count(*) FROM benefits.codes WHERE benefit_id = :b", b=benefit) == 100_000
    replay = await ingest.upload_stream(kit.db, partner_principal(partner), benefit_id=benefit,
                                        chunks=_chunks(body, 4096), idempotency_key="bulk-1")
    assert replay == answer
    with pytest.raises(IdempotencyKeyReused):
        await ingest.upload_stream(kit.db, partner_principal(partner), benefit_id=benefit,
                                   chunks=_chunks(body[:-13], 4096), idempotency_key="bulk-1")


async def test_only_the_first_refused_lines_are_kept_but_the_counts_are_complete(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_UPLOAD_ERRORS_KEPT", "3")
    reset_benefits_settings_cache()
    partner, benefit, codes = await kit.pool(2)
    answer = await kit.upload(benefit, partner, ["ok-1", *["bad line"] * 5, codes[0], codes[1], "ok-2"])
    assert (answer.accepted, answer.rejected) == (2, 7)
    assert [e.line for e in answer.errors] == [2, 3, 4]


async def test_an_upload_over_the_size_limit_leaves_nothing_behind(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_BENEFITS_MAX_CODES_PER_UPLOAD", "1000")
    reset_benefits_settings_cache()
    partner = await kit.partner()
    benefit = await kit.benefit(partner)
    body = "".join(f"MANY-{i}\n" for i in range(1500)).encode()
    with pytest.raises(PayloadTooLarge):
        await ingest.upload_stream(kit.db, partner_principal(partner), benefit_id=benefit, chunks=_chunks(body, 1000),
                                   idempotency_key="too-many")
    assert await kit.scalar("SELECT count(*) FROM benefits.codes") == 0
    assert await kit.scalar("SELECT count(*) FROM benefits.code_uploads") == 0
