"""Bad benefit input is refused before any write, naming the field: wrong, missing, huge, repeated."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from catalogue_kit import OPERATOR, recharge, voucher

from services.benefits.catalogue import service
from services.benefits.catalogue.inputs import CatalogueFilter
from shared.errors import DomainError
from shared.timeutil import utcnow

SOON = utcnow() + timedelta(days=30)

BAD: list[tuple[dict, str]] = [
    (voucher(title=""), "title"),
    (voucher(title="   "), "title"),
    (voucher(title=None), "title"),
    (voucher(title="x" * 201), "title"),
    (voucher(title="x" * 1_000_000), "title"),
    (voucher(title="bell\x07"), "title"),
    (voucher(title="two\nlines"), "title"),
    (voucher(title=42), "title"),
    (voucher(description="d" * 5001), "description"),
    (voucher(description="nul\x00"), "description"),
    (voucher(image_url="ftp://files.example.com/a.png"), "imageUrl"),
    (voucher(image_url="javascript:alert(1)"), "imageUrl"),
    (voucher(image_url="https://"), "imageUrl"),
    (voucher(image_url="https://a b.example.com/x.png"), "imageUrl"),
    (voucher(image_url="https://example.com/" + "a" * 500), "imageUrl"),
    (voucher(categories=[f"c{i}" for i in range(11)]), "categories"),
    (voucher(categories=["Bad Slug!"]), "categories"),
    (voucher(categories=["x" * 33]), "categories"),
    (voucher(categories=[""]), "categories"),
    (voucher(categories="grocery"), "categories"),
    (voucher(tags=[f"t{i}" for i in range(21)]), "tags"),
    (voucher(tags=[None]), "tags"),
    (voucher(points_price=0), "pointsPrice"),
    (voucher(points_price=-1), "pointsPrice"),
    (voucher(points_price=10**9 + 1), "pointsPrice"),
    (voucher(points_price=True), "pointsPrice"),
    (voucher(points_price=None), "pointsPrice"),
    (voucher(settlement_minor=-1), "settlementPrice.amountMinor"),
    (voucher(settlement_minor=10**12 + 1), "settlementPrice.amountMinor"),
    (voucher(currency="cny"), "settlementPrice.currency"),
    (voucher(currency=""), "settlementPrice.currency"),
    (voucher(kind="GIFT"), "kind"),
    (voucher(delivery="RECHARGE"), "delivery"),
    (voucher(face_value_minor=None), "faceValue.amountMinor"),
    (voucher(face_value_minor=0), "faceValue.amountMinor"),
    (voucher(valid_until=SOON), "validityDays"),  # both validities
    (voucher(validity_days=None), "validityDays"),  # neither
    (voucher(validity_days=0), "validityDays"),
    (voucher(validity_days=3661), "validityDays"),
    (voucher(validity_days=None, valid_until=utcnow() - timedelta(seconds=1)), "validUntil"),
    (voucher(validity_days=None, valid_until=datetime(2030, 1, 1)), "validUntil"),  # no offset
    (voucher(terms="t" * 5001), "terms"),
    (voucher(platform="streambox"), "platform"),
    (voucher(duration_days=30), "durationDays"),
    (recharge(face_value_minor=100), "faceValue.amountMinor"),
    (recharge(validity_days=10), "validityDays"),
    (recharge(delivery=None), "delivery"),
    (recharge(platform=None), "platform"),
    (recharge(platform="Stream Box"), "platform"),
    (recharge(duration_days=0), "durationDays"),
    (recharge(duration_days=None), "durationDays"),
    (recharge(stock_total=-1), "stockTotal"),
    (recharge(delivery="CODE", stock_total=10), "stockTotal"),
    (voucher(stock_total=10), "stockTotal"),
    (voucher(min_tier="PLATINUM"), "minTier"),
    (voucher(min_tier=""), "minTier"),
    (voucher(available_from=SOON, available_until=SOON), "availableUntil"),
    (voucher(available_from=datetime(2030, 1, 1)), "availableFrom"),
    (voucher(limit_per_day=0), "limits.perDay"),
    (voucher(limit_per_month=-3), "limits.perMonth"),
    (voucher(limit_lifetime=10**6 + 1), "limits.lifetime"),
    (voucher(birthday_perk="yes"), "birthdayPerk"),
]


@pytest.mark.parametrize(("columns", "field"), BAD, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD)])
async def test_bad_input_is_refused_with_its_field(kit, columns, field) -> None:  # noqa: ANN001
    partner = await kit.partner()
    with pytest.raises(DomainError) as caught:
        await service.create_benefit(kit.db, OPERATOR, partner, columns)
    assert (caught.value.code, caught.value.extensions.get("field")) == ("BAD_USER_INPUT", field), caught.value.message
    page = await service.list_benefits(kit.db, OPERATOR, CatalogueFilter(partner_id=partner))
    assert page.rows == []


async def test_the_same_rules_hold_for_updates(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    created = await kit.benefit(partner, status="DRAFT")
    for changes, field in [({"title": ""}, "title"), ({"face_value_minor": None}, "faceValue.amountMinor"),
                           ({"points_price": 0}, "pointsPrice"), ({"currency": "USD", "settlement_minor": 1}, "settlementPrice.currency"),
                           ({"platform": "x"}, "platform"), ({"categories": ["A B"]}, "categories")]:
        with pytest.raises(DomainError) as caught:
            await service.update_benefit(kit.db, OPERATOR, created.id, changes)
        assert caught.value.extensions.get("field") == field
    assert (await service.get_benefit(kit.db, OPERATOR, created.id)).updated_at == created.updated_at


async def test_a_birthday_perk_may_be_free_and_the_edges_are_accepted(kit) -> None:  # noqa: ANN001
    partner = await kit.partner()
    free = await service.create_benefit(kit.db, OPERATOR, partner, voucher(points_price=0, birthday_perk=True))
    assert free.points_price == 0 and free.birthday_perk
    edges = await service.create_benefit(kit.db, OPERATOR, partner, voucher(
        title="x" * 200, points_price=10**9, settlement_minor=10**12, face_value_minor=10**12, validity_days=3660,
        categories=[f"c{i}" for i in range(10)], tags=[f"t{i}" for i in range(20)], limit_per_day=10**6,
        image_url="https://img.example.com/" + "a" * 400, min_tier="diamond",
    ))
    assert edges.min_tier == "DIAMOND" and len(edges.tags) == 20
