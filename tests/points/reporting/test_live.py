"""The balance feed under `myPoints`, in this process on the real database: a feed that is not read
holds up no other feed, and when read again gives the latest balance, not the backlog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from services.points.reporting.live import balance_feed
from shared.auth import Principal, PrincipalKind
from shared.errors import Forbidden, Unauthenticated
from shared.auth.principals import ANONYMOUS
from shared.notifications import close_notification_hubs

from tests.points.conftest import OPERATOR, SERVICE, Kit

WAIT = 30.0


@pytest.fixture(autouse=True)
async def hubs() -> AsyncIterator[None]:
    """The feeds' listening connection is this test's event loop's: closed with it."""
    yield
    await close_notification_hubs()


async def test_a_slow_feed_blocks_no_other_and_then_gives_the_latest_balance(kit: Kit) -> None:
    partner = await kit.partner()
    member = await kit.member(10, partner=partner)
    me = Principal(PrincipalKind.MEMBER, str(member))
    async with aclosing(balance_feed(kit.db, me)) as fast, aclosing(balance_feed(kit.db, me)) as slow:
        assert (await anext(fast)).available == 10
        assert (await anext(slow)).available == 10
        for i in range(1, 21):
            await kit.earn(member, partner, 1)
            assert (await asyncio.wait_for(anext(fast), WAIT)).available == 10 + i
        # The slow feed read nothing meanwhile: it answers the balance now, not the 20 steps to it.
        latest = await asyncio.wait_for(anext(slow), WAIT)
        assert latest.available == 30


@pytest.mark.parametrize(("principal", "error"), [
    (ANONYMOUS, Unauthenticated), (OPERATOR, Forbidden), (SERVICE, Forbidden),
])
async def test_only_members_have_a_feed(kit: Kit, principal: Principal, error: type[Exception]) -> None:
    with pytest.raises(error):
        await anext(balance_feed(kit.db, principal))
