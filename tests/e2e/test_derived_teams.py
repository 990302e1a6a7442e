"""Workleap reporting teams derived from `manager:` (issue 16, item 1, "Must show"), end to
end on a generated 300-person org against the Workleap emulator, in both profiles.

One `orgctl apply` from an empty Workleap makes a team per manager holding exactly their
direct reports, nested along the reporting line, beside the org's hand-written teams; the
next plan is empty. Changing one person's manager moves that person between two teams and
nothing else. `orgctl import` from that Workleap writes `manager:` instead of the derived
teams, and a plan of what it wrote shows no changes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bench.generate import generate, write
from orgctl.config import load
from orgctl.model import Org
from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import seed_from_org
from orgctl.sandbox.workleap import API_KEY_HEADER
from tests.e2e.conftest import (
    DEFAULT_OPTIONS,
    QUICK_WORKLEAP,
    StartSandbox,
    edit_yaml,
    plan_json,
    run_orgctl,
    write_endpoints,
)

EMPLOYEES = 300
PREFIX = "reports-"
PEOPLE = "people/000.yaml"


def write_org(directory: Path) -> Path:
    """The generated org with Workleap alone, `reporting_teams: true` on its block, and a
    chain of managers (E000011 <- E000012 <- ... <- E000019) so the line is 11 teams deep."""
    data = generate(EMPLOYEES)
    for i in range(12, 20):
        data["employees"][f"E{i:06d}"]["manager"] = f"E{i - 1:06d}"
    data["providers"] = {"workleap": {"url": "https://api.workleap.com",
                                      "api_key": "${WORKLEAP_API_KEY}",
                                      "reporting_teams": True}}
    return write(data, directory)


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """The emulators' profile of the tests that start the session's sandbox."""
    return str(request.param)


@dataclass
class Applied:
    box: Sandbox
    root: Path
    endpoints: Path
    org: Org
    first_plan: dict[str, Any]
    apply_output: str


@pytest.fixture(scope="module", params=["permissive", "strict"])
def applied(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    """An empty Workleap, then one `orgctl apply` of the 300-person org; once per profile."""
    tmp_path = tmp_path_factory.mktemp("derived")
    root = write_org(tmp_path / "org")
    with Sandbox({"workleap": QUICK_WORKLEAP}, options=DEFAULT_OPTIONS,
                 profile=request.param) as box:
        endpoints = write_endpoints(box, tmp_path / "sandbox.json")
        first_plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints,
                                          "--format", "json"))
        result = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
        assert result.exit_code == 0, result.output
        yield Applied(box, root, endpoints, load(root, resolve_env=False), first_plan,
                      result.stdout)


def live_teams(box: Sandbox) -> dict[str, dict[str, Any]]:
    """Workleap's teams by externalTeamId: name, parent, managers and members by
    externalMemberId, as the emulator holds them."""
    state = box.emulators["workleap"].state
    member = {mid: m["externalMemberId"] for mid, m in state["members"].items()}
    team = {tid: t["externalTeamId"] for tid, t in state["teams"].items()}
    return {t["externalTeamId"]: {
        "name": t["teamName"],
        "parent": team[t["parentId"]] if t["parentId"] else None,
        "managers": sorted(member[i] for i in t["managerIds"]),
        "members": sorted(member[i] for i in t["memberIds"])}
        for t in state["teams"].values()}


def reporting_line(org: Org) -> dict[str, list[str]]:
    """Each active manager's active direct reports, from `manager:`."""
    active = {k for k, e in org.employees.items() if e.active}
    line: dict[str, list[str]] = {}
    for key in sorted(active):
        boss = org.employees[key].manager
        if boss in active:
            line.setdefault(boss, []).append(key)
    return line


def changes(plan: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["action"], c["address"]) for c in plan["changes"]}


def test_derived_teams_match_the_manager_tree_exactly(applied: Applied) -> None:
    line = reporting_line(applied.org)
    teams = live_teams(applied.box)
    derived = {k: t for k, t in teams.items() if k.startswith(PREFIX)}

    assert set(derived) == {PREFIX + m for m in line}
    for manager, reports in line.items():
        team = derived[PREFIX + manager]
        assert team["managers"] == [manager]
        assert team["members"] == reports, manager
        boss = applied.org.employees[manager].manager
        assert team["parent"] == (PREFIX + boss if boss else None), manager
    roots = [k for k, t in derived.items() if t["parent"] is None]
    assert roots == [PREFIX + "E000000"]
    chain, team = [], derived[PREFIX + "E000019"]
    while team["parent"]:
        chain.append(team["parent"])
        team = derived[team["parent"]]
    assert chain == [PREFIX + f"E{i:06d}" for i in (18, 17, 16, 15, 14, 13, 12, 11, 1, 0)]
    # Every active person but the top of the line is in exactly one derived team.
    placed = sorted(m for t in derived.values() for m in t["members"])
    active = sorted(k for k, e in applied.org.employees.items() if e.active)
    assert placed == [k for k in active if k != "E000000"]
    # The hand-written teams are there too, as written.
    for key, t in applied.org.teams.items():
        assert teams[key]["members"] == sorted(set(t.members) - set(t.managers)
                                               & {k for k in active}), key
        assert teams[key]["parent"] == t.parent
    # The first plan said which teams are derived: their changes come from manager:.
    sources = {c["address"].split(".")[2]: c["source"] for c in applied.first_plan["changes"]
               if c["kind"] == "team"}
    assert {k for k, s in sources.items() if s == "manager"} == set(derived)
    assert {k for k, s in sources.items() if s == "yaml"} == set(applied.org.teams)


