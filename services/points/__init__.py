"""The points service: one alliance currency on an append-only, double-entry, hash-chained ledger.

Concepts, each a package with its store (SQL), rules (pure decisions), service (operations taking
the caller's Principal) and answers: `ledger` (accounts, lots, transactions), `partners` (partner
programmes), `earning` (purchases, returns, adjustments, earning rules), `spending` (holds,
captures, refunds, settlement), `reporting` (what members and partners see), `audit` (operators'
checks). `schema` is the GraphQL layer over them; `events`/`outbox` what points consumes and
publishes; `jobs` the scheduled upkeep; `access` who may do what.
"""
