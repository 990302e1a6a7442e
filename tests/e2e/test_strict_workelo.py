"""Issue 13 "Must show", for Workelo: the CLI against the Workelo emulator's strict profile
(only what seeds 000 and 001 show: no org-wide scope list, no identifications, templates
or invitation dates in answers, page caps drawn between 20 and 50, large uneven ids,
another key order) with a 600-employee config that has only a workelo provider block.

An empty tenant converges in one apply; a matching tenant plans no change, within 1.2x of
the fewest requests the strict routes allow (scopes read per employee); a drifted tenant
plans exactly the drift (and not the fields the answers do not carry); `import` round
trips; 10 % 5xx plus 5 % commit-then-fail leave no duplicate."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate, write
from orgctl.config import load
from orgctl.model import Org
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, Profile
from orgctl.sandbox.seeding import seed_from_org
from orgctl.sandbox.workelo import WorkeloEmulator
from tests.e2e.conftest import StartSandbox, plan_json, run_orgctl, write_endpoints

EMPLOYEES = 600
# The emulator's limit is raised so a test need not wait an hour; the provider paces at
# its own (raised) rate_limit, as a user's config would at Workelo's 1000/h.
OPTIONS = {"workelo": {"rate_limit": 1_000_000}}
RATE_LIMIT = "1000/s"
SCOPES_LIST = "/v1/unit_organization_managements"


def profile(n: int) -> Profile:
    """A strict profile with its silent choices drawn (page cap 20-50, ids, key order)."""
    return Profile.draw(random.Random(n))


def workelo_only(employees: int) -> dict[str, Any]:
    """bench.generate's org with only a workelo provider block, badges on every tenth
    person (identifications are not in strict answers) and no other system's settings."""
    data = generate(employees, seed=13)
    data["providers"] = {"workelo": {**data["providers"]["workelo"],
                                     "rate_limit": RATE_LIMIT}}
    data["teams"] = {}
    for n, person in enumerate(data["employees"].values()):
        person.pop("workleap", None)
        if n % 10 == 0:
            person["identifications"] = {"badge": f"B-{n:04d}"}
    return data


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(workelo_only(EMPLOYEES), tmp_path_factory.mktemp("strict-workelo") / "org")


@pytest.fixture(scope="module")
def org(config: Path) -> Org:
    return load(config, resolve_env=False)


def tenant(org: Org) -> dict[str, Any]:
    """What Workelo holds after a perfect apply of `org` (a fresh copy)."""
    return {"workelo": seed_from_org(org)["workelo"]}


def start(start_sandbox: StartSandbox, tmp_path: Path, seed: dict[str, Any] | None,
          n: int, faults: Faults | None = None) -> tuple[WorkeloEmulator, Path]:
    box: Sandbox = start_sandbox(seed, faults=faults, options=OPTIONS, profile=profile(n))
    emulator = box.emulators["workelo"]
    assert isinstance(emulator, WorkeloEmulator) and emulator.profile.strict
    return emulator, write_endpoints(box, tmp_path / "sandbox.json")


def leavers(org: Org) -> int:
    """People who left: Workelo cannot deactivate them, so each stays a manual reminder."""
    return sum(not e.active for e in org.employees.values())


