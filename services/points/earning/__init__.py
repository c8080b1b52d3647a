"""Earning: points for purchases at partners, taken back for returns, and operators' adjustments.

A purchase earns by the earning rules (base rate per partner, tier and birthday multipliers, the
best applicable campaign) into a new lot issued by the partner, pending until the partner's return
window has passed. A return claws back what the purchase earned in proportion to the amount
returned; what the member no longer has becomes debt, repaid by their next points. Operators
credit or debit a member's points with a reason, and configure the multipliers and campaigns.
"""
