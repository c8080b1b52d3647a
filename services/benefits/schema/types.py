"""The entity types of the benefits subgraph.

`Partner @key(id)` and `Benefit @key(id)` are owned here; `Member @key(id)` is the members
subgraph's, referenced (and given `eligibleBenefits`, `codes`) here. Each concept writes its fields
in its own section below, with the resolvers in that concept's schema module, so the concepts can
grow side by side.
"""

from __future__ import annotations

import strawberry

# --- partners (schema/partners.py) ------------------------------------------------------------------

# --- catalogue and budgets (schema/catalogue.py) -------------------------------------------------------

# --- codes, reservations, write-offs (schema/codes.py) -------------------------------------------------

ENTITY_TYPES: list[type] = []
