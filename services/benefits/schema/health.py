"""A root field every subgraph can be asked without data: which service answers."""

from __future__ import annotations

import strawberry


@strawberry.type
class HealthQueries:
    @strawberry.field(description="The name of the service answering (benefits).")
    def benefits_service(self) -> str:
        return "benefits"
