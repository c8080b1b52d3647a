"""Partner credentials: API keys and the bearer tokens they are exchanged for."""
