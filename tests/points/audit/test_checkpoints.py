"""Signed checkpoints: a history rewritten together with every hash and the stored head passes the
chain check but not the checkpoint; forged, removed or replaced checkpoint files are reported."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from service_keys_env import public_keys
from sqlalchemy import select, text

from services.points.audit import checkpoint_files as files
from services.points.audit import store
from services.points.audit.checkpoint_verify import verify_against_checkpoint
from services.points.audit.checkpoints import CheckpointKeyMissing, directory, signing_key, take_checkpoint, take_if_due
from services.points.audit.service import verify_chains
from services.points.config import reset_points_settings_cache
from services.points.ledger.chain import transaction_hash
from services.points.models import GENESIS_HASH, LedgerTransaction
from shared.auth import OPERATOR as OPERATOR_ROLE
from shared.auth import Principal, PrincipalKind
from shared.errors import Conflict, Forbidden
from shared.settings import reset_settings_cache
from shared.timeutil import utcnow

OPERATOR = Principal(PrincipalKind.STAFF, "ops", frozenset({OPERATOR_ROLE}))
SERVICE = Principal(PrincipalKind.SERVICE, "redemptions")
TRANSACTIONS = LedgerTransaction.__table__


@pytest.fixture(autouse=True)
def checkpoint_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv("ABG_POINTS_CHECKPOINT_DIR", str(folder))
    reset_points_settings_cache()
    yield folder
    reset_points_settings_cache()


async def _member(kit, transactions: int = 4) -> uuid.UUID:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    for i in range(transactions):
        await kit.earn(member, partner, 10 * (i + 1))
    return member


async def _ids(kit, member: uuid.UUID) -> list[uuid.UUID]:  # noqa: ANN001
    async with kit.db.engine.connect() as c:
        rows = await c.execute(select(TRANSACTIONS.c.id).where(TRANSACTIONS.c.member_id == member).order_by(TRANSACTIONS.c.sequence))
        return [r.id for r in rows]


async def _rewrite(kit, member: uuid.UUID, sequence: int) -> uuid.UUID:  # noqa: ANN001
    """What a superuser can do: change an entry's amount, then recompute every hash of the chain
    with the ledger's own hash function and store the new head, so the chain holds again."""
    tx_id = (await _ids(kit, member))[sequence - 1]
    async with kit.db.engine.begin() as c:
        await c.execute(text("SET LOCAL session_replication_role = replica"))
        await c.execute(text("UPDATE points.postings SET amount = amount + 1000 WHERE transaction_id = :t AND amount > 0"), {"t": tx_id})
        await c.execute(text("UPDATE points.postings SET amount = amount - 1000 WHERE transaction_id = :t AND amount < 0"), {"t": tx_id})
    chain = None
    async for batch in store.chains(kit.db, batch=1000):
        chain = next((ch for ch in batch if ch.member_id == member), chain)
    assert chain is not None
    prev = GENESIS_HASH
    async with kit.db.engine.begin() as c:
        await c.execute(text("SET LOCAL session_replication_role = replica"))
        for tx in chain.transactions:
            new = transaction_hash(
                prev, id=tx.id, member_id=tx.member_id, sequence=tx.sequence, kind=tx.kind, actor=tx.actor,
                reference=tx.reference, detail=tx.detail, created_at=tx.created_at, legs=tx.legs,
            )
            await c.execute(text("UPDATE points.ledger_transactions SET prev_hash = :p, hash = :h WHERE id = :t"), {"p": prev, "h": new, "t": tx.id})
            prev = new
        await c.execute(text("UPDATE points.member_accounts SET chain_head = :h WHERE member_id = :m"), {"h": prev, "m": member})
    return tx_id


