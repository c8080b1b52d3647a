"""Spending: holds that reserve points for a redemption, then capture (fully or partly), release,
or refund them, and the settlement each capture books between the issuers of the spent points
and the partner being paid.

A hold takes points out of the member's lots first-expiring first and remembers how many it took
from each; a capture consumes them in the same order and books one settlement line per consumed
lot. Settlement statements net those lines per counterparty for a partner.
"""
