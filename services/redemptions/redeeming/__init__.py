"""Redeeming: admitting a redemption (eligibility, the alliance's limits and abuse rules,
idempotency) and reading redemptions back."""
