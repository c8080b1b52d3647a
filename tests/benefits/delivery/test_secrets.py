"""Which secret signs a recharge call: the partner's fulfilment secret (its own rotation, with an
overlap), never its webhook secret; what happens without an endpoint or a secret; and the demo
StreamBox partner's development secret, the demo video platform's default (development only)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from service_keys_env import public_keys
import respx

from shared.database import Database
from shared.demo import DemoDataRefused
from shared.settings import reset_settings_cache

from services.benefits import seed
from services.benefits.delivery import service as delivery
from services.benefits.errors import DeliveryUnknown, NotAvailable, SignatureRejected
from services.benefits.partners import service as partners
from services.benefits.partners.answers import ProfileChanges
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.rules import SecretPurpose
from services.benefits.webhooks.signing import SIGNATURE_HEADER, sign, verify
from abg.demo.video_platform import DEFAULT_SECRET, DemoSettings
from tests.benefits.delivery.delivery_kit import Video, partner_api, succeeded, video_partner
from tests.benefits.kit import OPERATOR, SERVICE, as_partner


async def test_a_rotation_signs_with_both_secrets_and_the_webhook_secret_signs_nothing_here(video: Video) -> None:
    webhook_secret = (await webhooks.rotate_webhook_secret(video.db, OPERATOR, video.partner_id)).secret
    rotated = await webhooks.rotate_secret(video.db, as_partner(video.partner_id), video.partner_id, SecretPurpose.FULFILMENT)
    assert rotated.previous_expires_at is not None and rotated.secret.startswith("whsec_")
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded())
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    request = recharge.calls.last.request
    assert request.headers[SIGNATURE_HEADER].count("v1=") == 2
    assert video.verify(request, [rotated.secret]) == 0 and video.verify(request, [video.secret]) == 0
    with pytest.raises(SignatureRejected):
        video.verify(request, [webhook_secret])
    (only_webhook,) = await webhooks.secrets_of(video.db, OPERATOR, [video.partner_id])
    (fulfilment,) = await webhooks.secrets_of(video.db, OPERATOR, [video.partner_id], SecretPurpose.FULFILMENT)
    assert len(only_webhook or []) == 1 and len(fulfilment or []) == 2


async def test_without_an_endpoint_or_a_secret_nothing_is_sent(database: Database) -> None:
    no_url = await video_partner(database, fulfilment_url=None)
    no_secret = await video_partner(database, secret=False)
    with respx.mock(assert_all_called=False) as partner:
        partner_api(partner)
        for video, missing in ((no_url, "fulfilment endpoint"), (no_secret, "fulfilment signing secret")):
            reserved = await video.reserve()
            with pytest.raises(NotAvailable) as error:
                await delivery.deliver_recharge(database, SERVICE, key=reserved.key, account="alice")
            assert error.value.extensions["reason"] == "FULFILMENT_NOT_CONFIGURED" and missing in error.value.message
            assert await video.state(reserved.key) == "RESERVED"
        assert partner.calls.call_count == 0


async def test_an_endpoint_removed_after_a_request_leaves_the_outcome_unknown(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.respond(503)
        status.respond(503)
        with pytest.raises(DeliveryUnknown):
            await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    await partners.update_partner(video.db, OPERATOR, video.partner_id, ProfileChanges(fulfilment_url=None))
    with pytest.raises(DeliveryUnknown) as error:  # not NOT_AVAILABLE: the earlier requests may have delivered
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    assert error.value.extensions["attempts"] == 0


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    reset_settings_cache()


@pytest.mark.parametrize(("env", "seeded"), [("development", True), ("test", False), ("production", False)])
async def test_the_demo_streambox_secret_is_the_demo_platforms_in_development_only(
    database: Database, environment: pytest.MonkeyPatch, env: str, seeded: bool
) -> None:
    environment.setenv("ABG_ENV", env)
    if env == "production":  # production refuses the development keys: give it its own
        environment.setenv("ABG_JWT_SECRET", "a-real-secret-for-this-test")
        environment.setenv("ABG_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
        environment.setenv("ABG_BLIND_INDEX_KEY", "YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmMDE=")
        environment.setenv("ABG_SERVICE_PUBLIC_KEYS", public_keys()["ABG_SERVICE_PUBLIC_KEYS"])
    reset_settings_cache()
    if env == "production":  # no demo data at all there
        with pytest.raises(DemoDataRefused):
            await seed.seed_demo(database)
        return
    created = await seed.seed_demo(database)
    streambox = seed.demo_partner_id("streambox")
    assert streambox in created
    async with database.session() as session:
        keys = await webhooks.active_signing_keys(session, streambox, SecretPurpose.FULFILMENT)
        others = [await webhooks.active_signing_keys(session, p, SecretPurpose.FULFILMENT) for p in created if p != streambox]
    assert others == [[], [], []]
    if not seeded:
        assert keys == []
        return
    assert keys == [DEFAULT_SECRET.encode()] and DemoSettings().secrets == (DEFAULT_SECRET,)
    signed = sign(b"{}", keys, int(time.time()))
    assert verify(signed, b"{}", DemoSettings().secrets, now=time.time()).secret_index == 0
