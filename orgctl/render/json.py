"""The plan as JSON for machines: the plan file's own document (docs/plan-format.md)."""

from __future__ import annotations

import json

from orgctl.engine.plan import Plan

__all__ = ["render_json"]


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n"