def test_upper_managers_see_their_whole_reporting_line(applied: Applied) -> None:
    """Seed 003: "upper managers can see data from the whole reporting line they manage";
    the permissive emulator says whom each member can see (`accessibleTeamIds`)."""
    if applied.box.emulators["workleap"].profile.strict:
        pytest.skip("the strict emulator does not serve accessibleTeamIds (not in seed 003)")
    endpoint = applied.box.endpoints()["workleap"]
    answer = httpx.get(f"{endpoint['url']}/provisioning/members", params={"pageSize": 500},
                       headers={API_KEY_HEADER: endpoint["api_key"]}).json()["items"]
    state = applied.box.emulators["workleap"].state
    team_of = {t["id"]: t["externalTeamId"] for t in state["teams"].values()}
    access = {m["externalMemberId"]: m["accessibleTeamIds"] for m in answer}
    line = reporting_line(applied.org)
    for manager in line:  # their own team and every team below it, nothing else
        below = {PREFIX + m for m in line if manager in chain_of(applied.org, m)}
        assert {team_of[t] for t in access[manager]} - set(applied.org.teams) == below
    assert len(access["E000000"]) >= len(line)  # the top of the line sees all of it


def chain_of(org: Org, person: str) -> list[str]:
    """The person and every manager above them."""
    chain = [person]
    while org.employees[chain[-1]].manager:
        chain.append(str(org.employees[chain[-1]].manager))
    return chain


