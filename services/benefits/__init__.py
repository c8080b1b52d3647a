"""The benefits service: partners, their benefits, code pools, delivery and write-off."""
