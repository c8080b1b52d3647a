"""The operators' queue: redemptions that need a decision (NEEDS_ATTENTION), retried or failed."""
