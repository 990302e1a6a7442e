"""Seed fixtures from a desired org: the live state each emulator would hold after a perfect
apply of it. Used to build the quick-start fixture (with some drift added on purpose) and
the large no-change states of the benchmarks, without thousands of API calls.

It speaks each emulator's own seed format (see each emulator's module docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgctl.model import IMPLICATIONS, Org


def seed_from_org(org: Org, organization: str = "Acme") -> dict[str, Any]:
    return {
        "workelo": workelo_seed(org),
        "hrms": hrms_seed(org),
        "workleap": workleap_seed(org),
        "worklete": worklete_seed(org, organization),
    }


def _parents_first(nodes: Mapping[str, Any]) -> list[str]:
    """Keys of `nodes` (units or teams, each with a `.parent` key), parents first."""
    from graphlib import TopologicalSorter

    graph = TopologicalSorter({k: [n.parent] if n.parent in nodes else []
                               for k, n in nodes.items()})
    return list(graph.static_order())


def workelo_seed(org: Org) -> dict[str, Any]:
    levels = sorted({u.level for u in org.units.values()})
    units = []
    for key in _parents_first(org.units):
        u = org.units[key]
        unit: dict[str, Any] = {"external_id": key, "name": u.name, "level": u.level,
                                "parent": u.parent}
        if u.language:
            unit["language"] = u.language
        units.append(unit)
    employees, scopes, tracks = [], [], []
    for e in org.employees.values():
        row: dict[str, Any] = {"external_id": e.key, "first_name": e.first_name,
                               "last_name": e.last_name, "email": e.email, "role": e.role}
        if e.job_position:
            row["job_position"] = e.job_position
        if e.unit:
            row["unit"] = e.unit
        if e.identifications:
            row["identifications"] = dict(e.identifications)
        employees.append(row)
        scopes += [{"employee": e.key, "unit": u} for u in e.unit_scopes]
        for j in e.journeys:
            implications = {r: e.relation(r) for r in IMPLICATIONS if e.relation(r)}
            implications.update(j.implications)
            track: dict[str, Any] = {
                "employee": e.key, "mobility": j.mobility,
                "start_date": j.start_date.isoformat(),
                "templates": list(j.templates), "implications": implications,
                "status": "invitation_sent" if j.start else "draft",
            }
            if j.end_date:
                track["end_date"] = j.end_date.isoformat()
            if j.invite_at:
                track["invite_at"] = j.invite_at.isoformat()
            tracks.append(track)
    identification_names = sorted({n for e in org.employees.values() for n in e.identifications})
    seed: dict[str, Any] = {
        "level_organizations": levels or ["Group", "Division", "Department", "Site"],
        "unit_organizations": units,
        "employees": employees,
        "unit_organization_managements": scopes,
        "tracks": tracks,
    }
    if identification_names:
        seed["identification_resources"] = sorted({"badge", *identification_names})
    templates = _templates(org)
    if templates:
        seed["templates"] = templates
    return seed


def _templates(org: Org) -> list[dict[str, Any]]:
    """Every template the journeys name, with the mobility they are used for, plus the
    emulator's defaults so a fixture does not lose them."""
    found: dict[str, str] = {}
    for j in org.journeys:
        for name in j.templates:
            found.setdefault(name, j.mobility)
    defaults = {"Standard onboarding": "onboarding", "Manager onboarding": "onboarding",
                "Internal mobility": "crossboarding", "Standard offboarding": "offboarding"}
    for name, mobility in defaults.items():
        found.setdefault(name, mobility)
    return [{"name": n, "mobility": m} for n, m in sorted(found.items())]


def hrms_seed(org: Org) -> dict[str, Any]:
    departments = [{"id": f"dept_{k}", "name": u.name} for k, u in org.units.items()]
    positions = sorted({e.job_position for e in org.employees.values() if e.job_position})
    users = []
    for i, e in enumerate(org.employees.values(), 1):
        user: dict[str, Any] = {"id": f"user_{i:05d}", "staffId": e.key, "email": e.email,
                                "name": f"{e.first_name} {e.last_name}", "status": e.status}
        if e.unit:
            user["department"] = org.units[e.unit].name
        if e.job_position:
            user["position"] = e.job_position
        users.append(user)
    return {"departments": departments,
            "positions": [{"title": p} for p in positions],
            "users": users}


def workleap_seed(org: Org) -> dict[str, Any]:
    members = []
    for e in org.employees.values():
        if not e.active:
            continue
        member: dict[str, Any] = {"externalMemberId": e.key, "email": e.email,
                                  "firstName": e.first_name, "lastName": e.last_name,
                                  "status": "active"}
        if e.workleap_language:
            member["languagePreferences"] = e.workleap_language
        if e.workleap_products:
            member["productAssignations"] = sorted(e.workleap_products)
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
    return {"members": members, "teams": teams, "mappings": mappings}


