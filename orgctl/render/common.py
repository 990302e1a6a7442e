"""What every rendering of a plan shares: the summary line, values as printed, the change
lines, the names shown beside keys, and repeated findings grouped."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from orgctl import inert
from orgctl.engine.plan import Plan, Refusal
from orgctl.engine.subjects import KINDS, Subject, concerned, subject_id
from orgctl.lifecycle import Impact
from orgctl.resources import Action, Change, Finding

__all__ = ["FOLD_AFTER", "KEY_MARK", "MARKER", "SYMBOLS", "FindingGroup", "Names",
           "change_lines", "dated_line", "finding_groups", "flat", "impact_text", "is_lifted",
           "scheduled_days", "summary_line", "tagged", "value"]

MARKER = "<!-- orgctl-plan -->"
FOLD_AFTER = 20  # a section with more changes than this folds into <details>

SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-", "deactivate": "-",
                              "manual": "!"}


def value(v: Any) -> str:
    """A value as JSON, inert on a terminal (JSON escapes C0 controls, not C1 or bidi)."""
    return inert.terminal(json.dumps(v, ensure_ascii=False, default=str))


def summary_line(plan: Plan) -> str:
    n = plan.counts()
    errors = sum(f.level == "error" for f in plan.findings)
    if not plan.changes and errors:
        return (f"No changes, but {errors} error{'s' if errors != 1 else ''} above "
                f"need{'s' if errors == 1 else ''} attention: the live systems do not match "
                f"the configuration.")
    if not plan.changes:
        return "No changes. The live systems match the configuration."
    parts = [f"{n['create']} to add", f"{n['update']} to change", f"{n['delete']} to destroy"]
    if n["deactivate"]:
        parts.append(f"{n['deactivate']} to deactivate")
    if n["manual"]:
        parts.append(f"{n['manual']} manual")
    return "Plan: " + ", ".join(parts) + "."


def dated_line(plan: Plan) -> str:
    """What day the plan is of, and how far ahead it looks ("" for an undated plan)."""
    if not plan.as_of:
        return ""
    ahead = (f"; {len(plan.scheduled)} change{'s' if len(plan.scheduled) != 1 else ''} "
             f"scheduled in the {plan.horizon} days after it" if plan.scheduled
             else f"; nothing scheduled in the {plan.horizon} days after it")
    return f"Plan of {plan.as_of}{ahead}."


def scheduled_days(plan: Plan) -> list[tuple[str, str, list[Change]]]:
    """(day, what is due that day, its changes), day by day."""
    days: dict[str, tuple[set[str], list[Change]]] = {}
    for s in plan.scheduled:
        whys, changes = days.setdefault(s.on, (set(), []))
        whys.update(w for w in s.why.split("; ") if w)
        changes.append(s.change)
    return [(on, "; ".join(sorted(whys)), changes) for on, (whys, changes) in days.items()]


def impact_text(impact: Impact, label: Callable[[str], str]) -> str:
    """A day's effect on relations in one sentence, people and units by `label`."""
    parts = []
    if impact.manager_changes:
        n = len(impact.manager_changes)
        parts.append(f"{n} {'person changes' if n == 1 else 'people change'} manager "
                     f"({', '.join(map(label, impact.manager_changes))})")
    if impact.units_losing_hr:
        parts.append("units losing their HR contact: "
                     + ", ".join(map(label, impact.units_losing_hr)))
    if impact.admin_gained:
        parts.append("admin rights gained: " + ", ".join(map(label, impact.admin_gained)))
    if impact.admin_lost:
        parts.append("admin rights lost: " + ", ".join(map(label, impact.admin_lost)))
    return "; ".join(parts)


def is_lifted(refusal: Refusal, forced: bool, allowed: Iterable[str]) -> bool:
    """Whether the run lifts this refusal (--force for thresholds, --allow-orphans...)."""
    return refusal.override is not None and (
        (forced and refusal.override == "--force") or refusal.override in allowed)


def tagged(plan: Plan) -> bool:
    """Whether changes show where they come from: when any comes from a source of truth
    (source mode); a plan of YAML alone stays as it always read."""
    return any(c.source != "yaml" for c in plan.changes)


