"""Audit: operators' checks that the ledger balances, that balances agree with the sub-ledgers
(lots, holds, debt), and that every member's hash chain holds.

Both checks read everything: operator tools, not request paths. The figures are read in one
snapshot (`store`) and judged by pure rules (`rules`), so each disagreement is reported.
"""
