"""Partner programmes: what a partner's points earn and cost, as operators register them.

The partner itself (name, credentials, benefits) belongs to the benefits service; here operators
register the partner's id with its earning rate, return window, expiry and the cost per point it
pays when its points are redeemed. A partner must be registered to record purchases (earning) or
to be paid for redemptions (spending). Changes apply to future purchases: lots already credited
keep the terms they were credited under.
"""
