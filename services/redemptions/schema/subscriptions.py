"""The subgraph's subscriptions: a signed-in member's own live feed (others are refused FORBIDDEN)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from shared.federation import Info

from services.redemptions.redeeming import live
from services.redemptions.schema.types import Redemption


@strawberry.type
class RedemptionSubscriptions:
    @strawberry.subscription(description=(
        "The signed-in member's redemptions, each when it is created and again each time its status, saga step, refund or "
        "voucher state changes (committed changes; a burst may arrive as its latest state). Members only: others get "
        "FORBIDDEN, no token UNAUTHENTICATED."))
    async def my_redemption_updates(self, info: Info) -> AsyncGenerator[Redemption, None]:
        # aclosing: a client's `complete` closes the feed (and its LISTEN subscription) at once
        async with aclosing(live.redemption_feed(info.context.db, info.context.principal)) as feed:
            async for answer in feed:
                yield Redemption.of(answer)
