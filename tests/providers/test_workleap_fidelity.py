"""A Workleap sync changes nothing the plan did not show, in any column of members.csv,
teams.csv or teams-mappings.csv (issue 13 item 6, issue 14 item 4).

A sync is a full replacement: every live member, team and mapping goes back in the three
CSVs, so any value the provider writes back other than as it read it is a change no plan
showed. Each case below starts from the same live Workleap, full of values a careless
writer alters (formula-like text, quotes, commas, line breaks, mixed-case emails, products
out of order, custom properties, members without an external id, an admin, a deactivated
member, teams the config does not know), makes a plan that changes one column, applies it
as one sync, and compares every field of every member and team before and after: only
what the plan's changes name may differ. The next plan is then empty.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orgctl.engine.plan import plan_provider
from orgctl.model import Employee, Org, ProviderConfig, Team
from orgctl.providers.workleap import WorkleapProvider
from orgctl.resources import Change, Resource
from orgctl.sandbox.core import Profile, ServerThread
from orgctl.sandbox.workleap import DEFAULT_API_KEY, WorkleapEmulator

CUSTOM_A = {"Phone": "+33 1 23 45", "Slack": "@ana", "Formula": "=SUM(A1)",
            "Quote": 'He said "hi", then left', "Quoted": "'already quoted"}
CUSTOM_U = {"Site": "=Lyon", "Phone": "-12", "Multi": "line one\nline two", "Slack": "@una"}


def live_seed() -> dict[str, Any]:
    """The live Workleap every case starts from."""
    return {
        "integration": {"processing_delay": 0.01, "risk_threshold": None},
        "members": [
            {"externalMemberId": "E1", "email": "Ana.Silva@Acme.io", "firstName": "Ana",
             "lastName": "Silva", "languagePreferences": "fr",
             "productAssignations": ["Skills", "Officevibe"], "status": "active",
             "customProperties": CUSTOM_A},
            {"externalMemberId": "E2", "email": "bob@acme.io", "firstName": "Bob",
             "lastName": 'O"Brien, Jr', "status": "active",
             "customProperties": {"Site": "Montréal"}},
            {"externalMemberId": "U1", "email": "=Una@Acme.IO", "firstName": "-Zed",
             "lastName": "+Plus", "languagePreferences": "en",
             "productAssignations": ["Pingboard", "LMS", "Officevibe"], "status": "active",
             "customProperties": CUSTOM_U},
            {"email": "Keyless@Acme.io", "firstName": "Łukasz", "lastName": "Zoé",
             "status": "invited", "customProperties": {"Site": "@home"}},
            {"email": "Root@Acme.io", "firstName": "Root", "lastName": "Admin",
             "status": "active", "isAdmin": True},
            {"externalMemberId": "D1", "email": "gone@acme.io", "firstName": "Gone",
             "lastName": "Away", "status": "deactivated",
             "customProperties": {"Site": "=old"}},
            {"externalMemberId": "U3", "email": "cy@acme.io", "firstName": "Cy",
             "lastName": "Created", "status": "created", "productAssignations": ["LMS"]},
        ],
        "teams": [
            {"externalTeamId": "eng", "teamName": "Engineering"},
            {"externalTeamId": "platform", "teamName": "Platform, \"core\""},
            {"externalTeamId": "+ops", "teamName": "@Ops, EMEA"},
            {"externalTeamId": "sales", "teamName": "=Sales"},
            {"externalTeamId": "sales-emea", "teamName": "Sales\nEMEA"},
        ],
        "mappings": [
            {"externalTeamId": "eng", "externalSubteamId": "platform"},
            {"externalTeamId": "sales", "externalSubteamId": "sales-emea"},
            {"externalTeamId": "eng", "externalMemberId": "E1", "role": "manager"},
            {"externalTeamId": "platform", "externalMemberId": "E2", "role": "member"},
            {"externalTeamId": "+ops", "externalMemberId": "U1", "role": "manager"},
            {"externalTeamId": "+ops", "externalMemberId": "E1", "role": "member"},
            {"externalTeamId": "+ops", "externalMemberId": "U3", "role": "member"},
            {"externalTeamId": "sales", "externalMemberId": "U1", "role": "member"},
            {"externalTeamId": "sales-emea", "externalMemberId": "E2", "role": "manager"},
        ],
    }


def base_org() -> Org:
    """The config matching the live E1, E2, eng and platform, plus one new hire."""
    return Org(
        employees={
            "E1": Employee("E1", "Ana", "Silva", "ana.silva@acme.io", systems={
                "workleap": {"language": "fr", "products": ["Officevibe", "Skills"]}}),
            "E2": Employee("E2", "Bob", 'O"Brien, Jr', "bob@acme.io"),
            "N1": Employee("N1", "Nia", "New", "nia@acme.io"),
        },
        teams={"eng": Team("eng", "Engineering", managers=("E1",)),
               "platform": Team("platform", 'Platform, "core"', parent="eng",
                                members=("E2", "N1"))})


def with_employee(key: str, **changes: Any) -> Callable[[Org], Org]:
    def edit(org: Org) -> Org:
        employees = dict(org.employees)
        employees[key] = dataclasses.replace(employees[key], **changes)
        return dataclasses.replace(org, employees=employees)
    return edit


def with_team(key: str, **changes: Any) -> Callable[[Org], Org]:
    def edit(org: Org) -> Org:
        teams = dict(org.teams)
        teams[key] = dataclasses.replace(teams[key], **changes) if key in teams \
            else Team(key, **changes)
        return dataclasses.replace(org, teams=teams)
    return edit


def claiming_keyless(org: Org) -> Org:
    employees = {**org.employees, "K1": Employee("K1", "Łukasz", "Zoé", "keyless@acme.io")}
    return dataclasses.replace(org, employees=employees)


# One case per column a plan can change; "nothing but a create" changes none of the live
# ones. The column each case is about is in its id.
CASES: dict[str, Callable[[Org], Org]] = {
    "nothing-but-a-create": lambda org: org,
    "members.csv-externalMemberId": claiming_keyless,
    "members.csv-email": with_employee("E1", email="ana@acme.io"),
    "members.csv-firstName": with_employee("E2", first_name="=Bobby"),
    "members.csv-lastName": with_employee("E2", last_name="Stone"),
    "members.csv-languagePreferences": with_employee("E1", systems={
        "workleap": {"language": "en", "products": ["Officevibe", "Skills"]}}),
    "members.csv-productAssignations": with_employee("E1", systems={
        "workleap": {"language": "fr", "products": ["LMS"]}}),
    "members.csv-removal": with_employee("E2", status="inactive"),
    "teams.csv-externalTeamId": with_team("qa", name="QA", parent="eng"),
    "teams.csv-teamName": with_team("eng", name="R&D"),
    "teams-mappings.csv-externalSubteamId": with_team("platform", parent=None),
    "teams-mappings.csv-externalMemberId": with_team("eng", members=("E2",)),
    "teams-mappings.csv-role": with_team("eng", managers=(), members=("E1",)),
}

MEMBER_FIELDS = ("externalMemberId", "email", "firstName", "lastName", "languagePreferences",
                 "productAssignations", "customProperties", "status", "isAdmin")
COLUMN = {"external_id": "externalMemberId", "email": "email", "first_name": "firstName",
          "last_name": "lastName", "language": "languagePreferences",
          "products": "productAssignations", "deactivated": "status"}


def view(emu: WorkleapEmulator) -> dict[tuple[str, str], Any]:
    """Every field of every member and team: (object, field) -> value. Members by their
    Workleap id, teams by externalTeamId; a team's parent as an externalTeamId, its people
    as the lists Workleap holds (order included)."""
    state = emu.snapshot()
    teams = state["teams"]
    out: dict[tuple[str, str], Any] = {}
    for mid, m in state["members"].items():
        for name in MEMBER_FIELDS:
            out[(f"member {mid}", name)] = m[name]
    for t in teams.values():
        team = f"team {t['externalTeamId']}"
        out[(team, "teamName")] = t["teamName"]
        out[(team, "parent")] = teams[t["parentId"]]["externalTeamId"] if t["parentId"] \
            else None
        out[(team, "managerIds")] = list(t["managerIds"])
        out[(team, "memberIds")] = list(t["memberIds"])
    return out


def shown(changes: list[Change]) -> set[tuple[str, str]]:
    """The (object, field) pairs the plan's changes say may change."""
    out: set[tuple[str, str]] = set()
    for c in changes:
        if c.kind == "member" and c.action == "update":
            out |= {(f"member {c.remote_id}", COLUMN[f]) for f in c.fields}
        elif c.kind == "member" and c.action in ("deactivate", "delete"):
            out.add((f"member {c.remote_id}", "status"))
        elif c.kind == "team" and c.action == "update":
            out |= {(f"team {c.key}", {"name": "teamName"}.get(f, f)) for f in c.fields}
        elif c.kind == "mapping":
            team = (c.after or c.before or {})["team"]
            out |= {(f"team {team}", "managerIds"), (f"team {team}", "memberIds")}
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ServerThread, dict[str, WorkleapEmulator]]]:
    """One server for the module; each case swaps in a fresh emulator."""
    current: dict[str, WorkleapEmulator] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await current["emu"].app(scope, receive, send)

    with ServerThread({"workleap": app}) as st:
        yield st, current


