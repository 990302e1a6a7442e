"""A live Workleap as configuration (`orgctl import --from workleap`): members with their
products and language, teams with their members and managers.

Teams that `reporting_teams` derives (a team per manager holding their direct reports,
nested along the reporting line) are not written as hand-written teams: that would make
two owners of one team. When the provider block imported with sets `reporting_teams`, the
teams it would derive again are recognised (`orgctl.providers.reporting.recognise`) and
written as each member's `manager:`, which derives them back. Without the option, they are
written as teams, and a note says how to let `manager:` derive them instead."""

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
from orgctl.providers.reporting import (
    DEFAULT_PREFIX,
    Person,
    ReportingTeam,
    ReportingTeams,
    recognise,
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
    manager_of, derived = _reporting_line(kinds, emp_key, provider.settings.reporting_teams,
                                          imported)
    for r in parents_first(teams):
        if r.key in derived:
            continue
        team: dict[str, Any] = {"name": r.attrs["name"]}
        if r.attrs.get("parent"):
            team["parent"] = team_key.get(r.attrs["parent"], r.attrs["parent"])
        imported.teams[team_key[r.key]] = team
    for r in members:
        key, a = emp_key[r.key], r.attrs
        employee = {f: a[f] for f in ("first_name", "last_name", "email") if a.get(f)}
        if key in manager_of:
            employee["manager"] = manager_of[key]
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
        if r.attrs["team"] in derived:
            continue
        team = imported.teams.get(team_key.get(r.attrs["team"], ""))
        member = emp_key.get(r.attrs["member"])
        if team is None or member is None:
            continue
        field_name = "managers" if r.attrs.get("role") == "manager" else "members"
        team.setdefault(field_name, []).append(member)
    sort_team_people(imported)
    return imported


def _reporting_line(kinds: dict[str, list[Resource]], emp_key: dict[str, str],
                    option: ReportingTeams | None,
                    imported: Imported) -> tuple[dict[str, str], set[str]]:
    """({employee key: manager key}, live keys of the teams that gives back): the live
    teams `reporting_teams` would derive again, when the option is set. Without it, those
    the default option would derive are kept as teams, and a note says how to derive them."""
    people = {emp_key[r.key]: Person(str(r.attrs.get("first_name") or ""),
                                     str(r.attrs.get("last_name") or ""), None)
              for r in kinds.get("member", []) if not r.attrs.get("deactivated")}
    live = _as_reporting_teams(kinds, emp_key)
    manager_of = recognise(live, people, option or ReportingTeams())
    derived = {(option or ReportingTeams()).key(m) for m in set(manager_of.values())}
    if option is not None or not derived:
        return manager_of, derived
    imported.note("", "", (
        f"{len(derived)} teams ({DEFAULT_PREFIX}*) are what reporting_teams derives from "
        f"manager:; they are written as teams. To have manager: derive them, import again "
        f"with a config whose workleap block sets reporting_teams: true (orgctl import "
        f"--from workleap PATH)"))
    return {}, set()


def _as_reporting_teams(kinds: dict[str, list[Resource]],
                        emp_key: dict[str, str]) -> dict[str, ReportingTeam]:
    """The live teams with one manager, as reporting teams in config keys."""
    managers: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for r in kinds.get("mapping", []):
        person = emp_key.get(r.attrs["member"])
        if person is not None:
            side = managers if r.attrs.get("role") == "manager" else members
            side.setdefault(r.attrs["team"], []).append(person)
    return {r.key: ReportingTeam(key=r.key, name=str(r.attrs["name"]),
                                 manager=managers[r.key][0],
                                 members=tuple(sorted(members.get(r.key, ()))),
                                 parent=r.attrs.get("parent"))
            for r in kinds.get("team", []) if len(managers.get(r.key, ())) == 1}
