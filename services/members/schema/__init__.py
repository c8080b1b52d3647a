"""The members subgraph, thin over the service layers (`profiles`, `tiers`): resolvers parse ids,
call one service-layer function with the caller's principal, and turn its answer into a type; who
may do what is decided in the service layer."""

from __future__ import annotations

from shared.federation import build_schema

from services.members.schema.mutations import Mutation
from services.members.schema.queries import Query
from services.members.schema.types import Member

schema = build_schema(query=Query, mutation=Mutation, types=[Member])
