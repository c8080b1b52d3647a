"""A benefit's refund window (`refundWindowDays`): set at creation, changed and cleared by updates,
0–365 days or null, checked before any write and by the database itself; the demo catalogue's is a week."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from catalogue_kit import OPERATOR, partner_principal, recharge, voucher
from sqlalchemy.exc import IntegrityError

from services.benefits.catalogue import service
from services.benefits.catalogue.inputs import CatalogueFilter
from services.benefits.catalogue.seed import DEMO_BENEFITS, demo_benefit_id, demo_partner_id, seed_catalogue
from services.benefits.schema import schema
from shared.auth.tokens import mint_token
from shared.errors import DomainError
from shared.federation import create_subgraph_app


async def test_created_with_a_window_or_without_one(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    week = await service.create_benefit(kit.db, partner_principal(partner), partner, voucher(refund_window_days=7))
    assert week.refund_window_days == 7
    assert (await service.get_benefit(kit.db, OPERATOR, week.id)).refund_window_days == 7
    none = await service.create_benefit(kit.db, OPERATOR, partner, recharge())
    assert none.refund_window_days is None  # only operators refund
    edges = [await service.create_benefit(kit.db, OPERATOR, partner, voucher(refund_window_days=days)) for days in (0, 365)]
    assert [b.refund_window_days for b in edges] == [0, 365]


@pytest.mark.parametrize("days", [-1, 366, 32768, True, 7.5, "7"])
async def test_a_window_out_of_bounds_is_refused_naming_the_field(kit, days) -> None:  # noqa: ANN001
    partner = await kit.partner()
    with pytest.raises(DomainError) as caught:
        await service.create_benefit(kit.db, OPERATOR, partner, voucher(refund_window_days=days))
    assert (caught.value.code, caught.value.extensions.get("field")) == ("BAD_USER_INPUT", "refundWindowDays")
    assert (await service.list_benefits(kit.db, OPERATOR, CatalogueFilter(partner_id=partner))).rows == []


async def test_updates_change_clear_and_check_the_window(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner, voucher(refund_window_days=14))
    owner = partner_principal(partner)
    assert (await service.update_benefit(kit.db, owner, created.id, {"refund_window_days": 30})).refund_window_days == 30
    assert (await service.update_benefit(kit.db, owner, created.id, {"title": "Renamed"})).refund_window_days == 30  # left out: kept
    for bad in (-5, 400):
        with pytest.raises(DomainError) as caught:
            await service.update_benefit(kit.db, owner, created.id, {"refund_window_days": bad})
        assert (caught.value.code, caught.value.extensions.get("field")) == ("BAD_USER_INPUT", "refundWindowDays")
    assert (await service.get_benefit(kit.db, owner, created.id)).refund_window_days == 30
    assert (await service.update_benefit(kit.db, owner, created.id, {"refund_window_days": None})).refund_window_days is None


async def test_the_database_refuses_a_window_out_of_bounds(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner)
    with pytest.raises(IntegrityError):
        async with kit.db.engine.begin() as connection:
            await connection.execute(sa.text("UPDATE benefits.benefits SET refund_window_days = 366 WHERE id = :id"), {"id": created.id})


async def test_the_demo_catalogue_refunds_within_a_week(kit) -> None:  # noqa: ANN001
    for slug in ("metro-mart", "skyline-air", "streambox"):
        await kit.partner(partner_id=demo_partner_id(slug))
    created = await seed_catalogue(kit.db)
    assert created == [demo_benefit_id(slug) for slug, *_ in DEMO_BENEFITS]
    views = await service.load_benefits(kit.db, OPERATOR, created)
    assert [v.refund_window_days for v in views if v] == [7] * len(created)


# --- over GraphQL --------------------------------------------------------------------------------------

CREATE = """mutation($input: CreateBenefitInput!) { createBenefit(input: $input) { id refundWindowDays } }"""
UPDATE = """mutation($id: ID!, $input: UpdateBenefitInput!) { updateBenefit(id: $id, input: $input) { id refundWindowDays } }"""
ONE = """query($id: ID!) { benefit(id: $id) { id refundWindowDays } }"""
VOUCHER = {
    "kind": "VOUCHER", "title": "¥20 voucher", "pointsPrice": 2000, "settlementPrice": {"amountMinor": 1800, "currency": "CNY"},
    "faceValue": {"amountMinor": 2000, "currency": "CNY"}, "validityDays": 30,
}


@pytest.fixture
async def http(db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_subgraph_app(service="benefits", schema=schema)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://benefits") as client:
            yield client


async def call(http: httpx.AsyncClient, query: str, subject: str, kind: str = "partner", **variables: object) -> dict:
    bearer = mint_token(kind, subject, roles=[])
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {bearer}"})
    return response.json()


async def test_refund_window_days_over_graphql(kit, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    partner = str(await kit.partner())
    created = (await call(http, CREATE, partner, input={**VOUCHER, "refundWindowDays": 7}))["data"]["createBenefit"]
    assert created["refundWindowDays"] == 7
    changed = await call(http, UPDATE, partner, id=created["id"], input={"refundWindowDays": 0})
    assert changed["data"]["updateBenefit"] == {"id": created["id"], "refundWindowDays": 0}
    refused = await call(http, UPDATE, partner, id=created["id"], input={"refundWindowDays": 366})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in refused["errors"]] == [("BAD_USER_INPUT", "refundWindowDays")]
    refused = await call(http, CREATE, partner, input={**VOUCHER, "refundWindowDays": -1})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    cleared = await call(http, UPDATE, partner, id=created["id"], input={"refundWindowDays": None})
    assert cleared["data"]["updateBenefit"]["refundWindowDays"] is None
    assert (await call(http, ONE, partner, id=created["id"]))["data"]["benefit"]["refundWindowDays"] is None
    described = await call(http, '{ __type(name: "Benefit") { fields { name description } } }', partner)
    field = next(f for f in described["data"]["__type"]["fields"] if f["name"] == "refundWindowDays")
    assert field["description"] == (
        "Members may ask for a refund of an unused redemption within this many days of it; null: only operators refund."
    )
