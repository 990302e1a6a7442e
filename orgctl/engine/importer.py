"""`orgctl import`: a system's live state written as a configuration to start from.

Three steps, each its own function so the CLI stays thin:

1. `provider_block` decides how to reach the system: the provider block of an existing
   config (as written, `${ENV}` placeholders and policies kept), or `--url` with
   credentials from the environment variables in `CREDENTIALS`, or the sandbox's
   endpoints. `connect` turns that block into a resolved `ProviderConfig` through the
   config loader itself, so it is validated, and its secrets redacted, like any config.
2. `read` reads the live state (with progress) and maps it into config-shaped data
   (`Imported`): the same attributes `desired()` would produce again, so planning the
   imported config against the same system shows no changes. A value that cannot be
   mapped is left out or replaced, never guessed silently: it gets a `#` note above its
   object saying what the plan will show because of it.
3. `write` streams the files out one by one, in a stable order: providers.yaml,
   units.yaml, teams.yaml, people/<unit>.yaml (at most `PEOPLE_PER_FILE` per file), and
   the JSON Schema they point editors at.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from orgctl.config.schema import schema_document
from orgctl.config.secrets import PRIVATE_KEYS
from orgctl.config.sources import discover
from orgctl.engine.workflow import load_org, point_at
from orgctl.errors import OrgctlError
from orgctl.model import (
    IMPLICATIONS,
    ROLES,
    WORKLEAP_LANGUAGES,
    WORKLEAP_PRODUCTS,
    ProviderConfig,
)
from orgctl.providers import create
from orgctl.providers.base import Progress, Provider
from orgctl.providers.hrms import HrmsProvider
from orgctl.resources import Change, Resource

# The block written when no config gives one: secrets (and who signs in) as placeholders.
CREDENTIALS: dict[str, dict[str, str]] = {
    "workelo": {"client_id": "${WORKELO_CLIENT_ID}",
                "client_secret": "${WORKELO_CLIENT_SECRET}"},
    "hrms": {"token": "${HRMS_TOKEN}", "environment": "staging", "mode": "audit"},
    "workleap": {"api_key": "${WORKLEAP_API_KEY}"},
    "worklete": {"username": "${WORKLETE_USERNAME}", "password": "${WORKLETE_PASSWORD}",
                 "organization": "${WORKLETE_ORGANIZATION}"},
}
PEOPLE_PER_FILE = 1000  # a file a reviewer can still open; CODEOWNERS splits by unit anyway
SCHEMA_FILE = "orgctl.schema.json"
NO_KEY = "id:"  # how providers key a live object that has no key of its own


@dataclass
class Imported:
    """A live state as config data (section -> key -> object, in `write` order) and the
    notes that go above objects as comments; ("", "") holds notes for the whole import."""

    system: str
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    employees: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def note(self, section: str, key: str, text: str) -> None:
        self.notes.setdefault((section, key), []).append(text)

    @property
    def note_count(self) -> int:
        return sum(len(n) for n in self.notes.values())


# -- 1. connecting --------------------------------------------------------------------------

def provider_block(system: str, config_path: Path | None, url: str | None,
                   endpoints: dict[str, dict[str, Any]] | None) -> tuple[str, dict[str, Any]]:
    """(name, block) of the provider to import from, as it will be written."""
    if config_path is not None:
        org = load_org(config_path, resolve_env=False)
        found = [p for p in org.providers.values() if p.type == system]
        if not found:
            raise OrgctlError(f"{config_path}: no {system} provider block to import with; "
                              f"add one, or give --url")
        if len(found) > 1:
            named = [p for p in found if p.name == system]
            if not named:
                raise OrgctlError(f"{config_path}: several {system} provider blocks "
                                  f"({', '.join(p.name for p in found)}); keep one")
            found = named
        config = found[0]
        block = {"type": config.type} if config.name != config.type else {}
        block.update(url=url or config.url, **config.settings)
        return config.name, block
    endpoint = (endpoints or {}).get(system) or {}
    url = url or endpoint.get("url")
    if url is None:
        raise OrgctlError(f"say where {system} is: give a config that has its provider block "
                          f"(orgctl import --from {system} PATH), or --url with the "
                          f"credentials in {', '.join(_env_names(system))}, or --sandbox")
    block: dict[str, Any] = {"url": url}
    for key, value in CREDENTIALS[system].items():
        # The sandbox's non-secret settings (environment, organization) are worth keeping.
        keep = key in endpoint and key not in PRIVATE_KEYS
        block[key] = endpoint[key] if keep else value
    return system, block


def _env_names(system: str) -> list[str]:
    return re.findall(r"\$\{(\w+)\}", " ".join(CREDENTIALS[system].values()))


def connect(name: str, block: dict[str, Any],
            endpoints: dict[str, dict[str, Any]] | None) -> ProviderConfig:
    """The block loaded as a config of its own (schema, `${ENV}`s, URL rules, redaction),
    pointed at the sandbox when `endpoints` are given."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp, f"import-from-{name}.yaml")
        file.write_text(_providers_text(name, block, ""), encoding="utf-8")
        org = load_org(file, resolve_env=endpoints is None)
    if endpoints is not None:
        org = point_at(org, endpoints)
    return org.providers[name]


