"""Transitional: the old import path of registration, kept only because a test outside members
(tests/points/test_events_with_members.py) still imports it. Use `profiles.service`; delete this
module once that test does."""

from services.members.profiles.service import register_member

__all__ = ["register_member"]
