"""A redemption from end to end, through the gateway with every service as a real process (`abg run`):
a member redeems a voucher and a video membership, the partner writes the voucher off, the member sees
it used, and the settlement statements of both partners show what was redeemed at them."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from abg.demo.identities import DEMO_MEMBER_PHONE, demo_partner_id
from shared.auth.tokens import mint_token
from shared.settings import settings_of_environment
from tests.e2e.graph import running_graph

_ME = "{ me { id tier points { available } } }"
_CATALOGUE = """query($kind: BenefitKind!) { benefits(first: 50, filter: {kind: $kind, redeemableNow: true, pointsMin: 1}) {
  nodes { id title kind delivery pointsPrice birthdayPerk partner { id } } } }"""
_REDEEM = """mutation($benefit: ID!, $key: String!, $to: DeliverToInput) {
  redeem(benefitId: $benefit, idempotencyKey: $key, deliverTo: $to) {
    id status kind points settlementMinor code codeState rechargeReference failureReason failureMessage partner { id } } }"""
_REDEMPTION = """query($id: ID!) { redemption(id: $id) {
  id status step kind points settlementMinor code codeState codeUsedAt rechargeReference failureReason failureMessage
  partner { id } } }"""
_STATEMENT = """query($partner: ID!, $from: DateTime!, $to: DateTime!) {
  settlementStatement(partnerId: $partner, from: $from, to: $to) {
    partner { id }
    lines { counterparty { id } currency pointsPayable payable { amountMinor } pointsReceivable receivable { amountMinor } } } }"""


class Graph:
    """The gateway, called as a client with a bearer token (and a device id, as member apps send)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30.0)

    def ask(self, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(self.url, json={"query": query, "variables": variables or {}},
                                  headers={"authorization": f"Bearer {token}", "x-device-id": "e2e-phone-1"})
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]


def _poll(fetch: Any, done: Any, seconds: float) -> Any:
    """fetch() until done(answer) or the time is up; the last answer either way."""
    deadline = time.monotonic() + seconds
    answer = fetch()
    while not done(answer) and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = fetch()
    return answer


def _receivable(statement: dict[str, Any]) -> tuple[int, int]:
    """Points redeemed at the partner and what it is owed for them (minor units), over its lines."""
    lines = statement["lines"]
    return sum(int(line["pointsReceivable"]) for line in lines), sum(int(line["receivable"]["amountMinor"]) for line in lines)


@pytest.mark.timeout(120)
def test_a_member_redeems_a_voucher_and_a_video_membership_end_to_end(data_dir: Path) -> None:
    with running_graph(data_dir, timeout=75) as graph:
        _journey(Graph(graph.gateway_url), settings_of_environment(graph.env), graph.banner)


