"""Webhooks through GraphQL by role (the delivery log, rotation, redelivery, ping), and the running
app: an event published in a transaction reaches the partner's endpoint promptly, signed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from services.benefits.config import reset_benefits_settings_cache
from services.benefits.webhooks.signing import SIGNATURE_HEADER, verify
from tests.benefits.kit import gql, roles_for
from tests.benefits.webhooks.conftest import METRO_HOOK, Hooks

ROLES = ("operator", "customer_service", "partner", "other_partner", "member", "service", "anonymous")
LOG = """query($id: ID!, $status: WebhookDeliveryStatus) { partner(id: $id) { webhookSecrets { id expiresAt }
  webhookDeliveries(first: 10, status: $status) { edges { node { id eventId eventType status attemptCount body
    attempts { at attempt url httpStatus error latencyMs } nextAttemptAt deliveredAt } } pageInfo { hasNextPage } } } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(partnerId: $id) { secret previousExpiresAt webhookSecret { id expiresAt } } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attemptCount } }"
PING = "mutation($id: ID!) { pingWebhook(partnerId: $id) }"


def _outcome(answer) -> str:  # noqa: ANN001
    return answer.codes[0] if answer.errors else "ok"


@pytest.mark.parametrize("role", ROLES)
async def test_webhooks_by_role(hooks: Hooks, role: str) -> None:
    event_id = await hooks.event({"partnerId": str(hooks.metro.id), "points": 100}, type_="benefits.BenefitRedeemed")
    await hooks.fan_out()
    with respx.mock() as partner:
        partner.post(METRO_HOOK).respond(500)
        await hooks.deliver()
    who = roles_for(hooks.metro.id)[role]
    readers = {"operator": "ok", "customer_service": "ok", "partner": "ok", "service": "ok", "anonymous": "UNAUTHENTICATED"}
    managers = {"operator": "ok", "partner": "ok", "anonymous": "UNAUTHENTICATED"}

    log = await gql(hooks.db, LOG, who, id=str(hooks.metro.id))
    assert _outcome(log) == readers.get(role, "FORBIDDEN")
    if _outcome(log) == "ok":
        (edge,) = log.ok["partner"]["webhookDeliveries"]["edges"]
        node = edge["node"]
        assert (node["eventId"], node["eventType"], node["status"], node["attemptCount"]) == (
            str(event_id), "benefits.BenefitRedeemed", "PENDING", 1)
        assert '"points":100' in node["body"] and node["nextAttemptAt"] and node["deliveredAt"] is None
        (attempt,) = node["attempts"]
        assert (attempt["attempt"], attempt["url"], attempt["httpStatus"], attempt["error"]) == (1, METRO_HOOK, 500, "HTTP 500")
        assert len(log.ok["partner"]["webhookSecrets"]) == 1
        filtered = await gql(hooks.db, LOG, who, id=str(hooks.metro.id), status="DELIVERED")
        assert filtered.ok["partner"]["webhookDeliveries"]["edges"] == []

    (row,) = await hooks.rows()
    assert _outcome(await gql(hooks.db, REDELIVER, who, id=str(row.id))) == managers.get(role, "FORBIDDEN")
    rotated = await gql(hooks.db, ROTATE, who, id=str(hooks.metro.id))
    assert _outcome(rotated) == managers.get(role, "FORBIDDEN")
    if _outcome(rotated) == "ok":
        made = rotated.ok["rotateWebhookSecret"]
        assert made["secret"].startswith("whsec_") and made["previousExpiresAt"] and made["webhookSecret"]["expiresAt"] is None
    assert _outcome(await gql(hooks.db, PING, who, id=str(hooks.metro.id))) == managers.get(role, "FORBIDDEN")


