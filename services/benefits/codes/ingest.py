"""Codes into a pool: uploaded (a list, or a stream of 100,000s in bounded memory) or generated.

One upload is one transaction: either every accepted code is in the pool and the upload recorded,
or nothing is. Codes go in batches of `code_batch_size` in one multi-row INSERT … ON CONFLICT
(code_hash) DO NOTHING RETURNING id each: a code whose hash is already taken (in any pool) is
refused and reported by its line. An upload is idempotent by (benefit, key): the claim on the key
is the first write, so a concurrent upload with the same key waits for this one and then compares
fingerprints (same content: this one's answer; other content: IDEMPOTENCY_KEY_REUSED).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import access
from services.benefits.codes import keys, lowstock, rules, store
from services.benefits.codes.answers import LineErrorAnswer, UploadAnswer
from services.benefits.codes.generate import DEFAULT_ALPHABET, DEFAULT_LENGTH, CodeFormat
from services.benefits.codes.upload import CodeUpload
from services.benefits.config import get_benefits_settings
from shared.auth.principals import Principal
from shared.database import Database
from shared.database import is_retryable
from shared.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
from shared.idempotency import check_key, fingerprint
from shared.ids import new_id
from shared.timeutil import utcnow

DUPLICATE = "DUPLICATE"
ALREADY_EXISTS = "ALREADY_EXISTS"
_GENERATION_ROUNDS = 20  # batches in a row that may add nothing before the code space counts as full
_CROWD_SAMPLE = 1000  # after this many codes tried, mostly taken ones mean the space is crowded


# --- operations ----------------------------------------------------------------------------------------


async def upload_codes(
    db: Database, principal: Principal, *, benefit_id: uuid.UUID, codes: Sequence[str], idempotency_key: str
) -> UploadAnswer:
    """The GraphQL upload: a list of at most `max_codes_per_call` codes."""
    settings = get_benefits_settings()
    check_key(idempotency_key)
    if not codes:
        raise InvalidInput("codes must not be empty", field="codes")
    if len(codes) > settings.max_codes_per_call:
        raise InvalidInput(
            f"at most {settings.max_codes_per_call} codes per call; use the bulk upload for more", field="codes"
        )

    async def lines() -> AsyncIterator[str]:
        for code in codes:
            yield code

    return await db.run_transaction(lambda s: _upload(s, principal, benefit_id, idempotency_key, lines()))


async def upload_stream(
    db: Database, principal: Principal, *, benefit_id: uuid.UUID, chunks: AsyncIterable[bytes], idempotency_key: str
) -> UploadAnswer:
    """The bulk upload: a byte stream, one code per line, read and stored batch by batch. Not
    retried (a stream is read once): a clash with a concurrent upload of the same codes is a
    CONFLICT that the partner resolves by sending again with the same key."""
    check_key(idempotency_key)
    try:
        async with db.transaction() as session:
            return await _upload(session, principal, benefit_id, idempotency_key, chunks)
    except DBAPIError as error:
        if is_retryable(error):
            raise Conflict("the upload clashed with a concurrent upload of the same codes; send it again with the same key") from None
        raise


async def generate_codes(
    db: Database,
    principal: Principal,
    *,
    benefit_id: uuid.UUID,
    count: int,
    length: int | None,
    alphabet: str | None,
    idempotency_key: str,
) -> UploadAnswer:
    """`count` new cryptographically random codes (with a check character) into the pool."""
    settings = get_benefits_settings()
    check_key(idempotency_key)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= settings.max_generated_codes:
        raise InvalidInput(f"count must be between 1 and {settings.max_generated_codes}", field="count")
    fmt = CodeFormat(alphabet if alphabet is not None else DEFAULT_ALPHABET, length if length is not None else DEFAULT_LENGTH)
    if count * 2 > len(fmt.alphabet) ** (fmt.length - 1):
        raise InvalidInput(f"{count} codes would take over half of all codes of this length and alphabet, which makes them "
                           "easy to guess; choose longer codes", field="length")
    print_ = fingerprint({"generate": count, "length": fmt.length, "alphabet": fmt.alphabet})

    async def work(session: AsyncSession) -> UploadAnswer:
        now = utcnow()
        benefit = await _pool(session, principal, benefit_id)
        upload_id = new_id()
        if not await store.claim_upload(session, upload_id=upload_id, benefit_id=benefit_id, key=idempotency_key,
                                        created_by=access.actor(principal), now=now):
            return await _replay(session, benefit_id, idempotency_key, print_)
        writer = _Writer(session, benefit, upload_id, now)
        await writer.open()
        remaining, idle, tried, taken = count, 0, 0, 0
        while remaining:
            batch = [fmt.generate() for _ in range(min(remaining, settings.code_batch_size))]
            added = await writer.write(batch, lines=None)
            remaining -= added
            idle = 0 if added else idle + 1
            tried, taken = tried + len(batch), taken + added
            # Most of the codes tried so far were taken: the space is over half full (codes there are
            # guessable). Judged over everything this call tried, not one batch: a small last batch
            # can be unlucky by chance alone, and a test of a few dozen draws would refuse at random.
            crowded = tried >= _CROWD_SAMPLE and taken * 2 < tried
            if crowded or idle >= _GENERATION_ROUNDS:
                raise Conflict("codes of this length and alphabet are mostly taken already; choose longer codes", field="length")
        return await _finish(session, writer, print_, [], 0)

    return await db.run_transaction(work)


# --- the upload ----------------------------------------------------------------------------------------


async def _upload(
    session: AsyncSession, principal: Principal, benefit_id: uuid.UUID, key: str,
    source: AsyncIterable[str] | AsyncIterable[bytes],
) -> UploadAnswer:
    settings = get_benefits_settings()
    now = utcnow()
    benefit = await _pool(session, principal, benefit_id)
    parser = CodeUpload(batch_size=settings.code_batch_size, max_codes=settings.max_codes_per_upload)
    digest = hashlib.sha256()
    upload_id = new_id()
    if not await store.claim_upload(session, upload_id=upload_id, benefit_id=benefit_id, key=key,
                                    created_by=access.actor(principal), now=now):
        async for batch in parser.batches(source):  # read it all only to compare its content
            _feed(digest, batch.codes, [(e.line, e.reason) for e in batch.errors])
        return await _replay(session, benefit_id, key, digest.hexdigest())
    writer = _Writer(session, benefit, upload_id, now)
    await writer.open()
    kept: list[dict[str, Any]] = []
    rejected = 0
    async for batch in parser.batches(source):
        _feed(digest, batch.codes, [(e.line, e.reason) for e in batch.errors])
        rejected += len(batch.errors)
        _keep(kept, [{"line": e.line, "reason": str(e.reason), "message": e.message, "column": e.column} for e in batch.errors])
        if batch.codes:
            await writer.write(list(batch.codes), lines=list(batch.lines))
    if parser.counts.lines == parser.counts.empty:
        raise InvalidInput("the upload holds no codes", field="codes")
    return await _finish(session, writer, digest.hexdigest(), kept, rejected)


class _Writer:
    """Encrypts and inserts codes into one pool for one upload, and notes the refused ones."""

    def __init__(self, session: AsyncSession, benefit: Any, upload_id: uuid.UUID, now: datetime) -> None:
        self.session, self.benefit, self.upload_id, self.now = session, benefit, upload_id, now
        self.accepted = 0
        self.refused: list[dict[str, Any]] = []  # the first ones, in line order
        self.refused_count = 0
        self._data_key = b""

    async def open(self) -> None:
        wrapped = self.benefit.data_key
        if wrapped is None:  # the first upload creates the pool's key (a concurrent one may win)
            wrapped = await store.set_data_key(self.session, self.benefit.id, keys.new_wrapped_key(self.benefit.id))
        self._data_key = keys.unwrap(self.benefit.id, bytes(wrapped))

    async def write(self, codes: list[str], *, lines: list[int] | None) -> int:
        """Inserts `codes`; returns how many went in. `lines` (None for generated codes, whose
        clashes are simply replaced) numbers each code for the refusal report."""
        forms = [rules.index_form(code) for code in codes]
        ids: list[uuid.UUID] = []
        hashes, ciphertexts, last4s = [], [], []
        for position, (code, form) in enumerate(zip(codes, forms)):
            if not form:
                self._refuse(lines, position, "BAD_CHARACTER", "holds only hyphens")
                continue
            code_id = new_id()
            ids.append(code_id)
            hashes.append(keys.code_hash(form))
            ciphertexts.append(keys.encrypt_code(self._data_key, code_id, code))
            last4s.append(form[-4:])
        if not ids:
            return 0
        inserted = await store.insert_codes(self.session, benefit_id=self.benefit.id, upload_id=self.upload_id, ids=ids,
                                            hashes=hashes, ciphertexts=ciphertexts, last4s=last4s, now=self.now)
        self.accepted += len(inserted)
        if lines is not None and len(inserted) < len(ids):
            await self._report_clashes(ids, hashes, inserted, [n for n, f in zip(lines, forms) if f])
        return len(inserted)

    async def _report_clashes(self, ids: list[uuid.UUID], hashes: list[bytes], inserted: set[uuid.UUID], lines: list[int]) -> None:
        clashing = [k for k, code_id in enumerate(ids) if code_id not in inserted]
        holders = await store.uploads_holding(self.session, [hashes[k] for k in clashing])
        for k in clashing:
            if holders.get(hashes[k]) == self.upload_id:
                self._refuse(lines, k, DUPLICATE, "repeats a code of an earlier line")
            else:
                self._refuse(lines, k, ALREADY_EXISTS, "is already in a code pool")

    def _refuse(self, lines: list[int] | None, position: int, reason: str, what: str) -> None:
        self.refused_count += 1
        line = lines[position] if lines is not None else 0
        _keep(self.refused, [{"line": line, "reason": reason, "message": f"line {line} {what}", "column": None}])


async def _finish(session: AsyncSession, writer: _Writer, print_: str, kept: list[dict[str, Any]], rejected: int) -> UploadAnswer:
    errors = sorted(kept + writer.refused, key=lambda e: e["line"])[: get_benefits_settings().upload_errors_kept]
    await store.finish_upload(session, writer.upload_id, fingerprint=print_, accepted=writer.accepted,
                              rejected=rejected + writer.refused_count, errors=errors)
    await lowstock.after_stock_rose(session, writer.benefit.id)
    (row,) = await store.uploads(session, [writer.upload_id])
    return upload_answer(row)


async def _replay(session: AsyncSession, benefit_id: uuid.UUID, key: str, print_: str) -> UploadAnswer:
    row = await store.upload_by_key(session, benefit_id, key)
    assert row is not None  # the claim found it
    if row.fingerprint != print_:
        raise IdempotencyKeyReused("this idempotency key was used with a different upload", idempotencyKey=key)
    return upload_answer(row)


async def _pool(session: AsyncSession, principal: Principal, benefit_id: uuid.UUID) -> Any:
    """The benefit whose pool the caller may fill: its partner or an operator; CODE delivery only."""
    benefit = await store.benefit(session, benefit_id)
    if benefit is None:
        raise NotFound("no such benefit", benefitId=str(benefit_id))
    access.require_partner_manager(principal, benefit.partner_id)
    if benefit.delivery != "CODE":
        raise InvalidInput("this benefit is delivered by recharge and has no code pool", field="benefitId")
    if benefit.status == "RETIRED":
        raise Conflict("this benefit is retired; its pool takes no more codes", benefitId=str(benefit_id))
    return benefit


def upload_answer(row: Any) -> UploadAnswer:
    return UploadAnswer(
        id=row.id, benefit_id=row.benefit_id, key=row.key, accepted=row.accepted, rejected=row.rejected,
        errors=[LineErrorAnswer.model_validate(e) for e in row.errors], created_at=row.created_at, created_by=row.created_by,
    )


def _feed(digest: Any, codes: Sequence[str], errors: Sequence[tuple[int, str]]) -> None:
    """The upload's fingerprint: its accepted codes and refused lines, in order."""
    for code in codes:
        digest.update(code.encode() + b"\n")
    for line, reason in errors:
        digest.update(f"\x00{line}:{reason}\n".encode())


def _keep(kept: list[dict[str, Any]], more: list[dict[str, Any]]) -> None:
    room = get_benefits_settings().upload_errors_kept - len(kept)
    if room > 0:
        kept.extend(more[:room])
