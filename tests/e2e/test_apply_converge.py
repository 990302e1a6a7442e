"""`orgctl apply` end to end: from an empty sandbox to examples/acme in one apply, and each
kind of edit a reviewer merges, applied through the CLI against the served emulators; after
every apply the next plan is empty (manual changes aside: listed, never applied)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orgctl.model import Org
from orgctl.sandbox import Sandbox
from tests.e2e.conftest import (
    DEFAULT_OPTIONS,
    QUICK_WORKLEAP,
    StartSandbox,
    copy_acme,
    edit_yaml,
    plan_json,
    run_orgctl,
    write_endpoints,
)

# Credentials nobody could mistake for other text, so a leak into a journal is visible.
SECRETS = {"workelo": "wkl-secret-7f3a91", "hrms": "hrms-token-5c2e80",
           "workleap": "wlp-key-9d41b6", "worklete": "wlt-password-3e8c27"}
CUSTOM_CREDENTIALS = {
    "workelo": {"clients": [{"client_id": "acme-ci", "client_secret": SECRETS["workelo"]}]},
    "hrms": {"tokens": [{"token": SECRETS["hrms"], "environment": "staging",
                         "scopes": ["users:read", "departments:read", "positions:read"]}]},
    "workleap": {"api_keys": [SECRETS["workleap"]],
                 "integration": {"processing_delay": 0.05}},
    "worklete": {"users": [{"username": "orgctl-ci", "password": SECRETS["worklete"],
                            "email": "orgctl-ci@acme.example", "first_name": "Orgctl",
                            "last_name": "CI"}]},
}
def changes_of(plan: dict[str, Any]) -> set[tuple[str, str]]:
    """(address, action) of every change apply would make (manual ones are not made)."""
    return {(c["address"], c["action"]) for c in plan["changes"] if c["action"] != "manual"}


class Live:
    """The emulators' state, read the way a person checking each admin console would."""

    def __init__(self, box: Sandbox):
        self.workelo = box.emulators["workelo"].snapshot()
        self.workleap = box.emulators["workleap"].snapshot()
        self.worklete = box.emulators["worklete"].snapshot()

    # Workelo
    def unit(self, key: str) -> dict[str, Any]:
        return next(u for u in self.workelo["unit_organizations"].values()
                    if u["external_id"] == key)

    def unit_key(self, unit_id: int | None) -> str | None:
        units = {u["id"]: u for u in self.workelo["unit_organizations"].values()}
        return units[unit_id]["external_id"] if unit_id is not None else None

    def employee_key(self, employee_id: int | None) -> str | None:
        people = {e["id"]: e for e in self.workelo["employees"].values()}
        return people[employee_id]["external_id"] if employee_id is not None else None

    def track(self, key: str) -> dict[str, Any]:
        return next(t for t in self.workelo["tracks"].values()
                    if self.employee_key(t["employee_id"]) == key)

    # Workleap
    def workleap_member(self, key: str) -> dict[str, Any]:
        return next(m for m in self.workleap["members"].values()
                    if m["externalMemberId"] == key)

    def workleap_team(self, key: str) -> dict[str, set[str]]:
        team = next(t for t in self.workleap["teams"].values() if t["externalTeamId"] == key)
        keys = {m["id"]: m["externalMemberId"] for m in self.workleap["members"].values()}
        return {"members": {keys[i] for i in team["memberIds"]},
                "managers": {keys[i] for i in team["managerIds"]}}

    # Worklete
    def worklete_employee(self, membership: dict[str, Any]) -> str | None:
        """The employee key of a membership: its employee_id, or (a strict server's CSV
        may leave none) the Workelo employee with its user's email."""
        if membership.get("employee_id"):
            return str(membership["employee_id"])
        users = {u["id"]: u["email"].lower() for u in self.worklete["users"].values()}
        email = users.get(membership["user_id"])
        return next((e["external_id"] for e in self.workelo["employees"].values()
                     if e["email"].lower() == email), None)

    def worklete_teams_of(self, key: str) -> set[str]:
        names = {t["id"]: t["name"] for t in self.worklete["teams"].values()}
        membership = next(m for m in self.worklete["memberships"].values()
                          if self.worklete_employee(m) == key)
        return {names[t] for t in membership["team_ids"]}

    def worklete_admins_of(self, team_name: str) -> set[str]:
        team = next(t for t in self.worklete["teams"].values() if t["name"] == team_name)
        employee = {m["id"]: self.worklete_employee(m)
                    for m in self.worklete["memberships"].values()}
        return {employee[a["membership_id"]] for a in self.worklete["team_admins"].values()
                if a["team_id"] == team["id"]}


