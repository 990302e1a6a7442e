"""Dates in the config (issue 15): start and leave dates, dated changes and the time zone,
each mistake at the file:line:col of the value at fault."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from orgctl import config as cfg
from tests.config.conftest import problems


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "org.yaml").write_text("version: 1\n" + text, encoding="utf-8")
    return tmp_path


def at(path: Path, line: int, written: str) -> str:
    text = (path / "org.yaml").read_text(encoding="utf-8").splitlines()[line - 1]
    return f"{path}/org.yaml:{line}:{text.index(written) + 1}"


PEOPLE = """units:
  a: {name: A, level: team}
employees:
  BOSS: {first_name: B, last_name: O, email: boss@x.io}
  ANN:
    first_name: A
    last_name: N
    email: ann@x.io
    start_date: 2026-12-21
    leave_date: 2027-06-30
    changes:
      - {from: 2027-03-01, unit: a, manager: BOSS, job_position: Lead}
      - {from: 2027-01-04, job_position: null}
"""


def test_dates_and_dated_changes_load_in_date_order(tmp_path: Path) -> None:
    ann = cfg.load(write(tmp_path, PEOPLE), resolve_env=False).employees["ANN"]
    assert (ann.start_date, ann.leave_date) == (date(2026, 12, 21), date(2027, 6, 30))
    assert [(d.on, dict(d.values)) for d in ann.dated] == [
        (date(2027, 1, 4), {"job_position": None}),
        (date(2027, 3, 1), {"unit": "a", "manager": "BOSS", "job_position": "Lead"})]


def test_a_dated_change_naming_an_unknown_manager_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, PEOPLE.replace("manager: BOSS", "manager: NOBODY"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 13, 'NOBODY')}: employees.ANN.changes[0].manager: unknown employee "
        f"'NOBODY'"]


def test_a_leave_date_before_the_start_date_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, PEOPLE.replace("2027-06-30", "2026-12-01"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 11, '2026-12-01')}: employees.ANN.leave_date: leave date 2026-12-01 is "
        f"not after start date 2026-12-21"]


def test_two_changes_on_one_day_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, PEOPLE.replace("2027-01-04", "2027-03-01"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 13, '- {from')}: employees.ANN.changes: two changes on 2027-03-01: write "
        f"one change per day"]


def test_a_dated_change_with_nothing_to_change_and_an_unknown_field(tmp_path: Path) -> None:
    path = write(tmp_path, PEOPLE.replace("{from: 2027-01-04, job_position: null}",
                                          "{from: 2027-01-04, status: inactive}"))
    [problem] = problems(path, resolve_env=False)
    assert problem.startswith(f"{at(path, 14, 'status')}: employees.ANN.changes[1].status: "
                              f"unknown key")


def test_an_unknown_time_zone_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "lifecycle:\n  timezone: Europe/Atlantis\n")
    assert problems(path, resolve_env=False) == [
        f"{at(path, 3, 'Europe')}: lifecycle.timezone: unknown time zone 'Europe/Atlantis': "
        f"use an IANA name such as Europe/Paris or UTC"]
    org = cfg.load(write(tmp_path, "lifecycle: {timezone: Europe/Paris, horizon_days: 7}\n"),
                   resolve_env=False)
    assert (org.lifecycle.timezone, org.lifecycle.horizon_days) == ("Europe/Paris", 7)
