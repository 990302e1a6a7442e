"""The plan as text for a terminal (Terraform-like): by system, as it always read, or by
person (`--by person`), with names, per system counts and what moves reporting lines or
rights."""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import groupby
from typing import Any

from orgctl import inert
from orgctl.engine.plan import Plan
from orgctl.render import people
from orgctl.render.common import (
    FOLD_AFTER,
    Names,
    change_lines,
    dated_line,
    impact_text,
    is_lifted,
    scheduled_days,
    summary_line,
    tagged,
)
from orgctl.resources import Finding

__all__ = ["render_text"]

COLORS = {"create": "green", "update": "yellow", "delete": "red", "deactivate": "red",
          "manual": "magenta"}

Style = Callable[..., str]


def _plain(text: str, **_: Any) -> str:
    return text


def render_text(plan: Plan, color: bool = False, by: str = "system",
                forced: bool = False, allowed: Collection[str] = ()) -> str:
    import click

    style: Style = click.style if color else _plain
    out: list[str] = []
    tag = tagged(plan)
    if plan.as_of:
        out += [style(dated_line(plan), bold=True), ""]
    if by == "person":
        out += _by_person(plan, style, tag)
    else:
        for provider, changes in groupby(plan.changes, key=lambda c: c.provider):
            out.append(style(inert.terminal(provider), bold=True))
            for c in changes:
                lines = change_lines(c, tag=tag)
                out.append("  " + style(lines[0], fg=COLORS[c.action]))
                out.extend("  " + line for line in lines[1:])
            out.append("")
    out += _relations(plan)
    out += _scheduled(plan, style, tag)
    out += _findings(plan, style)
    out += _refusals(plan, style, forced, allowed)
    out.append(style(summary_line(plan), bold=True))
    return "\n".join(out) + "\n"


def _by_person(plan: Plan, style: Style, tag: bool) -> list[str]:
    names = Names(plan)
    out = _table(plan)
    out += _impacts(plan, names)
    for group in people.by_subject(plan, names):
        if group.subject is None:
            head = f"Other — {people.headline(group, names)}"
        else:
            head = f"{names.label(group.subject)} — {people.summary(group, names)}"
        out.append(style(inert.terminal(head), bold=True))
        for c in group.changes:
            lines = change_lines(c, tag=tag, names=names, provider=True)
            out.append("  " + style(lines[0], fg=COLORS[c.action]))
            out.extend("  " + line for line in lines[1:])
        out.append("")
    return out


def _table(plan: Plan) -> list[str]:
    counts = people.system_counts(plan)
    if not counts:
        return []
    width = max(len("system"), *(len(inert.terminal(p)) for p in counts))
    rows = [f"  {'system':<{width}}  {'add':>5}  {'change':>6}  {'remove':>6}  {'manual':>6}"]
    rows += [f"  {inert.terminal(p):<{width}}  {n['add']:>5}  {n['change']:>6}  "
             f"{n['remove']:>6}  {n['manual']:>6}" for p, n in counts.items()]
    return [*rows, ""]


def _impacts(plan: Plan, names: Names) -> list[str]:
    found = people.impacts(plan, names)
    out: list[str] = []
    if found.reporting:
        out.append(f"Reporting lines that change ({len(found.reporting)}):")
        out += [f"  · {inert.terminal(_person(names, r.person))}: {inert.terminal(r.role)} "
                f"{_who(names, r.old)} → {_who(names, r.new)} ({', '.join(r.systems)})"
                for r in found.reporting]
        out.append("")
    for title, rights in (("Rights gained", found.gained), ("Rights lost", found.lost)):
        if rights:
            out.append(f"{title} ({len(rights)}):")
            out += [f"  · {inert.terminal(_person(names, r.person))}: "
                    f"{inert.terminal(r.what)} ({inert.terminal(r.place)})" for r in rights]
            out.append("")
    return out


def _person(names: Names, key: str, kind: str = "employee") -> str:
    """The name and key of the `kind` (first; "": any) `key` is, or the key alone."""
    subject = names.named(key, kind)
    return names.label(subject) if subject else key


