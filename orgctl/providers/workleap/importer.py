"""A live Workleap as configuration (`orgctl import --from workleap`): members with their
products and language, teams with their members and managers."""

from __future__ import annotations

from typing import Any

from orgctl.providers.importing import (
    Imported,
    assign_keys,
    by_kind,
    email_name,
    parents_first,
    sort_team_people,
)
from orgctl.providers.workleap.provider import WorkleapProvider
from orgctl.providers.workleap.vocabulary import WORKLEAP_LANGUAGES, WORKLEAP_PRODUCTS
from orgctl.resources import Resource

__all__ = ["to_config"]


def to_config(live: list[Resource], provider: WorkleapProvider) -> Imported:
    imported = Imported("workleap")
    kinds = by_kind(live)
    members = kinds.get("member", [])
    teams = kinds.get("team", [])
    emp_key = assign_keys(members, email_name, "employees", imported, "externalMemberId")
    team_key = assign_keys(teams, lambda r: str(r.attrs["name"]), "teams", imported,
                           "externalTeamId")
    for r in teams:
        if team_key[r.key] != r.key:
            imported.note("teams", team_key[r.key], f"the plan will create it as a new team: "
                                                    f"Workleap teams are matched by their id "
                                                    f"only ({r.key!r} here)")
    for r in parents_first(teams):
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
    sort_team_people(imported)
    return imported
