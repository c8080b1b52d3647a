"""The redemptions subgraph: one GraphQL layer, thin over the service layers. Each concept's root
fields live in its own module, merged here; the entity types live in `types`."""

from __future__ import annotations

from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from shared.federation import build_schema
from shared.federation.scalars import SCALARS

from services.redemptions.schema import types
from services.redemptions.schema.abuse import AbuseMutations, AbuseQueries
from services.redemptions.schema.redeeming import RedeemingMutations, RedeemingQueries
from services.redemptions.schema.reporting import ReportingQueries
from services.redemptions.schema.subscriptions import RedemptionSubscriptions

Query = merge_types("Query", (RedeemingQueries, AbuseQueries, ReportingQueries))
Mutation = merge_types("Mutation", (RedeemingMutations, AbuseMutations))
Subscription = merge_types("Subscription", (RedemptionSubscriptions,))

schema = build_schema(query=Query, mutation=Mutation, subscription=Subscription, types=types.ENTITY_TYPES, config=StrawberryConfig(scalar_map=SCALARS))  # type: ignore[arg-type]
