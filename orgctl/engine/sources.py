"""A provider as the org's source of truth (`providers.<name>.mode: source`, issue #7).

A provider whose class sets `SOURCE` (a `SourceSpec`) can be where the org takes its
employees and units from: after a read, its `source_data()` gives them as config-shaped
data, keyed by its own ids (a staff id, a department id). The YAML keeps
what the source does not know, written as overlays on the same keys: roles, relations
(manager, hr, buddy...), identifications, product assignments, journeys, teams, unit
levels and parents, and whole objects the source does not list (a group unit, a
contractor).

The org is built in two steps, because the source is read with the other providers:

1. `PendingSource` (every load, e.g. `orgctl validate`): in source mode, fills the fields
   the source will supply with its placeholders and leaves references to keys only the
   source may hold unchecked, so overlays validate without a network call. That org is
   never planned.
2. `SourceOfTruth` (`sourced_org`, after the read): merges the source's data under the
   overlays and runs the whole config pipeline on the result. For a field the source
   owns, the source wins; an overlay that says otherwise is a finding, never a silent
   override (a leaver stays a leaver). `attribute(plan)` then tags every change with
   where it comes from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from orgctl.config import Completion, load
from orgctl.config.sources import SourceMap
from orgctl.engine.plan import Plan
from orgctl.errors import ConfigIssue, OrgctlError
from orgctl.model import Org
from orgctl.providers import TYPES, provider_class
from orgctl.providers.base import Provider, SourceSpec
from orgctl.resources import Change, Finding

__all__ = ["PendingSource", "SourceOfTruth", "source_provider", "sourced_org"]

SECTIONS = ("units", "employees")  # the config sections a source completes
YAML = "yaml"  # the tag of a change the YAML alone is why it exists


def _spec(type_name: Any) -> SourceSpec | None:
    """The source-of-truth spec of a provider type, or None (unknown types included:
    the schema reports those)."""
    if not isinstance(type_name, str) or type_name not in TYPES:
        return None
    return provider_class(type_name).SOURCE


def source_provider(org: Org) -> str | None:
    """The name of the provider the org takes its employees from, or None."""
    return next((name for name, p in sorted(org.providers.items())
                 if p.settings.get("mode") == "source" and _spec(p.type) is not None), None)


def _source_blocks(data: dict[str, Any]) -> list[tuple[str, SourceSpec]]:
    """The provider blocks of the raw YAML that ask to be the source, with their spec."""
    providers = data.get("providers")
    if not isinstance(providers, dict):
        return []
    blocks = []
    for name, raw in providers.items():
        if isinstance(raw, dict) and raw.get("mode") == "source":
            spec = _spec(raw.get("type", name))
            if spec is not None:
                blocks.append((name, spec))
    return blocks


def _one_source(data: dict[str, Any], where: SourceMap) -> list[ConfigIssue]:
    names = [name for name, _ in _source_blocks(data)]
    return [ConfigIssue(where.value(("providers", name, "mode")), f"providers.{name}.mode",
                        f"only one provider can be the source of truth: {names[0]} is "
                        f"already (set mode: audit here)") for name in names[1:]]


class PendingSource:
    """Step 1: overlays validated before the source is read (see the module docstring)."""

    def __init__(self) -> None:
        self.name = "<source>"

    def complete(self, data: dict[str, Any], where: SourceMap) -> Completion:
        blocks = _source_blocks(data)
        if not blocks:
            return Completion(data)
        provider, spec = blocks[0]
        self.name = f"<{provider}>"
        out = dict(data)
        for section in SECTIONS:
            placeholder = spec.placeholders.get(section)
            entries = data.get(section)
            if placeholder is not None and isinstance(entries, dict):
                out[section] = {key: {**placeholder(key), **raw} if isinstance(raw, dict)
                                else raw for key, raw in entries.items()}
        return Completion(out, _one_source(data, where), frozenset(SECTIONS))


class SourceOfTruth:
    """Step 2: the YAML completed with what the source said (its `source_data()`). After
    `load`, `findings` holds the overlay conflicts and `owned` which fields of which
    object came from the source, for `attribute`.

    model_fields: per provider name, the attributes of its resources that carry a model
    field of another name (`Provider.MODEL_FIELDS`); any other attribute carries the
    field of its own name.
    """

    def __init__(self, provider: str, spec: SourceSpec, data: dict[str, Any],
                 model_fields: dict[str, dict[str, str]]):
        self.name = f"<{provider}>"
        self.provider = provider
        self.spec = spec
        self.data = data
        self.model_fields = model_fields
        self.findings: list[Finding] = []
        self.owned: dict[tuple[str, str], frozenset[str]] = {}
        self.leavers: set[str] = set()

    def complete(self, data: dict[str, Any], where: SourceMap) -> Completion:
        self.findings, self.owned, self.leavers = [], {}, set()
        issues = _one_source(data, where)
        out = dict(data)
        for section in SECTIONS:
            required = self.spec.required.get(section, ())
            yaml = data.get(section) if isinstance(data.get(section), dict) else {}
            merged: dict[str, Any] = {}
            for key, known in self.data.get(section, {}).items():
                entry = self._merge(section, key, known, yaml.get(key), where)
                missing = [f for f in required
                           if isinstance(entry, dict) and entry.get(f) in (None, "")]
                if missing:
                    issues.append(self._gap(section, key, missing, where))
                    continue
                merged[key] = entry
            for key, raw in yaml.items():
                if key in merged or key in self.data.get(section, {}):
                    continue
                missing = [f for f in required if isinstance(raw, dict) and f not in raw]
                if missing:
                    issues.append(self._unknown(section, key, missing, where))
                    continue
                merged[key] = raw
            out[section] = merged
        for key, text in self.data.get("notes") or []:
            note = f"{key}: {text}" if key else text
            self.findings.append(Finding(self.provider, self.spec.finding_kind["employees"],
                                         "*", f"not taken from {self.spec.system}: {note}",
                                         level="info"))
        return Completion(out, issues)

    def _merge(self, section: str, key: str, theirs: dict[str, Any], yaml: Any,
               where: SourceMap) -> Any:
        system = self.spec.system
        known = {f: v for f, v in theirs.items() if v not in (None, "")}
        owned = frozenset(f for f in known if f in self.spec.owned.get(section, ()))
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
                    self.provider, self.spec.finding_kind[section], key,
                    f"{f} is {mine!r} in the YAML overlay ({where.value((section, key, f))}) "
                    f"but {value!r} in {system}; {system} wins: remove it from the overlay "
                    f"or fix {system}"))
            merged[f] = value
        return merged

    def _gap(self, section: str, key: str, missing: list[str],
             where: SourceMap) -> ConfigIssue:
        fields, system = ", ".join(missing), self.spec.system
        return ConfigIssue(where.key((section, key)), f"{section}.{key}",
                           f"{system} has no {fields} for {key}: add {fields} to an overlay "
                           f"for {key} (or fix it in {system})")

    def _unknown(self, section: str, key: str, missing: list[str],
                 where: SourceMap) -> ConfigIssue:
        return ConfigIssue(where.key((section, key)), f"{section}.{key}",
                           f"{key} is not a {self.spec.key_noun[section]} in "
                           f"{self.spec.system}, so this overlay has nothing to complete: "
                           f"fix the key, or declare the whole object (add "
                           f"{', '.join(missing)})")

    # -- where each change comes from ---------------------------------------------------
    def attribute(self, plan: Plan) -> None:
        """Tag each change with the source provider's name or "yaml", add the overlay
        findings, and re-checksum.

        A change comes from the source when the source is why it exists: it creates an
        object the source lists (an employee's account, a department's unit; not a
        permission keyed by the person); every field it updates is one the source owns;
        or it removes the account of a person the source lists as inactive. Anything
        else (teams, relations, journeys, a key stamped on a live object) is "yaml".
        """
        for change in plan.changes:
            if change.source != YAML:
                continue  # derived by the provider (e.g. from `manager:`): it says so
            change.source = self.provider if self._from_source(change) else YAML
        plan.findings.extend(self.findings)
        plan.findings.sort(key=lambda f: (f.provider, f.kind, f.key, f.message))
        plan.checksum = plan.compute_checksum()

    def _from_source(self, change: Change) -> bool:
        if change.kind == "unit" and ("units", change.key) in self.owned:
            key, owned = change.key, self.owned[("units", change.key)]
        else:
            person = self._person(change)
            if person is None:
                return False
            key, owned = person, self.owned[("employees", person)]
        fields = self.model_fields.get(change.provider, {})
        if change.after is not None and change.before is None:
            # The account itself (it carries fields the source owns), not a relation
            # keyed by the person (an organisation admin).
            return change.key == key and any(fields.get(a, a) in owned for a in change.after)
        if change.after is None:
            return key in self.leavers
        changed = {name.split(".", 1)[0] for name in change.fields}
        return bool(changed) and all(fields.get(f, f) in owned for f in changed)

    def _person(self, change: Change) -> str | None:
        """The source's employee a change is about: its key ("EMP-1"), an attribute
        naming them (a mapping's member, a scope's employee), or a part of a compound key
        ("platform:EMP-1", "EMP-1.onboarding")."""
        values = change.after or change.before or {}
        candidates = [change.key, values.get("member"), values.get("employee"),
                      *change.key.replace(".", ":").split(":")]
        return next((c for c in candidates
                     if isinstance(c, str) and ("employees", c) in self.owned), None)


def _fold(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def sourced_org(org: Org, config_path: Path, provider: Provider) -> tuple[Org, SourceOfTruth]:
    """The org of `config_path` completed with `provider`'s last read, with `org`'s
    provider blocks (already resolved, or pointed at a sandbox)."""
    spec = provider.SOURCE
    if spec is None:
        raise OrgctlError(f"provider {provider.name}: {provider.type} cannot be a source "
                          f"of truth")
    model_fields = {name: dict(provider_class(config.type).MODEL_FIELDS)
                    for name, config in org.providers.items()}
    source = SourceOfTruth(provider.name, spec, provider.source_data(), model_fields)
    built = load(config_path, resolve_env=False, source=source)
    # A leaver the source lists is one because the source says so: the plan says where.
    employees = {key: dataclasses.replace(e, status_from=spec.system)
                 if key in source.leavers else e for key, e in built.employees.items()}
    return dataclasses.replace(built, providers=org.providers, employees=employees), source
