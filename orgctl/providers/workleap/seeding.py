"""The Workleap emulator's seed (`orgctl.sandbox.workleap`) for a desired org: what
Workleap holds after a perfect sync of it (active members only, and the reporting teams
when the org's Workleap provider block sets `reporting_teams`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgctl.model import Employee, Org
from orgctl.providers.reporting import derived_teams, option_of

__all__ = ["seed"]


def _own(employee: Employee) -> Mapping[str, Any]:
    """The employee's `workleap:` block (language, products)."""
    return employee.settings_for("workleap")


def seed(org: Org) -> dict[str, Any]:
    members = []
    for e in org.employees.values():
        if not e.active:
            continue
        member: dict[str, Any] = {"externalMemberId": e.key, "email": e.email,
                                  "firstName": e.first_name, "lastName": e.last_name,
                                  "status": "active"}
        if _own(e).get("language"):
            member["languagePreferences"] = _own(e)["language"]
        if _own(e).get("products"):
            member["productAssignations"] = sorted(_own(e)["products"])
        members.append(member)
    teams = [{"externalTeamId": k, "teamName": t.name} for k, t in org.teams.items()]
    active = {k for k, e in org.employees.items() if e.active}
    mappings: list[dict[str, Any]] = []
    for k, t in org.teams.items():
        if t.parent:
            mappings.append({"externalTeamId": t.parent, "externalSubteamId": k})
        mappings += [{"externalTeamId": k, "externalMemberId": m, "role": "manager"}
                     for m in t.managers if m in active]
        mappings += [{"externalTeamId": k, "externalMemberId": m, "role": "member"}
                     for m in t.members if m in active and m not in t.managers]
    for k, d in derived_teams(org, option_of(org, "workleap")).items():
        teams.append({"externalTeamId": k, "teamName": d.name})
        if d.parent:
            mappings.append({"externalTeamId": d.parent, "externalSubteamId": k})
        mappings.append({"externalTeamId": k, "externalMemberId": d.manager, "role": "manager"})
        mappings += [{"externalTeamId": k, "externalMemberId": m, "role": "member"}
                     for m in d.members]
    return {"members": members, "teams": teams, "mappings": mappings}
