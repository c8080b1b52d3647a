"""The other services as the redemption saga calls them: one module per service, each call a typed
function over GraphQL (straight to the subgraph, with this service's credential). Every call that
changes something carries a key derived from the redemption, so a retried call never acts twice."""
