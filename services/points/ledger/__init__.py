"""The ledger: members' points accounts, the lots their points sit in, and the double-entry,
hash-chained transactions that move points between accounts.

Every change of a member's points is one balanced transaction posted here under the member's row
lock (`unit`); earning and spending decide what to post, the ledger keeps it consistent. Lots carry
the points' provenance and are spent first-expiring first (`lots`); the scheduled vesting, expiry
and expiry notices are the ledger's own operations (`service`).
"""
