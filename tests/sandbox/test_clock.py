"""The sandbox's clock (issue 15 item 7): the emulators' "today" is settable from Python,
over the control plane and with `orgctl sandbox serve --today`, and Workelo journeys move
through scheduled → invitation_sent → in_progress → closed as it passes."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgctl.errors import OrgctlError
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Calendar
from orgctl.sandbox.workelo import DEFAULT_TRACK_DAYS, WorkeloEmulator
from tests.conftest import Sandboxes
from tests.sandbox.serving import serving

SEED: dict[str, Any] = {"workelo": {
    "unit_organizations": [{"external_id": "eng", "name": "Engineering", "level": "Division"}],
    "employees": [
        {"external_id": "EMP-1", "first_name": "Marie", "last_name": "Dubois",
         "email": "marie@acme.io", "unit": "eng", "role": "manager"},
        {"external_id": "EMP-2", "first_name": "Jean", "last_name": "Leroy",
         "email": "jean@acme.io", "unit": "eng"},
    ],
}}
# A joiner's onboarding: invited 2026-12-14, starts 2027-01-04, ends 2027-04-02.
JOINER = {"mobility": "onboarding", "start_date": "2027-01-04", "end_date": "2027-04-02",
          "employee": {"external_id": "EMP-2"}}


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


class Workelo:
    """A client of a sandbox's Workelo emulator, with its token and control plane."""

    def __init__(self, box: Sandbox):
        self.box = box
        self.root = box.server.url("workelo")
        creds = box.endpoints()["workelo"]
        token = httpx.post(box.url("workelo") + "/tokens", files={
            "client_id": (None, creds["client_id"]),
            "client_secret": (None, creds["client_secret"])}).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.box.url("workelo") + path, headers=self.headers,
                             **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code == status, answer.text
        return answer.json()

    def status(self, track_id: int) -> str:
        """The status as both the detail and the list answer it, which must agree."""
        detail = self.ok("GET", f"/tracks/{track_id}")["status"]
        listed = {t["id"]: t["status"] for t in self.ok("GET", "/tracks",
                                                        params={"limit": 100})["data"]}
        assert listed[track_id] == detail
        return detail

    def started_joiner(self, invite_at: str | None = "2026-12-14",
                       **overrides: Any) -> int:
        track = self.ok("POST", "/tracks", 201, json={**JOINER, **overrides})
        body = {"invite_at": invite_at} if invite_at else {}
        self.ok("PUT", f"/tracks/{track['id']}/start", json=body)
        return track["id"]

    def set_clock(self, today: str | None, port_of: str = "workelo") -> dict[str, Any]:
        answer = httpx.post(self.box.server.url(port_of) + "/_sandbox/clock",
                            json={"today": today})
        assert answer.status_code == 200, answer.text
        return answer.json()


# -- the status rules, as a table -------------------------------------------------------

@pytest.mark.parametrize(("today", "status"), [
    ("2026-12-01", "scheduled"),         # before invite_at: the invitation waits
    ("2026-12-13", "scheduled"),
    ("2026-12-14", "invitation_sent"),   # invite_at: sent
    ("2027-01-03", "invitation_sent"),
    ("2027-01-04", "in_progress"),       # start_date
    ("2027-04-02", "in_progress"),       # end_date is still in progress
    ("2027-04-03", "closed"),            # the day after end_date
])
def test_a_started_journey_has_the_status_of_the_day(sandboxes: Sandboxes, today: str,
                                                     status: str) -> None:
    box = sandboxes.start(SEED)
    box.calendar.set(date.fromisoformat(today))
    workelo = Workelo(box)
    assert workelo.status(workelo.started_joiner()) == status


