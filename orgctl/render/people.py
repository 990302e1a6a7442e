"""The plan as an HR reviewer reads it: by person (and unit, and team), with names, what each
one's changes amount to, per system counts, and the changes that move a reporting line or
grant or withdraw rights.

Everything here is derived from the plan alone (its changes and its table of subjects), with
rules on kinds and field names that hold for any system:

- a change concerns a subject by its key (`orgctl.engine.subjects`);
- it moves a reporting line when a field whose last dotted name is `manager` or ends in
  `_manager` (`implications.manager`, `second_manager`) gets a new value; a create counts
  (a mover's crossboarding journey), except for a joiner (whose own record the plan
  creates: their first manager is part of joining); a removal does not (a leaver's manager
  is not news);
- it grants rights when it creates an object of a kind named like `*admin*` (an org or
  team admin), turns a field named like `*admin*` on, adds someone to a list field named
  like `*admins` or `managers`, or moves a field named `role` to an elevated role
  (`admin`, `owner`, `manager`, `hr`); the reverse withdraws them. Manual changes are left
  out: orgctl does not make them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orgctl.engine.plan import Plan
from orgctl.engine.subjects import KINDS, Subject
from orgctl.render.common import Names, flat
from orgctl.resources import REMOVALS, Change

__all__ = ["Group", "Impacts", "Right", "ReportingLine", "by_subject", "headline",
           "impacts", "per_system", "summary", "system_counts"]

MANAGER_FIELD = re.compile(r"(^|_)manager$")
ADMIN_FIELD = re.compile(r"admin")
LIST_OF_ADMINS = re.compile(r"(admins|managers)$")
ELEVATED_ROLES = frozenset({"admin", "owner", "manager", "hr"})
VERBS = {"create": "adds", "update": "changes", "delete": "removes",
         "deactivate": "deactivates", "manual": "by hand:"}


@dataclass
class Group:
    """The changes that concern one subject (None: no person, unit or team: "other")."""

    subject: Subject | None
    changes: list[Change] = field(default_factory=list)


def by_subject(plan: Plan, names: Names) -> list[Group]:
    """Every change once, grouped by the subject it concerns: people, then units, then
    teams (each by key), then the rest; changes keep their plan order within a group."""
    groups: dict[str | None, Group] = {}
    for change in plan.changes:
        subject = names.of(change.key)
        sid = subject.id if subject else None
        groups.setdefault(sid, Group(subject)).changes.append(change)

    def order(group: Group) -> tuple[int, str]:
        if group.subject is None:
            return len(KINDS), ""
        return KINDS.index(group.subject.kind), group.subject.key

    return sorted(groups.values(), key=order)


def headline(group: Group, names: Names) -> str:
    """What the changes amount to for the subject, in a few words: "joins Data",
    "leaves", "moves to Sales", "changes email and job_position"; "" when only the
    systems' part can say it (an access granted)."""
    subject, changes = group.subject, group.changes
    if subject is None:
        return "not a person, unit or team of the configuration"
    created = all(c.before is None and c.after is not None for c in changes)
    removed = all(c.action in REMOVALS or (c.action == "manual" and c.after is None)
                  for c in changes)
    own = any(c.key == subject.key for c in changes)  # its own record, not a relation
    if subject.kind == "employee":
        if subject.status:
            return "leaves"
        if created and own:
            unit = names.named(subject.unit, "unit") if subject.unit else None
            return f"joins {unit.name}" if unit else "joins"
        for c in changes:
            for name, (_old, new) in c.fields.items():
                if name.rsplit(".", 1)[-1] == "unit":
                    unit = names.named(new, "unit")
                    return f"moves to {unit.name if unit else new}"
    elif created and own:
        return "is added"
    elif removed and own:
        return "is removed"
    changed = sorted({name.rsplit(".", 1)[-1] for c in changes for name in c.fields})
    # Without fields (an access added or removed), the systems' part says it all.
    return "changes " + _and(changed) if changed else ""


def summary(group: Group, names: Names) -> str:
    """The headline and the systems' part: "joins Data · hr-tool adds employee..."."""
    return " · ".join(part for part in (headline(group, names), per_system(group, names))
                      if part)


def per_system(group: Group, names: Names) -> str:
    """Per system, what its changes do: "hr-tool adds employee and journey onboarding;
    surveys changes member (language)"; what orgctl cannot do: "hr-tool by hand:
    employee"."""
    systems: dict[str, dict[str, list[str]]] = {}
    for c in group.changes:
        what = _object(c, group.subject, names)
        if c.action == "update" and c.fields:
            what += f" ({', '.join(sorted(n.rsplit('.', 1)[-1] for n in c.fields))})"
        systems.setdefault(c.provider, {}).setdefault(VERBS[c.action], []).append(what)
    return "; ".join(f"{provider} " + ", ".join(f"{verb} {_and(objects)}"
                                               for verb, objects in verbs.items())
                     for provider, verbs in systems.items())


