"""The benefits subgraph: one GraphQL layer, thin over the concept packages' service layers.

Each concept contributes its root fields in its own module (`partners`, `catalogue`, `codes`,
`webhooks`, …) as a `Queries` and a `Mutations` class; they are merged here into `Query` and
`Mutation`. The entity types (`Partner`, `Benefit`, the `Member` stub) live in `types`.
"""

from __future__ import annotations

from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from shared.federation import build_schema

from services.benefits.schema import catalogue, types
from services.benefits.schema.codes import CodeMutations, CodeQueries
from services.benefits.schema.credentials import CredentialMutations
from services.benefits.schema.delivery import DeliveryMutations, DeliveryQueries
from services.benefits.schema.health import HealthQueries
from services.benefits.schema.partners import PartnerMutations, PartnerQueries
from services.benefits.schema.reservations import ReservationMutations, ReservationQueries
from shared.federation.scalars import SCALARS
from services.benefits.schema.webhooks import WebhookMutations
from services.benefits.schema.writeoffs import WriteOffMutations, WriteOffQueries

QUERIES: tuple[type, ...] = (
    HealthQueries, PartnerQueries, catalogue.Queries, CodeQueries, ReservationQueries, WriteOffQueries, DeliveryQueries,
)
MUTATIONS: tuple[type, ...] = (
    PartnerMutations, CredentialMutations, WebhookMutations, catalogue.Mutations, CodeMutations, ReservationMutations,
    WriteOffMutations, DeliveryMutations,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None

schema = build_schema(
    query=Query, mutation=Mutation, types=types.ENTITY_TYPES, config=StrawberryConfig(scalar_map=SCALARS)  # type: ignore[arg-type]
)