async def test_one_partner_never_reads_another_partners_deliveries(hooks: Hooks) -> None:
    await hooks.event({"partnerId": str(hooks.metro.id)})
    await hooks.event({"partnerId": str(hooks.skyline.id)})
    await hooks.fan_out()
    skyline = roles_for(hooks.skyline.id)["partner"]
    assert (await gql(hooks.db, LOG, skyline, id=str(hooks.metro.id))).codes == ["FORBIDDEN"]
    entities = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { id webhookDeliveries { edges { node { id } } } } } }"""

    def reps() -> list[dict[str, str]]:  # fresh each time: strawberry pops __typename from what it is given
        return [{"__typename": "Partner", "id": str(i)} for i in (hooks.metro.id, hooks.skyline.id)]

    seen = (await gql(hooks.db, entities, skyline, r=reps())).ok["_entities"]
    assert seen[0]["webhookDeliveries"] is None and len(seen[1]["webhookDeliveries"]["edges"]) == 1
    staff = (await gql(hooks.db, entities, roles_for(hooks.metro.id)["operator"], r=reps())).ok["_entities"]
    assert [len(e["webhookDeliveries"]["edges"]) for e in staff] == [1, 1]  # one query for both (a lateral join)


async def test_the_log_pages_newest_first(hooks: Hooks) -> None:
    made = [await hooks.event({"partnerId": str(hooks.metro.id), "n": n}) for n in range(5)]
    await hooks.fan_out()
    page = """query($id: ID!, $after: String) { partner(id: $id) { webhookDeliveries(first: 2, after: $after) {
      edges { node { eventId } } pageInfo { hasNextPage endCursor } } } }"""
    operator = roles_for(hooks.metro.id)["operator"]
    seen, after = [], None
    while True:
        conn = (await gql(hooks.db, page, operator, id=str(hooks.metro.id), after=after)).ok["partner"]["webhookDeliveries"]
        seen += [e["node"]["eventId"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [str(e) for e in reversed(made)]
    bad = await gql(hooks.db, page, operator, id=str(hooks.metro.id), after="garbage")
    assert bad.codes == ["BAD_USER_INPUT"]


async def test_the_running_app_delivers_a_published_event_promptly(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's loops: the outbox dispatcher hands the event to `webhooks`, which wakes the delivery
    loop; with a poll interval far longer than the test, only those wake-ups explain a quick delivery."""
    monkeypatch.setenv("ABG_BENEFITS_JOB_INTERVAL_SECONDS", "60")
    monkeypatch.setenv("ABG_OUTBOX_POLL_INTERVAL_SECONDS", "60")
    reset_benefits_settings_cache()
    from shared.settings import reset_settings_cache

    reset_settings_cache()
    from shared.events import outbox_dispatcher
    from shared.federation import create_subgraph_app

    from services.benefits.events import SERVICE, WEBHOOKS
    from services.benefits.models import OUTBOX
    from services.benefits.schema import schema
    from services.benefits.webhooks import delivery, service

    app = create_subgraph_app(
        service=SERVICE, schema=schema,
        background=[outbox_dispatcher(SERVICE, OUTBOX, local={WEBHOOKS: service.fan_out}), delivery.webhook_loop],
    )

    def points_inbox(request: httpx.Request) -> httpx.Response:  # the registrations' status events
        return httpx.Response(200, json={"accepted": [e["id"] for e in httpx.Response(200, content=request.content).json()["events"]]})

    with respx.mock(assert_all_called=False) as partner:
        route = partner.post(METRO_HOOK).respond(200)
        partner.post(url__regex=r".*/events$").mock(side_effect=points_inbox)
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.3)  # both loops are waiting
            started = time.monotonic()
            event_id = await hooks.event({"partnerId": str(hooks.metro.id)}, type_="benefits.LowStock")
            while route.call_count == 0 and time.monotonic() - started < 5:
                await asyncio.sleep(0.02)
            ping = await gql(hooks.db, PING, roles_for(hooks.metro.id)["partner"], id=str(hooks.metro.id))
            while route.call_count < 2 and time.monotonic() - started < 5:
                await asyncio.sleep(0.02)
    reset_settings_cache()
    assert time.monotonic() - started < 5 and route.call_count == 2
    first, second = (call.request for call in route.calls)
    assert httpx.Response(200, content=first.content).json()["id"] == str(event_id)
    assert httpx.Response(200, content=second.content).json()["id"] == ping.ok["pingWebhook"]
    verify(second.headers[SIGNATURE_HEADER], second.content, [hooks.secrets[hooks.metro.id]], now=time.time())