def _object(c: Change, subject: Subject | None, names: Names) -> str:
    """The changed object as a reviewer names it: its kind, and what its key says besides
    the subject (a journey's "onboarding", a mapping's team by name)."""
    if subject is None:
        return f"{c.kind} {c.key}"
    if c.key == subject.key:
        return c.kind
    rest = [part for part in re.split(r"[:.]", c.key) if part != subject.key]
    # A kind that names a subject kind ("team_admin") says what its key's parts are.
    hint = next((k for k in KINDS if k in re.split(r"[_\W]+", c.kind)), "")
    shown = []
    for part in rest:
        named = names.named(part, hint)
        shown.append(named.name if named else part)
    return " ".join([c.kind, *shown])


def _and(items: list[str], most: int = 6) -> str:
    """"a, b and c"; past `most` items, "a, b, c, d, e and 12 more"."""
    if len(items) > most:
        items = [*items[:most - 1], f"{len(items) - most + 1} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def system_counts(plan: Plan) -> dict[str, dict[str, int]]:
    """Per provider planned (in name order): adds, changes, removals, manual."""
    counts = {name: {"add": 0, "change": 0, "remove": 0, "manual": 0}
              for name in sorted(plan.fingerprints)}
    column = {"create": "add", "update": "change", "delete": "remove",
              "deactivate": "remove", "manual": "manual"}
    for c in plan.changes:
        counts.setdefault(c.provider, {"add": 0, "change": 0, "remove": 0, "manual": 0})
        counts[c.provider][column[c.action]] += 1
    return dict(sorted(counts.items()))


# -- impact ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportingLine:
    """Someone's manager (or second manager...) changes: `role` is the field's name."""

    person: str  # employee key
    role: str
    old: Any
    new: Any
    systems: tuple[str, ...]


@dataclass(frozen=True)
class Right:
    """Someone gains or loses a right: `what` ("role manager", "team_admin Web"), in which
    system, and on which of its objects when `what` does not say (`where`)."""

    person: str  # employee key, or the change's key when it concerns no employee
    what: str
    system: str
    where: str = ""

    @property
    def place(self) -> str:
        """"hr-tool employee": the system, and the object when it matters."""
        return f"{self.system} {self.where}" if self.where else self.system


@dataclass
class Impacts:
    reporting: list[ReportingLine] = field(default_factory=list)
    gained: list[Right] = field(default_factory=list)
    lost: list[Right] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reporting or self.gained or self.lost)


def impacts(plan: Plan, names: Names) -> Impacts:
    """The reporting lines that move and the rights gained or lost (rules above)."""
    lines: dict[tuple[str, str, str, str], ReportingLine] = {}
    found = Impacts()
    # A joiner's first manager is part of joining, not a reporting line that moves.
    joining = {c.key for c in plan.changes if c.action == "create"
               and (s := names.of(c.key)) is not None and s.kind == "employee"
               and s.key == c.key}
    for c in plan.changes:
        if c.action == "manual":
            continue
        subject = names.of(c.key)
        person = subject.key if subject and subject.kind == "employee" else None
        for name, old, new in _field_changes(c):
            last = name.rsplit(".", 1)[-1]
            if person and person not in joining and c.action not in REMOVALS \
                    and MANAGER_FIELD.search(last) and old != new:
                # The same move seen by several systems is one line naming them all.
                seen = (person, last, repr(old), repr(new))
                line = lines.get(seen)
                systems = line.systems if line else ()
                if c.provider not in systems:
                    lines[seen] = ReportingLine(person, last, old, new,
                                                (*systems, c.provider))
            _rights_by_field(found, c, person, last, old, new, names)
        if ADMIN_FIELD.search(c.kind) and c.action in ("create", *REMOVALS):
            right = Right(person or c.key, _object(c, subject, names), c.provider)
            (found.gained if c.action == "create" else found.lost).append(right)
    found.reporting = list(lines.values())
    return found


def _rights_by_field(found: Impacts, c: Change, person: str | None, last: str, old: Any,
                     new: Any, names: Names) -> None:
    where = _object(c, names.of(c.key), names)
    if last == "role" and old != new:
        if isinstance(new, str) and new.lower() in ELEVATED_ROLES:
            found.gained.append(Right(person or c.key, f"role {new}", c.provider, where))
        if isinstance(old, str) and old.lower() in ELEVATED_ROLES:
            found.lost.append(Right(person or c.key, f"role {old}", c.provider, where))
    elif LIST_OF_ADMINS.search(last) and (isinstance(old, list) or isinstance(new, list)):
        before, after = set(map(str, old or [])), set(map(str, new or []))
        found.gained += [Right(k, last, c.provider, where) for k in sorted(after - before)]
        found.lost += [Right(k, last, c.provider, where) for k in sorted(before - after)]
    elif ADMIN_FIELD.search(last) and bool(old) != bool(new) and not isinstance(new, list):
        (found.gained if new else found.lost).append(
            Right(person or c.key, last, c.provider, where))


def _field_changes(c: Change) -> Iterator[tuple[str, Any, Any]]:
    """(dotted name, old, new) of what the change does to each field: a create sets every
    field from None, a removal takes every field to None."""
    if c.fields:
        for name, (old, new) in c.fields.items():
            yield name, old, new
    elif c.action == "create":
        for name, new in flat(c.after or {}):
            yield name, None, new
    elif c.action in REMOVALS:
        for name, old in flat(c.before or {}):
            yield name, old, None
