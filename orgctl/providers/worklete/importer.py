"""A live Worklete as configuration (`orgctl import --from worklete`): teams (keys made
from their names), memberships as employees, team and organisation admins; the account
orgctl signs in as is left out."""

from __future__ import annotations

from typing import Any

from orgctl.providers.importing import (
    ConfigKeys,
    Imported,
    assign_keys,
    by_kind,
    email_name,
    parents_first,
    slug,
    sort_team_people,
)
from orgctl.providers.worklete.provider import WorkleteProvider
from orgctl.resources import Change, Resource

__all__ = ["to_config"]


def to_config(live: list[Resource], provider: WorkleteProvider) -> Imported:
    imported = Imported("worklete")
    kinds = by_kind(live)
    teams = kinds.get("team", [])
    team_key: dict[str, str] = {}
    by_remote: dict[str, str] = {}
    keys = ConfigKeys()
    # Worklete teams have no key: the config's are made from their names (the plan matches
    # teams by name within their parent), the parent's key prefixed when a name repeats.
    for r in parents_first(teams):
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
    emp_key = assign_keys(memberships, email_name, "employees", imported, "employee_id")
    keyless = [r for r in memberships if "employee_id" in r.unknown]
    for r in keyless:
        # assign_keys noted that the plan will set the employee_id it made: where the
        # answers carry none, it never will (unknown, never compared).
        made = imported.notes.get(("employees", emp_key[r.key]))
        if made and emp_key[r.key] != r.key:
            made.pop()
            if not made:
                del imported.notes[("employees", emp_key[r.key])]
    if keyless:
        imported.note("", "", f"employee ids: Worklete's membership answers carry none, so "
                              f"the keys of {len(keyless)} employees are made from their "
                              f"emails, and the plan matches people by email")
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
    sort_team_people(imported)
    return imported


def _signs_in(provider: WorkleteProvider, membership: Resource) -> bool:
    """Whether `membership` is the account orgctl signs in as: the provider refuses to
    remove that account's org admin, with a reason."""
    probe = Change(action="delete", provider=provider.name, kind="org_admin",
                   key=membership.key, remote_id=membership.remote_id)
    return provider.unsupported(probe) is not None