# -- 2. reading and mapping -----------------------------------------------------------------

async def read(config: ProviderConfig, progress: Progress | None = None) -> Imported:
    """Read `config`'s system and map its live state (see the module docstring)."""
    provider = create(config)
    try:
        live = await provider.read(progress)
    finally:
        await provider.aclose()
    mapper = _MAPPERS[config.type]
    imported = mapper(live, provider)
    _fill_required(imported)
    return imported


def _key_pattern() -> re.Pattern[str]:
    return re.compile(schema_document()["$defs"]["key"]["pattern"])


class _Keys:
    """Config keys for live objects: the live key where it is a valid config key, else one
    made from a name, unique within its section."""

    def __init__(self) -> None:
        self.valid = _key_pattern()
        self.taken: set[str] = set()

    def keep(self, key: str) -> bool:
        if self.valid.match(key) and key not in self.taken:
            self.taken.add(key)
            return True
        return False

    def make(self, text: str) -> str:
        base = slug(text)
        key, n = base, 2
        while key in self.taken:
            key, n = f"{base}-{n}", n + 1
        self.taken.add(key)
        return key


def slug(text: str) -> str:
    """A key made from a name: "Sales & Marketing" -> "sales-marketing"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower()).strip("-_")[:90] or "x"


def _assign_keys(resources: list[Resource], name_of: Callable[[Resource], str],
                 section: str, imported: Imported, what: str) -> dict[str, str]:
    """Live key -> config key for `resources`; a made key is noted on its object."""
    keys = _Keys()
    out = {r.key: r.key for r in resources if keys.keep(r.key)}
    for r in resources:
        if r.key in out:
            continue
        out[r.key] = keys.make(name_of(r))
        had = (f"no {what}" if r.key.startswith(NO_KEY) or "@" in r.key
               else f"{what} {r.key!r} is not a valid key")
        imported.note(section, out[r.key],
                      f"{had} in {imported.system}: key made from its name; the plan will "
                      f"show {what} set to {out[r.key]!r}")
    return out


def _email_name(r: Resource) -> str:
    return str(r.attrs.get("email") or r.key).split("@", 1)[0]


def _by_kind(live: list[Resource]) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for r in live:
        out.setdefault(r.kind, []).append(r)
    return out


def _from_workelo(live: list[Resource], provider: Provider) -> Imported:
    imported = Imported("workelo")
    kinds = _by_kind(live)
    units = kinds.get("unit", [])
    people = kinds.get("employee", [])
    unit_key = _assign_keys(units, lambda r: str(r.attrs["name"]), "units", imported,
                            "external_id")
    emp_key = _assign_keys(people, _email_name, "employees", imported, "external_id")
    for r in _parents_first(units):
        a = r.attrs
        unit: dict[str, Any] = {"name": a["name"], "level": a["level"]}
        if a.get("parent"):
            unit["parent"] = unit_key.get(a["parent"], a["parent"])
        if a.get("language"):
            unit["language"] = a["language"]
        imported.units[unit_key[r.key]] = unit
    for r in people:
        key, a = emp_key[r.key], r.attrs
        employee = {f: a[f] for f in ("first_name", "last_name", "email", "job_position")
                    if a.get(f)}
        if a.get("unit"):
            employee["unit"] = unit_key.get(a["unit"], a["unit"])
        role = a.get("role") or "colleague"
        if role not in ROLES:
            imported.note("employees", key, f"role {role!r} is not one of {', '.join(ROLES)}: "
                                            f"left out, so the plan will show role -> colleague")
        elif role != "colleague":
            employee["role"] = role
        if a.get("identifications"):
            employee["identifications"] = dict(sorted(a["identifications"].items()))
        imported.employees[key] = employee
    for r in kinds.get("scope", []):
        employee = imported.employees.get(emp_key.get(r.attrs["employee"], ""))
        if employee is not None:
            employee.setdefault("unit_scopes", []).append(unit_key[r.attrs["unit"]])
    for employee in imported.employees.values():
        if "unit_scopes" in employee:
            employee["unit_scopes"].sort()
    for r in kinds.get("journey", []):
        _workelo_journey(r, emp_key, imported)
    for employee in imported.employees.values():
        _lift_relations(employee)
    return imported


def _workelo_journey(r: Resource, emp_key: dict[str, str], imported: Imported) -> None:
    owner_live, _, journey_key = r.key.rpartition(".")
    owner = emp_key.get(owner_live)
    if owner is None:
        who = r.identities[0].removeprefix("journey:").rsplit("/", 1)[0] \
            if r.identities else "?"
        why = (f"another {r.attrs.get('mobility')} journey of {who} holds its key, so no "
               f"config journey could be matched to it" if not owner_live
               else f"its employee {owner_live} is not in the employee list")
        imported.note("", "", f"journey {r.remote_id} ({r.attrs.get('mobility')}, "
                              f"{r.server.get('status')}): {why}")
        return
    if owner != owner_live:
        imported.note("employees", owner, f"journey {r.remote_id} not imported: the employee "
                                          f"has no external_id in Workelo yet, so the journey "
                                          f"could not be matched; import again after the "
                                          f"first apply")
        return
    a = r.attrs
    journey: dict[str, Any] = {"mobility": a["mobility"], "start_date": a["start_date"]}
    if journey_key != a["mobility"]:
        journey["key"] = journey_key
    if a.get("end_date"):
        journey["end_date"] = a["end_date"]
    if a.get("templates"):
        journey["templates"] = list(a["templates"])
    if a.get("started"):
        journey["start"] = True
        if a.get("invite_at"):
            journey["invite_at"] = a["invite_at"]
    elif a.get("invite_at"):
        imported.note("employees", owner, f"{a['mobility']} journey: invitation date "
                                          f"{a['invite_at']} of a journey not started is "
                                          f"not kept (it is sent with `start: true`)")
    implications = {}
    for role, who in (a.get("implications") or {}).items():
        if who in emp_key:
            implications[role] = emp_key[who]
        else:
            imported.note("employees", owner, f"{a['mobility']} journey: {role} {who} is no "
                                              f"employee Workelo listed: left out, so the "
                                              f"plan will show it cleared")
    if implications:
        journey["implications"] = implications
    if r.server.get("status") in ("closed", "cancelled"):
        imported.note("employees", owner, f"{a['mobility']} journey is "
                                          f"{r.server['status']} in Workelo: orgctl never "
                                          f"changes it")
    imported.employees[owner].setdefault("journeys", []).append(journey)


def _lift_relations(employee: dict[str, Any]) -> None:
    """A role every journey of the employee gives to the same person is the employee's
    own relation (manager: EMP-002), which is how people write it; the plan is the same."""
    journeys = employee.get("journeys") or []
    if not journeys:
        return
    for role in IMPLICATIONS:
        people = {j.get("implications", {}).get(role) for j in journeys}
        if len(people) == 1 and None not in people:
            employee[role] = people.pop()
            for j in journeys:
                del j["implications"][role]
                if not j["implications"]:
                    del j["implications"]


def _from_workleap(live: list[Resource], provider: Provider) -> Imported:
    imported = Imported("workleap")
    kinds = _by_kind(live)
    members = kinds.get("member", [])
    teams = kinds.get("team", [])
    emp_key = _assign_keys(members, _email_name, "employees", imported, "externalMemberId")
    team_key = _assign_keys(teams, lambda r: str(r.attrs["name"]), "teams", imported,
                            "externalTeamId")
    for r in teams:
        if team_key[r.key] != r.key:
            imported.note("teams", team_key[r.key], f"the plan will create it as a new team: "
                                                    f"Workleap teams are matched by their id "
                                                    f"only ({r.key!r} here)")
    for r in _parents_first(teams):
        team: dict[str, Any] = {"name": r.attrs["name"]}
        if r.attrs.get("parent"):
            team["parent"] = team_key.get(r.attrs["parent"], r.attrs["parent"])
        imported.teams[team_key[r.key]] = team
    for r in members:
        key, a = emp_key[r.key], r.attrs
        employee = {f: a[f] for f in ("first_name", "last_name", "email") if a.get(f)}
        if a.get("deactivated"):
            employee["status"] = "inactive"
        workleap: dict[str, Any] = {}
        language = a.get("language")
        if language in WORKLEAP_LANGUAGES:
            workleap["language"] = language
        elif language:
            imported.note("employees", key, f"language {language!r} is not one of "
                                            f"{', '.join(WORKLEAP_LANGUAGES)}: left out")
        products = [p for p in a.get("products") or [] if p in WORKLEAP_PRODUCTS]
        unknown = sorted(set(a.get("products") or []) - set(products))
        if unknown:
            imported.note("employees", key, f"products {', '.join(unknown)} are unknown to "
                                            f"orgctl: left out, so the plan will show them "
                                            f"removed")
        if products:
            workleap["products"] = products
        if workleap:
            employee["workleap"] = workleap
        if r.server.get("isAdmin"):
            imported.note("employees", key, "a Workleap admin: Workleap never deactivates "
                                            "or deletes admins")
        imported.employees[key] = employee
    for r in kinds.get("mapping", []):
        team = imported.teams.get(team_key.get(r.attrs["team"], ""))
        member = emp_key.get(r.attrs["member"])
        if team is None or member is None:
            continue
        field_name = "managers" if r.attrs.get("role") == "manager" else "members"
        team.setdefault(field_name, []).append(member)
    _sort_team_people(imported)
    return imported


def _from_worklete(live: list[Resource], provider: Provider) -> Imported:
    imported = Imported("worklete")
    kinds = _by_kind(live)
    teams = kinds.get("team", [])
    team_key: dict[str, str] = {}
    by_remote: dict[str, str] = {}
    keys = _Keys()
    # Worklete teams have no key: the config's are made from their names (the plan matches
    # teams by name within their parent), the parent's key prefixed when a name repeats.
    for r in _parents_first(teams):
        name = str(r.attrs["name"])
        parent = team_key.get(r.attrs.get("parent") or "")
        repeated = slug(name) in keys.taken and parent is not None
        base = keys.make(f"{parent}-{name}" if repeated else name)
        team_key[r.key] = base
        by_remote[str(r.remote_id)] = base
        team: dict[str, Any] = {"name": name}
        if parent:
            team["parent"] = parent
        imported.teams[base] = team
    service = [r for r in kinds.get("membership", [])
               if not r.attrs.get("employee_id") and _signs_in(provider, r)]
    for r in service:
        imported.note("", "", f"membership {r.attrs.get('email')}: the account orgctl signs "
                              f"in as, not a person of the organisation")
    skip = {r.key for r in service}
    memberships = [r for r in kinds.get("membership", []) if r.key not in skip]
    for r in memberships:
        if not r.attrs.get("email"):
            imported.note("", "", f"membership {r.remote_id}: it has neither an employee_id "
                                  f"nor an email")
            skip.add(r.key)
    memberships = [r for r in memberships if r.key not in skip]
    emp_key = _assign_keys(memberships, _email_name, "employees", imported, "employee_id")
    for r in memberships:
        key, a = emp_key[r.key], r.attrs
        employee = {f: a[f] for f in ("first_name", "last_name", "email") if a.get(f)}
        imported.employees[key] = employee
        for live_team in a.get("teams") or []:
            team = imported.teams.get(team_key.get(live_team, ""))
            if team is not None:
                team.setdefault("members", []).append(key)
    for r in kinds.get("org_admin", []):
        if r.key in emp_key:
            imported.employees[emp_key[r.key]]["worklete"] = {"org_admin": True}
    for r in kinds.get("team_admin", []):
        member = emp_key.get(str(r.server.get("membership_key")))
        team_name = by_remote.get(str(r.server.get("team_id")))
        if member is None or team_name is None:
            continue  # the service account's, or a team the lists did not show
        imported.teams[team_name].setdefault("managers", []).append(member)
    _sort_team_people(imported)
    return imported


def _signs_in(provider: Provider, membership: Resource) -> bool:
    """Whether `membership` is the account orgctl signs in as: the provider refuses to
    remove that account's org admin, with a reason."""
    probe = Change(action="delete", provider=provider.name, kind="org_admin",
                   key=membership.key, remote_id=membership.remote_id)
    return provider.unsupported(probe) is not None


