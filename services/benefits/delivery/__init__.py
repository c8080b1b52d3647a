"""Delivering video memberships by direct recharge through a partner platform's fulfilment API."""
