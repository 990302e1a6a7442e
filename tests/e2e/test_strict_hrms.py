"""Issue 13 "Must show" for HRMS, against the strict profile of its emulator, through the
CLI over loopback: a 600-person org whose config has only the HRMS provider block.

HRMS is read-only, so the convergence and duplicate checks of a written system become:
a matching org audits with no finding of drift; a drifted HRMS reports exactly the
drift; `mode: source` plans another system from it; `import --from hrms` round-trips;
faults on the reads change nothing and nothing is ever written. The strict server
serves the list as seed 002 shows it (whole, no paging keys, no relationships, an
ignored `include=`), so each compared person's department and position come from
`GET /v1/users/{userId}`; the request count is held to 1.2x the minimum that allows.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.generate import generate, write
from orgctl.config import load
from orgctl.model import Org
from orgctl.providers.hrms import HrmsProvider
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, Profile
from tests.e2e.conftest import StartSandbox, plan_json, run_orgctl, write_endpoints

EMPLOYEES = 600
STRICT = Profile.named("strict")
HRMS = {"url": "https://dev.workbeats.app/api", "token": "${HRMS_TOKEN}",
        "environment": "staging", "max_concurrency": 16}
DETAILS = ("GET", "/api/v1/users/{user_id}")
LISTS = [("GET", f"/api/v1/{name}") for name in ("users", "departments", "positions")]


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    data = generate(EMPLOYEES, seed=13)
    data["providers"] = {"hrms": dict(HRMS)}
    return data


@pytest.fixture
def config(generated: dict[str, Any], tmp_path: Path) -> Path:
    return write(copy.deepcopy(generated), tmp_path / "org")


@pytest.fixture(scope="module")
def org(generated: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Org:
    return load(write(copy.deepcopy(generated), tmp_path_factory.mktemp("org")),
                resolve_env=False)


def hrms_seed(org: Org) -> dict[str, Any]:
    return HrmsProvider.seed(org)


def serve(start_sandbox: StartSandbox, seed: dict[str, Any], tmp_path: Path,
          faults: Faults | None = None, profile: Profile = STRICT) -> tuple[Sandbox, Path]:
    box = start_sandbox({"hrms": seed}, faults=faults, profile=profile)
    return box, write_endpoints(box, tmp_path / "sandbox.json")


def audit(config: Path, endpoints: Path) -> dict[str, Any]:
    result = run_orgctl("plan", config, "--sandbox", endpoints, "--format", "json",
                        "--detailed-exitcode")
    assert result.exit_code == 0, result.output  # read-only: never a change
    return plan_json(result)


def findings(plan: dict[str, Any]) -> dict[str, list[str]]:
    """The audit's findings about people, by staffId (how HRMS was read aside)."""
    out: dict[str, list[str]] = {}
    for f in plan["findings"]:
        if f.get("code") != "read":
            key = f["address"].removeprefix("hrms.user.")
            out.setdefault(key, []).append(f"{f['level']}: {f['message']}")
    return out


def compared(org: Org) -> int:
    """Employees whose department or position the audit compares: those with a unit or
    job_position, unless they left (the seed agrees with the config on status)."""
    return sum(1 for e in org.employees.values() if (e.unit or e.job_position) and e.active)


def made(box: Sandbox) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for c in box.emulators["hrms"].log.as_json()["counters"]:
        counts[(c["method"], c["route"])] += c["count"]
    return counts


# The named strict profile (no paging keys, sparse ids) and a drawn one with the other
# choices (a count in `meta`, uuids).
DRAWN = dataclasses.replace(Profile.draw(random.Random(13)), shuffle_fields=True,
                            ids="uuid", paging_keys=True)


@pytest.mark.parametrize("profile", [STRICT, DRAWN], ids=["strict", "drawn"])
def test_a_matching_org_audits_with_no_finding_and_the_minimum_requests(
        org: Org, config: Path, start_sandbox: StartSandbox, tmp_path: Path,
        profile: Profile) -> None:
    """Before: the strict server ignored `include=` and refused requests without
    Content-Type (400); with the header, every person was "no department" and "no
    position" (1,156 false warnings here) and its list without paging keys was asked
    for page after page forever."""
    box, endpoints = serve(start_sandbox, hrms_seed(org), tmp_path, profile=profile)
    started = time.monotonic()
    plan = audit(config, endpoints)
    elapsed = time.monotonic() - started

    assert findings(plan) == {}
    [note] = [f for f in plan["findings"] if f.get("code") == "read"]
    assert note["message"].startswith("GET /v1/users?include=department,position answered "
                                      f"{EMPLOYEES} of {EMPLOYEES} users without their "
                                      "department and position: read GET /v1/users/{userId}")
    counts = made(box)
    assert all(counts[route] == 1 for route in LISTS), counts
    # The fewest the strict routes allow: the three lists, one detail per compared person.
    minimum = len(LISTS) + compared(org)
    total = sum(counts.values())
    assert minimum <= total <= 1.2 * minimum, (minimum, counts)
    assert box.emulators["hrms"].log.count(status=200) == total
    assert elapsed < 30


def drifted(org: Org) -> list[str]:
    """Seven people the config has active with a unit and a job title, to drift."""
    return [k for k, e in org.employees.items() if e.active and e.unit and e.job_position
            ][100:107]