def worklete_seed(org: Org, organization: str = "Acme") -> dict[str, Any]:
    done = _parents_first(org.teams)
    teams = [{"name": org.teams[k].name, "organization": organization,
              "parent": org.teams[org.teams[k].parent].name if org.teams[k].parent else None}
             for k in done]
    # A membership lists the teams its person is a member of; managing a team is a team
    # admin record instead, but a manager needs a membership to hold it.
    team_of: dict[str, list[str]] = {}
    for t in org.teams.values():
        for m in t.managers:
            team_of.setdefault(m, [])
        for m in t.members:
            if t.name not in team_of.setdefault(m, []):
                team_of[m].append(t.name)
    users = [{"username": "sandbox-admin", "password": "sandbox-password",
              "email": "sandbox-admin@orgctl.invalid", "first_name": "Sandbox",
              "last_name": "Admin"}]
    memberships: list[dict[str, Any]] = [
        {"user": "sandbox-admin", "organization": organization, "org_admin": True}]
    for k, e in org.employees.items():
        if not e.active or (k not in team_of and not e.worklete_org_admin):
            continue
        users.append({"email": e.email, "first_name": e.first_name, "last_name": e.last_name})
        memberships.append({"user": e.email, "organization": organization,
                            "teams": sorted(team_of.get(k, [])), "org_admin":
                            e.worklete_org_admin, "employee_id": k,
                            "first_name": e.first_name, "last_name": e.last_name})
    admins = [{"team": t.name, "user": org.employees[m].email}
              for t in org.teams.values() for m in t.managers
              if m in org.employees and org.employees[m].active]
    return {"users": users, "organizations": [{"name": organization}], "teams": teams,
            "memberships": memberships, "team_admins": admins}


def acme_drift(seed: dict[str, Any]) -> dict[str, Any]:
    """The live state of examples/acme "last month": what the quick start plans against.

    Every kind of change a reviewer meets shows up once: a new hire to create everywhere, a
    renamed unit and team, a changed email (declared with `previously:`), a moved job, a
    missing scope and team admin, a leaver still active in Workleap, live objects the
    config does not mention (left alone), and HRMS disagreeing with the config.
    """
    import copy

    seed = copy.deepcopy(seed)
    new_hire = "EMP-031"
    wl = seed["workelo"]
    wl["employees"] = [e for e in wl["employees"] if e["external_id"] != new_hire]
    wl["tracks"] = [t for t in wl["tracks"] if t["employee"] != new_hire]
    wl["unit_organization_managements"] = [
        s for s in wl["unit_organization_managements"] if s["employee"] != new_hire]
    for unit in wl["unit_organizations"]:
        if unit["external_id"] == "data":
            unit["name"] = "Business Intelligence"
    for e in wl["employees"]:
        if e["external_id"] == "EMP-002":
            e["email"] = "marie.durand@acme.example"
        if e["external_id"] == "EMP-014":
            e["job_position"] = "Junior Engineer"
    if wl["unit_organization_managements"]:
        wl["unit_organization_managements"].pop()
    wl["employees"].append({"external_id": "EMP-099", "first_name": "Pat", "last_name": "Former",
                            "email": "pat.former@acme.example", "unit": "finance"})

    hrms = seed["hrms"]
    for user in hrms["users"]:
        if user["staffId"] == "EMP-030":
            user["status"] = "inactive"
        if user["staffId"] == "EMP-021":
            user["department"] = "Backend"

    wp = seed["workleap"]
    wp["members"] = [m for m in wp["members"] if m["externalMemberId"] != new_hire]
    wp["mappings"] = [m for m in wp["mappings"] if m.get("externalMemberId") != new_hire]
    for m in wp["members"]:
        if m["externalMemberId"] == "EMP-022":
            m["languagePreferences"] = "en" if m.get("languagePreferences") == "fr" else "fr"
    wp["members"].append({"externalMemberId": "EMP-019", "email": "leaver@acme.example",
                          "firstName": "Still", "lastName": "Active", "status": "active"})
    wp["members"].append({"email": "it-admin@acme.example", "firstName": "IT",
                          "lastName": "Admin", "status": "active", "isAdmin": True})

    wt = seed["worklete"]
    for team in wt["teams"]:
        if team["name"] == "Platform":
            team["name"] = "Infrastructure"
        if team["parent"] == "Platform":
            team["parent"] = "Infrastructure"
    for m in wt["memberships"]:
        m["teams"] = ["Infrastructure" if t == "Platform" else t for t in m.get("teams", [])]
    wt["team_admins"] = [a for a in wt["team_admins"] if a["team"] != "Web Experience"]
    wt["memberships"] = [m for m in wt["memberships"] if m.get("employee_id") != new_hire]
    for admin in wt["team_admins"]:
        if admin["team"] == "Platform":
            admin["team"] = "Infrastructure"
    return seed


if __name__ == "__main__":
    # Regenerate the quick-start fixture: python -m orgctl.sandbox.seeding
    from pathlib import Path

    import yaml

    from orgctl.config import load

    org = load(Path("examples/acme"), resolve_env=False)
    out = Path(__file__).parent / "fixtures" / "acme-live.yaml"
    out.parent.mkdir(exist_ok=True)
    header = ("# The live state the quick start plans examples/acme against: "
              "generated by\n# `python -m orgctl.sandbox.seeding` (seed_from_org + acme_drift)."
              " Do not edit by hand.\n")
    out.write_text(header + yaml.safe_dump(acme_drift(seed_from_org(org)), sort_keys=False,
                                           allow_unicode=True))
    print(out)
