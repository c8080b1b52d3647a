"""Abuse control: the alliance-wide rules operators set, the signals they review, blocked members, and the sagas handed to them."""
