"""The redemption saga: admitted by `redeem`, driven step by step by the process holding its lease,
resumed by any replica's recovery loop when that process is gone."""
