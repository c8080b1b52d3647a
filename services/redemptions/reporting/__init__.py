"""Operators' figures over redemptions."""
