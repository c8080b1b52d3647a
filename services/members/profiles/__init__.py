"""Members themselves: registration, profiles, preferences, status, erasure and reads."""
