"""Worklete against its strict emulator (issue 13 "Must show"): a server that serves only what
seed 004 documents and chooses otherwise wherever it is silent (membership answers without
user, employee id or team ids; team admins listed as memberships; the team list capped at
20-50 rows a page with an empty `meta`; a replacing memberships CSV; see
`orgctl.sandbox.worklete`).

The company has 620 people in 70 teams (nested up to three deep), so the team list spans
several pages at every cap; the config has only a worklete provider block. Each test runs
the CLI in-process against the served emulator: an empty tenant converges in one apply, a
matching one plans no change with no more than 1.2x the requests the strict routes allow,
a drifted one plans exactly its drift, an import plans no change, and 10 % 5xx plus 5 %
commit-then-fail leave no duplicate.

Before issue 13's Worklete work, every plan against this server stopped at the first
team-admin answer ("GET /teams/{id}/admins: membership_id is missing"), and an apply from
empty uploaded all 620 memberships in one CSV, then waited 300 s for rows it could not
recognise in the strict answers and failed them all.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgctl.config import load
from orgctl.providers.worklete import WorkleteProvider
from orgctl.providers.worklete.seeding import SANDBOX_ADMIN
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, Profile
from tests.e2e.conftest import StartSandbox, plan_json, run_orgctl, write_endpoints

PEOPLE = 620
TEAMS = 70  # more than the largest cap (50): the team list always spans several pages
ORG_ADMINS = ("P0001", "P0002", "P0003")
API = "/api/v1"
# The strict profile at a cap of 23 (a last page that is short), and one drawn at random.
PROFILES = {
    "strict-cap-23": dataclasses.replace(Profile.named("strict"), page_cap=23),
    "strict-drawn": Profile.draw(random.Random(4)),
}
EMPTY = {"users": [SANDBOX_ADMIN],
         "memberships": [{"user": SANDBOX_ADMIN["username"], "org_admin": True}]}


def company() -> dict[str, Any]:
    """The company's configuration: people in teams (some in two), a manager per team, a
    few org admins; every fifth team sits under the team before it, and the one after
    that one level deeper."""
    people = {f"P{i:04d}": {"first_name": f"Person{i}", "last_name": "Strict",
                            "email": f"person.{i}@acme.example"} for i in range(PEOPLE)}
    for key in ORG_ADMINS:
        people[key]["worklete"] = {"org_admin": True}
    keys = list(people)
    teams: dict[str, Any] = {}
    for t in range(TEAMS):
        team: dict[str, Any] = {"name": f"Team {t:02d}",
                                "managers": [keys[(t * 7 + 3) % PEOPLE]],
                                "members": sorted({keys[i] for i in range(PEOPLE)
                                                   if i % TEAMS == t or i % 97 == t})}
        if t % 5 in (1, 2):
            team["parent"] = f"team-{t - 1:02d}"
        teams[f"team-{t:02d}"] = team
    return {"version": 1,
            "providers": {"worklete": {"url": "https://connection.worklete.com/api/v1",
                                       "username": "${WORKLETE_USERNAME}",
                                       "password": "${WORKLETE_PASSWORD}",
                                       "organization": "Acme"}},
            "teams": teams, "employees": people}


def write_company(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "org" / "org.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data or company(), sort_keys=False), encoding="utf-8")
    return path.parent


def matching_seed(config: Path) -> dict[str, Any]:
    """What Worklete holds after a perfect apply of `config`."""
    return WorkleteProvider.seed(load(config, resolve_env=False))


def serve(start_sandbox: StartSandbox, seed: dict[str, Any], profile: Profile,
          faults: Faults | None = None) -> Sandbox:
    return start_sandbox({"worklete": seed}, faults=faults, profile=profile)


def endpoints(box: Sandbox, tmp_path: Path) -> Path:
    return write_endpoints(box, tmp_path / "sandbox.json")


def made(box: Sandbox) -> Counter[tuple[str, str]]:
    """Requests the emulator answered, by (method, route); every one answered 2xx."""
    counters = box.emulators["worklete"].log.as_json()["counters"]
    assert {c["status"] for c in counters} <= {200, 204}, counters
    return Counter({(c["method"], c["route"]): c["count"] for c in counters})


def minimum_read(box: Sandbox, profile: Profile) -> int:
    """The fewest requests that read the strict server's state: the sign-in, the
    organisations, the team list page by page (without a total, one page more when the
    last is full), the memberships and the users (emails) whole, and per team its admins
    and its members (no documented read gives either for the whole organisation; per
    membership would cost more)."""
    state = box.emulators["worklete"].state
    teams, members = len(state["teams"]), len(state["memberships"])
    cap = min(profile.cap(100), 100)
    pages = math.ceil(teams / cap) if profile.paging_keys else teams // cap + 1
    return 1 + 1 + pages + 1 + 1 + teams + min(teams, members)


def duplicates(state: dict[str, Any]) -> dict[str, dict[Any, int]]:
    """Per kind, the identities the emulator holds more than once (empty: none)."""
    emails = {u["id"]: (u["email"] or "").lower() for u in state["users"].values()}
    identities = {
        "teams by name+parent": [(t["name"], t["parent_id"]) for t in state["teams"].values()],
        "users by email": [e for e in emails.values() if e],
        "memberships by user": [m["user_id"] for m in state["memberships"].values()],
        "team admins by team+membership": [(a["team_id"], a["membership_id"])
                                           for a in state["team_admins"].values()],
    }
    return {what: {k: n for k, n in Counter(values).items() if n > 1}
            for what, values in identities.items()}


def holds_the_company(state: dict[str, Any]) -> None:
    """The emulator holds the company: its teams under their parents, every person once
    with their teams, every manager an admin of their team, the org admins."""
    data = company()
    teams = {t["id"]: t for t in state["teams"].values()}
    by_name = {t["name"]: t for t in teams.values()}
    assert sorted(by_name) == sorted(t["name"] for t in data["teams"].values())
    for team in data["teams"].values():
        parent = data["teams"][team["parent"]]["name"] if team.get("parent") else None
        parent_id = by_name[team["name"]]["parent_id"]
        assert (teams[parent_id]["name"] if parent_id else None) == parent
    users = {u["id"]: u for u in state["users"].values()}
    member = {users[m["user_id"]]["email"]: m for m in state["memberships"].values()}
    assert len(member) == len(state["memberships"]) == PEOPLE + 1
    for key, person in data["employees"].items():
        wanted = {t["name"] for t in data["teams"].values() if key in t["members"]}
        m = member[person["email"]]
        assert {teams[t]["name"] for t in m["team_ids"]} == wanted, key
        assert m["org_admin"] is (key in ORG_ADMINS)
    admins = {(teams[a["team_id"]]["name"],
               users[state["memberships"][a["membership_id"]]["user_id"]]["email"])
              for a in state["team_admins"].values()}
    assert admins == {(t["name"], data["employees"][m]["email"])
                      for t in data["teams"].values() for m in t["managers"]}


@pytest.fixture(params=sorted(PROFILES))
def strict(request: pytest.FixtureRequest) -> Profile:
    return PROFILES[request.param]


def test_an_empty_tenant_converges_in_one_apply(start_sandbox: StartSandbox, strict: Profile,
                                                tmp_path: Path) -> None:
    config = write_company(tmp_path)
    box = serve(start_sandbox, copy.deepcopy(EMPTY), strict)
    sandbox = endpoints(box, tmp_path)

    applied = run_orgctl("apply", config, "--sandbox", sandbox, "--auto-approve",
                         "--no-progress")
    assert applied.exit_code == 0, applied.output
    after = run_orgctl("plan", config, "--sandbox", sandbox, "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    holds_the_company(box.emulators["worklete"].snapshot())


def test_a_matching_tenant_plans_no_change_within_the_minimum_requests(
        start_sandbox: StartSandbox, strict: Profile, tmp_path: Path) -> None:
    config = write_company(tmp_path)
    box = serve(start_sandbox, matching_seed(config), strict)

    result = run_orgctl("plan", config, "--sandbox", endpoints(box, tmp_path),
                        "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    requests = made(box)
    fewest = minimum_read(box, strict)
    assert sum(requests.values()) <= 1.2 * fewest, (fewest, requests)
    teams = len(box.emulators["worklete"].state["teams"])
    assert requests[("GET", f"{API}/teams/{{team_id}}/admins")] == teams
    # the documented fallback for a membership's teams: the team_id filter, once per team
    assert requests[("GET", f"{API}/worklete_admin/memberships")] == 1 + teams
    assert requests[("GET", f"{API}/memberships/{{membership_id}}/my_teams")] == 0


def drift(seed: dict[str, Any]) -> dict[str, Any]:
    """The matching live state with a change of each kind made in Worklete's UI."""
    seed = copy.deepcopy(seed)
    data = company()
    people = data["employees"]
    team_12 = next(t for t in seed["teams"] if t["name"] == "Team 12")
    team_12["parent"] = "Team 40"  # was under Team 11
    new_hire = people["P0100"]["email"]  # P0100 manages no team
    seed["users"] = [u for u in seed["users"] if u.get("email") != new_hire]
    seed["memberships"] = [m for m in seed["memberships"] if m["user"] != new_hire]
    for m in seed["memberships"]:
        if m["user"] == people["P0200"]["email"]:
            m["teams"] = [t for t in m["teams"] if t != "Team 60"]
        if m["user"] == people["P0300"]["email"]:
            m["first_name"] = "Renamed"
        if m["user"] == people["P0002"]["email"]:
            m["org_admin"] = False
    manager_5 = people[data["teams"]["team-05"]["managers"][0]]["email"]
    seed["team_admins"] = [a for a in seed["team_admins"]
                           if (a["team"], a["user"]) != ("Team 05", manager_5)]
    seed["team_admins"].append({"team": "Team 07", "user": people["P0400"]["email"]})
    return seed


