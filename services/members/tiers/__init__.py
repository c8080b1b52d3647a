"""Tiers: the tier policy, growth value, upgrades, the tier review, history and progress."""
