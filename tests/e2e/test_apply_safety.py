"""`orgctl apply` does only what was reviewed: a saved plan is refused once the world or the
config moved, nothing is applied unasked in a non-interactive shell, and a change that
fails stops only what depends on it; the re-run after the fix does only what is left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgctl.sandbox import Sandbox
from tests.e2e.conftest import (
    QUICK_WORKLEAP,
    StartSandbox,
    copy_acme,
    edit_yaml,
    plan_json,
    run_orgctl,
    write_endpoints,
)


def add_mobile_unit(data: dict[str, Any]) -> None:
    data["units"]["mobile"] = {"name": "Mobile", "level": "Department", "parent": "eng"}


def live_state(box: Sandbox) -> dict[str, Any]:
    return {name: emu.snapshot() for name, emu in box.emulators.items()}


def workelo_api(box: Sandbox) -> httpx.Client:
    """Workelo's API as an administrator's own script would call it."""
    endpoint = box.endpoints()["workelo"]
    token = httpx.post(f"{endpoint['url']}/tokens",
                       files={"client_id": (None, endpoint["client_id"]),
                              "client_secret": (None, endpoint["client_secret"])}).json()
    return httpx.Client(base_url=endpoint["url"],
                        headers={"Authorization": f"Bearer {token['access_token']}"})


def workelo_id(box: Sandbox, table: str, external_id: str) -> int:
    rows = box.emulators["workelo"].snapshot()[table].values()
    return next(r["id"] for r in rows if r["external_id"] == external_id)


@pytest.fixture
def acme_live(tmp_path: Path, start_sandbox: StartSandbox,
              acme_seed: dict[str, Any]) -> tuple[Sandbox, Path, Path]:
    """The emulators holding examples/acme, and a copy of it that adds a unit."""
    acme_seed["workleap"].update(QUICK_WORKLEAP)
    box = start_sandbox(acme_seed)
    root = copy_acme(tmp_path)
    edit_yaml(root, "units.yaml", add_mobile_unit)
    return box, root, write_endpoints(box, tmp_path / "sandbox.json")


# -- saved plans -----------------------------------------------------------------------------

def test_a_saved_plan_is_refused_once_live_state_moved(tmp_path: Path,
                                                        acme_live: tuple[Sandbox, Path, Path]
                                                        ) -> None:
    box, root, endpoints = acme_live
    saved = tmp_path / "plan.json"
    assert run_orgctl("plan", root, "--sandbox", endpoints, "-o", saved).exit_code == 0
    # Someone renames a unit in Workelo's console between review and apply.
    with workelo_api(box) as api:
        api.put(f"/unit_organizations/{workelo_id(box, 'unit_organizations', 'finance')}",
                json={"name": "Finance & Legal"}).raise_for_status()
    before = live_state(box)

    result = run_orgctl("apply", saved, "--sandbox", endpoints)
    assert result.exit_code == 1
    assert "stale plan: the live state of workelo changed since the plan was made" in \
        result.stderr
    assert live_state(box) == before, "a stale plan changed a system"
    assert "mobile" not in {u["external_id"] for u in
                            box.emulators["workelo"].snapshot()["unit_organizations"].values()}

    # Planned again and reviewed, it applies: the new unit, and the console edit undone.
    fresh = tmp_path / "fresh.json"
    assert run_orgctl("plan", root, "--sandbox", endpoints, "-o", fresh).exit_code == 0
    assert {(c["address"], c["action"]) for c in json.loads(fresh.read_text())["changes"]
            if c["action"] != "manual"} == {("workelo.unit.mobile", "create"),
                                            ("workelo.unit.finance", "update")}
    result = run_orgctl("apply", fresh, "--sandbox", endpoints)
    assert result.exit_code == 0, result.output
    assert run_orgctl("plan", root, "--sandbox", endpoints,
                      "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_is_refused_once_the_config_moved(tmp_path: Path,
                                                       acme_live: tuple[Sandbox, Path, Path]
                                                       ) -> None:
    box, root, endpoints = acme_live
    saved = tmp_path / "plan.json"
    assert run_orgctl("plan", root, "--sandbox", endpoints, "-o", saved).exit_code == 0
    edit_yaml(root, "units.yaml", lambda d: d["units"]["mobile"].update(name="Mobile Apps"))
    before = live_state(box)

    result = run_orgctl("apply", saved, "--sandbox", endpoints)
    assert result.exit_code == 1
    assert "stale plan: the configuration changed since the plan was made" in result.stderr
    assert live_state(box) == before


def test_a_non_interactive_apply_without_auto_approve_is_refused(
        acme_live: tuple[Sandbox, Path, Path]) -> None:
    box, root, endpoints = acme_live
    # Piping "yes" is not a confirmation: stdin is not a terminal.
    result = run_orgctl("apply", root, "--sandbox", endpoints, input="yes\n")
    assert result.exit_code == 1
    assert "refusing to apply without confirmation" in result.stderr
    assert "--auto-approve" in result.stderr
    assert sum(emu.log.count() for emu in box.emulators.values()) == 0, \
        "a refused apply called a system"


# -- partial failure -------------------------------------------------------------------------

def test_a_failed_change_stops_its_dependents_and_the_rerun_does_only_the_rest(
        tmp_path: Path, start_sandbox: StartSandbox) -> None:
    # IT once made a service account (ignored by the config's `SVC-*` rule) with Julie's
    # address, so Workelo answers 422 "Email has already been taken" to her creation.
    squatter = {"external_id": "SVC-HR-INBOX", "first_name": "HR", "last_name": "Inbox",
                "email": "julie.moreau@acme.example"}
    box = start_sandbox({"workelo": {"employees": [squatter]}, "workleap": QUICK_WORKLEAP})
    endpoints = write_endpoints(box, tmp_path / "sandbox.json")
    root = copy_acme(tmp_path)
    plan = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    todo = {c["address"]: c for c in plan["changes"] if c["action"] != "manual"}
    failing = "workelo.employee.EMP-040"
    dependents: set[str] = set()
    while True:  # everything that needs her, directly or not
        more = {a for a, c in todo.items()
                if {failing, *dependents} & set(c["depends_on"])} - dependents
        if not more:
            break
        dependents |= more
    assert {"workelo.scope.EMP-040:eng", "workelo.journey.EMP-029.onboarding"} <= dependents

    first = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve",
                       "--journal", tmp_path / "first.jsonl")
    assert first.exit_code == 1
    assert f"failed: {failing}: " in first.stderr
    assert "Email has already been taken" in first.stderr
    skipped = {line.split(": ")[1] for line in first.stderr.splitlines()
               if line.startswith("  skipped: ")}
    assert skipped == dependents
    assert f"skipped: depends on {failing}, which failed" in first.stderr
    manual = len(plan["changes"]) - len(todo)
    assert first.stdout.splitlines()[-1] == (
        f"Apply: {len(todo) - 1 - len(dependents)} applied, 1 failed, "
        f"{len(dependents)} skipped, {manual} manual.")
    assert "fix the cause and re-run" in first.stderr
    # Independent branches went on: her colleagues in Workelo, Julie in the other systems.
    workelo = box.emulators["workelo"].snapshot()
    assert {e["external_id"] for e in workelo["employees"].values()} >= {"EMP-041", "EMP-042"}
    assert "EMP-040" in {m["externalMemberId"] for m in
                         box.emulators["workleap"].snapshot()["members"].values()}

    # The fix: IT gives the service account its own address. Then only the rest is done.
    with workelo_api(box) as api:
        api.put(f"/employees/{workelo_id(box, 'employees', 'SVC-HR-INBOX')}",
                json={"email": "hr-inbox@acme.example"}).raise_for_status()
    second_journal = tmp_path / "second.jsonl"
    second = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve",
                        "--journal", second_journal)
    assert second.exit_code == 0, second.output
    events = [json.loads(line) for line in second_journal.read_text().splitlines()]
    assert {e["address"] for e in events if e["event"] == "applied"} == {failing, *dependents}
    assert run_orgctl("plan", root, "--sandbox", endpoints,
                      "--detailed-exitcode").exit_code == 0