def test_a_drifted_tenant_plans_exactly_the_drift(start_sandbox: StartSandbox,
                                                  strict: Profile, tmp_path: Path) -> None:
    config = write_company(tmp_path)
    box = serve(start_sandbox, drift(matching_seed(config)), strict)

    plan = plan_json(run_orgctl("plan", config, "--sandbox", endpoints(box, tmp_path),
                                "--format", "json"))

    data = company()
    manager_5 = data["teams"]["team-05"]["managers"][0]

    def teams_of(person: str) -> list[str]:
        return sorted(k for k, t in data["teams"].items() if person in t["members"])

    assert {(c["action"], c["address"]): c["fields"] for c in plan["changes"]} == {
        ("update", "worklete.team.team-12"): {"parent": ["team-40", "team-11"]},
        ("create", "worklete.membership.P0100"): {},
        ("update", "worklete.membership.P0200"): {
            "teams": [[t for t in teams_of("P0200") if t != "team-60"], teams_of("P0200")]},
        ("update", "worklete.membership.P0300"): {"first_name": ["Renamed", "Person300"]},
        ("create", "worklete.org_admin.P0002"): {},
        ("create", f"worklete.team_admin.team-05:{manager_5}"): {},
        ("delete", "worklete.team_admin.team-07:P0400"): {},
    }
    create = next(c for c in plan["changes"] if c["address"] == "worklete.membership.P0100")
    assert create["after"]["teams"] == teams_of("P0100")
    assert [f for f in plan["findings"] if f["level"] == "warning"] == []


