"""DOT graphs: the desired org's structure, or a plan's change dependencies."""

from __future__ import annotations

from orgctl.engine.plan import Plan
from orgctl.model import Org


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def org_dot(org: Org) -> str:
    """Units (parent edges), teams (parent team, unit) and employees (unit, manager)."""
    lines = ["digraph org {", "  rankdir=BT;", "  node [fontname=Helvetica];"]
    for key, u in sorted(org.units.items()):
        lines.append(f"  {_q('unit:' + key)} [label={_q(u.name)}, shape=box];")
        if u.parent:
            lines.append(f"  {_q('unit:' + key)} -> {_q('unit:' + u.parent)};")
    for key, t in sorted(org.teams.items()):
        lines.append(f"  {_q('team:' + key)} [label={_q(t.name)}, shape=ellipse];")
        if t.parent:
            lines.append(f"  {_q('team:' + key)} -> {_q('team:' + t.parent)};")
        if t.unit:
            lines.append(f"  {_q('team:' + key)} -> {_q('unit:' + t.unit)} [style=dashed];")
    for key, e in sorted(org.employees.items()):
        label = f"{e.first_name} {e.last_name}" + ("" if e.active else " (inactive)")
        lines.append(f"  {_q('emp:' + key)} [label={_q(label)}, shape=plaintext];")
        if e.unit:
            lines.append(f"  {_q('emp:' + key)} -> {_q('unit:' + e.unit)} [style=dashed];")
        if e.manager:
            lines.append(f"  {_q('emp:' + key)} -> {_q('emp:' + e.manager)} [label=manager];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def plan_dot(plan: Plan) -> str:
    """Each change a node (coloured by action), each dependency an edge."""
    colors = {"create": "green", "update": "orange", "delete": "red", "deactivate": "red",
              "manual": "purple"}
    lines = ["digraph plan {", "  rankdir=LR;", "  node [fontname=Helvetica, shape=box];"]
    for c in plan.changes:
        lines.append(f"  {_q(c.address)} [label={_q(c.action + ' ' + c.address)}, "
                     f"color={colors[c.action]}];")
        for dep in c.depends_on:
            lines.append(f"  {_q(dep)} -> {_q(c.address)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
