"""Signed webhooks: how we sign what we send partners, and how they (and we) check it."""
