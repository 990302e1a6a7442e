"""A live Workelo as configuration (`orgctl import --from workelo`): units, employees with
their unit scopes and journeys, relations every journey agrees on lifted to the employee."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgctl.model import IMPLICATIONS
from orgctl.providers.importing import (
    Imported,
    assign_keys,
    by_kind,
    email_name,
    parents_first,
)
from orgctl.providers.workelo.provider import WorkeloProvider
from orgctl.resources import Resource

__all__ = ["to_config"]


def to_config(live: list[Resource], provider: WorkeloProvider) -> Imported:
    imported = Imported("workelo")
    kinds = by_kind(live)
    units = kinds.get("unit", [])
    people = kinds.get("employee", [])
    unit_key = assign_keys(units, lambda r: str(r.attrs["name"]), "units", imported,
                           "external_id")
    emp_key = assign_keys(people, email_name, "employees", imported, "external_id")
    for r in parents_first(units):
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
        if role != "colleague":  # a tenant's own role too: the schema takes any name
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
        _journey(r, emp_key, imported)
    roles = {key: str(e.get("role") or "colleague") for key, e in imported.employees.items()}
    for employee in imported.employees.values():
        _lift_relations(employee, roles, provider.ROLE_HOLDERS)
    _note_unknown(live, imported)
    return imported


def _note_unknown(live: list[Resource], imported: Imported) -> None:
    """Say once per field what the answers did not carry, so is not in the files: the plan
    will not compare it either, and a create still writes what the config gives."""
    missing = sorted({(r.kind, attr) for r in live for attr in r.unknown})
    for kind, attr in missing:
        imported.note("", "", f"Workelo's answers carry no {kind} {attr}: none imported; "
                              f"write them in the config if you want them set on the "
                              f"{kind}s orgctl creates (existing ones are left as they are)")


def _journey(r: Resource, emp_key: dict[str, str], imported: Imported) -> None:
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


def _lift_relations(employee: dict[str, Any], roles: Mapping[str, str],
                    holders: Mapping[str, frozenset[str]]) -> None:
    """A role every journey of the employee gives to the same person is the employee's
    own relation (manager: EMP-002), which is how people write it; the plan is the same.
    Not when that person's role may not hold the relation as an employee's own (a
    colleague named a leaver's offboarding manager): it stays on the journey."""
    journeys = employee.get("journeys") or []
    if not journeys:
        return
    for role in IMPLICATIONS:
        people = {j.get("implications", {}).get(role) for j in journeys}
        allowed = holders.get(role)
        if len(people) == 1 and None not in people and (
                not allowed or roles.get(next(iter(people)), "colleague") in allowed):
            employee[role] = people.pop()
            for j in journeys:
                del j["implications"][role]
                if not j["implications"]:
                    del j["implications"]