def _from_hrms(live: list[Resource], provider: Provider) -> Imported:
    assert isinstance(provider, HrmsProvider)
    imported = Imported("hrms")
    data = provider.source_data()
    imported.units = dict(data["units"])
    for key, employee in data["employees"].items():
        # Active is the default: only leavers say so.
        imported.employees[key] = {f: v for f, v in employee.items()
                                   if (f, v) != ("status", "active")}
    for text in data["notes"]:
        key, sep, rest = text.partition(": ")
        if sep and key in imported.employees:
            imported.note("employees", key, rest)
        else:
            imported.note("", "", text)
    return imported


_MAPPERS: dict[str, Callable[[list[Resource], Provider], Imported]] = {
    "workelo": _from_workelo, "hrms": _from_hrms, "workleap": _from_workleap,
    "worklete": _from_worklete}


def _parents_first(resources: list[Resource]) -> list[Resource]:
    """Resources with a `parent` attribute (a live key), parents first, then by key."""
    by_key = {r.key: r for r in resources}
    children: dict[str | None, list[Resource]] = {}
    for r in resources:
        parent = r.attrs.get("parent")
        children.setdefault(parent if parent in by_key else None, []).append(r)
    out: list[Resource] = []
    seen: set[str] = set()
    stack = sorted(children.get(None, []), key=lambda r: r.key, reverse=True)
    while stack:
        r = stack.pop()
        if r.key in seen:
            continue
        seen.add(r.key)
        out.append(r)
        stack.extend(sorted(children.get(r.key, []), key=lambda c: c.key, reverse=True))
    out.extend(r for r in resources if r.key not in seen)  # a parent cycle: never expected
    return out


