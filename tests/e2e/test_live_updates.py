"""A member's live feeds through the gateway, with every service a real process (`abg run`): over one
graphql-transport-ws socket the member subscribes to their points and to their redemption updates, redeems a
voucher over HTTP, and sees the redemption complete (with the benefit's title and their own name joined from
the benefits and members subgraphs on each event) and their balance go down by the price."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from abg.demo.identities import DEMO_MEMBER_PHONE
from shared.auth.tokens import mint_token
from shared.settings import settings_of_environment
from tests.e2e.graph import running_graph

_POINTS = "subscription { myPoints { available pending } }"
_UPDATES = "subscription { myRedemptionUpdates { id status benefit { title } member { displayName } } }"
_CATALOGUE = """{ benefits(first: 50, filter: {kind: VOUCHER, redeemableNow: true, pointsMin: 1}) {
  nodes { id title delivery pointsPrice birthdayPerk } } }"""
_REDEEM = "mutation($benefit: ID!, $key: String!) { redeem(benefitId: $benefit, idempotencyKey: $key) { id status } }"


def _ask(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = httpx.post(url, json={"query": query, "variables": variables or {}},
                      headers={"authorization": f"Bearer {token}"}, timeout=30).json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.mark.timeout(150)
def test_a_member_sees_their_redemption_and_balance_live_through_the_gateway(data_dir: Path) -> None:
    with running_graph(data_dir, timeout=90) as graph:
        url, settings = graph.gateway_url, settings_of_environment(graph.env)
        operator = mint_token("staff", "e2e-operator", roles=["operator"], settings=settings)
        found = _ask(url, operator, "query($p: String) { members(filter: {phone: $p}, first: 1) { edges { node { id } } } }",
                     {"p": DEMO_MEMBER_PHONE})
        member_id = found["members"]["edges"][0]["node"]["id"]
        member = mint_token("member", member_id, settings=settings)
        vouchers = _ask(url, member, _CATALOGUE)["benefits"]["nodes"]
        voucher = min((b for b in vouchers if b["delivery"] == "CODE" and not b["birthdayPerk"]),
                      key=lambda b: int(b["pointsPrice"]))
        price = int(voucher["pointsPrice"])
        _ask(url, operator, "mutation($input: AdjustInput!) { adjustPoints(input: $input) { points } }", {"input": {
            "memberId": member_id, "points": price, "reason": "goodwill: e2e live updates", "idempotencyKey": uuid.uuid4().hex}})
        asyncio.run(_live(url, member, voucher, price))


async def _live(url: str, member: str, voucher: dict[str, Any], price: int) -> None:
    ws_url = url.replace("http://", "ws://")
    async with connect(ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       additional_headers={"authorization": f"Bearer {member}"}) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] == "connection_ack"
        # the redemption feed first: it sends nothing until a change, so the points feed's first event (sent at
        # once, after the same gateway and subgraph set-up) tells that both are listening
        await socket.send(json.dumps({"id": "updates", "type": "subscribe", "payload": {"query": _UPDATES}}))
        await socket.send(json.dumps({"id": "points", "type": "subscribe", "payload": {"query": _POINTS}}))
        first = await _next(socket, "points")
        before = int(first["data"]["myPoints"]["available"])
        assert before >= price, first
        await asyncio.sleep(1.0)  # and a margin for the redemption feed's own LISTEN

        redeemed = await asyncio.to_thread(_ask, url, member, _REDEEM, {"benefit": voucher["id"], "key": uuid.uuid4().hex})
        redemption_id = redeemed["redeem"]["id"]

        statuses: list[str] = []
        balance = before
        async with asyncio.timeout(60):
            while "COMPLETED" not in statuses or balance != before - price:
                message = json.loads(await socket.recv())
                assert message["type"] == "next", message
                assert not message["payload"].get("errors"), message
                data = message["payload"]["data"]
                if message["id"] == "points":
                    balance = int(data["myPoints"]["available"])
                    continue
                update = data["myRedemptionUpdates"]
                assert update["id"] == redemption_id, update  # the member's only redemption in this test
                # joined on every event from the benefits and members subgraphs
                assert update["benefit"]["title"] == voucher["title"], update
                assert update["member"]["displayName"], update
                statuses.append(update["status"])
        assert statuses[-1] == "COMPLETED", statuses
        assert balance == before - price
        await socket.send(json.dumps({"id": "points", "type": "complete"}))
        await socket.send(json.dumps({"id": "updates", "type": "complete"}))


async def _next(socket: Any, operation: str) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), 30))
    assert (message["type"], message.get("id")) == ("next", operation), message
    return message["payload"]
