"""Verifying the ledger against the signed checkpoints.

Three things are checked: the checkpoint files (each signed by our key, its leaves giving its
root, numbered without gaps, each naming its predecessor's hash); every member's chain recomputed
from its entries alone, from the genesis hash, never trusting a stored hash or head, must reach the
head the latest valid checkpoint signed; and the chain as `verify_chains` checks it (which covers
the entries after the checkpoint). A chain that no longer reaches its signed head was rewritten at
or before the signed sequence; the earlier checkpoints narrow down where.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.points import access
from services.points.audit import checkpoint_files as files
from services.points.audit import checkpoints, store
from services.points.audit.answers import MAX_PROBLEMS
from services.points.audit.checkpoint_files import Checkpoint, Leaf
from services.points.ledger.chain import Transaction, first_broken_link, transaction_hash
from services.points.models import GENESIS_HASH
from shared.auth import Principal
from shared.database import Database


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    member_id: uuid.UUID | None = None
    sequence: int | None = None  # the (last) entry concerned
    first_sequence: int | None = None  # a rewrite lies somewhere in first_sequence..sequence
    transaction_id: uuid.UUID | None = None  # the entry concerned (of a range: its first)
    checkpoint: int | None = None


@dataclass
class CheckpointCheck:
    ok: bool = True
    checkpoints: int = 0
    latest: Checkpoint | None = None  # the latest valid checkpoint, which the chains were held to
    chains: int = 0
    transactions: int = 0
    problems: list[Problem] = field(default_factory=list)

    def problem(self, problem: Problem) -> None:
        self.ok = False
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def check_files(folder: Path, key: Ed25519PublicKey, result: CheckpointCheck) -> None:
    """The checkpoint files' own chain; sets `result.latest` to the latest one that is sound."""
    expected, previous = 1, None
    for number, checkpoint, unreadable in files.read_all(folder):
        result.checkpoints += 1
        for missing in range(expected, number):
            result.problem(Problem(f"checkpoint {missing} is missing (removed)", checkpoint=missing))
        expected = number + 1
        if checkpoint is None:
            result.problem(Problem(f"checkpoint {number} cannot be read: {unreadable}", checkpoint=number))
            previous = None
            continue
        if checkpoint.number != number or not files.signature_holds(checkpoint, key):
            result.problem(Problem(f"checkpoint {number}: the signature does not hold (forged or altered)", checkpoint=number))
            previous = None
            continue
        if files.merkle_root(checkpoint.leaves) != checkpoint.root:
            result.problem(Problem(f"checkpoint {number}: its leaves do not give its root", checkpoint=number))
            previous = None
            continue
        wanted = files.GENESIS if number == 1 else previous.hash if previous and previous.number == number - 1 else None
        if wanted is not None and checkpoint.previous != wanted:
            result.problem(Problem(f"checkpoint {number} does not follow checkpoint {number - 1} (replaced)", checkpoint=number))
        previous = result.latest = checkpoint
    if not result.checkpoints:
        result.problem(Problem("no checkpoint has been taken: nothing vouches for the chain heads"))


def recomputed_hashes(transactions: list[Transaction]) -> dict[int, str]:
    """Sequence -> the hash the chain has there when recomputed from the entries alone."""
    hashes, prev = {}, GENESIS_HASH
    for tx in transactions:
        prev = transaction_hash(
            prev, id=tx.id, member_id=tx.member_id, sequence=tx.sequence, kind=tx.kind, actor=tx.actor,
            reference=tx.reference, detail=tx.detail, created_at=tx.created_at, legs=tx.legs,
        )
        hashes[tx.sequence] = prev
    return hashes


def _narrow(folder: Path, key: Ed25519PublicKey, suspects: dict[uuid.UUID, dict[int, str]]) -> dict[uuid.UUID, tuple[int, int]]:
    """Per suspect member: (last sequence an earlier checkpoint still vouches for, first it does not)."""
    vouched: dict[uuid.UUID, int] = {}
    denied: dict[uuid.UUID, int] = {}
    for _, checkpoint, _ in files.read_all(folder):
        if checkpoint is None or not files.signature_holds(checkpoint, key):
            continue
        for leaf in checkpoint.leaves:
            hashes = suspects.get(leaf.member_id)
            if hashes is None:
                continue
            if hashes.get(leaf.sequence) == leaf.hash:
                vouched[leaf.member_id] = max(vouched.get(leaf.member_id, 0), leaf.sequence)
            else:
                denied[leaf.member_id] = min(denied.get(leaf.member_id, leaf.sequence), leaf.sequence)
    return {m: (vouched.get(m, 0), denied[m]) for m in suspects if m in denied}


async def verify_against_checkpoint(db: Database, principal: Principal, *, batch: int = 200) -> CheckpointCheck:
    """Operators: the checkpoint files, and every chain against the latest valid checkpoint."""
    access.require_operator(principal)
    key, folder = checkpoints.signing_key().public_key(), checkpoints.directory()
    result = CheckpointCheck()
    check_files(folder, key, result)
    leaves: dict[uuid.UUID, Leaf] = {leaf.member_id: leaf for leaf in result.latest.leaves} if result.latest else {}
    number = result.latest.number if result.latest else None

    for member_id in await store.members_without_accounts(db):
        result.problem(Problem("transactions of a member with no account", member_id=member_id))
    suspects: dict[uuid.UUID, dict[int, str]] = {}
    ids: dict[uuid.UUID, dict[int, uuid.UUID]] = {}
    signed_at: dict[uuid.UUID, int] = {}  # suspect -> the sequence the latest checkpoint signed
    async for chains in store.chains(db, batch=batch):
        for chain in chains:
            result.chains += 1
            result.transactions += len(chain.transactions)
            broken = first_broken_link(chain.member_id, chain.transactions, genesis=GENESIS_HASH, head_length=chain.length, head_hash=chain.head)
            if broken:
                result.problem(Problem(broken.reason, chain.member_id, broken.sequence, None, broken.transaction_id))
            leaf = leaves.pop(chain.member_id, None)
            if leaf is None:
                continue  # no entries when the checkpoint was taken: the chain alone covers them
            # An intact chain's stored hashes are the ones recomputed from genesis: no need to hash twice.
            hashes = recomputed_hashes(chain.transactions) if broken else {tx.sequence: tx.hash for tx in chain.transactions}
            if leaf.sequence not in hashes:
                result.problem(Problem(
                    f"checkpoint {number} vouches for {leaf.sequence} entries, but entry {leaf.sequence} is gone",
                    chain.member_id, leaf.sequence, None, None, number,
                ))
            elif hashes[leaf.sequence] != leaf.hash:
                suspects[chain.member_id] = hashes
                ids[chain.member_id] = {tx.sequence: tx.id for tx in chain.transactions}
                signed_at[chain.member_id] = leaf.sequence
    for leaf in leaves.values():
        result.problem(Problem(
            f"checkpoint {number} vouches for {leaf.sequence} entries of a member whose account is gone",
            leaf.member_id, leaf.sequence, None, None, number,
        ))
    narrowed = _narrow(folder, key, suspects)
    for member_id in sorted(suspects):
        vouched, denied = narrowed.get(member_id, (0, signed_at[member_id]))
        where = f"entry {denied}" if vouched + 1 == denied else f"entries {vouched + 1}..{denied}"
        result.problem(Problem(
            f"rewritten: the entries no longer hash to the head checkpoint {number} signed; the change is in {where}",
            member_id, denied, vouched + 1, ids[member_id].get(vouched + 1), number,
        ))
    return result
