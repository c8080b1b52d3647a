"""`Subscription.myPoints` on a real points process over a real WebSocket: the member's balance at
once and after each committed ledger write (made here through the service layer, on the same
database), never another member's, and refused to anyone but a signed-in member."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from live_services import Processes, start_processes
from shared.auth.tokens import mint_token

from tests.points.conftest import Kit
from tests.shared.ws_client import bearer, connect

MY_POINTS = "subscription { myPoints { memberId available pending held } }"


@pytest.fixture(scope="module")
def points(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    processes: Processes = start_processes(
        ["points"], database_url=database_url, log_dir=tmp_path_factory.mktemp("points"),
        env={"ABG_POINTS_MEMBER_CHECK": "trust", "ABG_POINTS_JOB_INTERVAL_SECONDS": "0"},
    )
    yield processes.urls["points"]
    processes.close()


def member_token(member_id: uuid.UUID) -> str:
    return mint_token("member", str(member_id))


async def test_a_member_gets_their_balance_at_once_and_after_each_change(kit: Kit, points: str) -> None:
    partner = await kit.partner()
    alice, bob = await kit.member(100, partner=partner), await kit.member(40, partner=partner)
    async with connect(points, headers=bearer(member_token(alice))) as a, connect(points, headers=bearer(member_token(bob))) as b:
        await a.init()
        await b.init()
        mine, theirs = await a.subscribe(MY_POINTS), await b.subscribe(MY_POINTS)
        assert await a.next_data(mine) == {"myPoints": {"memberId": str(alice), "available": 100, "pending": 0, "held": 0}}
        assert await b.next_data(theirs) == {"myPoints": {"memberId": str(bob), "available": 40, "pending": 0, "held": 0}}

        await kit.earn(alice, partner, 25)
        assert (await a.next_data(mine))["myPoints"] == {"memberId": str(alice), "available": 125, "pending": 0, "held": 0}

        await kit.earn(bob, partner, 7)  # bob's change reaches bob, and nothing of it reaches alice
        assert (await b.next_data(theirs))["myPoints"]["available"] == 47
        await kit.hold(alice, 30)
        assert (await a.next_data(mine))["myPoints"] == {"memberId": str(alice), "available": 95, "pending": 0, "held": 30}
        assert a.pending(mine) == [] and b.pending(theirs) == []


async def test_pending_points_show_as_pending(kit: Kit, points: str) -> None:
    partner = await kit.partner(window=14)
    member = await kit.member()
    async with connect(points, headers=bearer(member_token(member))) as ws:
        await ws.init()
        op = await ws.subscribe(MY_POINTS)
        assert (await ws.next_data(op))["myPoints"]["pending"] == 0
        await kit.earn(member, partner, 60)
        assert (await ws.next_data(op))["myPoints"] == {"memberId": str(member), "available": 0, "pending": 60, "held": 0}


async def test_the_token_may_come_in_connection_init(kit: Kit, points: str) -> None:
    member = await kit.member(10)
    async with connect(points) as ws:
        await ws.init({"headers": {"authorization": f"Bearer {member_token(member)}"}})
        op = await ws.subscribe(MY_POINTS)
        assert (await ws.next_data(op))["myPoints"]["memberId"] == str(member)


@pytest.mark.parametrize(("token", "code"), [
    (None, "UNAUTHENTICATED"),
    (lambda: mint_token("staff", "ops-1", roles=["operator"]), "FORBIDDEN"),
    (lambda: mint_token("partner", str(uuid.uuid4())), "FORBIDDEN"),
    (lambda: mint_token("service", "redemptions"), "FORBIDDEN"),
])
async def test_only_a_signed_in_member_may_subscribe(points: str, token, code: str) -> None:  # noqa: ANN001
    async with connect(points, headers=bearer(token()) if token else None) as ws:
        await ws.init()
        message = await ws.receive(await ws.subscribe(MY_POINTS))
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [code]