# -- from empty to examples/acme -------------------------------------------------------------

@dataclass
class FromEmpty:
    box: Sandbox
    root: Path
    endpoints: Path
    journal: Path
    first_plan: dict[str, Any]
    apply: Any


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """Every test here runs against both emulator profiles (issue 13)."""
    return str(request.param)


@pytest.fixture(scope="module", params=["permissive", "strict"])
def from_empty(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[FromEmpty]:
    """Empty emulators (their own throw-away credentials only), one `orgctl apply
    examples/acme --auto-approve` through the CLI against them; once per profile."""
    tmp_path = tmp_path_factory.mktemp("from-empty")
    root = copy_acme(tmp_path)
    with Sandbox(CUSTOM_CREDENTIALS, options=DEFAULT_OPTIONS, profile=request.param) as box:
        endpoints = write_endpoints(box, tmp_path / "sandbox.json")
        first_plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints,
                                          "--format", "json"))
        journal = tmp_path / "journal.jsonl"
        result = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve",
                            "--journal", journal)
        yield FromEmpty(box, root, endpoints, journal, first_plan, result)


def test_one_apply_from_empty_makes_every_planned_change(from_empty: FromEmpty) -> None:
    planned = changes_of(from_empty.first_plan)
    assert {address.split(".")[0] for address, _ in planned} == {
        "workelo", "workleap", "worklete"}, "HRMS is an audit source: never written"
    assert from_empty.apply.exit_code == 0, from_empty.apply.output
    manual = len(from_empty.first_plan["changes"]) - len(planned)
    assert from_empty.apply.stdout.splitlines()[-1] == (
        f"Apply: {len(planned)} applied, {manual} manual.")
    assert from_empty.box.emulators["hrms"].log.count(method="GET") > 0
    assert from_empty.box.emulators["hrms"].log.count() == \
        from_empty.box.emulators["hrms"].log.count(method="GET")


@pytest.mark.parametrize("provider", ["workelo", "hrms", "workleap", "worklete"])
def test_after_the_apply_each_provider_plans_no_change(from_empty: FromEmpty,
                                                       provider: str) -> None:
    result = run_orgctl("plan", from_empty.root, "--sandbox", from_empty.endpoints,
                        "--provider", provider, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    # What is left is what Workelo cannot do: journeys of leavers it never knew. Listed.
    manual = [c for c in plan_json(run_orgctl(
        "plan", from_empty.root, "--sandbox", from_empty.endpoints, "--provider", provider,
        "--format", "json"))["changes"]]
    assert all(c["action"] == "manual" for c in manual)
    assert {c["address"] for c in manual} == (
        {"workelo.journey.EMP-019.offboarding", "workelo.journey.EMP-047.offboarding"}
        if provider == "workelo" else set())
    for change in manual:
        assert f"manual journey {change['key']}" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"Plan: 0 to add, 0 to change, 0 to destroy, {len(manual)} manual." if manual
        else "No changes. The live systems match the configuration.")


