"""The partner registry: partners, their status, roles and public face."""
