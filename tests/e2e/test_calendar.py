"""One sandbox walked through a calendar (issue 15, "Must show"): a joiner, a leaver and a
mover, each written once with their date, against Workelo, Workleap and Worklete.

At each day — before the joiner's lead time, the lead-time day, the start date, the leaver's
lead-time day, the eve of the leave date, the leave date, the move date, after — `plan
--as-of` shows exactly what is due (and the day before shows none of it), the scheduled
section lists what comes next with its day, `apply --as-of` converges, and the live systems
show that no access is removed a day early or kept a day late. The emulators' clock is set
to each day, so Workelo's journeys move through their statuses as the days pass."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgctl.sandbox import Sandbox
from tests.e2e.conftest import StartSandbox, plan_json, run_orgctl, write_endpoints

START = date(2027, 1, 4)   # LEA joins
LEAVE = date(2027, 2, 1)   # TOM leaves: inactive from this day
MOVE = date(2027, 3, 1)    # ANA moves to sales, under EMP-2
LEAD = timedelta(days=14)  # Workelo's default lead time; the other systems have none
DAY = timedelta(days=1)
HAS_ACCESS = ("active", "invited", "created")  # Workleap member statuses with access

CONFIG = {
    "version": 1,
    "providers": {
        "workelo": {"url": "https://workelo.invalid/v1", "client_id": "${WORKELO_CLIENT_ID}",
                    "client_secret": "${WORKELO_CLIENT_SECRET}"},
        "workleap": {"url": "https://workleap.invalid", "api_key": "${WORKLEAP_API_KEY}"},
        "worklete": {"url": "https://worklete.invalid/api/v1",
                     "username": "${WORKLETE_USERNAME}", "password": "${WORKLETE_PASSWORD}",
                     "organization": "Acme"},
    },
    "units": {"acme": {"name": "Acme", "level": "Group"},
              "eng": {"name": "Engineering", "level": "Division", "parent": "acme"},
              "sales": {"name": "Sales", "level": "Division", "parent": "acme"}},
    "teams": {"core": {"name": "Core", "managers": ["EMP-4"],
                       "members": ["EMP-3", "EMP-4", "EMP-5"]}},
    "employees": {
        "EMP-1": {"first_name": "Marie", "last_name": "Dubois", "email": "marie@acme.io",
                  "unit": "eng", "role": "manager"},
        "EMP-2": {"first_name": "Paul", "last_name": "Martin", "email": "paul@acme.io",
                  "unit": "acme", "role": "hr"},
        "EMP-3": {"first_name": "Lea", "last_name": "Roux", "email": "lea@acme.io",
                  "unit": "eng", "manager": "EMP-1", "hr": "EMP-2",
                  "start_date": START.isoformat()},
        "EMP-4": {"first_name": "Tom", "last_name": "Petit", "email": "tom@acme.io",
                  "unit": "eng", "manager": "EMP-1", "leave_date": LEAVE.isoformat()},
        "EMP-5": {"first_name": "Ana", "last_name": "Lima", "email": "ana@acme.io",
                  "unit": "eng", "manager": "EMP-1",
                  "changes": [{"from": MOVE.isoformat(), "unit": "sales", "manager": "EMP-2"}]},
    },
}
SEED = {"workelo": {"templates": [
    {"name": "Standard onboarding", "mobility": "onboarding"},
    {"name": "Standard offboarding", "mobility": "offboarding"}]}}


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """Walked against both emulator profiles: the permissive one and the seed-only one."""
    return str(request.param)


class Calendar:
    """The sandbox and the CLI, on a day of the test's choosing."""

    def __init__(self, box: Sandbox, tmp_path: Path):
        self.box = box
        self.endpoints = write_endpoints(box, tmp_path / "sandbox.json")
        self.org = tmp_path / "org"
        self.org.mkdir()
        (self.org / "org.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))

    def on(self, day: date) -> None:
        self.box.calendar.set(day)

    def plan(self, day: date) -> dict[str, Any]:
        self.on(day)
        return plan_json(run_orgctl("plan", self.org, "--sandbox", self.endpoints,
                                    "--as-of", day.isoformat(), "--format", "json"))

    def due(self, day: date) -> set[str]:
        """The addresses of what the plan of `day` would make (manual changes aside)."""
        return {c["address"] for c in self.plan(day)["changes"] if c["action"] != "manual"}

    def apply(self, day: date) -> None:
        self.on(day)
        result = run_orgctl("apply", self.org, "--sandbox", self.endpoints, "--as-of",
                            day.isoformat(), "--auto-approve")
        assert result.exit_code == 0, result.output
        self.on(day)
        again = run_orgctl("plan", self.org, "--sandbox", self.endpoints, "--as-of",
                           day.isoformat(), "--detailed-exitcode")
        assert again.exit_code == 0, again.output  # converged in one apply

    # What each system gives a person, read from the emulators as an admin console shows it.
    def workelo_person(self, key: str) -> bool:
        state = self.box.emulators["workelo"].snapshot()
        return any(e.get("external_id") == key for e in state["employees"].values())

    def journeys(self, key: str) -> dict[str, str]:
        """mobility -> status of the person's Workelo journeys."""
        state = self.box.emulators["workelo"].snapshot()
        ids = {e["id"] for e in state["employees"].values() if e.get("external_id") == key}
        return {t["mobility"]: t["status"] for t in state["tracks"].values()
                if t.get("employee_id") in ids or (t.get("employee") or {}).get("id") in ids}

    def workleap_status(self, key: str) -> str | None:
        members = self.box.emulators["workleap"].snapshot()["members"]
        return next((m["status"] for m in members.values()
                     if m.get("externalMemberId") == key), None)

    def worklete_teams(self, email: str) -> list[str] | None:
        """The team ids of the membership of the user with `email` (None: no membership)."""
        state = self.box.emulators["worklete"].snapshot()
        users = {u["id"]: u for u in state["users"].values()}
        found = [m for m in state["memberships"].values()
                 if (users.get(m.get("user_id")) or {}).get("email") == email]
        return sorted(str(t) for m in found for t in m.get("team_ids") or []) if found else None

    def worklete_admins(self) -> int:
        return len(self.box.emulators["worklete"].snapshot()["team_admins"])


def about(addresses: set[str], key: str) -> set[str]:
    return {a for a in addresses if key in a}


def scheduled(plan: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in plan["scheduled"]:
        out.setdefault(s["on"], set()).add(s["address"])
    return out


def test_a_sandbox_walked_through_a_calendar(start_sandbox: StartSandbox,
                                             tmp_path: Path) -> None:
    cal = Calendar(start_sandbox(SEED), tmp_path)
    first = START - LEAD - 7 * DAY  # before the joiner's lead time

    # Before the joiner's lead time: everyone else is created; LEA nowhere, yet scheduled.
    plan = cal.plan(first)
    assert not about({c["address"] for c in plan["changes"]}, "EMP-3")
    ahead = scheduled(plan)
    assert about(ahead[(START - LEAD).isoformat()], "EMP-3") == {
        "workelo.employee.EMP-3", f"workelo.journey.EMP-3.onboarding-{START}"}
    cal.apply(first)
    assert not cal.workelo_person("EMP-3")
    # A member Workleap made is invited (active once they accept): either has access.
    assert cal.workleap_status("EMP-4") in HAS_ACCESS and cal.worklete_admins() == 1

    # The eve of the lead-time day: nothing due, the onboarding scheduled with the templates
    # of LEA's unit (Workelo has the unit now, though not LEA yet); on the day, Workelo
    # only, with the onboarding.
    eve = cal.plan(START - LEAD - DAY)
    assert eve["changes"] == []
    [onboarding] = [s for s in eve["scheduled"]
                    if s["address"] == f"workelo.journey.EMP-3.onboarding-{START}"]
    assert onboarding["after"]["templates"] == ["Standard onboarding"]
    assert cal.due(START - LEAD) == {"workelo.employee.EMP-3",
                                     f"workelo.journey.EMP-3.onboarding-{START}"}
    cal.apply(START - LEAD)
    assert cal.journeys("EMP-3") == {"onboarding": "invitation_sent"}
    assert cal.workleap_status("EMP-3") is None and cal.worklete_teams("lea@acme.io") is None

    # The start date: the other systems get the joiner, on the day and not before.
    assert cal.due(START - DAY) == set()
    on_start = cal.due(START)
    assert {a.split(".")[0] for a in on_start} == {"workleap", "worklete"}
    assert "workleap.member.EMP-3" in on_start and "worklete.membership.EMP-3" in on_start
    cal.apply(START)
    assert cal.workleap_status("EMP-3") in HAS_ACCESS
    assert cal.worklete_teams("lea@acme.io")
    assert cal.journeys("EMP-3") == {"onboarding": "in_progress"}

    # The leaver's lead-time day: their offboarding in Workelo; nothing removed yet.
    assert cal.due(LEAVE - LEAD - DAY) == set()
    assert cal.due(LEAVE - LEAD) == {f"workelo.journey.EMP-4.offboarding-{LEAVE}"}
    cal.apply(LEAVE - LEAD)

    # The eve of the leave date: TOM still has every access.
    plan = cal.plan(LEAVE - DAY)
    assert plan["changes"] == []
    assert about(scheduled(plan)[LEAVE.isoformat()], "EMP-4") >= {
        "workleap.member.EMP-4", "worklete.membership.EMP-4"}
    assert cal.workleap_status("EMP-4") in HAS_ACCESS
    assert cal.worklete_admins() == 1 and cal.worklete_teams("tom@acme.io")

    # The leave date: deactivated, team admin revoked, out of every team; Workelo needs
    # nothing more (the offboarding records it).
    on_leave = cal.plan(LEAVE)
    actions = {c["address"]: c["action"] for c in on_leave["changes"]}
    # Workleap deletes an invited member and deactivates an active one (seed 003).
    assert actions["workleap.member.EMP-4"] in ("deactivate", "delete")
    assert actions["worklete.membership.EMP-4"] == "deactivate"
    assert any(a.startswith("worklete.team_admin.") and "EMP-4" in a and v == "delete"
               for a, v in actions.items())
    assert not about(set(actions), "EMP-4") & {a for a in actions if a.startswith("workelo")}
    cal.apply(LEAVE)
    assert cal.workleap_status("EMP-4") in (None, "deactivated")
    assert cal.worklete_admins() == 0 and cal.worklete_teams("tom@acme.io") == []

    # The move: ANA's unit changes on the day, in Workelo; nothing the day before.
    assert cal.due(MOVE - DAY) == set()
    assert cal.due(MOVE) == {"workelo.employee.EMP-5"}
    cal.apply(MOVE)

    # After: nothing is due, nothing is scheduled, the journeys have run their course.
    later = cal.plan(MOVE + 120 * DAY)
    assert later["changes"] == [] and later["scheduled"] == []
    assert cal.journeys("EMP-3") == {"onboarding": "closed"}


def test_a_saved_plan_is_applied_on_its_own_day_never_before(start_sandbox: StartSandbox,
                                                             tmp_path: Path) -> None:
    """A plan reviewed today for a day to come would make its changes early: refused. A
    saved plan is re-planned on its own day (so a plan of yesterday stays what was
    reviewed), and --as-of cannot move it to another."""
    cal = Calendar(start_sandbox(SEED), tmp_path)
    cal.on(START)
    future = tmp_path / "future.json"
    made = run_orgctl("plan", cal.org, "--sandbox", cal.endpoints, "--as-of",
                      START.isoformat(), "-o", future)
    assert made.exit_code == 0, made.output
    cal.on(START - DAY)  # the suite's today is 2026-11-30: long before START
    early = run_orgctl("apply", future, "--sandbox", cal.endpoints)
    assert early.exit_code == 1
    assert f"the saved plan is of {START}, a day still to come" in early.stderr
    moved = run_orgctl("apply", future, "--sandbox", cal.endpoints, "--as-of",
                       (START + DAY).isoformat())
    assert moved.exit_code == 1
    assert f"the saved plan is of {START}, and is applied on its own day" in moved.stderr
    assert cal.box.emulators["workleap"].snapshot()["members"] == {}  # nothing was made

    today = tmp_path / "today.json"
    assert run_orgctl("plan", cal.org, "--sandbox", cal.endpoints, "-o", today).exit_code == 0
    applied = run_orgctl("apply", today, "--sandbox", cal.endpoints)
    assert applied.exit_code == 0, applied.output