def test_the_systems_hold_examples_acme(from_empty: FromEmpty, acme_org: Org) -> None:
    live = Live(from_empty.box)
    active = {k for k, e in acme_org.employees.items() if e.active}
    # Workelo: every unit under its parent, every current employee, scopes, journeys.
    assert {u["external_id"]: live.unit_key(u["parent_id"])
            for u in live.workelo["unit_organizations"].values()} == {
        k: u.parent for k, u in acme_org.units.items()}
    assert {e["external_id"] for e in live.workelo["employees"].values()} == active
    assert sorted((live.employee_key(s["employee_id"]), live.unit_key(s["unit_organization_id"]))
                  for s in live.workelo["unit_organization_managements"].values()) == sorted(
        (k, u) for k in active for u in acme_org.employees[k].unit_scopes)
    started = {j.employee: j.start for j in acme_org.journeys if j.employee in active}
    assert {live.employee_key(t["employee_id"]): t["status"] != "draft"
            for t in live.workelo["tracks"].values()} == started
    # Workleap: members and teams with their members and managers.
    assert {m["externalMemberId"] for m in live.workleap["members"].values()} == active
    for key, team in acme_org.teams.items():
        assert live.workleap_team(key) == {"members": set(team.members),
                                           "managers": set(team.managers)}
    # Worklete: teams, everyone in their teams, team admins, org admins.
    for team in acme_org.teams.values():
        assert live.worklete_admins_of(team.name) == set(team.managers)
    for key in active:
        in_teams = {t.name for t in acme_org.teams.values() if key in t.members}
        if in_teams:
            assert live.worklete_teams_of(key) == in_teams
    assert {m["employee_id"] for m in live.worklete["memberships"].values()
            if m["org_admin"] and m["employee_id"]} == {
        k for k in active if acme_org.employees[k].settings_for("worklete").get("org_admin")}


def test_the_journal_has_one_line_per_step_and_no_secret(from_empty: FromEmpty) -> None:
    text = from_empty.journal.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "event"} <= set(line) for line in lines)
    assert lines[0]["event"] == "apply_started" and lines[-1]["event"] == "apply_finished"
    outcomes: dict[str, list[str]] = {}
    for line in lines:
        if line["event"] in ("applied", "failed", "skipped", "pending"):
            outcomes.setdefault(line["address"], []).append(line["event"])
    # Exactly one outcome per change, all applied; created objects carry their remote id.
    assert outcomes == {a: ["applied"] for a, _ in changes_of(from_empty.first_plan)}
    for line in lines:
        if line["event"] == "applied" and line["address"].startswith(("workelo.unit",
                                                                     "workelo.employee")):
            assert line["remote_id"], line
    for name, secret in SECRETS.items():
        assert secret not in text, f"the {name} credential is in the journal"
        assert secret not in from_empty.apply.output
    assert "Bearer" not in text and "access-token" not in text


# -- each kind of edit -----------------------------------------------------------------------

@dataclass
class Edit:
    """A change a reviewer merges: the YAML edit, the plan it must give, what the systems
    must show after apply."""

    file: str
    mutate: Callable[[dict[str, Any]], None]
    planned: set[tuple[str, str]]
    check: Callable[[Live], None]


