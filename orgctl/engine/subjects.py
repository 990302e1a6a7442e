"""Whom a change is about: the person, unit or team a reviewer files it under, by name.

The rule reads keys only, so it knows no system. A change (or a finding) concerns the
employee whose key is the change's key or one of its components split on ':' and '.' (a
scope "EMP-1:eng", a journey "EMP-1.onboarding", a team admin "eng:EMP-1"); failing an
employee, such a unit; failing a unit, such a team; failing all three, nobody (a reviewer
reads it under "other").

At plan time the rule runs against the configuration, and the plan keeps the table of the
subjects it picked (`subjects_of`), with their names, and of those a change names as a value
(a manager, a unit, a team), so a saved plan renders names without the configuration.
Renderers run the same rule against that table (`concerned`): the table holds every subject
the rule picked and nothing the configuration lacks, so both runs pick the same subject.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from orgctl.model import Org
from orgctl.resources import Change, Finding

__all__ = ["KINDS", "Subject", "SubjectKind", "concerned", "subject_id", "subjects_of"]

SubjectKind = Literal["employee", "unit", "team"]
KINDS: tuple[SubjectKind, ...] = ("employee", "unit", "team")  # in order of preference
_SEPARATORS = re.compile(r"[:.]")


@dataclass(frozen=True)
class Subject:
    """A person, unit or team, as a reviewer reads it: the display name the configuration
    gives it and, for a person, the key of their unit and their status when not active."""

    kind: SubjectKind
    key: str
    name: str
    unit: str | None = None
    status: str | None = None  # set only when not active: the person is leaving

    @property
    def id(self) -> str:
        return subject_id(self.kind, self.key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.unit:
            data["unit"] = self.unit
        if self.status:
            data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, sid: str, data: dict[str, Any]) -> Subject:
        kind, _, key = sid.partition(":")
        if kind not in KINDS:
            raise ValueError(f"subject {sid!r}: the kind is not one of {', '.join(KINDS)}")
        return cls(kind, key, data["name"], data.get("unit"),  # type: ignore[arg-type]
                   data.get("status"))


def subject_id(kind: SubjectKind, key: str) -> str:
    """How a plan names a subject: "employee:EMP-031", "unit:data", "team:platform"."""
    return f"{kind}:{key}"


def concerned(key: str, known: Container[str]) -> str | None:
    """The id of the subject a change or finding keyed `key` concerns, among the `known`
    subject ids; None when it concerns none of them."""
    parts = _parts(key)
    for kind in KINDS:
        for part in parts:
            sid = subject_id(kind, part)
            if sid in known:
                return sid
    return None


def _parts(key: str) -> list[str]:
    """The key, then its components split on ':' and '.', each once."""
    return list(dict.fromkeys([key, *_SEPARATORS.split(key)]))


class _Configured(Container[str]):
    """The subject ids of everything the configuration declares."""

    def __init__(self, org: Org) -> None:
        self.tables = {"employee": org.employees, "unit": org.units, "team": org.teams}

    def __contains__(self, sid: object) -> bool:
        kind, _, key = str(sid).partition(":")
        return key in self.tables.get(kind, {})


def subjects_of(org: Org, changes: list[Change], findings: list[Finding]) -> dict[str, Subject]:
    """The subjects the changes and findings concern, the units of the people among them,
    and every employee, unit or team a change's key or values name, by id."""
    configured = _Configured(org)
    ids = {sid for sid in (concerned(k, configured) for k in _keys(changes, findings)) if sid}
    for change in changes:
        for value in (*_parts(change.key), *_named(change)):
            ids.update(sid for kind in KINDS
                       if (sid := subject_id(kind, value)) in configured)
    ids.update(subject_id("unit", unit) for sid in list(ids) if sid.startswith("employee:")
               and (unit := org.employees[sid.partition(":")[2]].unit) in org.units)
    return {sid: _subject(org, sid) for sid in sorted(ids)}


def _keys(changes: list[Change], findings: list[Finding]) -> Iterator[str]:
    yield from (c.key for c in changes)
    yield from (f.key for f in findings)


def _named(change: Change) -> Iterator[str]:
    """The strings a change shows as values: what differs, or what it creates or removes."""
    if change.fields:
        yield from _strings(list(change.fields.values()))
    elif change.after is not None:
        yield from _strings(change.after)
    elif change.before is not None:
        yield from _strings(change.before)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _subject(org: Org, sid: str) -> Subject:
    kind, _, key = sid.partition(":")
    if kind == "employee":
        person = org.employees[key]
        name = f"{person.first_name} {person.last_name}".strip() or key
        return Subject("employee", key, name, person.unit,
                       None if person.active else person.status)
    if kind == "unit":
        return Subject("unit", key, org.units[key].name)
    return Subject("team", key, org.teams[key].name)