def _journey(graph: Graph, settings: Any, banner: str) -> None:
    since = datetime.now(timezone.utc)  # the settlement window: everything after the demo data
    operator = mint_token("staff", "e2e-operator", roles=["operator"], settings=settings)

    # The demo member, found by phone as abg/demo/identities.py does; its token, as the banner shows.
    found = graph.ask(operator, "query($phone: String) { members(filter: {phone: $phone}, first: 1) { edges { node { id } } } }",
                      {"phone": DEMO_MEMBER_PHONE})
    member_id = found["members"]["edges"][0]["node"]["id"]
    assert re.search(rf"demo member \(DIAMOND\): id {member_id}\n", banner), banner
    member = mint_token("member", member_id, settings=settings)
    me = graph.ask(member, _ME)["me"]
    assert me["tier"] == "DIAMOND", me

    # The member reads the catalogue: the cheapest paid code voucher, and StreamBox's recharged membership.
    vouchers = graph.ask(member, _CATALOGUE, {"kind": "VOUCHER"})["benefits"]["nodes"]
    voucher = min((b for b in vouchers if b["delivery"] == "CODE" and not b["birthdayPerk"]), key=lambda b: int(b["pointsPrice"]))
    streambox = str(demo_partner_id())
    videos = graph.ask(member, _CATALOGUE, {"kind": "VIDEO_MEMBERSHIP"})["benefits"]["nodes"]
    video = next(b for b in videos if b["delivery"] == "RECHARGE" and b["partner"]["id"] == streambox)
    assert voucher["partner"]["id"] != streambox, voucher
    price = int(voucher["pointsPrice"]) + int(video["pointsPrice"])

    # The demo gives every member a welcome bonus (and the demo redemptions may have spent some of it);
    # customer service credits whatever is missing, funded by the alliance, so the member can afford both.
    available = int(me["points"]["available"])
    credit = max(0, price - available)
    if credit:
        graph.ask(operator, "mutation($input: AdjustInput!) { adjustPoints(input: $input) { points } }", {"input": {
            "memberId": member_id, "points": credit, "reason": "goodwill: e2e redemption journey", "idempotencyKey": uuid.uuid4().hex}})
    assert int(graph.ask(member, _ME)["me"]["points"]["available"]) == available + credit

    # The voucher: completed at once, the code in clear for the member.
    redeemed = graph.ask(member, _REDEEM, {"benefit": voucher["id"], "key": uuid.uuid4().hex})["redeem"]
    assert (redeemed["status"], redeemed["kind"], redeemed["codeState"], redeemed["failureReason"]) == \
        ("COMPLETED", "VOUCHER", "ISSUED", None), redeemed
    code = redeemed["code"]
    assert code and re.fullmatch(r"[A-Z0-9-]{6,}", code), redeemed
    assert int(redeemed["points"]) == int(voucher["pointsPrice"]) and redeemed["partner"]["id"] == voucher["partner"]["id"]

    # The video membership, recharged on the demo video platform (PENDING while the partner answers).
    account = f"demo-e2e-{uuid.uuid4().hex[:8]}"
    recharge = graph.ask(member, _REDEEM, {"benefit": video["id"], "key": uuid.uuid4().hex, "to": {"account": account}})["redeem"]
    recharge = _poll(lambda: graph.ask(member, _REDEMPTION, {"id": recharge["id"]})["redemption"],
                     lambda r: r["status"] != "PENDING", seconds=30)
    assert (recharge["status"], recharge["kind"], recharge["failureReason"]) == ("COMPLETED", "VIDEO_MEMBERSHIP", None), recharge
    assert recharge["rechargeReference"], recharge

    # The voucher's partner writes the code off at its store.
    partner = mint_token("partner", voucher["partner"]["id"], settings=settings)
    write_off = graph.ask(partner, """mutation($code: String!, $key: String!) {
      writeOffCode(code: $code, storeId: "store-e2e-1", idempotencyKey: $key) { id code reservationKey partner { id } } }""",
                          {"code": code, "key": uuid.uuid4().hex})["writeOffCode"]
    assert write_off["code"] == code and write_off["reservationKey"] == f"redemption:{redeemed['id']}", write_off

    # The member sees it used (benefits tells redemptions with benefits.CodeWrittenOff).
    mine = "{ me { redemptions { nodes { id status codeState codeUsedAt rechargeReference } } } }"
    nodes = _poll(lambda: {n["id"]: n for n in graph.ask(member, mine)["me"]["redemptions"]["nodes"]},
                  lambda found: found[redeemed["id"]]["codeState"] == "USED", seconds=20)
    assert nodes[redeemed["id"]]["codeState"] == "USED" and nodes[redeemed["id"]]["codeUsedAt"], nodes
    assert nodes[recharge["id"]]["rechargeReference"] == recharge["rechargeReference"], nodes
    assert graph.ask(member, _REDEMPTION, {"id": redeemed["id"]})["redemption"]["codeState"] == "USED"

    # Both prices are off the member's points.
    assert int(graph.ask(member, _ME)["me"]["points"]["available"]) == available + credit - price

    # Each partner's settlement statement (read with its own token) shows what was redeemed at it and
    # what it is owed. (Own points redeemed at a partner settle nothing: the member's StreamBox points
    # went on the voucher, which is redeemed first, so StreamBox's membership is paid with the credit.)
    window = {"from": since.isoformat(), "to": (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()}
    for redemption, partner_id in ((redeemed, voucher["partner"]["id"]), (recharge, streambox)):
        token = mint_token("partner", partner_id, settings=settings)
        statement = graph.ask(token, _STATEMENT, {"partner": partner_id, **window})["settlementStatement"]
        assert statement["partner"]["id"] == partner_id
        assert _receivable(statement) == (int(redemption["points"]), int(redemption["settlementMinor"])), (redemption, statement)
