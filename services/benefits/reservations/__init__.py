"""Reservations of benefits for redemptions in flight."""