def test_moving_the_clock_moves_the_journey_both_ways(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    workelo.set_clock("2026-12-01")
    joiner = workelo.started_joiner()
    draft = workelo.ok("POST", "/tracks", 201, json={
        **JOINER, "employee": {"external_id": "EMP-1"}})["id"]
    walk = []
    for today in ("2026-12-01", "2026-12-14", "2027-01-04", "2027-04-03", "2026-12-01"):
        workelo.set_clock(today)
        walk.append((workelo.status(joiner), workelo.status(draft)))
    assert walk == [("scheduled", "draft"), ("invitation_sent", "draft"),
                    ("in_progress", "draft"), ("closed", "draft"), ("scheduled", "draft")]


def test_the_status_filter_answers_as_of_today(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    workelo.set_clock("2026-12-20")
    joiner = workelo.started_joiner()

    def ids(status: str) -> list[int]:
        return [t["id"] for t in workelo.ok("GET", "/tracks",
                                            params={"status": status})["data"]]

    assert ids("invitation_sent") == [joiner] and ids("in_progress") == []
    workelo.set_clock("2027-02-01")
    assert ids("invitation_sent") == [] and ids("in_progress") == [joiner]


def test_without_an_end_date_a_journey_lasts_the_default_duration(
        sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    track = workelo.started_joiner(invite_at=None, end_date=None)
    last_day = date(2027, 1, 4) + timedelta(days=DEFAULT_TRACK_DAYS)
    box.calendar.set(last_day)
    assert workelo.status(track) == "in_progress"
    box.calendar.set(last_day + timedelta(days=1))
    assert workelo.status(track) == "closed"


def test_seeded_statuses_closed_and_cancelled_stay_started_ones_follow_the_clock(
        sandboxes: Sandboxes) -> None:
    seed = {"workelo": {**SEED["workelo"], "tracks": [
        {"employee": "EMP-1", "mobility": "offboarding", "start_date": "2027-01-04",
         "status": status} for status in ("closed", "cancelled", "in_progress", "draft")]}}
    box = sandboxes.start(seed)
    workelo = Workelo(box)
    by_day = {}
    for today in ("2026-06-01", "2027-02-01", "2028-01-01"):
        box.calendar.set(date.fromisoformat(today))
        by_day[today] = [t["status"] for t in workelo.ok("GET", "/tracks")["data"]]
    assert by_day == {
        "2026-06-01": ["closed", "cancelled", "invitation_sent", "draft"],
        "2027-02-01": ["closed", "cancelled", "in_progress", "draft"],
        "2028-01-01": ["closed", "cancelled", "closed", "draft"],
    }


def test_a_journey_the_clock_has_closed_refuses_updates(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    box.calendar.set(date(2027, 3, 1))
    track = workelo.started_joiner()
    moved = workelo.ok("PUT", f"/tracks/{track}", json={"end_date": "2027-04-30"})
    assert moved["end_date"] == "2027-04-30" and moved["status"] == "in_progress"
    box.calendar.set(date(2027, 5, 1))
    refused = workelo.call("PUT", f"/tracks/{track}", json={"end_date": "2027-05-30"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["Track is closed"]


def test_log_entries_are_stamped_on_the_emulators_today(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    box.calendar.set(date(2027, 1, 4))
    workelo.started_joiner()
    stamps = [e["created_at"][:10] for e in workelo.ok("GET", "/logs")["data"]]
    assert stamps == ["2027-01-04", "2027-01-04"]
    on_the_day = workelo.ok("GET", "/logs", params={"from": "2027-01-04", "to": "2027-01-04"})
    assert len(on_the_day["data"]) == 2


# -- setting the clock ------------------------------------------------------------------

def test_the_control_plane_sets_one_clock_for_every_emulator(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    track = workelo.started_joiner()
    # Set on the HRMS port: the emulators of a sandbox share their date.
    assert workelo.set_clock("2027-01-04", port_of="hrms") == {"today": "2027-01-04",
                                                               "set": True}
    assert workelo.status(track) == "in_progress"
    assert all(emu.calendar.today() == date(2027, 1, 4) for emu in box.emulators.values())
    state = httpx.get(workelo.root + "/_sandbox/state").json()
    assert state["today"] == "2027-01-04"
    assert state["tracks"][str(track)]["status"] == "in_progress"
    assert httpx.get(workelo.root + "/_sandbox/clock").json() == {"today": "2027-01-04",
                                                                  "set": True}
    assert workelo.set_clock(None) == {"today": date.today().isoformat(), "set": False}


def test_a_bad_clock_request_is_refused_and_changes_nothing(sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    url = box.server.url("workelo") + "/_sandbox/clock"
    httpx.post(url, json={"today": "2027-01-04"})
    for body in ({"today": "04/01/2027"}, {"today": 20270104}, {}, ["2027-01-05"]):
        answer = httpx.post(url, json=body)
        assert answer.status_code == 422, body
    assert httpx.post(url, content=b"not json").status_code == 422
    assert box.calendar.today() == date(2027, 1, 4)


def test_a_control_reset_keeps_the_clock_a_sandbox_reset_does_not(
        sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    workelo.set_clock("2027-01-04")
    reset = httpx.post(workelo.root + "/_sandbox/reset", json=SEED["workelo"])
    assert reset.status_code == 200
    assert box.emulators["workelo"].today() == date(2027, 1, 4)

    box.reset(SEED)
    assert box.calendar.today() == date.today() and not box.calendar.is_set
    box.reset(SEED, today="2027-02-01")
    assert box.emulators["workelo"].today() == date(2027, 2, 1)


def test_a_sandbox_takes_today_and_refuses_a_malformed_one() -> None:
    box = Sandbox({}, systems=("workelo",), today=date(2026, 12, 1))
    box.stop()  # never started: this closes its sockets
    assert box.emulators["workelo"].today() == date(2026, 12, 1)
    with pytest.raises(OrgctlError, match="sandbox today: '2026-13-01' is not a date"):
        Sandbox({}, systems=("workelo",), today="2026-13-01")


def test_an_emulator_alone_takes_a_date_a_string_or_a_callable() -> None:
    assert WorkeloEmulator({}, today="2027-01-04").today() == date(2027, 1, 4)
    assert WorkeloEmulator({}, today=date(2027, 1, 5)).today() == date(2027, 1, 5)
    assert WorkeloEmulator({}, today=lambda: date(2027, 1, 6)).today() == date(2027, 1, 6)
    assert WorkeloEmulator({}).today() == date.today()
    calendar = Calendar(source=lambda: date(2027, 1, 6))
    calendar.set(date(2030, 1, 1))
    assert calendar.today() == date(2030, 1, 1) and calendar.is_set
    calendar.set(None)
    assert calendar.today() == date(2027, 1, 6) and not calendar.is_set


def test_sandbox_serve_takes_today(tmp_path: Path) -> None:
    with serving(tmp_path, "--empty", "--today", "2027-01-04") as (endpoints, printed):
        root = endpoints["worklete"]["url"].removesuffix("/api/v1")
        assert httpx.get(root + "/_sandbox/clock").json() == {"today": "2027-01-04",
                                                              "set": True}
    assert "today: 2027-01-04\n" in printed[0]


def test_sandbox_serve_refuses_a_malformed_today() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orgctl", "sandbox", "serve", "--today", "2027-13-01"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "--today" in result.stderr and "2027-13-01" in result.stderr