def test_the_next_plan_is_empty(applied: Applied) -> None:
    result = run_orgctl("plan", applied.root, "--sandbox", applied.endpoints,
                        "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.stdout
    plan = plan_json(run_orgctl("plan", applied.root, "--sandbox", applied.endpoints,
                                "--format", "json"))
    said = [f["message"] for f in plan["findings"] if f["address"] == f"workleap.team.{PREFIX}*"]
    assert said and said[0].startswith(f"{len(reporting_line(applied.org))} teams derived "
                                       "from manager:")


def mover(org: Org) -> tuple[str, str, str]:
    """(person, their manager, another manager): a person who leads no team, from a
    manager who keeps other reports, to a manager who has reports already."""
    line = reporting_line(org)
    for person in sorted(k for k, e in org.employees.items() if e.active):
        old = org.employees[person].manager
        if person in line or old not in line or len(line[old]) < 2:
            continue
        new = next(m for m in sorted(line) if m not in (old, person))
        return person, old, new
    raise AssertionError("the generated org has no one to move")


def test_changing_one_manager_moves_one_person_between_two_teams(applied: Applied,
                                                                 tmp_path: Path) -> None:
    root = tmp_path / "org"
    shutil.copytree(applied.root, root)
    person, old, new = mover(applied.org)
    edit_yaml(root, PEOPLE, lambda d: d["employees"][person].update(manager=new))

    plan = plan_json(run_orgctl("plan", root, "--sandbox", applied.endpoints,
                                "--format", "json"))
    assert changes(plan) == {("delete", f"workleap.mapping.{PREFIX}{old}:{person}"),
                             ("create", f"workleap.mapping.{PREFIX}{new}:{person}")}
    created = next(c for c in plan["changes"] if c["action"] == "create")
    assert created["source"] == "manager"
    text = run_orgctl("plan", root, "--sandbox", applied.endpoints).stdout
    assert f"+ mapping {PREFIX}{new}:{person} (from manager)" in text
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in text
    markdown = run_orgctl("plan", root, "--sandbox", applied.endpoints, "--format",
                          "markdown").stdout
    assert f"+ workleap mapping {PREFIX}{new}:{person} (" in markdown
    assert "(from manager)" in markdown

    assert run_orgctl("apply", root, "--sandbox", applied.endpoints,
                      "--auto-approve").exit_code == 0
    teams = live_teams(applied.box)
    assert person in teams[PREFIX + new]["members"]
    assert person not in teams[PREFIX + old]["members"]
    # And back: the original config moves them back, again two mappings and nothing else.
    back = plan_json(run_orgctl("plan", applied.root, "--sandbox", applied.endpoints,
                                "--format", "json"))
    assert changes(back) == {("delete", f"workleap.mapping.{PREFIX}{new}:{person}"),
                             ("create", f"workleap.mapping.{PREFIX}{old}:{person}")}
    assert run_orgctl("apply", applied.root, "--sandbox", applied.endpoints,
                      "--auto-approve").exit_code == 0


def test_import_writes_manager_instead_of_derived_teams_and_plans_no_change(
        applied: Applied, tmp_path: Path) -> None:
    """Imported with the config's Workleap block (`orgctl import --from workleap PATH`),
    which sets reporting_teams: the derived teams come back as `manager:`."""
    out = tmp_path / "imported"
    result = run_orgctl("import", "--from", "workleap", applied.root, "--sandbox",
                        applied.endpoints, "--out", out)
    assert result.exit_code == 0, result.output

    teams = yaml.safe_load((out / "teams.yaml").read_text(encoding="utf-8"))["teams"]
    assert not [k for k in teams if k.startswith(PREFIX)]
    assert set(teams) == set(applied.org.teams)
    imported = load(out, resolve_env=False)
    assert imported.providers["workleap"].settings["reporting_teams"] is True
    active = {k: e for k, e in applied.org.employees.items() if e.active}
    assert {k: e.manager for k, e in imported.employees.items()} == {
        k: e.manager for k, e in active.items()}

    plan = run_orgctl("plan", out, "--sandbox", applied.endpoints, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.stdout


def test_import_without_the_option_keeps_the_teams_and_says_how_to_derive_them(
        applied: Applied, tmp_path: Path) -> None:
    """Imported from the sandbox alone, the block has no reporting_teams: the derived teams
    are written as teams (nothing is lost), and a note says how to derive them instead."""
    out = tmp_path / "imported"
    result = run_orgctl("import", "--from", "workleap", "--sandbox", applied.endpoints,
                        "--out", out)
    assert result.exit_code == 0, result.output

    teams = yaml.safe_load((out / "teams.yaml").read_text(encoding="utf-8"))["teams"]
    line = reporting_line(applied.org)
    assert {k for k in teams if k.startswith(PREFIX)} == {PREFIX + m for m in line}
    providers = (out / "providers.yaml").read_text(encoding="utf-8")
    assert f"{len(line)} teams ({PREFIX}*) are what reporting_teams derives" in providers
    plan = run_orgctl("plan", out, "--sandbox", applied.endpoints, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_the_sandbox_seed_of_the_org_plans_no_change(tmp_path: Path) -> None:
    """`seed_from_org` holds the derived teams too: the state a perfect apply leaves."""
    root = write_org(tmp_path / "org")
    org = load(root, resolve_env=False)
    with Sandbox(seed_from_org(org), options=DEFAULT_OPTIONS) as box:
        endpoints = write_endpoints(box, tmp_path / "sandbox.json")
        result = run_orgctl("plan", root, "--sandbox", endpoints, "--detailed-exitcode")
    assert result.exit_code == 0, result.output


def test_worklete_team_admins_follow_the_same_line(start_sandbox: StartSandbox,
                                                   tmp_path: Path) -> None:
    """Worklete, where configured: the same teams, the manager as team admin, the direct
    reports as members; one apply from empty, then no change; one moved person is one
    membership update."""
    data = generate(EMPLOYEES)
    data["providers"] = {"worklete": {
        "url": "https://connection.worklete.com/api/v1", "username": "${WORKLETE_USERNAME}",
        "password": "${WORKLETE_PASSWORD}", "organization": "Acme", "reporting_teams": True}}
    root = write(data, tmp_path / "org")
    org = load(root, resolve_env=False)
    box = start_sandbox({})
    endpoints = write_endpoints(box, tmp_path / "sandbox.json")
    assert run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve").exit_code == 0

    state = box.emulators["worklete"].state
    line = reporting_line(org)
    name = {t["id"]: t["name"] for t in state["teams"].values()}
    email = {m["id"]: state["users"][m["user_id"]]["email"]
             for m in state["memberships"].values()}
    admin_of = {email[a["membership_id"]]: a["team_id"]
                for a in state["team_admins"].values()
                if name[a["team_id"]].endswith(("'s team", ")"))}
    members: dict[str, set[str]] = {}
    for m in state["memberships"].values():
        for team_id in m["team_ids"]:
            members.setdefault(team_id, set()).add(email[m["id"]])
    for manager, reports in line.items():
        e = org.employees[manager]
        team = admin_of[e.email]
        assert name[team] in (f"{e.first_name} {e.last_name}'s team",
                              f"{e.first_name} {e.last_name}'s team ({manager})")
        assert members[team] == {org.employees[r].email for r in reports}, manager
        boss = org.employees[manager].manager
        parent = state["teams"][team]["parent_id"]
        assert parent == (admin_of[org.employees[boss].email] if boss else None), manager
    again = run_orgctl("plan", root, "--sandbox", endpoints, "--detailed-exitcode")
    assert again.exit_code == 0, again.output

    person, old, new = mover(org)
    edit_yaml(root, PEOPLE, lambda d: d["employees"][person].update(manager=new))
    plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    assert [(c["action"], c["address"]) for c in plan["changes"]] == [
        ("update", f"worklete.membership.{person}")]
    before, after = plan["changes"][0]["fields"]["teams"]
    assert set(before) - set(after) == {PREFIX + old}
    assert set(after) - set(before) == {PREFIX + new}
