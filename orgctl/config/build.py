"""Schema-valid config data -> the desired-state model (`orgctl.model`).

Objects the schema found invalid are left out (their errors are reported already), so the
semantic checks can still run on the rest. Provider blocks get their `${ENV_VAR}`s
resolved here and their URL checked, the one rule the schema cannot express.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Collection, Iterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from orgctl import redact
from orgctl.config.secrets import SECRET_KEYS, expand, has_placeholder
from orgctl.config.sources import SourceMap
from orgctl.config.yamlload import Path, dotted
from orgctl.errors import ConfigIssue
from orgctl.model import (
    DATED_FIELDS,
    IMPLICATIONS,
    UNIT_ROLES,
    Dated,
    Employee,
    Journey,
    Lifecycle,
    Org,
    ProviderConfig,
    Team,
    Unit,
)
from orgctl.providers import TYPES


def build(data: dict[str, Any], sources: SourceMap, invalid: set[Path],
          environ: Mapping[str, str] | None,
          providers: Collection[str] | None = None) -> tuple[Org, list[ConfigIssue]]:
    """The model of every valid object, and the provider problems found on the way.
    Takes the employees out of `data` (see below). `environ` None leaves placeholders
    unresolved (their syntax is still checked); so does a provider not among `providers`
    when given (a `--provider` run needs no other system's credentials), unless it is the
    org's source of truth (`mode: source`)."""
    org = Org()
    issues: list[ConfigIssue] = []
    if "lifecycle" not in invalid and isinstance(data.get("lifecycle"), dict):
        raw = data["lifecycle"]
        org.lifecycle = Lifecycle(timezone=raw.get("timezone", "UTC"),
                                  horizon_days=raw.get("horizon_days", 30),
                                  location=sources.key(("lifecycle",)))
        issues.extend(_timezone_issues(org.lifecycle, sources))
    for key, raw in _valid(data, "units", invalid):
        org.units[key] = Unit(
            key=key, name=raw["name"], level=raw["level"], parent=raw.get("parent"),
            language=raw.get("language"), previously=tuple(raw.get("previously", ())),
            protected=raw.get("protected", False), hr=raw.get("hr"),
            second_hr=raw.get("second_hr"), manager=raw.get("manager"),
            location=sources.key(("units", key)))
    for key, raw in _valid(data, "teams", invalid):
        org.teams[key] = Team(
            key=key, name=raw["name"], unit=raw.get("unit"), parent=raw.get("parent"),
            managers=tuple(raw.get("managers", ())), members=tuple(raw.get("members", ())),
            previously=tuple(raw.get("previously", ())), protected=raw.get("protected", False),
            location=sources.key(("teams", key)))
    # The people's entries are let go as they are built, so the YAML of 100,000 people
    # and their model are not both held at once: `data` has no employee after this.
    employees = data.get("employees")
    entries = list(employees.items()) if isinstance(employees, dict) else []
    if entries:
        employees.clear()  # type: ignore[union-attr]
    for i, (key, raw) in enumerate(entries):
        entries[i] = None  # type: ignore[call-overload]
        if ("employees", key) not in invalid:
            org.employees[key] = _employee(key, raw, sources)
        del raw
    _inherit_unit_roles(org)
    for name, raw in _valid(data, "providers", invalid):
        wanted = providers is None or name in providers or raw.get("mode") == "source"
        provider = _provider(name, raw, sources, environ if wanted else None, issues)
        if provider is not None:
            org.providers[name] = provider
    return org, issues


CLEARABLE = ("job_position", *IMPLICATIONS)
"""Employee fields an explicit null clears (see `Employee.cleared`)."""

_NONE_CLEARED: frozenset[str] = frozenset()
"""Shared by everyone who clears nothing: each `frozenset()` is a new object of 216 bytes
(22 MB for 100,000 people)."""


def _inherit_unit_roles(org: Org) -> None:
    """Every employee takes the relations their unit gives (see `UnitRoles`)."""
    if not any(getattr(unit, role) for unit in org.units.values() for role in UNIT_ROLES):
        return  # no unit names anyone: nobody takes anything
    roles = UnitRoles(org)
    people = org.employees
    for key, employee in people.items():  # replacing values only: safe while iterating
        inherited = roles.inherit(employee)
        if inherited is not employee:
            people[key] = inherited


class UnitRoles:
    """Employees take the hr, second_hr and manager their unit (or the nearest unit above
    it) names, unless they set their own; nobody is their own (the unit's default manager
    reports to the one above). An HR partner without unit scopes written gets the units
    they partner and every unit below them. Built once per org; `inherit` is per employee,
    so a dated move of unit (orgctl.lifecycle) inherits again from the new unit."""

    def __init__(self, org: Org):
        self.org = org
        self._holders: dict[str | None, dict[str, list[tuple[str, str]]]] = {}
        children: dict[str, list[str]] = {}
        for key, unit in org.units.items():
            if unit.parent:
                children.setdefault(unit.parent, []).append(key)
        self.partnered: dict[str, set[str]] = {}
        for unit in org.units.values():
            if unit.hr:
                below, stack = self.partnered.setdefault(unit.hr, set()), [unit.key]
                while stack:
                    current = stack.pop()
                    if current not in below:
                        below.add(current)
                        stack.extend(children.get(current, ()))

    def chain(self, unit: str | None) -> Iterator[Unit]:
        seen: set[str] = set()
        units = self.org.units
        while unit and unit in units and unit not in seen:  # cycles: checks report them
            seen.add(unit)
            yield units[unit]
            unit = units[unit].parent

    def holders(self, unit: str | None) -> dict[str, list[tuple[str, str]]]:
        """Per relation some unit gives, (holder, unit key) of each unit from `unit` up
        that names an employee of the org for it, nearest first; worked out once per unit.
        Empty when no unit above gives any: most employees then take nothing."""
        found = self._holders.get(unit)  # type: ignore[arg-type]
        if found is None:
            people = self.org.employees
            found = {role: [] for role in UNIT_ROLES}
            for above in self.chain(unit):
                for role in UNIT_ROLES:
                    holder = getattr(above, role)
                    if holder and holder in people:
                        found[role].append((holder, above.key))
            found = {role: held for role, held in found.items() if held}
            self._holders[unit] = found  # type: ignore[index]
        return found

    def inherit(self, employee: Employee) -> Employee:
        """`employee` with the relations and scopes its unit gives it (itself when none)."""
        key = employee.key
        given: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for role, holders in self.holders(employee.unit).items():
            if getattr(employee, role) is not None or role in employee.cleared:
                continue  # set, or cleared on purpose: not inherited
            for holder, unit in holders:
                if holder != key:
                    given[role], origin[role] = holder, unit
                    break
        if not employee.unit_scopes and key in self.partnered:
            given["unit_scopes"] = tuple(sorted(self.partnered[key]))
            origin["unit_scopes"] = "hr"
        if not given:
            return employee
        return dataclasses.replace(employee, **given, inherited=origin)

    @staticmethod
    def uninherited(employee: Employee) -> Employee:
        """`employee` as written, without what `inherit` gave it."""
        if not employee.inherited:
            return employee
        taken = {role: (() if role == "unit_scopes" else None) for role in employee.inherited}
        return dataclasses.replace(employee, **taken, inherited={})


def _valid(data: dict[str, Any], section: str, invalid: set[Path]):
    for key, raw in (data.get(section) or {}).items():
        if (section, key) not in invalid:
            yield key, raw


def _employee(key: str, raw: dict[str, Any], sources: SourceMap) -> Employee:
    # Run once per person: what most people leave out (journeys, changes, cleared
    # fields, identifications) costs one lookup.
    get = raw.get
    journeys, changes = get("journeys"), get("changes")
    ids, scopes, previously = get("identifications"), get("unit_scopes"), get("previously")
    start, leave = get("start_date"), get("leave_date")
    return Employee(
        key=key, first_name=raw["first_name"], last_name=raw["last_name"],
        email=raw["email"], unit=get("unit"), job_position=get("job_position"),
        role=get("role", "colleague"), status=get("status", "active"),
        manager=get("manager"), hr=get("hr"), second_hr=get("second_hr"),
        buddy=get("buddy"), second_manager=get("second_manager"),
        identifications=dict(ids) if ids else {},
        unit_scopes=tuple(scopes) if scopes else (),
        systems={name: raw[name] for name in _SYSTEMS if name in raw},
        previously=tuple(previously) if previously else (),
        protected=get("protected", False),
        cleared=(frozenset([f for f in CLEARABLE if f in raw and raw[f] is None])
                 if None in raw.values() else _NONE_CLEARED),
        journeys=(tuple(_journey(key, i, j, sources) for i, j in enumerate(journeys))
                  if journeys else ()),
        start_date=None if start is None else date.fromisoformat(start),
        leave_date=None if leave is None else date.fromisoformat(leave),
        dated=(tuple(sorted((_dated(c, i, sources.key(("employees", key, "changes", i)))
                             for i, c in enumerate(changes)), key=lambda d: d.on))
               if changes else ()),
        location=sources.key(("employees", key)))


_SYSTEMS = TYPES.keys()
"""The names of an employee's blocks for one system (a live view: types registered at run
time count)."""


def _journey(employee: str, index: int, raw: dict[str, Any], sources: SourceMap) -> Journey:
    return Journey(
        key=raw.get("key", raw["mobility"]), employee=employee, mobility=raw["mobility"],
        start_date=date.fromisoformat(raw["start_date"]),
        end_date=_date(raw.get("end_date")), templates=tuple(raw.get("templates", ())),
        invite_at=_date(raw.get("invite_at")), start=raw.get("start", False),
        implications=dict(raw.get("implications", {})),
        cleared=(frozenset(["end_date"]) if "end_date" in raw and raw["end_date"] is None
                 else _NONE_CLEARED),
        location=sources.key(("employees", employee, "journeys", index)))


def _dated(raw: dict[str, Any], index: int, location: Any) -> Dated:
    values: dict[str, Any] = {}
    for name in DATED_FIELDS:
        if name in raw:
            value = raw[name]
            values[name] = (tuple(value) if isinstance(value, list)
                            else dict(value) if isinstance(value, dict) else value)
    return Dated(on=date.fromisoformat(raw["from"]), values=values, index=index,
                 location=location)


def _timezone_issues(lifecycle: Lifecycle, sources: SourceMap) -> list[ConfigIssue]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(lifecycle.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [ConfigIssue(sources.value(("lifecycle", "timezone")), "lifecycle.timezone",
                            f"unknown time zone {lifecycle.timezone!r}: use an IANA name "
                            f"such as Europe/Paris or UTC")]
    return []


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _provider(name: str, raw: dict[str, Any], sources: SourceMap,
              environ: Mapping[str, str] | None,
              issues: list[ConfigIssue]) -> ProviderConfig | None:
    before = len(issues)
    path = ("providers", name)
    settings = {key: _resolve(value, path + (key,), sources, environ, issues)
                for key, value in raw.items() if key != "url"}
    kind = settings.pop("type", name)
    url_issues = len(issues)
    url = _resolve(raw["url"], path + ("url",), sources, environ, issues)
    checkable = environ is not None or not has_placeholder(raw["url"])
    if checkable and len(issues) == url_issues:
        problem = _url_problem(url)
        if problem:
            shown = ("the url from the environment" if has_placeholder(raw["url"])
                     else repr(redact.url(url)))
            issues.append(ConfigIssue(sources.value(path + ("url",)), dotted(path + ("url",)),
                                      f"{shown} {problem}"))
    if len(issues) > before:
        return None
    return ProviderConfig(name=name, type=kind, url=url, settings=settings,
                          location=sources.key(path))


def _resolve(value: Any, path: Path, sources: SourceMap, environ: Mapping[str, str] | None,
             issues: list[ConfigIssue]) -> Any:
    if isinstance(value, str):
        put: list[str] = []
        text, problems = expand(value, environ, put)
        issues.extend(ConfigIssue(sources.value(path), dotted(path), p) for p in problems)
        if environ is not None:
            # A value from ${...} is a secret wherever it sits (a url, an organization),
            # and a URL's password or query values are, however they were written.
            for secret in put:
                redact.register(secret)
            if path[2] in SECRET_KEYS:
                redact.register(text)
            if path[2] == "url":
                redact.register_url(text)
        return text
    if isinstance(value, dict):
        return {k: _resolve(v, path + (k,), sources, environ, issues) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, path + (i,), sources, environ, issues) for i, v in enumerate(value)]
    return value


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "is not a valid URL: write https://host/path"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback(host):
        return None
    return ("must use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and "
            "[::1])")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
