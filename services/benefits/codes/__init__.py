"""Voucher and activation codes: generating our own, and taking in partners' uploads."""
