"""The subgraph's subscriptions: a signed-in member's own live feeds (others are refused FORBIDDEN)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from services.points.reporting import live
from services.points.schema.types import MemberPoints
from shared.federation import Info


@strawberry.type
class Subscription:
    @strawberry.subscription(description=(
        "The signed-in member's points now, then again after each committed change to their ledger (earning, holds, "
        "captures, releases, vesting, expiry, returns). Members only: others get FORBIDDEN, no token UNAUTHENTICATED."))
    async def my_points(self, info: Info) -> AsyncGenerator[MemberPoints, None]:
        # aclosing: a client's `complete` closes the feed (and its LISTEN subscription) at once
        async with aclosing(live.balance_feed(info.context.db, info.context.principal)) as feed:
            async for balances in feed:
                yield MemberPoints.of(balances)
