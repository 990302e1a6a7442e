"""HRMS as the source of truth (`providers.<name>.mode: source`, issue #7).

HRMS knows who works here: its users become employees (first and last name, email, status,
unit, job title), its departments units (name), keyed by staffId and department id (see
`orgctl.providers.hrms.org_from_hrms`). The YAML keeps what HRMS does not know, written
as overlays on the same keys: roles, relations (manager, hr, buddy...), identifications,
product assignments, journeys, teams, unit levels and parents, and whole objects HRMS does
not list (a group unit, a contractor).

The org is built in two steps, because HRMS is read with the other providers:

1. `PendingSource` (every load, e.g. `orgctl validate`): in source mode, fills the fields
   HRMS will supply with placeholders and leaves references to keys only HRMS may hold
   unchecked, so overlays validate without a network call. That org is never planned.
2. `HrmsSource` (`sourced_org`, after the read): merges HRMS under the overlays and runs
   the whole config pipeline on the result. For a field HRMS owns, HRMS wins; an overlay
   that says otherwise is a finding, never a silent override (a leaver stays a leaver).
   `attribute(plan)` then tags every change with where it comes from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from orgctl.config import Completion, load
from orgctl.config.sources import SourceMap
from orgctl.engine.plan import Plan
from orgctl.errors import ConfigIssue
from orgctl.model import Org
from orgctl.providers.hrms import UNIT_LEVEL, HrmsProvider
from orgctl.resources import Change, Finding

SOURCE_TYPE = "hrms"
# The fields HRMS owns, per config section: an overlay may not change them.
OWNED: dict[str, tuple[str, ...]] = {
    "employees": ("first_name", "last_name", "email", "status", "unit", "job_position"),
    "units": ("name",),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "employees": ("first_name", "last_name", "email"),
    "units": ("name", "level"),
}
FINDING_KIND = {"employees": "user", "units": "department"}
# Provider attributes that carry an owned field (Workleap's `deactivated` is the status).
ATTRIBUTE_FIELD = {"first_name": "first_name", "last_name": "last_name", "email": "email",
                   "status": "status", "deactivated": "status", "unit": "unit",
                   "job_position": "job_position", "name": "name"}


def source_provider(org: Org) -> str | None:
    """The name of the provider the org takes its employees from, or None."""
    return next((name for name, p in sorted(org.providers.items())
                 if p.type == SOURCE_TYPE and p.settings.get("mode") == "source"), None)


def _source_blocks(data: dict[str, Any]) -> list[str]:
    providers = data.get("providers")
    if not isinstance(providers, dict):
        return []
    return [name for name, raw in providers.items() if isinstance(raw, dict)
            and raw.get("type", name) == SOURCE_TYPE and raw.get("mode") == "source"]


def _one_source(data: dict[str, Any], where: SourceMap) -> list[ConfigIssue]:
    names = _source_blocks(data)
    return [ConfigIssue(where.value(("providers", name, "mode")), f"providers.{name}.mode",
                        f"only one provider can be the source of truth: {names[0]} is "
                        f"already (set mode: audit here)") for name in names[1:]]


class PendingSource:
    """Step 1: overlays validated before HRMS is read (see the module docstring)."""

    name = "<hrms>"

    def complete(self, data: dict[str, Any], where: SourceMap) -> Completion:
        if not _source_blocks(data):
            return Completion(data)
        out = dict(data)
        for section, placeholder in (("employees", _employee_placeholder),
                                     ("units", _unit_placeholder)):
            entries = data.get(section)
            if isinstance(entries, dict):
                out[section] = {key: {**placeholder(key), **raw} if isinstance(raw, dict)
                                else raw for key, raw in entries.items()}
        return Completion(out, _one_source(data, where), frozenset(("employees", "units")))


def _employee_placeholder(key: str) -> dict[str, Any]:
    return {"first_name": "(from HRMS)", "last_name": "(from HRMS)",
            "email": f"{key.lower()}@hrms.invalid"}


def _unit_placeholder(key: str) -> dict[str, Any]:
    return {"name": key, "level": UNIT_LEVEL}


class HrmsSource:
    """Step 2: the YAML completed with what HRMS said (`org_from_hrms` data). After
    `load`, `findings` holds the overlay conflicts and `owned` which fields of which
    object came from HRMS, for `attribute`."""

    name = "<hrms>"

    def __init__(self, provider: str, data: dict[str, Any]):
        self.provider = provider
        self.data = data
        self.findings: list[Finding] = []
        self.owned: dict[tuple[str, str], frozenset[str]] = {}
        self.leavers: set[str] = set()

    def complete(self, data: dict[str, Any], where: SourceMap) -> Completion:
        self.findings, self.owned, self.leavers = [], {}, set()
        issues = _one_source(data, where)
        out = dict(data)
        for section in ("units", "employees"):
            yaml = data.get(section) if isinstance(data.get(section), dict) else {}
            merged: dict[str, Any] = {}
            for key, hrms in self.data.get(section, {}).items():
                entry = self._merge(section, key, hrms, yaml.get(key), where)
                missing = [f for f in REQUIRED[section]
                           if isinstance(entry, dict) and entry.get(f) in (None, "")]
                if missing:
                    issues.append(self._gap(section, key, missing, where))
                    continue
                merged[key] = entry
            for key, raw in yaml.items():
                if key in merged or key in self.data.get(section, {}):
                    continue
                missing = [f for f in REQUIRED[section]
                           if isinstance(raw, dict) and f not in raw]
                if missing:
                    issues.append(self._unknown(section, key, missing, where))
                    continue
                merged[key] = raw
            out[section] = merged
        for finding_note in self.data.get("notes") or []:
            self.findings.append(Finding(self.provider, "user", "*",
                                         f"not taken from HRMS: {finding_note}", level="info"))
        return Completion(out, issues)

    def _merge(self, section: str, key: str, hrms: dict[str, Any], yaml: Any,
               where: SourceMap) -> Any:
        known = {f: v for f, v in hrms.items() if v not in (None, "")}
        owned = frozenset(f for f in known if f in OWNED[section])
        self.owned[(section, key)] = owned
        if section == "employees" and known.get("status") == "inactive":
            self.leavers.add(key)
        if yaml is None:
            return dict(known)
        if not isinstance(yaml, dict):
            return yaml  # the schema reports it, at its place
        merged = dict(yaml)
        for f, value in known.items():
            if f not in owned:
                merged.setdefault(f, value)  # a default (a unit's level): YAML may say
                continue
            mine = yaml.get(f)
            if mine is not None and _fold(mine) != _fold(value):
                self.findings.append(Finding(
                    self.provider, FINDING_KIND[section], key,
                    f"{f} is {mine!r} in the YAML overlay ({where.value((section, key, f))}) "
                    f"but {value!r} in HRMS; HRMS wins: remove it from the overlay or fix "
                    f"HRMS"))
            merged[f] = value
        return merged

    def _gap(self, section: str, key: str, missing: list[str],
             where: SourceMap) -> ConfigIssue:
        fields = ", ".join(missing)
        return ConfigIssue(where.key((section, key)), f"{section}.{key}",
                           f"HRMS has no {fields} for {key}: add {fields} to an overlay "
                           f"for {key} (or fix it in HRMS)")

    def _unknown(self, section: str, key: str, missing: list[str],
                 where: SourceMap) -> ConfigIssue:
        noun = "staffId" if section == "employees" else "department id"
        return ConfigIssue(where.key((section, key)), f"{section}.{key}",
                           f"{key} is not a {noun} in HRMS, so this overlay has nothing to "
                           f"complete: fix the key, or declare the whole object (add "
                           f"{', '.join(missing)})")

    # -- where each change comes from ---------------------------------------------------
    def attribute(self, plan: Plan) -> None:
        """Tag each change "hrms" or "yaml", add the overlay findings, and re-checksum.

        A change is "hrms" when HRMS is why it exists: it creates an object HRMS lists
        (an employee's account, a department's unit; not a permission keyed by the
        person); every field it updates is one HRMS owns; or it removes the account of a
        person HRMS lists as inactive. Anything else (teams, relations, journeys, a key
        stamped on a live object) is "yaml".
        """
        for change in plan.changes:
            change.source = "hrms" if self._from_hrms(change) else "yaml"
            if change.source == "hrms":
                change.reason = change.reason.replace("inactive in config", "inactive in HRMS")
        plan.findings.extend(self.findings)
        plan.findings.sort(key=lambda f: (f.provider, f.kind, f.key, f.message))
        plan.checksum = plan.compute_checksum()

    def _from_hrms(self, change: Change) -> bool:
        if change.kind == "unit" and ("units", change.key) in self.owned:
            key, owned = change.key, self.owned[("units", change.key)]
        else:
            person = self._person(change)
            if person is None:
                return False
            key, owned = person, self.owned[("employees", person)]
        if change.after is not None and change.before is None:
            # The account itself (it carries fields HRMS owns), not a relation keyed by
            # the person (a Worklete org admin).
            return change.key == key and any(ATTRIBUTE_FIELD.get(a) in owned
                                             for a in change.after)
        if change.after is None:
            return key in self.leavers
        fields = {name.split(".", 1)[0] for name in change.fields}
        return bool(fields) and all(ATTRIBUTE_FIELD.get(f) in owned for f in fields)

    def _person(self, change: Change) -> str | None:
        """The HRMS employee a change is about: its key ("EMP-1"), an attribute naming
        them (a mapping's member, a scope's employee), or a part of a compound key
        ("platform:EMP-1", "EMP-1.onboarding")."""
        values = change.after or change.before or {}
        candidates = [change.key, values.get("member"), values.get("employee"),
                      *change.key.replace(".", ":").split(":")]
        return next((c for c in candidates
                     if isinstance(c, str) and ("employees", c) in self.owned), None)


def _fold(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def sourced_org(org: Org, config_path: Path, provider: HrmsProvider) -> tuple[Org, HrmsSource]:
    """The org of `config_path` completed with `provider`'s last read, with `org`'s
    provider blocks (already resolved, or pointed at a sandbox)."""
    source = HrmsSource(provider.name, provider.source_data())
    built = load(config_path, resolve_env=False, source=source)
    return dataclasses.replace(built, providers=org.providers), source