def test_import_round_trips_with_no_change(start_sandbox: StartSandbox, strict: Profile,
                                           tmp_path: Path) -> None:
    config = write_company(tmp_path)
    box = serve(start_sandbox, matching_seed(config), strict)
    sandbox = endpoints(box, tmp_path)
    out = tmp_path / "imported"

    imported = run_orgctl("import", "--from", "worklete", config, "--sandbox", sandbox,
                          "--out", out)
    assert imported.exit_code == 0, imported.output
    again = run_orgctl("plan", out, "--sandbox", sandbox, "--detailed-exitcode")

    assert again.exit_code == 0, again.output
    written = load(out, resolve_env=False)
    assert (len(written.employees), len(written.teams)) == (PEOPLE, TEAMS)


def test_5xx_and_commit_then_fail_leave_no_duplicate(start_sandbox: StartSandbox,
                                                     strict: Profile, tmp_path: Path) -> None:
    """10 % of requests answer 503 before they run and 5 % run and then fail (500 or a
    dropped connection): a team create whose outcome is unknown is looked up by name under
    its parent before it is sent again, a CSV PUT is an upsert, so nothing is made twice.
    Failed changes are made by the next apply."""
    config = write_company(tmp_path)
    box = serve(start_sandbox, copy.deepcopy(EMPTY), strict,
                faults=Faults.parse("5xx=0.1,commit_fail=0.05,seed=13"))
    sandbox = endpoints(box, tmp_path)

    for _ in range(3):
        applied = run_orgctl("apply", config, "--sandbox", sandbox, "--auto-approve",
                             "--no-progress")
        assert applied.exit_code in (0, 1), applied.output
        assert duplicates(box.emulators["worklete"].snapshot()) == {
            what: {} for what in duplicates({"teams": {}, "users": {}, "memberships": {},
                                             "team_admins": {}})}
        if applied.exit_code == 0:
            break
    box.set_faults(Faults())
    after = run_orgctl("plan", config, "--sandbox", sandbox, "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    holds_the_company(box.emulators["worklete"].snapshot())
