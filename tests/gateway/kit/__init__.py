"""Helpers for the gateway's tests: small federation subgraphs and loopback servers."""
