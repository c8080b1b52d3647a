"""Types of the ledger checkpoints (taken by operators and the jobs loop; verified by operators)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from services.points.audit.checkpoint_files import Checkpoint
from services.points.audit.checkpoint_verify import CheckpointCheck, Problem
from services.points.audit.checkpoints import Taken
from services.points.schema.types import Member, member_ref


def _id(value: object) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type(description="Every member's chain head at one instant, signed and kept outside the database.")
class LedgerCheckpoint:
    number: int
    taken_at: datetime
    root: str = strawberry.field(description="Merkle root over (member, head sequence, head hash) in member order.")
    previous: str = strawberry.field(description="Hash of the previous checkpoint (zeros for the first).")
    chains: int

    @classmethod
    def of(cls, c: Checkpoint) -> LedgerCheckpoint:
        return cls(number=c.number, taken_at=c.taken_at, root=c.root, previous=c.previous, chains=len(c.leaves))


@strawberry.type
class TakenCheckpoint:
    checkpoint: LedgerCheckpoint
    written: bool = strawberry.field(description="False: nothing changed since the latest checkpoint, which is returned.")

    @classmethod
    def of(cls, t: Taken) -> TakenCheckpoint:
        return cls(checkpoint=LedgerCheckpoint.of(t.checkpoint), written=t.written)


@strawberry.type(description="What does not hold: a checkpoint file, or a member's entries.")
class CheckpointProblem:
    reason: str
    member: Member | None
    checkpoint: int | None
    sequence: int | None = strawberry.field(description="The entry concerned (of a range: its last).")
    first_sequence: int | None = strawberry.field(description="Of a range: its first entry.")
    transaction_id: strawberry.ID | None = strawberry.field(description="The entry at firstSequence (or sequence).")

    @classmethod
    def of(cls, p: Problem) -> CheckpointProblem:
        return cls(
            reason=p.reason, member=member_ref(p.member_id) if p.member_id else None, checkpoint=p.checkpoint,
            sequence=p.sequence, first_sequence=p.first_sequence, transaction_id=_id(p.transaction_id),
        )


@strawberry.type
class CheckpointVerification:
    ok: bool
    checkpoints: int
    latest: LedgerCheckpoint | None = strawberry.field(description="The latest valid checkpoint, which the chains were held to.")
    chains: int
    transactions: int
    problems: list[CheckpointProblem]

    @classmethod
    def of(cls, r: CheckpointCheck) -> CheckpointVerification:
        return cls(
            ok=r.ok, checkpoints=r.checkpoints, latest=LedgerCheckpoint.of(r.latest) if r.latest else None,
            chains=r.chains, transactions=r.transactions, problems=[CheckpointProblem.of(p) for p in r.problems],
        )
