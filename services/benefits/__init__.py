"""The benefits service: the partner registry, the catalogue, budgets, code pools, delivery and write-off."""
