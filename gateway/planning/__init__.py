"""Turning client operations into query plans (plain data: see plan.py)."""

from .operation import Operation, normalize
from .plan import QueryPlan, print_plan
from .planner import Planner, PlanningError

__all__ = ["Operation", "Planner", "PlanningError", "QueryPlan", "normalize", "print_plan"]
