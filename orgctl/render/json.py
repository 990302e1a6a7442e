"""The plan as JSON for machines: the plan file's own document (docs/plan-format.md)."""

from __future__ import annotations

from orgctl.engine.plan import Plan
from orgctl.inert import json_text

__all__ = ["render_json"]


def render_json(plan: Plan) -> str:
    return json_text(plan.to_json(), indent=2) + "\n"