def _set(path: tuple[str, ...], **values: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node = data
        for part in path:
            node = node[part]
        node.update(values)
    return mutate


def _add_unit(data: dict[str, Any]) -> None:
    data["units"]["mobile"] = {"name": "Mobile", "level": "Department", "parent": "eng"}


def _add_to_platform(data: dict[str, Any]) -> None:
    data["teams"]["platform"]["members"].append("EMP-031")


def _remove_from_platform(data: dict[str, Any]) -> None:
    data["teams"]["platform"]["members"].remove("EMP-030")


def _check_added_unit(live: Live) -> None:
    unit = live.unit("mobile")
    assert (unit["name"], live.unit_key(unit["parent_id"])) == ("Mobile", "eng")


def _check_added_member(live: Live) -> None:
    assert "EMP-031" in live.workleap_team("platform")["members"]
    assert live.worklete_teams_of("EMP-031") == {"Insights", "Platform"}


def _check_removed_member(live: Live) -> None:
    assert "EMP-030" not in live.workleap_team("platform")["members"]
    assert live.worklete_teams_of("EMP-030") == set()


def _check_team_manager(live: Live) -> None:
    assert live.workleap_team("insights")["managers"] == {"EMP-025"}
    assert live.worklete_admins_of("Insights") == {"EMP-025"}


def _check_deactivated(live: Live) -> None:
    assert live.workleap_member("EMP-028")["status"] == "deactivated"
    # Worklete documents no removal: a leaver's membership stays, in no team (issue 15).
    assert live.worklete_teams_of("EMP-028") == set()


EDITS = {
    "add a unit": Edit(
        "units.yaml", _add_unit, {("workelo.unit.mobile", "create")}, _check_added_unit),
    "rename a unit": Edit(
        "units.yaml", _set(("units", "backend"), name="Backend Services",
                           previously=["Backend"]),
        {("workelo.unit.backend", "update")},
        lambda live: _expect(live.unit("backend")["name"], "Backend Services")),
    "move a unit": Edit(
        "units.yaml", _set(("units", "marketing"), parent="ops"),
        {("workelo.unit.marketing", "update")},
        lambda live: _expect(live.unit_key(live.unit("marketing")["parent_id"]), "ops")),
    "add a team member": Edit(
        "teams.yaml", _add_to_platform,
        {("workleap.mapping.platform:EMP-031", "create"),
         ("worklete.membership.EMP-031", "update")}, _check_added_member),
    "remove a team member": Edit(
        "teams.yaml", _remove_from_platform,
        {("workleap.mapping.platform:EMP-030", "delete"),
         ("worklete.membership.EMP-030", "update")}, _check_removed_member),
    # Workelo holds a manager only as a journey implication (and a manager there holds a
    # role that may manage: EMP-010, Head of Backend).
    "change an employee's manager": Edit(
        "people/engineering.yaml", _set(("employees", "EMP-031"), manager="EMP-010"),
        {("workelo.journey.EMP-031.onboarding", "update")},
        lambda live: _expect(live.employee_key(
            live.track("EMP-031")["implications"]["manager_id"]), "EMP-010")),
    # Workleap and Worklete hold managers per team.
    "change a team's manager": Edit(
        "teams.yaml", _set(("teams", "insights"), managers=["EMP-025"]),
        {("workleap.mapping.insights:EMP-012", "delete"),
         ("workleap.mapping.insights:EMP-025", "update"),
         ("worklete.team_admin.insights:EMP-012", "delete"),
         ("worklete.team_admin.insights:EMP-025", "create")}, _check_team_manager),
    # Workleap deactivates; Workelo and Worklete cannot, so the plan lists them as manual.
    "deactivate an employee": Edit(
        "people/engineering.yaml", _set(("employees", "EMP-028"), status="inactive"),
        {("workleap.member.EMP-028", "deactivate"),
         ("workleap.mapping.insights:EMP-028", "delete"),
         ("worklete.membership.EMP-028", "deactivate")}, _check_deactivated),
    "start a journey": Edit(
        "people/engineering.yaml",
        _set(("employees", "EMP-031", "journeys", 0), start=True, invite_at="2026-12-14"),
        {("workelo.journey.EMP-031.onboarding", "update")},
        lambda live: _expect(live.track("EMP-031")["status"] != "draft", True)),
}


def _expect(actual: Any, expected: Any) -> None:
    assert actual == expected


@pytest.mark.parametrize("name", list(EDITS))
def test_each_kind_of_edit_applies_and_converges(name: str, tmp_path: Path,
                                                 start_sandbox: StartSandbox,
                                                 acme_seed: dict[str, Any]) -> None:
    edit = EDITS[name]
    acme_seed["workleap"].update(QUICK_WORKLEAP)
    box = start_sandbox(acme_seed)
    endpoints = write_endpoints(box, tmp_path / "sandbox.json")
    root = copy_acme(tmp_path)
    manual_before = {c["address"] for c in plan_json(run_orgctl(
        "plan", root, "--sandbox", endpoints, "--format", "json"))["changes"]}
    edit_yaml(root, edit.file, edit.mutate)

    plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    assert changes_of(plan) == edit.planned
    result = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
    assert result.exit_code == 0, result.output
    edit.check(Live(box))

    after = run_orgctl("plan", root, "--sandbox", endpoints, "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    left = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    assert changes_of(left) == set()
    if name == "deactivate an employee":
        assert {c["address"] for c in left["changes"]} - manual_before == {
            "workelo.employee.EMP-028"}
        assert "manual employee EMP-028" in after.stdout
    else:
        assert {c["address"] for c in left["changes"]} == manual_before
