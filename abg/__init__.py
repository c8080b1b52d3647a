"""The launcher: the abg command, the service registry, and demo processes."""
