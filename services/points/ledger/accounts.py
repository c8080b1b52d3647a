"""Ledger account addresses (Formance-style paths) and what each one means.

Member side, one set per member (balances kept in `member_accounts` too):
    member:<id>:pending      earned, not yet vested (inside the partner's return window)
    member:<id>:available    spendable
    member:<id>:held         reserved by holds
    member:<id>:debt         negative: points the member owes after a return they could not cover

Issuer side, one set per issuing partner (`issuer:alliance:…` for alliance-funded lots). Every
point a lot of issuer P ever loses goes to one of P's accounts, so the negated sum of all
`issuer:P:*` balances is P's outstanding liability in points, the same figure as P's live lots:
    issuer:<P>:issued              source of every point P issued (negative)
    issuer:<P>:redeemed:<B>        P's points redeemed at beneficiary B (what P settles with B)
    issuer:<P>:breakage            P's points that expired
    issuer:<P>:clawback            P's points taken back for returns and debt repayment
    issuer:<P>:adjusted            P's points debited by operators

And one alliance account: `alliance:receivable`, the counterpart of members' debt.
"""

from __future__ import annotations

import uuid
from typing import Literal

MemberBucket = Literal["pending", "available", "held", "debt"]
IssuerBucket = Literal["issued", "breakage", "clawback", "adjusted"]

ALLIANCE = "alliance"
RECEIVABLE = "alliance:receivable"
MEMBER_BUCKETS: tuple[MemberBucket, ...] = ("pending", "available", "held", "debt")


def member(member_id: uuid.UUID, bucket: MemberBucket) -> str:
    return f"member:{member_id}:{bucket}"


def issuer_prefix(issuer_id: uuid.UUID | None) -> str:
    return f"issuer:{issuer_id if issuer_id is not None else ALLIANCE}:"


def issuer(issuer_id: uuid.UUID | None, bucket: IssuerBucket) -> str:
    return issuer_prefix(issuer_id) + bucket


def redeemed(issuer_id: uuid.UUID | None, beneficiary_id: uuid.UUID) -> str:
    return f"{issuer_prefix(issuer_id)}redeemed:{beneficiary_id}"


def member_bucket(account: str, member_id: uuid.UUID) -> MemberBucket | None:
    """The bucket when `account` is one of this member's accounts, else None."""
    prefix = f"member:{member_id}:"
    if account.startswith(prefix):
        bucket = account[len(prefix):]
        if bucket in MEMBER_BUCKETS:
            return bucket  # type: ignore[return-value]
    return None