def drift(box: Sandbox, org: Org) -> dict[str, list[str]]:
    """Change HRMS behind the config's back; return the findings that must say so."""
    moved, left_dept, retitled, left, renamed, gone, template = drifted(org)
    hrms = box.emulators["hrms"]
    with hrms.lock:
        state = hrms.state
        users = {u["staffId"]: u for u in state["users"]}
        departments = {d["id"]: d["name"] for d in state["departments"]}
        positions = {p["id"]: p["title"] for p in state["positions"]}
        new_dept = next(d for d in departments if d != users[moved]["department"])
        users[moved]["department"] = new_dept
        users[left_dept]["department"] = None
        new_title = next(p for p in positions if p != users[retitled]["position"])
        users[retitled]["position"] = new_title
        users[left]["status"] = "inactive"
        users[renamed]["email"] = "someone.else@acme.example"
        state["users"].remove(users[gone])
        state["users"].append({**users[template], "id": "new-hire-1", "staffId": "E999999",
                               "name": "Nova Hire", "email": "nova@acme.example"})

    def unit(key: str) -> str:
        e = org.employees[key]
        return f"unit {org.units[e.unit].name!r} ({e.unit}) in the config"

    return {
        moved: [f"warning: {moved} has department {departments[new_dept]!r} in HRMS but "
                f"{unit(moved)}"],
        left_dept: [f"warning: {left_dept} has no department in HRMS but {unit(left_dept)}"],
        retitled: [f"warning: {retitled} has position {positions[new_title]!r} in HRMS but "
                   f"job_position {org.employees[retitled].job_position!r} in the config"],
        left: [f"warning: {left} is inactive in HRMS but active in the config"],
        renamed: [f"warning: {renamed} email is someone.else@acme.example in HRMS but "
                  f"{org.employees[renamed].email} in the config"],
        gone: [f"warning: {gone} is in the config but not in HRMS"],
        "E999999": ["info: E999999 (Nova Hire) is active in HRMS but absent from the config"],
    }


def test_a_drifted_hrms_reports_exactly_the_drift(
        org: Org, config: Path, start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Before: a real move was one warning among 1,156 "no department" and "no position"
    ones, and a real "no department" could not be told apart from them."""
    box, endpoints = serve(start_sandbox, hrms_seed(org), tmp_path)
    expected = drift(box, org)
    assert findings(audit(config, endpoints)) == expected


def test_faults_on_the_reads_are_retried_and_the_audit_is_the_same(
        org: Org, config: Path, start_sandbox: StartSandbox, tmp_path: Path) -> None:
    faults = Faults.parse("5xx=0.1,commit_fail=0.05,seed=13")
    box, endpoints = serve(start_sandbox, hrms_seed(org), tmp_path, faults=faults)
    expected = drift(box, org)
    assert findings(audit(config, endpoints)) == expected
    log = box.emulators["hrms"].log
    assert log.count(status=503) > 0 and log.count(status=500) + log.count(status=599) > 0
    assert log.count() == log.count(method="GET")  # read, never written


def test_source_mode_plans_another_system_from_the_details(
        org: Org, start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """HRMS as the source of truth for an empty Workelo: every person planned with the unit
    (HRMS department id) and job title their details give. Before: with `include=`
    ignored, people were planned with neither."""
    box, endpoints = serve(start_sandbox, hrms_seed(org), tmp_path)
    root = tmp_path / "sourced"
    root.mkdir()
    providers = {"hrms": {**HRMS, "mode": "source"},
                 "workelo": {"url": "https://api.workelo.eu/v1",
                             "client_id": "${WORKELO_CLIENT_ID}",
                             "client_secret": "${WORKELO_CLIENT_SECRET}",
                             "manages": ["employees", "units"], "rate_limit": "100000/h"}}
    (root / "providers.yaml").write_text(yaml.safe_dump(
        {"version": 1, "providers": providers}), encoding="utf-8")
    plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    after = {c["key"]: c["after"] for c in plan["changes"]
             if c["provider"] == "workelo" and c["kind"] == "employee"}
    # Workelo creates no leaver: the active people, each with its unit and title.
    people = {key: (f"dept_{e.unit}", e.job_position) for key, e in org.employees.items()
              if e.active}
    assert {key: (a.get("unit"), a.get("job_position")) for key, a in after.items()} == people
    assert {c["source"] for c in plan["changes"]} == {"hrms"}
    hrms = made(box)
    assert hrms[DETAILS] == EMPLOYEES  # HRMS is the source of every one of them


def test_import_round_trips_with_units_and_titles(
        org: Org, start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """`import --from hrms` writes each person's unit and title from the details, and a
    plan of what it wrote finds nothing. Before: people were written with neither."""
    box, endpoints = serve(start_sandbox, hrms_seed(org), tmp_path)
    out = tmp_path / "imported"
    result = run_orgctl("import", "--from", "hrms", "--sandbox", endpoints, "--out", out,
                        "--no-progress")
    assert result.exit_code == 0, result.output
    imported = load(out, resolve_env=False)
    assert {k: (e.unit, e.job_position, e.status) for k, e in imported.employees.items()} \
        == {k: (f"dept_{e.unit}", e.job_position, e.status) for k, e in org.employees.items()}
    assert findings(audit(out, endpoints)) == {}
    text = json.dumps(yaml.safe_load((out / "providers.yaml").read_text(encoding="utf-8")))
    assert "${HRMS_TOKEN}" in text