def _sort_team_people(imported: Imported) -> None:
    for team in imported.teams.values():
        for name in ("managers", "members"):
            if name in team:
                team[name] = sorted(dict.fromkeys(team[name]))


def _fill_required(imported: Imported) -> None:
    """A config employee needs a first and last name and an email; a system may not have
    them. The stand-in is noted: the plan will show the system's value replaced by it."""
    for key, employee in imported.employees.items():
        stand_ins = {"first_name": str(employee.get("email", key)).split("@")[0] or key,
                     "last_name": "-", "email": f"{key.lower()}@unknown.invalid"}
        for name, stand_in in stand_ins.items():
            if not employee.get(name):
                employee[name] = stand_in
                imported.note("employees", key, f"no {name} in {imported.system}: "
                                                f"{stand_in!r} written instead; correct it")


# -- 3. writing -----------------------------------------------------------------------------

FileWritten = Callable[[Path, int, int], None]
"""Called as written(path, employees written so far, employees in all)."""


def write(out: Path, name: str, block: dict[str, Any], imported: Imported, *,
          force: bool = False, written: FileWritten | None = None) -> list[Path]:
    """Write the configuration into `out`, file by file; return the files written.
    Refuses a directory that already holds a config, unless `force`."""
    if out.exists() and not force:
        try:
            existing = discover(out)
        except OrgctlError:
            existing = []
        if existing:
            raise OrgctlError(f"{out} already holds YAML files ({existing[0]}...): import "
                              f"into an empty directory, or add --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    total = len(imported.employees)

    def put(relative: str, text: str, done: int = 0) -> None:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
        if written:
            written(path, done, total)

    put(SCHEMA_FILE, json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n")
    header = (f"Imported by `orgctl import --from {imported.system}`. Review it, commit it,\n"
              f"# then `orgctl plan` it: against the same system it shows no changes.")
    put("providers.yaml", _providers_text(name, block, header, imported.notes.get(("", ""))))
    if imported.units:
        put("units.yaml", _section_text(
            "units", imported.units, imported, SCHEMA_FILE,
            "The org hierarchy, parents first. A unit's key is its id in the system."))
    if imported.teams:
        put("teams.yaml", _section_text(
            "teams", imported.teams, imported, SCHEMA_FILE,
            "Working groups, parents first. Members and managers are employee keys."))
    done = 0
    for relative, keys in _people_files(imported):
        done += len(keys)
        put(relative, _section_text(
            "employees", {k: imported.employees[k] for k in keys}, imported,
            f"../{SCHEMA_FILE}", _people_header(relative, keys, imported)), done)
    return files


def _people_files(imported: Imported) -> Iterator[tuple[str, list[str]]]:
    """people/<unit key>.yaml per unit (people.yaml without units), sorted by key, cut
    into parts of PEOPLE_PER_FILE: <unit>.2.yaml (a unit key has no dot: no clash)."""
    groups: dict[str, list[str]] = {}
    fallback = "no-unit" if imported.units else "people"
    for key in sorted(imported.employees):
        groups.setdefault(imported.employees[key].get("unit") or fallback, []).append(key)
    for group in sorted(groups):
        keys = groups[group]
        for part, start in enumerate(range(0, len(keys), PEOPLE_PER_FILE), 1):
            suffix = f".{part}" if part > 1 else ""
            yield f"people/{group}{suffix}.yaml", keys[start:start + PEOPLE_PER_FILE]


def _people_header(relative: str, keys: list[str], imported: Imported) -> str:
    unit = imported.employees[keys[0]].get("unit")
    if unit in imported.units:
        return f"People of unit {imported.units[unit]['name']} ({unit}), by employee key."
    if imported.units:
        return "People without a unit, by employee key."
    return f"People of {imported.system}, by employee key."


def _providers_text(name: str, block: dict[str, Any], header: str,
                    notes: list[str] | None = None) -> str:
    lines = [f"# yaml-language-server: $schema={SCHEMA_FILE}"]
    if header:
        lines.append(f"# {header}")
    if notes:
        lines.append("# Not imported:")
        lines += [f"#   - {n}" for n in notes]
    lines += ["version: 1", "", "providers:"]
    lines += _entry(name, block, 1)
    return "\n".join(lines) + "\n"


def _section_text(section: str, entries: dict[str, dict[str, Any]], imported: Imported,
                  schema: str, header: str) -> str:
    lines = [f"# yaml-language-server: $schema={schema}", f"# {header}", f"{section}:"]
    for i, (key, entry) in enumerate(entries.items()):
        if i:
            lines.append("")
        lines += [f"  # {n}" for n in imported.notes.get((section, key), [])]
        lines += _entry(key, _ordered(section[:-1], entry), 1)
    return "\n".join(lines) + "\n"


@cache
def _field_rank(kind: str) -> dict[str, int]:
    return {name: i for i, name in enumerate(schema_document()["$defs"][kind]["properties"])}


def _ordered(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order the schema lists them (name first, relations together...)."""
    rank = _field_rank(kind)
    out = dict(sorted(entry.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    if "journeys" in out:
        out["journeys"] = [_ordered("journey", j) for j in out["journeys"]]
    return out


# -- YAML text ------------------------------------------------------------------------------
# Written by hand, not by yaml.dump: comments above objects, short lists and mappings in
# flow style as people write them, and a scalar formatter that is fast on 100k people.

_PLAIN = re.compile(r"\w(?:[\w .@/+()&'-]*[\w.@/+()&'-])?\Z")
_PLAIN_BLOCK = re.compile(r"[\w$](?:[\w .@/+()&'{}$:,-]*[\w.@/+()&'{}$-])?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_IMPLICIT = yaml.SafeLoader.yaml_implicit_resolvers
FLOW_WIDTH = 96


def scalar(value: Any, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as the same value (plain when safe)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _DATE.match(text):
        return text  # read back as text: the config loader keeps dates as written
    pattern = _PLAIN if flow else _PLAIN_BLOCK
    if pattern.match(text) and ": " not in text and not _resolves(text):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML quoted scalar


def _resolves(text: str) -> bool:
    """Whether YAML would read this plain text as something else (true, null, 12, 1.5)."""
    return any(regexp.match(text) for _tag, regexp in _IMPLICIT.get(text[:1], ()))


def _flow(value: Any) -> str | None:
    """`value` in flow style, when it is small and flat enough to read on one line."""
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            return None
        text = "[" + ", ".join(scalar(v, flow=True) for v in value) + "]"
    elif isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, dict):
                return None
            inner = _flow(v) if isinstance(v, list) else scalar(v, flow=True)
            if inner is None:
                return None
            parts.append(f"{scalar(k, flow=True)}: {inner}")
        text = "{" + ", ".join(parts) + "}"
    else:
        return None
    return text if len(text) <= FLOW_WIDTH else None


def _entry(key: str, value: Any, depth: int) -> list[str]:
    pad = "  " * depth
    head = f"{pad}{scalar(key)}:"
    if not isinstance(value, (dict, list)):
        return [f"{head} {scalar(value)}"]
    if not value:
        return [f"{head} {'{}' if isinstance(value, dict) else '[]'}"]
    flow = _flow(value) if depth > 1 else None
    if flow is not None:
        return [f"{head} {flow}"]
    lines = [head]
    if isinstance(value, dict):
        for k, v in value.items():
            lines += _entry(k, v, depth + 1)
        return lines
    for item in value:
        if isinstance(item, dict):
            inner = [line for k, v in item.items() for line in _entry(k, v, depth + 2)]
            first = inner[0].lstrip()
            lines.append(f"{pad}  - {first}")
            lines += inner[1:]
        else:
            flow_item = _flow(item)
            lines.append(f"{pad}  - {flow_item if flow_item else scalar(item)}")
    return lines
