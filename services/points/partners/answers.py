"""A partner's programme: its row and its answer are one shape (nothing about it is hidden)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartnerProgram:
    id: uuid.UUID
    name: str | None
    currency: str
    earning_enabled: bool
    earn_points: int  # points per `earn_per_minor` minor units spent, before multipliers
    earn_per_minor: int
    return_window_days: int  # points stay pending this long after the purchase
    expiry_months: int
    cost_per_point_minor: int  # what the partner pays per point of its own redeemed
    # Sanity caps of its own; None: the defaults from settings (see `limits`).
    max_purchase_minor: int | None = None
    max_points_per_member_day: int | None = None
    max_purchase_age_days: int | None = None