def provider(url: str) -> WorkleapProvider:
    return WorkleapProvider(ProviderConfig(name="workleap", type="workleap", url=url, settings={
        "api_key": DEFAULT_API_KEY, "poll_interval": 0.01, "poll_timeout": 10}))


def plan(p: WorkleapProvider, org: Org) -> tuple[list[Change], list[Resource]]:
    live = asyncio.run(p.read())
    changes, _, _, _ = plan_provider(p, org, live)
    return changes, live


@pytest.mark.parametrize("profile", ["permissive", "strict"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_sync_changes_nothing_the_plan_did_not_show(
        case: str, profile: str,
        server: tuple[ServerThread, dict[str, WorkleapEmulator]]) -> None:
    """Failed before the fix in all 26 runs: every sync lower-cased the email and sorted
    the products of every member (the read normalises them to compare; the render wrote
    the normalised values back), and deactivating a member dropped it from a team the
    config does not describe without the plan saying so. (The `'` once prepended to
    formula-like values is kept out by the same comparison.)"""
    st, current = server
    emu = current["emu"] = WorkleapEmulator(live_seed(), profile=profile)
    p = provider(st.url("workleap"))
    config = CASES[case](base_org())
    before = view(emu)
    changes, live = plan(p, config)
    assert changes and all(c.action != "manual" for c in changes), changes
    result = asyncio.run(p.apply_batch(changes, live))
    assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
    after = view(emu)
    allowed = shown(changes)
    altered = {k: (before[k], after.get(k)) for k in before
               if k not in allowed and after.get(k) != before[k]}
    assert altered == {}, f"changed though no change of the plan names it: {altered}"
    created = {k[0] for k in after if k not in before}
    planned = {f"team {c.key}" for c in changes if c.kind == "team" and c.action == "create"}
    assert len(created - planned) == sum(
        1 for c in changes if c.kind == "member" and c.action == "create")
    assert plan(p, config)[0] == []


def test_the_strict_profile_is_what_the_cases_ran_against() -> None:
    """The cases above are worth running twice only if the strict emulator answers
    otherwise: number ids, no paging keys, other field order."""
    emu = WorkleapEmulator(live_seed(), profile=Profile.named("strict"))
    with ServerThread({"workleap": emu.app}) as st:
        body = httpx.get(f"{st.url('workleap')}/provisioning/members",
                         headers={"workleap-subscription-key": DEFAULT_API_KEY}).json()
    assert list(body) == ["items"]
    assert isinstance(body["items"][0]["id"], int)
    assert list(body["items"][0])[0] != "id"
