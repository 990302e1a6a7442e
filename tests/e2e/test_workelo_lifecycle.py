"""Joiners, movers and leavers in Workelo (issue 15), end to end: `orgctl plan --as-of` and
`apply --as-of` against the Workelo emulator, in its permissive and strict profiles, its
calendar set to the plan's day.

A joiner's onboarding appears on start_date - 14 days (not the day before), started with
that day as invitation date, with the templates Workelo gives onboardings in their unit; a
leaver's offboarding likewise on leave_date - 14 days, and their leave date then needs
nothing more; a move plans a crossboarding only when `lifecycle.crossboarding` asks; a
rehire gets a new onboarding; closed and cancelled journeys never appear in a plan."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgctl.sandbox.workelo import WorkeloEmulator
from tests.e2e.conftest import StartSandbox, plan_json, run_orgctl, write_endpoints

START = date(2027, 1, 4)
LEAVE = date(2027, 2, 1)
MOVE = date(2027, 3, 1)
LEAD = timedelta(days=14)  # Workelo's default lead time for joiners, leavers and movers
DAY = timedelta(days=1)

PEOPLE: dict[str, dict[str, Any]] = {
    "EMP-1": {"first_name": "Marie", "last_name": "Dubois", "email": "marie@acme.io",
              "unit": "eng", "role": "manager"},
    "EMP-2": {"first_name": "Paul", "last_name": "Martin", "email": "paul@acme.io",
              "unit": "acme", "role": "hr"},
}
LEA = {"first_name": "Lea", "last_name": "Roux", "email": "lea@acme.io", "unit": "eng",
       "manager": "EMP-1", "hr": "EMP-2", "start_date": START.isoformat()}
TOM = {"first_name": "Tom", "last_name": "Petit", "email": "tom@acme.io", "unit": "eng",
       "manager": "EMP-1", "leave_date": LEAVE.isoformat()}
ANA = {"first_name": "Ana", "last_name": "Lima", "email": "ana@acme.io", "unit": "eng",
       "manager": "EMP-1",
       "changes": [{"from": MOVE.isoformat(), "unit": "sales", "manager": "EMP-2"}]}

TENANT: dict[str, Any] = {
    "unit_organizations": [
        {"external_id": "acme", "name": "Acme", "level": "Group"},
        {"external_id": "eng", "name": "Engineering", "level": "Division", "parent": "acme"},
        {"external_id": "sales", "name": "Sales", "level": "Division", "parent": "acme"}],
    "templates": [
        {"name": "Standard onboarding", "mobility": "onboarding"},
        {"name": "Engineering onboarding", "mobility": "onboarding", "units": ["eng"]},
        {"name": "Sales onboarding", "mobility": "onboarding", "units": ["sales"]},
        {"name": "Sales mobility", "mobility": "crossboarding", "units": ["sales"]},
        {"name": "Standard offboarding", "mobility": "offboarding"}],
    "employees": [{"external_id": key, **{k: v for k, v in person.items()}}
                  for key, person in PEOPLE.items()],
}


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def config(tmp_path: Path, employees: dict[str, dict[str, Any]],
           crossboarding: bool | None = None) -> Path:
    workelo: dict[str, Any] = {"url": "https://api.workelo.eu/v1",
                               "client_id": "${WORKELO_CLIENT_ID}",
                               "client_secret": "${WORKELO_CLIENT_SECRET}"}
    if crossboarding is not None:
        workelo["lifecycle"] = {"crossboarding": crossboarding}
    data = {"version": 1, "providers": {"workelo": workelo},
            "units": {"acme": {"name": "Acme", "level": "Group"},
                      "eng": {"name": "Engineering", "level": "Division", "parent": "acme"},
                      "sales": {"name": "Sales", "level": "Division", "parent": "acme"}},
            "employees": {**PEOPLE, **employees}}
    root = tmp_path / "org"
    root.mkdir(exist_ok=True)
    (root / "org.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def tenant(*employees: tuple[str, dict[str, Any]], tracks: list[dict[str, Any]] = ()
           ) -> dict[str, Any]:
    """The Workelo seed: the units, templates, EMP-1 and EMP-2, and these employees."""
    seed = copy.deepcopy(TENANT)
    seed["employees"] += [
        {"external_id": key, **{k: v for k, v in person.items()
                                if k in ("first_name", "last_name", "email", "unit")}}
        for key, person in employees]
    seed["tracks"] = list(tracks)
    return {"workelo": seed}


class Workelo:
    """One sandboxed Workelo and the CLI against it, on a day of our choosing."""

    def __init__(self, start_sandbox: StartSandbox, tmp_path: Path, seed: dict[str, Any]):
        box = start_sandbox(seed)
        emulator = box.emulators["workelo"]
        assert isinstance(emulator, WorkeloEmulator)
        self.emulator = emulator
        self.endpoints = write_endpoints(box, tmp_path / "sandbox.json")

    def plan(self, org: Path, day: date) -> dict[str, Any]:
        self.emulator.calendar.set(day)
        return plan_json(run_orgctl("plan", org, "--sandbox", self.endpoints, "--as-of",
                                    day.isoformat(), "--format", "json"))

    def apply(self, org: Path, day: date) -> None:
        self.emulator.calendar.set(day)
        result = run_orgctl("apply", org, "--sandbox", self.endpoints, "--as-of",
                            day.isoformat(), "--auto-approve")
        assert result.exit_code == 0, result.output

    def converged(self, org: Path, day: date) -> None:
        self.emulator.calendar.set(day)
        result = run_orgctl("plan", org, "--sandbox", self.endpoints, "--as-of",
                            day.isoformat(), "--detailed-exitcode")
        assert result.exit_code == 0, result.output

    def tracks(self, external_id: str) -> list[dict[str, Any]]:
        state = self.emulator.state
        emp_id = next(e["id"] for e in state["employees"].values()
                      if e["external_id"] == external_id)
        return [t for t in state["tracks"].values() if t["employee_id"] == emp_id]

    def template_names(self, track: dict[str, Any]) -> list[str]:
        return sorted(self.emulator.state["templates"][i]["name"]
                      for i in track["template_ids"])


def changes(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in plan["changes"]}


def journey_findings(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in plan["findings"] if f["address"].startswith("workelo.journey.")]


# -- joiners -----------------------------------------------------------------------------------

def test_a_joiners_onboarding_comes_on_the_lead_day_with_invitation_and_unit_templates(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    org = config(tmp_path, {"EMP-3": LEA})
    workelo = Workelo(start_sandbox, tmp_path, tenant())
    address = "workelo.journey.EMP-3.onboarding-2027-01-04"

    before = workelo.plan(org, START - LEAD - DAY)
    assert changes(before) == {}
    assert [(s["on"], s["address"]) for s in before["scheduled"]] == [
        ("2026-12-21", "workelo.employee.EMP-3"), ("2026-12-21", address)]

    due = workelo.plan(org, START - LEAD)
    assert set(changes(due)) == {"workelo.employee.EMP-3", address}
    onboarding = changes(due)[address]
    assert onboarding["action"] == "create" and onboarding["source"] == "start_date"
    assert onboarding["after"]["invite_at"] == "2026-12-21"
    assert onboarding["after"]["templates"] == ["Engineering onboarding", "Standard onboarding"]
    assert onboarding["after"]["implications"] == {"hr": "EMP-2", "manager": "EMP-1"}

    workelo.apply(org, START - LEAD)
    (made,) = workelo.tracks("EMP-3")
    assert (made["mobility"], made["start_date"], made["invite_at"], made["status"]) == (
        "onboarding", "2027-01-04", "2026-12-21", "invitation_sent")
    assert workelo.template_names(made) == ["Engineering onboarding", "Standard onboarding"]
    for day in (START - LEAD, START, START + timedelta(days=40)):
        workelo.converged(org, day)


def test_a_rehire_gets_a_new_onboarding(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Workelo has the closed onboarding and offboarding of the first employment: history.
    Before, the closed onboarding took the journey's key and the new one was never made."""
    org = config(tmp_path, {"EMP-3": LEA})
    history = [{"employee": "EMP-3", "mobility": "onboarding", "start_date": "2019-09-02",
                "templates": ["Standard onboarding"], "status": "closed"},
               {"employee": "EMP-3", "mobility": "offboarding", "start_date": "2023-06-30",
                "templates": ["Standard offboarding"], "status": "closed"}]
    workelo = Workelo(start_sandbox, tmp_path, tenant(("EMP-3", LEA), tracks=history))

    plan = workelo.plan(org, START - LEAD)
    assert [(c["action"], c["address"]) for c in plan["changes"]] == [
        ("create", "workelo.journey.EMP-3.onboarding-2027-01-04")]
    assert journey_findings(plan) == []
    workelo.apply(org, START - LEAD)
    assert sorted(t["start_date"] for t in workelo.tracks("EMP-3")) == [
        "2019-09-02", "2023-06-30", "2027-01-04"]
    workelo.converged(org, START)


