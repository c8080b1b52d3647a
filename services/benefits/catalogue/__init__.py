"""The catalogue: benefits, their budgets, and what a member may redeem (eligibility)."""