class Names:
    """The names a plan carries (`Plan.subjects`), looked up by key: whom a change
    concerns, and what a value that is an employee, unit or team key is called."""

    def __init__(self, plan: Plan) -> None:
        self.subjects = plan.subjects

    def of(self, key: str) -> Subject | None:
        """The subject a change or finding keyed `key` concerns (see engine.subjects)."""
        sid = concerned(key, self.subjects)
        return self.subjects[sid] if sid else None

    def named(self, value: Any, kind: str = "") -> Subject | None:
        """The subject `value` is the key of, the kind `kind` first when it is one."""
        if not isinstance(value, str) or not self.subjects:
            return None
        for k in sorted(KINDS, key=lambda k: k != kind):
            found = self.subjects.get(subject_id(k, value))
            if found is not None:
                return found
        return None

    def label(self, subject: Subject) -> str:
        """"Lina Bouvier (EMP-031)": the name, then the key."""
        return f"{subject.name} ({subject.key})"

    def value(self, v: Any, field: str = "") -> str:
        """`v` as printed, followed by the name it stands for when it is a key."""
        named = self.named(v, field.rsplit(".", 1)[-1])
        shown = value(v)
        return f"{shown} ({inert.terminal(named.name)})" if named else shown


def change_lines(c: Change, *, tag: bool = False, names: Names | None = None,
                 provider: bool = False, symbols: dict[Action, str] = SYMBOLS,
                 symbol_each_line: bool = False, wrap: int | None = None) -> list[str]:
    """The change as text lines: a head line, then only what differs, then why.

    names: show the concerned subject's name after the key, and names after values that
    are keys. provider: start with the provider's name (a view across systems).
    symbol_each_line: repeat the symbol at the start of each field line (a Markdown diff
    block colours a line by its first character). wrap: fold the reason at this width."""
    symbol = symbols[c.action]
    verb = "" if c.action in ("create", "update", "delete") else f"{c.action} "
    where = f"{inert.terminal(c.provider)} " if provider else ""
    head = f"{symbol} {verb}{where}{inert.terminal(c.kind)} {inert.terminal(c.key)}"
    subject = names.of(c.key) if names else None
    if subject is not None:
        head += f" ({inert.terminal(subject.name)})"
    if tag:
        head += f" (from {c.source})"
    lead = symbol if symbol_each_line else " "

    def show(v: Any, name: str) -> str:
        # A value that is the subject's own key needs no name: the head line gave it.
        if names is None or (subject is not None and v == subject.key):
            return value(v)
        return names.value(v, name)

    lines = [head]
    if c.action == "create":
        # With names, a nested value reads field by field, so its keys get their names.
        after = dict(flat(c.after or {})) if names else c.after or {}
        lines += [f"{lead}   {inert.terminal(k)}: {show(v, k)}"
                  for k, v in sorted(after.items()) if v not in (None, [], {})]
    elif c.action in ("update", "deactivate") or (c.action == "manual" and c.fields):
        lines += [f"{lead}   {inert.terminal(k)}: {show(old, k)} → {show(new, k)}"
                  for k, (old, new) in sorted(c.fields.items())]
    if c.reason and c.action != "create":
        reason = inert.terminal(c.reason)
        if wrap is None:
            lines.append(f"    # {reason}")
        else:
            lines += [("    # " if i == 0 else "    #   ") + part for i, part in
                      enumerate(textwrap.wrap(reason, wrap, break_on_hyphens=False))]
    return lines


def flat(attrs: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested attributes as (dotted name, value), the names a change's `fields` use."""
    for name, v in attrs.items():
        if isinstance(v, dict) and v:
            yield from flat(v, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", v


@dataclass
class FindingGroup:
    """Findings that say the same thing of different objects: one line and a list."""

    level: str
    provider: str
    kind: str
    template: str  # the message with the finding's key written as KEY_MARK
    findings: list[Finding] = field(default_factory=list)


KEY_MARK = "\x00key\x00"  # where a finding's key stood in its message (never in text)


def finding_groups(findings: Iterable[Finding]) -> list[FindingGroup]:
    """Findings grouped by level, provider, kind and message once their key is taken out
    of it ("EMP-030 left in the source" and "EMP-031 left in the source" are one group), in
    order of first appearance."""
    groups: dict[tuple[str, str, str, str, str], FindingGroup] = {}
    for f in findings:
        template = re.sub(rf"(?<![\w-]){re.escape(f.key)}(?![\w-])", KEY_MARK, f.message) \
            if f.key else f.message
        group = groups.setdefault((f.level, f.code, f.provider, f.kind, template),
                                  FindingGroup(f.level, f.provider, f.kind, template))
        group.findings.append(f)
    return list(groups.values())
