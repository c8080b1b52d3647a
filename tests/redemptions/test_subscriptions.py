"""`Subscription.myRedemptionUpdates` on a real redemptions process over a real WebSocket: a
member's redemptions driven through the saga (redeem, a failure, a refund, all through the
process's GraphQL API) arrive state by state, in the saga's order, and only to their member."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from live_services import Processes, start_processes
from services.redemptions.models import STEPS
from shared.auth.tokens import mint_token

from tests.redemptions.kit import World
from tests.shared.ws_client import Connection, bearer, connect

UPDATES = "subscription { myRedemptionUpdates { id status step refund { state } member { id } } }"
REDEEM = "mutation($b: ID!, $k: String!) { redeem(benefitId: $b, idempotencyKey: $k) { id status } }"
REFUND = "mutation($id: ID!) { refundRedemption(id: $id, reason: \"changed my mind\") { id status } }"
FINAL = {"COMPLETED", "FAILED", "REFUNDED", "NEEDS_ATTENTION"}


@pytest.fixture(scope="module")
def redemptions(peers: Processes, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    processes = start_processes(
        ["redemptions"], database_url=database_url, log_dir=tmp_path_factory.mktemp("redemptions"), known_urls=peers.urls,
        env={"ABG_REDEMPTIONS_ANSWER_WITHIN_SECONDS": "30", "ABG_REDEMPTIONS_RECOVERY_INTERVAL_SECONDS": "0"},
    )
    yield processes.urls["redemptions"]
    processes.close()


def token_of(member_id: uuid.UUID) -> str:
    return mint_token("member", str(member_id))


async def call(url: str, query: str, member_id: uuid.UUID, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        body = (await client.post(url, json={"query": query, "variables": variables}, headers=bearer(token_of(member_id)))).json()
    assert not body.get("errors"), body
    return body["data"]


async def updates_until(ws: Connection, op: str, done: Any) -> list[dict[str, Any]]:
    """The feed's updates up to and including the first for which `done(update)` holds."""
    seen = []
    while not seen or not done(seen[-1]):
        seen.append((await ws.next_data(op))["myRedemptionUpdates"])
    return seen


def in_saga_order(updates: list[dict[str, Any]]) -> bool:
    steps = [STEPS.index(u["step"]) for u in updates]
    return steps == sorted(steps)


async def test_a_member_follows_their_redemptions_through_the_saga_and_nobody_elses(world: World, redemptions: str) -> None:
    partner = await world.partner()
    benefit = await world.benefit(partner, points=100, settlement=400, codes=5, refundWindowDays=7)
    alice, bob = await world.member(points=150), await world.member(points=300)
    async with connect(redemptions, headers=bearer(token_of(alice))) as a, connect(redemptions, headers=bearer(token_of(bob))) as b:
        await a.init()
        await b.init()
        mine, theirs = await a.subscribe(UPDATES), await b.subscribe(UPDATES)

        done = (await call(redemptions, REDEEM, alice, b=str(benefit), k="first"))["redeem"]
        assert done["status"] == "COMPLETED"
        seen = await updates_until(a, mine, lambda u: u["status"] in FINAL)
        assert {u["id"] for u in seen} == {done["id"]} and {u["member"]["id"] for u in seen} == {str(alice)}
        assert [u["status"] for u in seen][-1] == "COMPLETED" and set(u["status"] for u in seen) <= {"PENDING", "COMPLETED"}
        assert in_saga_order(seen), seen

        # Bob's redemption reaches Bob only.
        bobs = (await call(redemptions, REDEEM, bob, b=str(benefit), k="first"))["redeem"]
        bob_seen = await updates_until(b, theirs, lambda u: u["status"] in FINAL)
        assert {u["id"] for u in bob_seen} == {bobs["id"]} and bob_seen[-1]["status"] == "COMPLETED"
        # A redemption that fails (50 points left, the benefit costs 100) arrives as FAILED.
        failed = (await call(redemptions, REDEEM, alice, b=str(benefit), k="second"))["redeem"]
        assert failed["status"] == "FAILED"
        seen = await updates_until(a, mine, lambda u: u["status"] in FINAL)
        assert {u["id"] for u in seen} == {failed["id"]} and seen[-1]["status"] == "FAILED"

        # The refund of the first: its refund starts, then it is REFUNDED.
        refunded = (await call(redemptions, REFUND, alice, id=done["id"]))["refundRedemption"]
        assert refunded["status"] == "REFUNDED"
        seen = await updates_until(a, mine, lambda u: u["status"] == "REFUNDED")
        assert {u["id"] for u in seen} == {done["id"]} and seen[-1]["refund"]["state"] == "DONE"
        assert a.pending(mine) == [] and b.pending(theirs) == []


@pytest.mark.parametrize(("token", "code"), [
    (None, "UNAUTHENTICATED"),
    (lambda: mint_token("staff", "ops-1", roles=["operator"]), "FORBIDDEN"),
    (lambda: mint_token("partner", str(uuid.uuid4())), "FORBIDDEN"),
    (lambda: mint_token("service", "points"), "FORBIDDEN"),
])
async def test_only_a_signed_in_member_may_subscribe(redemptions: str, token, code: str) -> None:  # noqa: ANN001
    async with connect(redemptions, headers=bearer(token()) if token else None) as ws:
        await ws.init()
        message = await ws.receive(await ws.subscribe(UPDATES))
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [code]