def changes(config: Path, endpoints: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """address -> (action, fields) of the plan's changes, the manual reminders left out."""
    plan = plan_json(run_orgctl("plan", config, "--sandbox", endpoints, "--format", "json"))
    return {c["address"]: (c["action"], c["fields"]) for c in plan["changes"]
            if c["action"] != "manual"}


def converged(config: Path, endpoints: Path) -> None:
    result = run_orgctl("plan", config, "--sandbox", endpoints, "--detailed-exitcode")
    assert result.exit_code == 0, result.output


def minimum_requests(emu: WorkeloEmulator) -> int:
    """The fewest requests that read what the emulator holds through the routes its profile
    serves: a token, every list at the page cap, and each employee's scopes."""
    state, cap = emu.state, emu.profile.cap(100)

    def pages(n: int) -> int:
        return max(1, math.ceil(n / cap))

    held = Counter(s["employee_id"] for s in state["unit_organization_managements"].values())
    lists = ("user_roles", "identification_resources", "level_organizations", "templates",
             "unit_organizations", "employees", "tracks")
    return (1 + sum(pages(len(state[name])) for name in lists)
            + sum(pages(held[e]) for e in state["employees"]))


# -- the five states ---------------------------------------------------------------------------

def test_an_empty_tenant_converges_in_one_apply(
        start_sandbox: StartSandbox, tmp_path: Path, config: Path, org: Org) -> None:
    emu, endpoints = start(start_sandbox, tmp_path, None, 1)

    result = run_orgctl("apply", config, "--sandbox", endpoints, "--auto-approve")

    assert result.exit_code == 0, result.output
    converged(config, endpoints)
    active = [e for e in org.employees.values() if e.active]
    assert len(emu.state["employees"]) == len(active) >= EMPLOYEES * 0.95
    badges = [v for e in emu.state["employees"].values()
              for v in e["identifications"].values()]
    assert len(badges) == sum(bool(e.identifications) for e in active)


def test_a_matching_tenant_plans_no_change_within_the_request_minimum(
        start_sandbox: StartSandbox, tmp_path: Path, config: Path, org: Org) -> None:
    emu, endpoints = start(start_sandbox, tmp_path, tenant(org), 2)

    result = run_orgctl("plan", config, "--sandbox", endpoints, "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"Plan: 0 to add, 0 to change, 0 to destroy, {leavers(org)} manual.")
    made = emu.log.count()
    minimum = minimum_requests(emu)
    assert minimum <= made <= 1.2 * minimum, (made, minimum, emu.log.as_json())
    assert emu.log.count(status=200) == made - 1  # the one 404: the org-wide scope list
    assert emu.log.count("GET", SCOPES_LIST, 404) == 1
    assert emu.log.count("GET", "/v1/employees/{id}/unit_organization_managements") == \
        len(emu.state["employees"])
    assert emu.log.count("GET", "/v1/employees") == math.ceil(
        len(emu.state["employees"]) / emu.profile.cap(100)) > 1
    # The plan says how it read the scopes and what the answers did not carry.
    assert (f"read GET /employees/{{id}}/unit_organization_managements for each of the "
            f"{len(emu.state['employees'])} employees instead") in result.stdout
    assert "do not carry the employees' identifications" in result.stdout


def test_a_drifted_tenant_plans_exactly_the_drift(
        start_sandbox: StartSandbox, tmp_path: Path, config: Path, org: Org) -> None:
    seed = tenant(org)
    wl = seed["workelo"]
    units = {u["external_id"]: u for u in wl["unit_organizations"]}
    people = {e["external_id"]: e for e in wl["employees"]}
    department = next(k for k in units if k.startswith("dep-"))
    other = next(k for k in units if k.startswith("dep-") and k != department)
    units[department]["name"] = "Renamed in Workelo"
    people["E000123"]["job_position"] = "Astronaut"
    moved = next(k for k, e in people.items() if e.get("unit") not in (None, other)
                 and org.employees[k].active and k >= "E000200")
    people[moved]["unit"] = other
    gone = next(k for k in reversed(people) if org.employees[k].active
                and not org.employees[k].journeys and org.employees[k].role == "colleague")
    wl["employees"].remove(people[gone])
    track = wl["tracks"][0]
    track["start_date"] = "2026-01-01"
    # Not drift: what strict answers do not carry, and a role the config leaves unset.
    badged = next(k for k, e in people.items() if e.get("identifications"))
    people[badged]["identifications"] = {"badge": "CHANGED-IN-WORKELO"}
    track["templates"] = ["Manager onboarding"]
    track["implications"]["buddy"] = "E000300"
    revoked = wl["unit_organization_managements"].pop(0)
    wl["unit_organization_managements"].append({"employee": "E000300", "unit": "root"})
    _, endpoints = start(start_sandbox, tmp_path, seed, 3)

    planned = changes(config, endpoints)

    journey_key = next(j.address_key for j in org.employees[track["employee"]].journeys)
    assert planned == {
        f"workelo.unit.{department}": ("update", {"name": ["Renamed in Workelo",
                                                           org.units[department].name]}),
        "workelo.employee.E000123": ("update", {"job_position": [
            "Astronaut", org.employees["E000123"].job_position]}),
        f"workelo.employee.{moved}": ("update", {"unit": [other, org.employees[moved].unit]}),
        f"workelo.employee.{gone}": ("create", {}),
        f"workelo.journey.{journey_key}": ("update", {"start_date": [
            "2026-01-01", org.employees[track["employee"]].journeys[0].start_date.isoformat()]}),
        f"workelo.scope.{revoked['employee']}:{revoked['unit']}": ("create", {}),
        "workelo.scope.E000300:root": ("delete", {}),
    }


def test_import_round_trips_with_no_change(
        start_sandbox: StartSandbox, tmp_path: Path, config: Path, org: Org) -> None:
    _, endpoints = start(start_sandbox, tmp_path, tenant(org), 4)
    out = tmp_path / "imported"

    result = run_orgctl("import", config, "--from", "workelo", "--sandbox", endpoints,
                        "--out", out)

    assert result.exit_code == 0, result.output
    converged(out, endpoints)
    imported = load(out, resolve_env=False)
    assert len(imported.employees) == len(org.employees)
    assert sum(len(e.unit_scopes) for e in imported.employees.values()) == \
        sum(len(e.unit_scopes) for e in org.employees.values())
    assert "carry no employee identifications: none imported" in \
        (out / "providers.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", [5, 6])
def test_faults_leave_no_duplicate(start_sandbox: StartSandbox, tmp_path: Path, config: Path,
                                   org: Org, seed: int) -> None:
    faults = Faults.parse(f"5xx=0.1,commit_fail=0.05,seed={seed}")
    emu, endpoints = start(start_sandbox, tmp_path, None, 10 + seed, faults=faults)

    for _ in range(3):  # a change may exhaust its retries: the next apply finishes it
        result = run_orgctl("apply", config, "--sandbox", endpoints, "--auto-approve")
        if result.exit_code == 0:
            break
        assert "re-run" in result.stderr and "internal error" not in result.output
    assert result.exit_code == 0, result.output

    injected = Counter(e.fault for e in emu.log.entries)
    assert injected["5xx"] and injected["commit_fail"]
    state = emu.snapshot()
    identities = {
        "employees": [e["external_id"] for e in state["employees"].values()],
        "units": [u["external_id"] for u in state["unit_organizations"].values()],
        "scopes": [(s["employee_id"], s["unit_organization_id"])
                   for s in state["unit_organization_managements"].values()],
        "tracks": [(t["employee_id"], t["mobility"]) for t in state["tracks"].values()],
    }
    assert {kind: [k for k, n in Counter(keys).items() if n > 1]
            for kind, keys in identities.items()} == dict.fromkeys(identities, [])
    active = [e for e in org.employees.values() if e.active]
    assert {kind: len(keys) for kind, keys in identities.items()} == {
        "employees": len(active), "units": len(org.units),
        "scopes": sum(len(e.unit_scopes) for e in active),
        "tracks": sum(len(e.journeys) for e in active)}
    emu.faults = Faults()
    converged(config, endpoints)