async def test_an_intact_ledger_verifies_against_its_checkpoint(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    first, second = await _member(kit), await _member(kit, 2)
    taken = await take_checkpoint(kit.db, OPERATOR)
    assert taken.written and taken.checkpoint.number == 1 and taken.checkpoint.previous == files.GENESIS
    assert {(leaf.member_id, leaf.sequence) for leaf in taken.checkpoint.leaves} == {(first, 4), (second, 2)}
    assert files.numbers(checkpoint_dir) == [1]
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert result.ok, result.problems
    assert result.checkpoints == 1 and result.latest.number == 1 and result.chains == 2 and result.transactions == 6


async def test_a_rewritten_history_with_recomputed_hashes_is_caught_by_the_checkpoint(kit) -> None:  # noqa: ANN001
    member, untouched = await _member(kit), await _member(kit)
    await take_checkpoint(kit.db, OPERATOR)
    rewritten = await _rewrite(kit, member, 2)

    assert (await verify_chains(kit.db, OPERATOR)).ok  # the chain alone cannot tell
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert not result.ok
    (problem,) = result.problems
    assert problem.member_id == member and problem.checkpoint == 1 and "rewritten" in problem.reason
    assert (problem.first_sequence, problem.sequence) == (1, 4)  # one checkpoint: somewhere in 1..4
    assert untouched not in {p.member_id for p in result.problems}
    assert rewritten in await _ids(kit, member)


async def test_earlier_checkpoints_name_the_rewritten_entry(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    for points in (10, 20, 30):
        await kit.earn(member, partner, points)
        await take_checkpoint(kit.db, OPERATOR)
    rewritten = await _rewrite(kit, member, 2)
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    (problem,) = result.problems
    assert problem.member_id == member and problem.checkpoint == 3
    assert problem.first_sequence == problem.sequence == 2 and problem.transaction_id == rewritten
    assert "entry 2" in problem.reason


async def test_entries_after_the_latest_checkpoint_are_held_to_the_chain(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = await _member(kit, 2)
    await take_checkpoint(kit.db, OPERATOR)
    await kit.earn(member, partner, 5)
    newer = await _member(kit, 1)
    assert (await verify_against_checkpoint(kit.db, OPERATOR)).ok
    last = (await _ids(kit, member))[-1]
    async with kit.db.engine.begin() as c:
        await c.execute(text("SET LOCAL session_replication_role = replica"))
        await c.execute(text("UPDATE points.postings SET amount = amount + 1 WHERE transaction_id = :t AND amount > 0"), {"t": last})
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    (problem,) = result.problems
    assert problem.member_id == member and problem.sequence == 3 and problem.transaction_id == last and "altered" in problem.reason
    assert newer not in {p.member_id for p in result.problems}


async def test_a_forged_checkpoint_is_reported_and_not_trusted(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    member = await _member(kit)
    await take_checkpoint(kit.db, OPERATOR)
    await _rewrite(kit, member, 3)
    # The attacker writes a checkpoint of the rewritten heads, signed with a key of their own.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    genuine = files.read(checkpoint_dir, 1)
    from services.points.audit.checkpoints import read_heads

    heads = tuple(await read_heads(kit.db))
    forged = files.sign(
        files.Checkpoint(2, utcnow(), genuine.hash, files.merkle_root(heads), heads), Ed25519PrivateKey.generate()
    )
    files.write(checkpoint_dir, forged)
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert not result.ok and result.latest.number == 1
    reasons = [p.reason for p in result.problems]
    assert any("checkpoint 2" in r and "signature" in r for r in reasons)
    assert any(p.member_id == member and "rewritten" in p.reason for p in result.problems)
    with pytest.raises(Conflict):  # nothing is built on a checkpoint that is not ours
        await take_checkpoint(kit.db, OPERATOR)


async def test_an_edited_checkpoint_file_is_reported(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    await _member(kit)
    await take_checkpoint(kit.db, OPERATOR)
    path = checkpoint_dir / files.file_name(1)
    path.write_text(path.read_text().replace("4,", "3,", 1))
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert not result.ok and result.latest is None
    assert any("signature" in p.reason for p in result.problems)


async def test_a_removed_checkpoint_in_the_middle_is_reported(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    for points in (10, 20, 30):
        await kit.earn(member, partner, points)
        await take_checkpoint(kit.db, OPERATOR)
    assert files.numbers(checkpoint_dir) == [1, 2, 3]
    (checkpoint_dir / files.file_name(2)).unlink()
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert not result.ok and result.latest.number == 3
    assert [(p.checkpoint, p.reason) for p in result.problems] == [(2, "checkpoint 2 is missing (removed)")]


async def test_a_replaced_checkpoint_breaks_the_file_chain(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = uuid.uuid4()
    await kit.earn(member, partner, 10)
    await take_checkpoint(kit.db, OPERATOR)
    await kit.earn(member, partner, 10)
    await take_checkpoint(kit.db, OPERATOR)
    # Someone holding the key re-signs checkpoint 1 differently: checkpoint 2 no longer follows it.
    one = files.read(checkpoint_dir, 1)
    (checkpoint_dir / files.file_name(1)).unlink()
    files.write(checkpoint_dir, files.sign(files.Checkpoint(1, one.taken_at + timedelta(seconds=1), one.previous, one.root, one.leaves), signing_key()))
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert [p.checkpoint for p in result.problems] == [2] and "does not follow" in result.problems[0].reason


async def test_no_checkpoint_is_reported(kit) -> None:  # noqa: ANN001
    await _member(kit, 1)
    result = await verify_against_checkpoint(kit.db, OPERATOR)
    assert not result.ok and result.latest is None and "no checkpoint" in result.problems[0].reason


async def test_a_checkpoint_is_written_only_when_a_head_moved(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = await _member(kit, 1)
    assert (await take_checkpoint(kit.db, OPERATOR)).written
    again = await take_checkpoint(kit.db, OPERATOR)
    assert not again.written and again.checkpoint.number == 1
    await kit.earn(member, partner, 1)
    second = await take_checkpoint(kit.db, OPERATOR)
    assert second.written and second.checkpoint.number == 2 and second.checkpoint.previous == files.read(checkpoint_dir, 1).hash
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == [files.file_name(1), files.file_name(2)]  # no temp files left


async def test_a_taken_number_is_never_overwritten(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    await _member(kit, 1)
    taken = await take_checkpoint(kit.db, OPERATOR)
    before = (checkpoint_dir / files.file_name(1)).read_bytes()
    with pytest.raises(FileExistsError):
        files.write(checkpoint_dir, taken.checkpoint)
    assert (checkpoint_dir / files.file_name(1)).read_bytes() == before


async def test_the_job_takes_a_checkpoint_when_the_latest_is_older_than_the_interval(kit, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member = await _member(kit, 1)
    monkeypatch.setenv("ABG_POINTS_CHECKPOINT_INTERVAL_SECONDS", "600")
    reset_points_settings_cache()
    now = utcnow()
    assert (await take_if_due(kit.db, now=now)).checkpoint.number == 1
    await kit.earn(member, partner, 1)
    assert await take_if_due(kit.db, now=now + timedelta(seconds=599)) is None
    assert (await take_if_due(kit.db, now=now + timedelta(seconds=600))).checkpoint.number == 2
    monkeypatch.setenv("ABG_POINTS_CHECKPOINT_INTERVAL_SECONDS", "0")
    reset_points_settings_cache()
    assert await take_if_due(kit.db, now=now + timedelta(days=1)) is None


async def test_only_operators_take_and_verify_checkpoints(kit) -> None:  # noqa: ANN001
    with pytest.raises(Forbidden):
        await take_checkpoint(kit.db, SERVICE)
    with pytest.raises(Forbidden):
        await verify_against_checkpoint(kit.db, SERVICE)


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABG_ENV", "production")
    for name, value in {"ABG_JWT_SECRET": "s" * 40, "ABG_MASTER_KEY": base64.b64encode(b"m" * 32).decode(),
                        "ABG_BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(), **public_keys()}.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    reset_points_settings_cache()
    try:
        with pytest.raises(CheckpointKeyMissing):
            signing_key()
        monkeypatch.setenv("ABG_POINTS_CHECKPOINT_KEY", base64.b64encode(b"k" * 32).decode())
        reset_points_settings_cache()
        assert signing_key().public_key() is not None
    finally:
        monkeypatch.undo()
        reset_settings_cache()
        reset_points_settings_cache()


def test_the_directory_defaults_under_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABG_POINTS_CHECKPOINT_DIR")
    reset_points_settings_cache()
    assert directory().name == "points-checkpoints"


async def test_no_checkpoint_vouches_for_a_history_rewritten_since_the_last(kit, checkpoint_dir: Path) -> None:  # noqa: ANN001
    partner = await kit.partner()
    member, other = await _member(kit), await _member(kit)
    await take_checkpoint(kit.db, OPERATOR)
    await _rewrite(kit, member, 2)
    await kit.earn(other, partner, 1)  # a head moved, so the job would sign the rewritten heads
    with pytest.raises(Conflict) as refused:
        await take_checkpoint(kit.db, OPERATOR)
    assert f"member {member}: entry 4 changed" in refused.value.message and str(other) not in refused.value.message
    assert files.numbers(checkpoint_dir) == [1]
    (problem,) = (await verify_against_checkpoint(kit.db, OPERATOR)).problems
    assert problem.member_id == member


async def test_a_shortened_chain_is_refused_and_reported(kit) -> None:  # noqa: ANN001
    member = await _member(kit)
    await take_checkpoint(kit.db, OPERATOR)
    last = (await _ids(kit, member))[-1]
    async with kit.db.engine.begin() as c:
        await c.execute(text("SET LOCAL session_replication_role = replica"))
        await c.execute(text("DELETE FROM points.postings WHERE transaction_id = :t"), {"t": last})
        await c.execute(text("DELETE FROM points.ledger_transactions WHERE id = :t"), {"t": last})
        prev = (await c.execute(text("SELECT hash FROM points.ledger_transactions WHERE member_id = :m AND sequence = 3"), {"m": member})).scalar_one()
        await c.execute(text("UPDATE points.member_accounts SET chain_length = 3, chain_head = :h WHERE member_id = :m"), {"h": prev, "m": member})
    assert (await verify_chains(kit.db, OPERATOR)).ok
    with pytest.raises(Conflict, match="ends before entry 4"):
        await take_checkpoint(kit.db, OPERATOR)
    (problem,) = (await verify_against_checkpoint(kit.db, OPERATOR)).problems
    assert problem.member_id == member and problem.sequence == 4 and "gone" in problem.reason


def test_the_points_app_does_not_start_in_production_without_a_checkpoint_key() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ABG_ENV": "production", "ABG_JWT_SECRET": "s" * 40,
           "ABG_MASTER_KEY": base64.b64encode(b"m" * 32).decode(), "ABG_BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(),
           **public_keys()}
    env.pop("ABG_POINTS_CHECKPOINT_KEY", None)
    start = [sys.executable, "-c", "import services.points.app"]
    refused = subprocess.run(start, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "ABG_POINTS_CHECKPOINT_KEY" in refused.stderr
    env["ABG_POINTS_CHECKPOINT_KEY"] = base64.b64encode(b"k" * 32).decode()
    started = subprocess.run(start, env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr


async def test_a_process_that_loses_the_race_for_a_number_builds_on_the_winner(kit, checkpoint_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from services.points.audit import checkpoints

    partner = await kit.partner()
    member = await _member(kit, 1)
    await take_checkpoint(kit.db, OPERATOR)
    await kit.earn(member, partner, 1)
    real_write = files.write
    raced: list[int] = []

    def write_after_another_process(folder: Path, checkpoint: files.Checkpoint) -> Path:
        if not raced:  # another process writes the same number between our read and our write
            raced.append(checkpoint.number)
            real_write(folder, files.sign(files.Checkpoint(checkpoint.number, utcnow(), checkpoint.previous, checkpoint.root, checkpoint.leaves), signing_key()))
        return real_write(folder, checkpoint)

    monkeypatch.setattr(checkpoints.files, "write", write_after_another_process)
    taken = await take_checkpoint(kit.db, OPERATOR)
    assert raced == [2] and not taken.written and taken.checkpoint.number == 2
    assert files.numbers(checkpoint_dir) == [1, 2]
    assert (await verify_against_checkpoint(kit.db, OPERATOR)).ok
