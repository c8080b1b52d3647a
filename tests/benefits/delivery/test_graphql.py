"""Recharge delivery through GraphQL, for every role: deliverRecharge and revokeRecharge (services
only), the delivery log (deliveryAttempts, Reservation.deliveryAttempts), and the fulfilment secret
(rotateFulfilmentSecret, Partner.fulfilmentSecrets); and the typed errors as clients see them."""

from __future__ import annotations

import httpx
import pytest
import respx

from services.benefits.delivery import service as delivery
from tests.benefits.delivery.delivery_kit import Video, partner_api, refused, succeeded
from tests.benefits.kit import SERVICE, STRANGER, gql, roles_for

ROLES = ("operator", "customer_service", "partner", "other_partner", "member", "service", "anonymous")
DELIVER = """mutation($key: String!, $account: String!) { deliverRecharge(key: $key, account: $account) {
  key state deliveryReference issuedAt deliveryAttempts { kind outcome httpStatus detail idempotencyKey } } }"""
REVOKE = "mutation($key: String!) { revokeRecharge(key: $key) { key state releasedAt } }"
LOG = """query($key: String!) { deliveryAttempts(key: $key) { at kind httpStatus error latencyMs outcome detail
  idempotencyKey } }"""
RESERVATION = "query($key: String!) { reservation(key: $key) { state deliveryAttempts { kind outcome } } }"
ROTATE = """mutation($id: ID!) { rotateFulfilmentSecret(partnerId: $id) { secret previousExpiresAt
  fulfilmentSecret { id createdAt expiresAt } } }"""
SECRETS = "query($id: ID!) { partner(id: $id) { fulfilmentSecrets { id expiresAt } webhookSecrets { id } } }"


def _outcome(answer) -> str:  # noqa: ANN001
    return answer.codes[0] if answer.errors else "ok"


async def _delivered(video: Video) -> str:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, _ = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-G"))
        await delivery.deliver_recharge(video.db, SERVICE, key=reserved.key, account="alice")
    return reserved.key


@pytest.mark.parametrize("role", ROLES)
async def test_delivery_by_role(video: Video, role: str) -> None:
    who = roles_for(video.partner_id)[role]
    denied = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, _, revoke = partner_api(partner)
        recharge.mock(return_value=succeeded("SBX-G"))
        revoke.mock(return_value=httpx.Response(200, json={"status": "REVOKED"}))
        delivered = await gql(video.db, DELIVER, who, key=reserved.key, account="alice")
        assert _outcome(delivered) == ("ok" if role == "service" else denied)
        assert recharge.call_count == (1 if role == "service" else 0)
        key = reserved.key if role == "service" else await _delivered(video)
        revoked = await gql(video.db, REVOKE, who, key=key)
        assert _outcome(revoked) == ("ok" if role == "service" else denied)
    if role == "service":
        answer = delivered.ok["deliverRecharge"]
        assert (answer["state"], answer["deliveryReference"]) == ("ISSUED", "SBX-G") and answer["issuedAt"]
        (attempt,) = answer["deliveryAttempts"]
        assert attempt == {"kind": "RECHARGE", "outcome": "SUCCEEDED", "httpStatus": 200, "detail": "SBX-G",
                           "idempotencyKey": f"abg.r.{reserved.key}"}
        assert revoked.ok["revokeRecharge"]["state"] == "VOIDED" and revoked.ok["revokeRecharge"]["releasedAt"]

    readers = {"operator": "ok", "customer_service": "ok", "partner": "ok", "service": "ok"}
    log = await gql(video.db, LOG, who, key=key)
    assert _outcome(log) == readers.get(role, denied)
    if _outcome(log) == "ok":
        assert [a["kind"] for a in log.ok["deliveryAttempts"]][0] == "RECHARGE"
        assert all(a["idempotencyKey"] == f"abg.r.{key}" and a["latencyMs"] >= 0 for a in log.ok["deliveryAttempts"])
    # Reservations themselves are for services and staff; their log comes with them.
    on_reservation = await gql(video.db, RESERVATION, who, key=key)
    assert _outcome(on_reservation) == {"operator": "ok", "customer_service": "ok", "service": "ok"}.get(role, denied)
    if _outcome(on_reservation) == "ok":
        assert on_reservation.ok["reservation"]["deliveryAttempts"][0] == {"kind": "RECHARGE", "outcome": "SUCCEEDED"}

    managers = {"operator": "ok", "partner": "ok"}
    rotated = await gql(video.db, ROTATE, who, id=str(video.partner_id))
    assert _outcome(rotated) == managers.get(role, denied)
    if _outcome(rotated) == "ok":
        made = rotated.ok["rotateFulfilmentSecret"]
        assert made["secret"].startswith("whsec_") and made["previousExpiresAt"] and made["fulfilmentSecret"]["expiresAt"] is None
    secrets = await gql(video.db, SECRETS, who, id=str(video.partner_id))
    assert _outcome(secrets) == readers.get(role, denied)
    if _outcome(secrets) == "ok":
        found = secrets.ok["partner"]
        assert len(found["fulfilmentSecrets"]) == (2 if role in managers else 1) and found["webhookSecrets"] == []


async def test_another_partner_cannot_tell_a_key_exists(video: Video) -> None:
    key = await _delivered(video)
    theirs = await gql(video.db, LOG, STRANGER, key=key)
    nobody = await gql(video.db, LOG, STRANGER, key="no-such-key")
    assert theirs.codes == nobody.codes == ["FORBIDDEN"]
    assert theirs.errors[0]["message"] == nobody.errors[0]["message"]
    assert (await gql(video.db, LOG, SERVICE, key="no-such-key")).codes == ["NOT_FOUND"]


async def test_typed_errors_as_clients_see_them(video: Video) -> None:
    reserved = await video.reserve()
    with respx.mock(assert_all_called=False) as partner:
        recharge, status, _ = partner_api(partner)
        recharge.mock(return_value=refused("ACCOUNT_NOT_FOUND", "no such account"))
        refusal = await gql(video.db, DELIVER, SERVICE, key=reserved.key, account="nobody")
        other = await video.reserve()
        recharge.mock(return_value=httpx.Response(500))
        status.mock(return_value=httpx.Response(500))
        unknown = await gql(video.db, DELIVER, SERVICE, key=other.key, account="alice")
    (error,) = refusal.errors
    assert error["extensions"]["code"] == "PARTNER_REFUSED" and error["extensions"]["reason"] == "ACCOUNT_NOT_FOUND"
    assert error["extensions"]["partnerMessage"] == "no such account"
    (error,) = unknown.errors
    assert error["extensions"]["code"] == "DELIVERY_UNKNOWN" and error["extensions"]["attempts"] == 6
    bad = await gql(video.db, DELIVER, SERVICE, key=reserved.key, account="x" * 101)
    assert bad.codes == ["BAD_USER_INPUT"] and bad.errors[0]["extensions"]["field"] == "account"
    log = await gql(video.db, LOG, SERVICE, key=other.key)
    assert [a["outcome"] for a in log.ok["deliveryAttempts"]] == ["UNANSWERED"] * 6
