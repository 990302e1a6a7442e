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
    `environ` None leaves placeholders unresolved (their syntax is still checked); so does
    a provider not among `providers` when given (a `--provider` run needs no other
    system's credentials), unless it is the org's source of truth (`mode: source`)."""
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
    for key, raw in _valid(data, "employees", invalid):
        org.employees[key] = _employee(key, raw, sources)
    _inherit_unit_roles(org)
    for name, raw in _valid(data, "providers", invalid):
        wanted = providers is None or name in providers or raw.get("mode") == "source"
        provider = _provider(name, raw, sources, environ if wanted else None, issues)
        if provider is not None:
            org.providers[name] = provider
    return org, issues


CLEARABLE = ("job_position", *IMPLICATIONS)
"""Employee fields an explicit null clears (see `Employee.cleared`)."""


def _inherit_unit_roles(org: Org) -> None:
    """Every employee takes the relations their unit gives (see `UnitRoles`)."""
    roles = UnitRoles(org)
    for key, employee in list(org.employees.items()):
        org.employees[key] = roles.inherit(employee)


class UnitRoles:
    """Employees take the hr, second_hr and manager their unit (or the nearest unit above
    it) names, unless they set their own; nobody is their own (the unit's default manager
    reports to the one above). An HR partner without unit scopes written gets the units
    they partner and every unit below them. Built once per org; `inherit` is per employee,
    so a dated move of unit (orgctl.lifecycle) inherits again from the new unit."""

    def __init__(self, org: Org):
        self.org = org
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

    def inherit(self, employee: Employee) -> Employee:
        """`employee` with the relations and scopes its unit gives it (itself when none)."""
        key = employee.key
        given: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for role in UNIT_ROLES:
            if employee.relation(role) is not None or role in employee.cleared:
                continue  # set, or cleared on purpose: not inherited
            for unit in self.chain(employee.unit):
                holder = getattr(unit, role)
                if holder and holder != key and holder in self.org.employees:
                    given[role], origin[role] = holder, unit.key
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
    journeys = tuple(
        Journey(
            key=j.get("key", j["mobility"]), employee=key, mobility=j["mobility"],
            start_date=date.fromisoformat(j["start_date"]),
            end_date=_date(j.get("end_date")), templates=tuple(j.get("templates", ())),
            invite_at=_date(j.get("invite_at")), start=j.get("start", False),
            implications=dict(j.get("implications", {})),
            cleared=frozenset(f for f in ("end_date",) if f in j and j[f] is None),
            location=sources.key(("employees", key, "journeys", i)))
        for i, j in enumerate(raw.get("journeys", ())))
    return Employee(
        key=key, first_name=raw["first_name"], last_name=raw["last_name"],
        email=raw["email"], unit=raw.get("unit"), job_position=raw.get("job_position"),
        role=raw.get("role", "colleague"), status=raw.get("status", "active"),
        manager=raw.get("manager"), hr=raw.get("hr"), second_hr=raw.get("second_hr"),
        buddy=raw.get("buddy"), second_manager=raw.get("second_manager"),
        identifications=dict(raw.get("identifications", {})),
        unit_scopes=tuple(raw.get("unit_scopes", ())),
        systems={name: block for name, block in raw.items() if name in TYPES},
        previously=tuple(raw.get("previously", ())), protected=raw.get("protected", False),
        cleared=frozenset(f for f in CLEARABLE if f in raw and raw[f] is None),
        journeys=journeys, start_date=_date(raw.get("start_date")),
        leave_date=_date(raw.get("leave_date")),
        dated=tuple(sorted((_dated(c, i, sources.key(("employees", key, "changes", i)))
                            for i, c in enumerate(raw.get("changes", ()))),
                           key=lambda d: d.on)),
        location=sources.key(("employees", key)))


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
