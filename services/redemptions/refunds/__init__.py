"""Refunds and after-sales: a redemption taken back, its points returned to their lots."""
