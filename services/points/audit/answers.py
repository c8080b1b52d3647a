"""What the audit answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.points.ledger.chain import BrokenLink

MAX_PROBLEMS = 50


@dataclass
class LedgerCheck:
    ok: bool = True
    transactions: int = 0
    members: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        self.ok = False
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)


@dataclass
class ChainCheck:
    ok: bool = True
    chains: int = 0
    transactions: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def first_broken_link(self) -> BrokenLink | None:
        """The earliest break: where tampering began (a truncated tail, which has no time, last)."""
        timed = [b for b in self.broken if b.created_at is not None]
        if timed:
            return min(timed, key=lambda b: (b.created_at, str(b.member_id)))  # type: ignore[arg-type, return-value]
        return self.broken[0] if self.broken else None