def test_a_rehire_whose_old_offboarding_is_closed_is_active_in_workelo(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Before, any offboarding not cancelled made someone read as gone, so a rehire the
    config marks inactive again had no reminder that Workelo still has them active."""
    rehired = {k: v for k, v in LEA.items() if k != "start_date"} | {"status": "inactive"}
    org = config(tmp_path, {"EMP-3": rehired})
    history = [{"employee": "EMP-3", "mobility": "offboarding", "start_date": "2023-06-30",
                "status": "closed"},
               {"employee": "EMP-3", "mobility": "onboarding", "start_date": "2025-03-03",
                "status": "closed"}]
    workelo = Workelo(start_sandbox, tmp_path, tenant(("EMP-3", LEA), tracks=history))
    plan = workelo.plan(org, date(2026, 12, 1))
    assert [(c["action"], c["address"]) for c in plan["changes"]] == [
        ("manual", "workelo.employee.EMP-3")]
    assert "offboarding journey" in plan["changes"][0]["reason"]


def test_closed_and_cancelled_journeys_never_appear_in_a_plan(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    org = config(tmp_path, {"EMP-3": {k: v for k, v in LEA.items() if k != "start_date"}})
    history = [{"employee": "EMP-1", "mobility": "onboarding", "start_date": "2020-01-06",
                "status": "closed"},
               {"employee": "EMP-1", "mobility": "crossboarding", "start_date": "2026-05-04",
                "status": "cancelled"},
               {"employee": "EMP-3", "mobility": "onboarding", "start_date": "2026-10-05",
                "templates": ["Engineering onboarding"], "status": "closed"}]
    workelo = Workelo(start_sandbox, tmp_path, tenant(("EMP-3", LEA), tracks=history))
    plan = workelo.plan(org, date(2026, 12, 1))
    assert plan["changes"] == [] and plan["scheduled"] == []
    assert journey_findings(plan) == []


# -- leavers -----------------------------------------------------------------------------------

def test_an_offboarding_comes_exactly_on_the_lead_day_and_the_leave_day_needs_nothing(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    org = config(tmp_path, {"EMP-4": TOM})
    workelo = Workelo(start_sandbox, tmp_path, tenant(("EMP-4", TOM)))
    address = "workelo.journey.EMP-4.offboarding-2027-02-01"

    before = workelo.plan(org, LEAVE - LEAD - DAY)
    assert before["changes"] == []
    assert [(s["on"], s["address"]) for s in before["scheduled"]] == [("2027-01-18", address)]

    due = workelo.plan(org, LEAVE - LEAD)
    assert [(c["action"], c["address"]) for c in due["changes"]] == [("create", address)]
    offboarding = due["changes"][0]["after"]
    assert (offboarding["invite_at"], offboarding["templates"]) == (
        "2027-01-18", ["Standard offboarding"])
    # Nothing is scheduled for the leave day itself: Workelo has no deactivation.
    assert due["scheduled"] == []

    workelo.apply(org, LEAVE - LEAD)
    (made,) = workelo.tracks("EMP-4")
    assert (made["mobility"], made["start_date"], made["invite_at"]) == (
        "offboarding", "2027-02-01", "2027-01-18")
    for day in (LEAVE - DAY, LEAVE, LEAVE + timedelta(days=60)):
        workelo.converged(org, day)


# -- movers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", [True, False, None])
def test_a_unit_move_plans_a_crossboarding_when_the_policy_asks(
        start_sandbox: StartSandbox, tmp_path: Path, policy: bool | None) -> None:
    org = config(tmp_path, {"EMP-5": ANA}, crossboarding=policy)
    workelo = Workelo(start_sandbox, tmp_path, tenant(("EMP-5", ANA)))
    address = "workelo.journey.EMP-5.crossboarding-2027-03-01"

    assert changes(workelo.plan(org, MOVE - LEAD - DAY)) == {}
    due = changes(workelo.plan(org, MOVE - LEAD))
    if not policy:
        assert due == {}
        return
    assert set(due) == {address}
    assert due[address]["after"]["templates"] == ["Sales mobility"]  # the new unit's
    assert due[address]["after"]["implications"] == {"manager": "EMP-2"}  # after the move

    workelo.apply(org, MOVE - LEAD)
    (made,) = workelo.tracks("EMP-5")
    assert workelo.template_names(made) == ["Sales mobility"]
    moved = changes(workelo.plan(org, MOVE))
    assert set(moved) == {"workelo.employee.EMP-5"}  # the move itself, on its day
    workelo.apply(org, MOVE)
    workelo.converged(org, MOVE + timedelta(days=45))
