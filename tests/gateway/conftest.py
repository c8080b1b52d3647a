"""Fixtures for the gateway's tests: scenario subgraphs served on loopback, one gateway per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.execution.pipeline import Gateway
from tests.gateway.kit.club import Club
from tests.gateway.kit.scenarios import Catalog, Shop
from tests.gateway.kit.strawberry_subscriptions import SubscriptionStack


@pytest.fixture(scope="session")
async def shop_scenario() -> AsyncIterator[Shop]:
    scenario = Shop()
    await scenario.start()
    yield scenario
    await scenario.stop()


@pytest.fixture(scope="session")
async def catalog_scenario() -> AsyncIterator[Catalog]:
    scenario = Catalog()
    await scenario.start()
    yield scenario
    await scenario.stop()


@pytest.fixture(scope="session")
async def club() -> AsyncIterator[Club]:
    """Subgraphs with access directives (tests reset it themselves)."""
    scenario = Club()
    await scenario.start()
    yield scenario
    await scenario.stop()


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[SubscriptionStack]:
    """Subgraphs with subscriptions behind a gateway, one per test module (the modules count what they saw)."""
    stack = await SubscriptionStack().start()
    yield stack
    await stack.stop()


@pytest.fixture
async def shop(shop_scenario: Shop) -> AsyncIterator[Shop]:
    shop_scenario.reset()
    yield shop_scenario
    shop_scenario.reset()


@pytest.fixture
async def catalog(catalog_scenario: Catalog) -> AsyncIterator[Catalog]:
    catalog_scenario.reset()
    yield catalog_scenario
    catalog_scenario.reset()


@pytest.fixture
async def shop_gateway(shop: Shop) -> AsyncIterator[Gateway]:
    gateway = shop.gateway()
    yield gateway
    await gateway.aclose()


@pytest.fixture
async def catalog_gateway(catalog: Catalog) -> AsyncIterator[Gateway]:
    gateway = catalog.gateway()
    yield gateway
    await gateway.aclose()
