"""The points subgraph's GraphQL layer, thin over the service layer: types made from answers
(`types`, `results`), inputs, and resolvers (`queries`, `mutations`, `subscriptions`) that each call one
service-layer operation with the caller's principal. No SQL and no role checks here."""

from __future__ import annotations

from strawberry.schema.config import StrawberryConfig

from services.points.schema.mutations import Mutation
from services.points.schema.queries import Query
from services.points.schema.subscriptions import Subscription
from shared.federation.scalars import SCALARS
from services.points.schema.types import Member, Partner
from shared.federation import build_schema

schema = build_schema(query=Query, mutation=Mutation, subscription=Subscription, types=[Member, Partner], config=StrawberryConfig(scalar_map=SCALARS))
