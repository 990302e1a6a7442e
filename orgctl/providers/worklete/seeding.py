"""The Worklete emulator's seed (`orgctl.sandbox.worklete`) for a desired org: one
organisation with the config's teams (and the reporting teams when the org's Worklete
provider block sets `reporting_teams`), memberships and admins, plus the emulator's own
admin account."""

from __future__ import annotations

from typing import Any

from orgctl.model import Org
from orgctl.providers.reporting import derived_teams, option_of
from orgctl.providers.seeding import parents_first
from orgctl.providers.worklete.provider import WorkleteProvider

__all__ = ["seed"]

# A seed that lists users replaces the emulator's default account, so it lists one that
# can sign in: the org admin the emulator's `credentials()` hand to orgctl.
SANDBOX_ADMIN = {"username": "sandbox-admin", "password": "sandbox-password",
                 "email": "sandbox-admin@orgctl.invalid", "first_name": "Sandbox",
                 "last_name": "Admin"}


def seed(org: Org, organization: str) -> dict[str, Any]:
    every = {**org.teams, **{k: d.as_team() for k, d in
                             derived_teams(org, option_of(org, "worklete")).items()}}
    teams = [{"name": every[k].name, "organization": organization,
              "parent": every[every[k].parent].name if every[k].parent else None}
             for k in parents_first(every)]
    # A membership lists the teams its person is a member of; managing a team is a team
    # admin record instead, but a manager needs a membership to hold it.
    team_of: dict[str, list[str]] = {}
    for t in every.values():
        for m in t.managers:
            team_of.setdefault(m, [])
        for m in t.members:
            if t.name not in team_of.setdefault(m, []):
                team_of[m].append(t.name)
    users = [dict(SANDBOX_ADMIN)]
    memberships: list[dict[str, Any]] = [
        {"user": SANDBOX_ADMIN["username"], "organization": organization, "org_admin": True}]
    for k, e in org.employees.items():
        if not e.active or (k not in team_of and not WorkleteProvider.wants_org_admin(e)):
            continue
        users.append({"email": e.email, "first_name": e.first_name, "last_name": e.last_name})
        memberships.append({"user": e.email, "organization": organization,
                            "teams": sorted(team_of.get(k, [])),
                            "org_admin": WorkleteProvider.wants_org_admin(e),
                            "employee_id": k,
                            "first_name": e.first_name, "last_name": e.last_name})
    admins = [{"team": t.name, "user": org.employees[m].email}
              for t in every.values() for m in t.managers
              if m in org.employees and org.employees[m].active]
    return {"users": users, "organizations": [{"name": organization}], "teams": teams,
            "memberships": memberships, "team_admins": admins}
