"""`orgctl apply` against a hostile world: injected 5xx, 429, dropped connections and
commit-then-fail answers; an apply process killed mid-run. Whatever happens, the systems
end up holding examples/acme exactly once: the tests count the objects inside the
emulators and find no duplicate."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from orgctl.sandbox import BASE_PATHS, Sandbox
from orgctl.sandbox.core import Emulator, Faults
from tests.e2e.conftest import (
    DEFAULT_OPTIONS,
    QUICK_WORKLEAP,
    StartSandbox,
    copy_acme,
    plan_json,
    run_orgctl,
    write_endpoints,
)


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """Every test here runs against both emulator profiles (issue 13): the one the
    providers were written beside, and one serving only what the seeds document."""
    return str(request.param)

# The rates of issue #5; 429s announce a short Retry-After so the test stays quick.
HOSTILE = "5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02,retry_after=0.05"


def duplicates(state: dict[str, dict[str, Any]]) -> dict[str, dict[Any, int]]:
    """Per kind of object, the identities held more than once (empty: no duplicate).
    `state` is each emulator's state, as `snapshot()` or `GET /_sandbox/state` gives it."""
    workelo, workleap, worklete = state["workelo"], state["workleap"], state["worklete"]
    emails = {u["id"]: u["email"].lower() for u in worklete["users"].values()}
    identities: dict[str, list[Any]] = {
        "workelo employees by external_id": [
            e["external_id"] for e in workelo["employees"].values()],
        "workelo employees by email": [
            e["email"].lower() for e in workelo["employees"].values()],
        "workelo units by external_id": [
            u["external_id"] for u in workelo["unit_organizations"].values()],
        "workelo scopes by employee+unit": [
            (s["employee_id"], s["unit_organization_id"])
            for s in workelo["unit_organization_managements"].values()],
        "workelo tracks by employee+mobility": [
            (t["employee_id"], t["mobility"]) for t in workelo["tracks"].values()],
        "workleap members by externalMemberId": [
            m["externalMemberId"] for m in workleap["members"].values()],
        "workleap members by email": [
            m["email"].lower() for m in workleap["members"].values()],
        "workleap teams by externalTeamId": [
            t["externalTeamId"] for t in workleap["teams"].values()],
        "worklete teams by name+parent": [
            (t["name"], t["parent_id"]) for t in worklete["teams"].values()],
        "worklete users by email": list(emails.values()),
        "worklete memberships by email": [
            emails[m["user_id"]] for m in worklete["memberships"].values()],
        "worklete team admins by team+membership": [
            (a["team_id"], a["membership_id"]) for a in worklete["team_admins"].values()],
    }
    return {what: {k: n for k, n in Counter(values).items() if n > 1}
            for what, values in identities.items()}