def _anyone(names: Names) -> Callable[[str], str]:
    """How a day's relations name a person or a unit: by name and key, for a terminal."""
    return lambda key: inert.terminal(_person(names, key, ""))


def _who(names: Names, key: Any) -> str:
    if key is None:
        return "(none)"
    return inert.terminal(_person(names, key) if isinstance(key, str) else str(key))


def _findings(plan: Plan, style: Style) -> list[str]:
    out: list[str] = []
    errors = [f for f in plan.findings if f.level == "error"]
    warnings = [f for f in plan.findings if f.level == "warning"]
    reads = [f for f in plan.findings if f.code == "read"]
    infos = [f for f in plan.findings if f.level == "info" and f.code != "read"]
    if errors:
        out.append(style("Errors:", fg="red", bold=True))
        out.extend(_finding_line("✗", f) for f in errors)
        out.append("")
    if warnings:
        out.append(style("Warnings:", fg="yellow", bold=True))
        out.extend(_finding_line("!", f) for f in warnings)
        out.append("")
    if reads:  # never folded: they say what the plan could and could not see
        out.append("How live state was read:")
        out.extend(f"  · {inert.terminal(f.provider)}: {inert.terminal(f.message)}"
                   for f in reads)
        out.append("")
    if infos:
        out.append(f"Notes ({len(infos)}):")
        shown = infos[:FOLD_AFTER]
        out.extend(_finding_line("·", f) for f in shown)
        if len(infos) > len(shown):
            out.append(f"  · ... and {len(infos) - len(shown)} more (see --format json)")
        out.append("")
    return out


def _relations(plan: Plan) -> list[str]:
    """What the plan's own day changes in relations (who changes manager, ...)."""
    names = Names(plan)
    today = [i for i in plan.impacts if i.day.isoformat() == plan.as_of]
    if not today or not (text := impact_text(today[0], _anyone(names))):
        return []
    return [f"Relations on {plan.as_of}: {text}", ""]


def _scheduled(plan: Plan, style: Style, tag: bool) -> list[str]:
    """What comes due in the horizon, day by day: shown, not applied by this plan."""
    days = scheduled_days(plan)
    if not days:
        return []
    names = Names(plan)
    impacts = {i.day.isoformat(): i for i in plan.impacts}
    out = [style(f"Scheduled in the next {plan.horizon} days (not applied by this plan; "
                 f"the plan of each day applies it):", bold=True)]
    for on, why, changes in days:
        out.append(style(f"  {on}" + (f" — {inert.terminal(why)}" if why else ""), bold=True))
        if on in impacts and (text := impact_text(impacts[on], _anyone(names))):
            out.append(f"    Relations: {text}")
        for c in changes:
            lines = change_lines(c, tag=tag, names=names, provider=True)
            out.append("    " + style(lines[0], fg=COLORS[c.action]))
            out.extend("    " + line for line in lines[1:])
    out.append("")
    return out


def _refusals(plan: Plan, style: Style, forced: bool,
              allowed: Collection[str] = ()) -> list[str]:
    """The safety rules the plan breaks, just above the summary line a terminal ends on."""
    if not plan.refusals:
        return []
    lifted = [r for r in plan.refusals if is_lifted(r, forced, allowed)]
    held = [r for r in plan.refusals if r not in lifted]
    out: list[str] = []
    if held:
        out.append(style("Refused by safety rules (exit 3): nothing is applied.",
                         fg="red", bold=True))
        out += [f"  ✗ {inert.terminal(r.message)}" for r in held]
        out.append("")
    if lifted:
        out.append(style("Safety rules overridden by "
                         f"{', '.join(sorted({str(r.override) for r in lifted}))}:",
                         fg="yellow", bold=True))
        out += [f"  ! {inert.terminal(r.message)}" for r in lifted]
        out.append("")
    return out


def _finding_line(mark: str, f: Finding) -> str:
    return f"  {mark} {inert.terminal(f.address)}: {inert.terminal(f.message)}"
