"""Reporting: what members and partners see of their points, read from the ledger.

A member's balances, points expiring soon, lots (with where each stands) and transactions with
their postings; a partner's figures (points issued, outstanding liability and its expiry forecast,
breakage, points redeemed at the partner). Read-only: these views own no tables, and their
queries are here (`store`) rather than in the writers' stores, which hold what operations need.
"""