def object_counts(state: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {
        "workelo units": len(state["workelo"]["unit_organizations"]),
        "workelo employees": len(state["workelo"]["employees"]),
        "workelo scopes": len(state["workelo"]["unit_organization_managements"]),
        "workelo tracks": len(state["workelo"]["tracks"]),
        "workleap members": len(state["workleap"]["members"]),
        "workleap teams": len(state["workleap"]["teams"]),
        "worklete teams": len(state["worklete"]["teams"]),
        "worklete memberships": len(state["worklete"]["memberships"]),
        "worklete team admins": len(state["worklete"]["team_admins"]),
    }


# What a fault-free apply of examples/acme from empty leaves (the Worklete membership more
# than the config's 37 is the sign-in account's own).
ACME_COUNTS = {"workelo units": 12, "workelo employees": 45, "workelo scopes": 12,
               "workelo tracks": 4, "workleap members": 45, "workleap teams": 6,
               "worklete teams": 6, "worklete memberships": 38, "worklete team admins": 7}


def assert_converged(root: Path, endpoints: Path) -> None:
    """A fault-free plan has nothing left to do but the manual changes."""
    result = run_orgctl("plan", root, "--sandbox", endpoints, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    left = plan_json(run_orgctl("plan", root, "--sandbox", endpoints, "--format", "json"))
    assert [c["address"] for c in left["changes"] if c["action"] != "manual"] == []


# -- injected faults -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_apply_under_faults_converges_with_zero_duplicates(seed: int, tmp_path: Path,
                                                           start_sandbox: StartSandbox) -> None:
    box = start_sandbox({"workleap": QUICK_WORKLEAP},
                        faults=Faults.parse(f"{HOSTILE},seed={seed}"))
    endpoints = write_endpoints(box, tmp_path / "sandbox.json")
    root = copy_acme(tmp_path)

    result = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
    if result.exit_code != 0:
        # Allowed by issue #5: a change can exhaust its retries under these rates. The run
        # says so, and a second apply finishes the job; a duplicate is never allowed.
        assert "re-run" in result.stderr and "internal error" not in result.output
        result = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
    assert result.exit_code == 0, result.output

    state = {name: emu.snapshot() for name, emu in box.emulators.items()}
    assert {what: dups for what, dups in duplicates(state).items() if dups} == {}
    assert object_counts(state) == ACME_COUNTS
    injected = Counter(e.fault for emu in box.emulators.values() for e in emu.log.entries)
    assert injected["5xx"] and injected["429"], "no fault was injected: the test proves nothing"

    box.set_faults(Faults())
    assert_converged(root, endpoints)


class UnansweredIdentifications:
    """Workelo, except that while `on`, every identification POST for one employee answers
    503: the client cannot know whether the badge was saved."""

    def __init__(self, app: ASGIApp, workelo: Emulator, employee: str):
        self.app, self.workelo, self.employee, self.on = app, workelo, employee, True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = re.fullmatch(r"/v1/employees/(\d+)/identifications", scope.get("path", ""))
        if self.on and found and scope["method"] == "POST":
            employee = self.workelo.state["employees"].get(int(found.group(1))) or {}
            if employee.get("external_id") == self.employee:
                await Response("Service Unavailable", 503)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def test_a_create_whose_follow_up_stays_unknown_fails_and_the_rerun_finishes_it(
        tmp_path: Path) -> None:
    box = Sandbox({"workleap": QUICK_WORKLEAP}, options=DEFAULT_OPTIONS)
    trap = UnansweredIdentifications(box.server.apps["workelo"], box.emulators["workelo"],
                                     "EMP-040")
    box.server.apps["workelo"] = trap
    with box:
        endpoints = write_endpoints(box, tmp_path / "sandbox.json")
        root = copy_acme(tmp_path)
        first = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
        # Julie exists in Workelo, her badge may not: the change is not called applied.
        assert first.exit_code == 1, first.output
        assert re.search(r"failed: workelo\.employee\.EMP-040: .*created \(id \d+\), but "
                         r"not completed", first.stderr), first.stderr
        assert "skipped: workelo.scope.EMP-040:eng" in first.stderr

        trap.on = False
        second = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
        assert second.exit_code == 0, second.output
        people = box.emulators["workelo"].snapshot()["employees"].values()
        julie = [e for e in people if e["external_id"] == "EMP-040"]
        assert len(julie) == 1 and list(julie[0]["identifications"].values()) == ["B-040"]
        assert_converged(root, endpoints)


def test_a_committed_create_whose_lookup_fails_is_unknown_not_duplicated(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Issue 14 item 1, through the CLI: an employee create commits and answers 500, then
    the lookup's reads answer 503 past every retry. Before, apply POSTed again; now the
    change is reported unknown (exit 1), nothing is duplicated, and the next plan finds the
    employee, so a re-run converges."""
    # Six answers exhaust one lookup's retries; the provider looks once, the engine again.
    script = [("POST /v1/employees", "commit_fail")] + [("GET /v1/employees", "5xx")] * 12
    box = start_sandbox({"workleap": QUICK_WORKLEAP}, faults=Faults(script=script))
    endpoints = write_endpoints(box, tmp_path / "sandbox.json")
    root = copy_acme(tmp_path)
    first = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
    assert first.exit_code == 1, first.output
    assert script == [], "the scripted faults were not all used"
    unknown = re.findall(r"unknown: (workelo\.employee\.EMP-\d+): .*not sent again",
                         first.stderr)
    assert len(unknown) == 1, first.stderr
    assert "1 unknown" in first.stdout
    state = {name: emu.snapshot() for name, emu in box.emulators.items()}
    assert not any(duplicates(state).values()), duplicates(state)
    key = unknown[0].rsplit(".", 1)[1]
    held = [e for e in state["workelo"]["employees"].values() if e["external_id"] == key]
    assert len(held) == 1  # the first create did commit
    second = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve")
    assert second.exit_code == 0, second.output
    assert_converged(root, endpoints)
    state = {name: emu.snapshot() for name, emu in box.emulators.items()}
    assert object_counts(state) == ACME_COUNTS


# -- a killed apply --------------------------------------------------------------------------

class ServedSandbox:
    """`orgctl sandbox serve` in its own process, as a user runs it."""

    def __init__(self, tmp_path: Path, latency_ms: int):
        self.endpoints = tmp_path / "sandbox.json"
        seed = tmp_path / "live.json"
        seed.write_text(json.dumps({"workleap": QUICK_WORKLEAP}), encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orgctl", "sandbox", "serve", "--seed", str(seed),
             "--latency", str(latency_ms), "--endpoints-file", str(self.endpoints)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.urls = self._wait_for_endpoints()

    def _wait_for_endpoints(self) -> dict[str, str]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read()  # type: ignore
            try:
                endpoints = json.loads(self.endpoints.read_text(encoding="utf-8"))
                return {name: e["url"] for name, e in endpoints.items()}
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError("orgctl sandbox serve did not write its endpoints file")

    def state(self) -> dict[str, dict[str, Any]]:
        """Every emulator's state, read over HTTP from the control plane."""
        out = {}
        for name, url in self.urls.items():
            root = url.removesuffix(BASE_PATHS[name]) if BASE_PATHS[name] else url
            response = httpx.get(f"{root}/_sandbox/state", timeout=10)
            response.raise_for_status()
            out[name] = response.json()
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedSandbox]:
    # 30 ms per request: the apply of examples/acme takes several seconds, time to kill it.
    sandbox = ServedSandbox(tmp_path, latency_ms=30)
    yield sandbox
    sandbox.stop()


def journal_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    # The last line may be half-written when the process was killed.
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            assert line is lines[-1], f"a journal line other than the last is broken: {line}"
    return events


def applied(events: list[dict[str, Any]]) -> set[str]:
    return {e["address"] for e in events if e.get("event") == "applied"}


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM],
                         ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_a_killed_apply_rerun_converges_with_zero_duplicates(how: signal.Signals,
                                                             tmp_path: Path,
                                                             served: ServedSandbox) -> None:
    root = copy_acme(tmp_path)
    first_journal = tmp_path / "first.jsonl"
    apply = subprocess.Popen(
        [sys.executable, "-m", "orgctl", "apply", str(root), "--sandbox", str(served.endpoints),
         "--auto-approve", "--journal", str(first_journal)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # As in a terminal: a background job's shell may have left Ctrl-C ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while len(applied(journal_events(first_journal))) < 25:
            assert apply.poll() is None, "apply ended before it was killed"
            assert time.monotonic() < deadline, "the apply made no progress"
            time.sleep(0.02)
        apply.send_signal(how)
        code = apply.wait(timeout=30)
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
    stderr = apply.stderr.read()  # type: ignore[union-attr]
    if how in (signal.SIGINT, signal.SIGTERM):
        assert code == 130 and "Traceback" not in stderr, stderr
        # What was done and what was not (issue 17 item 5).
        assert re.search(r"apply interrupted: \d+ of \d+ changes applied\n  applied: ",
                         stderr), stderr
        assert "not done: " in stderr and str(first_journal) in stderr
    else:
        assert code == -signal.SIGKILL
    first = journal_events(first_journal)
    assert not any(e.get("event") == "apply_finished" for e in first), "killed too late"
    # (The plan may be refused, exit 3: see the known limit below. It is printed anyway.)
    left = json.loads(run_orgctl("plan", root, "--sandbox", served.endpoints,
                                 "--format", "json").stdout)
    assert any(c["action"] == "create" for c in left["changes"]), "the killed apply finished"

    second_journal = tmp_path / "second.jsonl"
    # No --force: what the killed apply set out to do does not count against the
    # thresholds again (issue 14 item 5; before, 1 kill in 36 tripped the update one).
    rerun = run_orgctl("apply", root, "--sandbox", served.endpoints, "--auto-approve",
                       "--journal", second_journal)
    assert rerun.exit_code == 0, rerun.output
    second = journal_events(second_journal)
    # The re-run re-planned from live state: nothing the killed run created is made again.
    created_again = {e["address"] for e in second if e.get("action") == "create"} & applied(
        [e for e in first if e.get("action") == "create"])
    assert created_again == set()

    state = served.state()
    assert {what: dups for what, dups in duplicates(state).items() if dups} == {}
    assert object_counts(state) == ACME_COUNTS
    assert_converged(root, served.endpoints)
