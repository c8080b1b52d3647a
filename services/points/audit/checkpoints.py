"""Taking signed checkpoints of every member's chain head.

The hash chain alone shows edits, but someone who can write the database can also recompute
every later hash and the account's stored head. A checkpoint pins each head where the database
cannot reach: signed with a key the database never holds, in files the database cannot write
(`checkpoint_files`). Verification (`checkpoint_verify`) later recomputes every chain from its
entries and must arrive at the signed heads. Entries after the latest checkpoint are covered by
the chain alone until the next one is taken, so the jobs loop takes one every
`checkpoint_interval_seconds`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, UUID

from services.points import access
from services.points.audit import checkpoint_files as files
from services.points.audit.checkpoint_files import Checkpoint, Leaf
from services.points.config import get_points_settings
from services.points.models import MemberAccount
from shared.auth import Principal
from shared.database import Database
from shared.errors import Conflict
from shared.settings import get_settings
from shared.timeutil import utcnow

log = logging.getLogger("abg.points.checkpoints")

_accounts = MemberAccount.__table__
_DEV_SEED = "development-only-secret-change-me:points-checkpoint"
# The stored hash at each (member, sequence) a checkpoint signed: a history rewritten since must
# change it (or break the chain), so the next checkpoint refuses to vouch for the rewrite.
_STORED_AT = text(
    "SELECT l.member_id, l.sequence, t.hash FROM unnest(:members, :sequences) AS l(member_id, sequence)"
    " LEFT JOIN points.ledger_transactions t ON t.member_id = l.member_id AND t.sequence = l.sequence"
).bindparams(bindparam("members", type_=ARRAY(UUID(as_uuid=True))), bindparam("sequences", type_=ARRAY(BIGINT)))
_ATTEMPTS = 3  # another process may take the same number first; then we build on its checkpoint


class CheckpointKeyMissing(RuntimeError):
    """Production without ABG_POINTS_CHECKPOINT_KEY: a known development key would sign nothing."""


def signing_key() -> Ed25519PrivateKey:
    configured = get_points_settings().checkpoint_key
    if configured:
        return files.private_key(configured)
    if get_settings().env == "production":
        raise CheckpointKeyMissing("production needs a real checkpoint key; set ABG_POINTS_CHECKPOINT_KEY")
    return files.private_key(base64.b64encode(hashlib.sha256(_DEV_SEED.encode()).digest()).decode())


def directory() -> Path:
    return get_points_settings().checkpoint_dir or get_settings().data_dir / "points-checkpoints"


@dataclass(frozen=True, slots=True)
class Taken:
    checkpoint: Checkpoint
    written: bool  # False: nothing changed since the latest checkpoint, which is returned


async def read_heads(db: Database) -> list[Leaf]:
    """Every member's chain head as the accounts state it, in member order (one statement: one snapshot)."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(_accounts.c.member_id, _accounts.c.chain_length, _accounts.c.chain_head)
            .where(_accounts.c.chain_length > 0)
            .order_by(_accounts.c.member_id)
        )
        return [Leaf(r.member_id, int(r.chain_length), r.chain_head) for r in rows]


async def moved_since(db: Database, previous: Checkpoint, heads: list[Leaf]) -> list[str]:
    """What no longer agrees with the previous checkpoint: entries it signed whose stored hash
    changed, and chains that got shorter or vanished. Empty: the new heads extend the signed ones."""
    now = {leaf.member_id: leaf.sequence for leaf in heads}
    found = [f"member {leaf.member_id}: its chain ends before entry {leaf.sequence}" for leaf in previous.leaves if now.get(leaf.member_id, 0) < leaf.sequence]
    signed = {leaf.member_id: leaf.hash for leaf in previous.leaves}
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            _STORED_AT, {"members": [leaf.member_id for leaf in previous.leaves], "sequences": [leaf.sequence for leaf in previous.leaves]}
        )
        found += [f"member {r.member_id}: entry {r.sequence} changed" for r in rows if r.hash is not None and r.hash != signed[r.member_id]]
    return found


def latest(folder: Path, key: Ed25519PrivateKey) -> Checkpoint | None:
    """The latest checkpoint, which a new one extends; refused if it is unreadable or not ours."""
    present = files.numbers(folder)
    if not present:
        return None
    try:
        checkpoint = files.read(folder, present[-1])
    except (OSError, ValueError) as e:
        raise Conflict(f"checkpoint {present[-1]} cannot be read ({e}); verify the ledger before taking another") from e
    if checkpoint.number != present[-1] or not files.signature_holds(checkpoint, key.public_key()):
        raise Conflict(f"checkpoint {present[-1]} is not signed by this key; verify the ledger before taking another")
    return checkpoint


async def take_checkpoint(db: Database, principal: Principal, *, now: datetime | None = None) -> Taken:
    """Signs every member's current head into the next checkpoint file (operators; the jobs loop)."""
    access.require_operator_or_system(principal)
    key, folder = signing_key(), directory()
    heads = await read_heads(db)
    root = files.merkle_root(heads)
    for _ in range(_ATTEMPTS):
        previous = latest(folder, key)
        if previous and previous.root == root:
            return Taken(previous, written=False)
        if previous and (moved := await moved_since(db, previous, heads)):
            log.error("points ledger checkpoint refused: %s", "; ".join(moved[:20]))
            raise Conflict(
                f"the ledger no longer agrees with checkpoint {previous.number} ({'; '.join(moved[:5])}); run verifyLedgerAgainstCheckpoint",
                members=len(moved),
            )
        checkpoint = files.sign(
            Checkpoint(
                number=previous.number + 1 if previous else 1,
                taken_at=now or utcnow(),
                previous=previous.hash if previous else files.GENESIS,
                root=root,
                leaves=tuple(heads),
            ),
            key,
        )
        try:
            files.write(folder, checkpoint)
        except FileExistsError:
            continue
        log.info("points ledger checkpoint %s: %s chains, root %s", checkpoint.number, len(heads), root)
        return Taken(checkpoint, written=True)
    raise Conflict("other processes kept taking checkpoints at the same time; try again")


async def take_if_due(db: Database, *, now: datetime | None = None) -> Taken | None:
    """The jobs loop's step: a checkpoint when the latest is older than the interval (any process
    may run this; the file names decide who writes)."""
    interval = get_points_settings().checkpoint_interval_seconds
    if interval <= 0:
        return None
    now = now or utcnow()
    folder = directory()
    present = files.numbers(folder)
    if present:
        try:
            newest = files.read(folder, present[-1])
        except (OSError, ValueError):
            newest = None  # take_checkpoint refuses and says why
        if newest and (now - newest.taken_at).total_seconds() < interval:
            return None
    return await take_checkpoint(db, access.SYSTEM, now=now)
