"""End to end against the demo video platform served for real (uvicorn on a free loopback port) as the
demo StreamBox partner's fulfilment endpoint: the development seed's secret is the one the platform
verifies with by default, a `demo-…` account is recharged, any other refused with ACCOUNT_NOT_FOUND,
and a refund revokes the recharge on the platform."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn

from shared.database import Database
from shared.settings import reset_settings_cache

from abg.demo.video_platform import DemoSettings, DemoVideoPlatform, create_app
from services.benefits import seed
from services.benefits.catalogue.seed import demo_benefit_id
from services.benefits.delivery.rules import recharge_key
from services.benefits.partner_http import aclose_partner_client
from services.benefits.partners import service as partners
from services.benefits.partners.answers import ProfileChanges
from services.benefits.reservations import service as reservations
from tests.benefits.delivery.delivery_kit import Video
from tests.benefits.kit import OPERATOR, SERVICE, gql

DELIVER = """mutation($key: String!, $account: String!) { deliverRecharge(key: $key, account: $account) {
  state deliveryReference deliveryAttempts { kind outcome httpStatus detail } } }"""
REVOKE = "mutation($key: String!) { revokeRecharge(key: $key) { state } }"


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # leave Ctrl-C to pytest
        yield


@pytest.fixture
async def platform() -> AsyncIterator[tuple[DemoVideoPlatform, str]]:
    """The demo platform with its default settings (its default secret), on a free port."""
    state = DemoVideoPlatform(DemoSettings())
    server = _QuietServer(uvicorn.Config(create_app(platform=state), host="127.0.0.1", port=0, log_level="warning",
                                         lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert not task.done() and time.monotonic() < deadline, "the demo platform did not start"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield state, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def streambox(database: Database, platform: tuple[DemoVideoPlatform, str],
                    monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Video]:
    """The demo partners and catalogue seeded as in development; StreamBox's endpoint moved to the test's port."""
    monkeypatch.setenv("ABG_ENV", "development")
    reset_settings_cache()
    try:
        await seed.seed_demo(database)
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    partner_id = seed.demo_partner_id("streambox")
    await partners.update_partner(database, OPERATOR, partner_id, ProfileChanges(fulfilment_url=platform[1]))
    yield Video(database, partner_id, demo_benefit_id("streambox-30"), secret="")  # the demo catalogue's recharge
    await aclose_partner_client()


async def test_redeeming_a_video_membership_end_to_end(streambox: Video, platform: tuple[DemoVideoPlatform, str]) -> None:
    state, _ = platform
    reserved = await streambox.reserve()
    delivered = await gql(streambox.db, DELIVER, SERVICE, key=reserved.key, account="demo-alice")
    answer = delivered.ok["deliverRecharge"]
    record = state.recharges[recharge_key(reserved.key)]
    assert answer["state"] == "ISSUED" and answer["deliveryReference"] == record.reference
    assert record.reference.startswith("DEMO-VP-")
    assert answer["deliveryAttempts"] == [
        {"kind": "RECHARGE", "outcome": "SUCCEEDED", "httpStatus": 200, "detail": record.reference}]
    again = await gql(streambox.db, DELIVER, SERVICE, key=reserved.key, account="demo-alice")
    assert again.ok == delivered.ok and len(state.recharges) == 1

    revoked = await gql(streambox.db, REVOKE, SERVICE, key=reserved.key)
    assert revoked.ok["revokeRecharge"]["state"] == "VOIDED" and record.status == "REVOKED"


async def test_an_account_the_platform_does_not_know_is_refused(streambox: Video, platform: tuple[DemoVideoPlatform, str]) -> None:
    reserved = await streambox.reserve()
    refused = await gql(streambox.db, DELIVER, SERVICE, key=reserved.key, account="notdemo-bob")
    (error,) = refused.errors
    assert error["extensions"]["code"] == "PARTNER_REFUSED" and error["extensions"]["reason"] == "ACCOUNT_NOT_FOUND"
    assert "demo-" in error["extensions"]["partnerMessage"]
    assert await streambox.state(reserved.key) == "RESERVED"
    assert (await reservations.release(streambox.db, SERVICE, key=reserved.key)).state == "RELEASED"
    assert platform[0].recharges[recharge_key(reserved.key)].reason == "ACCOUNT_NOT_FOUND"
