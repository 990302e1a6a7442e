"""People on their dates (issue 15): the org on a day, the plan of a day with its scheduled
section, and the refusal of a plan that leaves someone without a manager."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest

from orgctl import lifecycle
from orgctl.engine import safety
from orgctl.engine.plan import Plan, make_plan
from orgctl.errors import SafetyError
from orgctl.model import Dated, Employee, Org, ProviderConfig, Team, Unit
from orgctl.providers.base import Provider
from orgctl.render import render
from orgctl.resources import Resource

D = date.fromisoformat


class People(Provider):
    """A system of people (active ones only) with their unit and manager, and teams."""

    type: ClassVar[str] = "people"
    KINDS: ClassVar[tuple[str, ...]] = ("person", "team")

    def __init__(self, lead: int = 0, live: list[Resource] | None = None):
        settings = {"lifecycle": {"joiners": lead}} if lead else {}
        super().__init__(ProviderConfig("people", "people", "http://127.0.0.1", settings))
        self.live = live or []

    def desired(self, org: Org) -> list[Resource]:
        out = [Resource("person", k, {"unit": e.unit, "manager": e.manager})
               for k, e in org.employees.items() if e.active]
        out += [Resource("team", k, {"members": sorted(t.members)}) for k, t in org.teams.items()]
        return out

    async def read(self, progress=None) -> list[Resource]:
        return self.live

    def removal(self, kind: str):
        return "deactivate" if kind == "person" else "delete"


def person(key: str, **fields) -> Employee:
    return Employee(key=key, first_name=key, last_name="X", email=f"{key.lower()}@x.io",
                    **fields)


def org_of(*people: Employee, teams: dict[str, Team] | None = None) -> Org:
    org = Org(units={"a": Unit("a", "A", "team", hr="HR"), "b": Unit("b", "B", "team")},
              employees={e.key: e for e in people}, teams=teams or {})
    org.providers["people"] = ProviderConfig("people", "people", "http://127.0.0.1", {})
    return org


def live_of(org: Org, day: date) -> list[Resource]:
    """The live state of a system that matches `org` on `day`."""
    return [Resource(r.kind, r.key, dict(r.attrs), remote_id=r.key)
            for r in People().desired(lifecycle.evaluate(org, day))]


def plan_on(tmp_path: Path, org: Org, day: date, live: list[Resource], lead: int = 0,
            horizon: int = 30) -> Plan:
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    return make_plan(org, [People(lead, live)], {"people": live}, config, as_of=day,
                     horizon=horizon)


# -- the org on a day ------------------------------------------------------------------------

def test_a_leaver_is_active_the_day_before_and_inactive_on_the_leave_date() -> None:
    org = org_of(person("ANN", leave_date=D("2026-12-18")))
    assert lifecycle.evaluate(org, D("2026-12-17")).employees["ANN"].active
    gone = lifecycle.evaluate(org, D("2026-12-18")).employees["ANN"]
    assert gone.status == "inactive"
    assert "leave_date 2026-12-18" in gone.status_from


def test_a_joiner_is_there_from_the_start_date_less_the_system_lead_time() -> None:
    org = org_of(person("BOB", start_date=D("2026-12-21")),
                 teams={"t": Team("t", "T", members=("BOB",))})
    before = lifecycle.evaluate(org, D("2026-12-20"))
    assert "BOB" not in before.employees
    assert before.pending == {"BOB": D("2026-12-21")}
    assert before.teams["t"].members == ()  # a team waits for its joiner too
    assert "BOB" in lifecycle.evaluate(org, D("2026-12-21")).employees
    assert "BOB" in lifecycle.evaluate(org, D("2026-12-07"), lead=14).employees
    assert "BOB" not in lifecycle.evaluate(org, D("2026-12-06"), lead=14).employees


def test_a_dated_move_applies_on_its_day_and_inherits_from_the_new_unit() -> None:
    org = org_of(person("HR"), person("BOSS"),
                 person("CAT", unit="b", manager="BOSS",
                        dated=(Dated(D("2027-01-04"), {"unit": "a", "manager": None}),)))
    before = lifecycle.evaluate(org, D("2027-01-03")).employees["CAT"]
    assert (before.unit, before.manager, before.hr) == ("b", "BOSS", None)
    after = lifecycle.evaluate(org, D("2027-01-04")).employees["CAT"]
    assert (after.unit, after.manager, after.hr) == ("a", None, "HR")  # unit a's HR partner
    assert "manager" in after.cleared


def test_an_email_changed_on_a_date_keeps_the_old_one_as_an_identity() -> None:
    org = org_of(person("DEE", dated=(Dated(D("2027-01-01"), {"email": "dee.new@x.io"}),)))
    dee = lifecycle.evaluate(org, D("2027-01-01")).employees["DEE"]
    assert (dee.email, dee.previously) == ("dee.new@x.io", ("dee@x.io",))


def test_event_days_are_each_event_less_each_lead_time_within_the_horizon() -> None:
    org = org_of(person("A", start_date=D("2026-12-21")), person("B", leave_date=D("2027-03-01")))
    assert lifecycle.events_by_day(org, D("2026-11-30"), D("2026-12-30"), {0, 14}) == {
        D("2026-12-07"): {"A"}, D("2026-12-21"): {"A"}}


# -- the plan of a day -------------------------------------------------------------------------

def test_the_plan_shows_what_is_due_and_schedules_the_rest_with_its_day(tmp_path: Path) -> None:
    org = org_of(person("BOSS"), person("ANN", manager="BOSS", leave_date=D("2026-12-18")),
                 person("BOB", manager="BOSS", start_date=D("2026-12-21")))
    day = D("2026-11-30")
    plan = plan_on(tmp_path, org, day, live_of(org, day))
    assert plan.changes == []
    assert [(s.on, s.change.action, s.change.address) for s in plan.scheduled] == [
        ("2026-12-18", "deactivate", "people.person.ANN"),
        ("2026-12-21", "create", "people.person.BOB")]
    assert plan.scheduled[0].why == "ANN leaves on 2026-12-18"
    # On the leave date, the deactivation is due: not a day early, not a day late.
    eve = plan_on(tmp_path, org, D("2026-12-17"), live_of(org, day))
    assert [c.action for c in eve.changes] == []
    on_the_day = plan_on(tmp_path, org, D("2026-12-18"), live_of(org, day))
    assert [(c.action, c.key) for c in on_the_day.changes] == [("deactivate", "ANN")]


def test_a_joiner_is_created_a_lead_time_ahead_and_left_alone_before(tmp_path: Path) -> None:
    org = org_of(person("BOB", start_date=D("2026-12-21")))
    early = [Resource("person", "BOB", {"unit": None, "manager": None}, remote_id="9")]
    plan = plan_on(tmp_path, org, D("2026-12-06"), early, lead=14)
    # Made early by hand: not pruned, not changed before the joiner is due here.
    assert plan.changes == []
    assert any("joins on 2026-12-07" in f.message for f in plan.findings)
    assert [(s.on, s.change.action) for s in plan_on(tmp_path, org, D("2026-12-06"), [],
                                                      lead=14).scheduled] == [
        ("2026-12-07", "create")]
    assert [c.action for c in plan_on(tmp_path, org, D("2026-12-07"), [], lead=14).changes] \
        == ["create"]


def test_the_scheduled_section_is_in_the_plan_file_and_every_format(tmp_path: Path) -> None:
    org = org_of(person("BOSS"), person("ANN", manager="BOSS", leave_date=D("2026-12-18")))
    day = D("2026-11-30")
    plan = plan_on(tmp_path, org, day, live_of(org, day))
    path = tmp_path / "plan.json"
    plan.write(path)
    again = Plan.read(path)  # checksum and format checked on read
    assert (again.as_of, again.horizon) == ("2026-11-30", 30)
    assert [(s.on, s.why, s.change.address) for s in again.scheduled] == [
        ("2026-12-18", "ANN leaves on 2026-12-18", "people.person.ANN")]
    text = render(again, "text")
    assert "Plan of 2026-11-30; 1 change scheduled in the 30 days after it." in text
    assert "  2026-12-18 — ANN leaves on 2026-12-18\n    - deactivate people person ANN" in text
    markdown = render(again, "markdown")
    assert "### Scheduled in the next 30 days (1 change, not applied by this plan)" in markdown
    assert "**2026-12-18** — ANN leaves on 2026-12-18" in markdown


def test_a_plan_without_a_day_keeps_its_format(tmp_path: Path) -> None:
    org = org_of(person("ANN"))
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    plan = make_plan(org, [People()], {"people": []}, config)
    assert "as_of" not in plan.to_json() and "scheduled" not in plan.to_json()


# -- no one left behind ----------------------------------------------------------------------

def three_reports(**boss) -> Org:
    return org_of(person("BOSS", leave_date=D("2026-12-18"), **boss),
                  person("A1", manager="BOSS"), person("A2", manager="BOSS"),
                  person("A3", manager="BOSS", buddy="A1"), person("NEW"))


def test_a_leaver_who_manages_three_people_is_refused_naming_all_three(tmp_path: Path) -> None:
    org = three_reports()
    day = D("2026-12-18")
    plan = plan_on(tmp_path, org, day, live_of(org, D("2026-12-17")))
    safety.assess(plan, org)
    [refusal] = [r for r in plan.refusals if r.rule == "orphans"]
    assert refusal.count == 3 and refusal.override == "--allow-orphans"
    for who in ("A1", "A2", "A3"):
        assert f"{who}: manager BOSS left on 2026-12-18" in refusal.message
    with pytest.raises(SafetyError, match="3 active people would be left behind"):
        safety.enforce(plan)
    with pytest.raises(SafetyError):
        safety.enforce(plan, force=True)  # --force lifts thresholds, not this
    safety.enforce(plan, allow=["--allow-orphans"])
    assert "Refused by safety rules" in render(plan, "text")
    assert "overridden by --allow-orphans" in render(plan, "text",
                                                      allowed=["--allow-orphans"])


def test_reassigning_the_reports_on_the_leave_date_lifts_the_refusal(tmp_path: Path) -> None:
    moved = (Dated(D("2026-12-18"), {"manager": "NEW"}),)
    org = org_of(person("BOSS", leave_date=D("2026-12-18")), person("NEW"),
                 *(person(k, manager="BOSS", dated=moved) for k in ("A1", "A2", "A3")))
    plan = plan_on(tmp_path, org, D("2026-12-18"), live_of(org, D("2026-12-17")))
    safety.assess(plan, org)
    assert plan.refusals == []
    [impact] = [i for i in plan.impacts if i.day == D("2026-12-18")]
    assert impact.manager_changes == ["A1", "A2", "A3"]


def test_orphans_to_come_are_warned_about_before_their_day(tmp_path: Path) -> None:
    org = three_reports()
    plan = plan_on(tmp_path, org, D("2026-11-30"), live_of(org, D("2026-11-30")))
    safety.assess(plan, org)
    assert plan.refusals == []
    warned = sorted(f.key for f in plan.findings if f.code == "orphan")
    assert warned == ["A1", "A2", "A3"]


def test_an_open_journey_implication_held_by_a_leaver_is_an_orphan() -> None:
    from orgctl.model import Journey

    journey = Journey("onboarding", "A1", "onboarding", D("2026-12-01"),
                      implications={"buddy": "BOSS"})
    org = org_of(person("BOSS", leave_date=D("2026-12-18")),
                 person("A1", journeys=(journey,)))
    [orphan] = lifecycle.orphans(org, D("2026-12-18"))
    assert orphan.describe() == "A1: buddy on journey onboarding BOSS left on 2026-12-18"
    closed = org_of(person("BOSS", leave_date=D("2026-12-18")), person("A1", journeys=(
        Journey("onboarding", "A1", "onboarding", D("2026-11-01"), D("2026-12-01"),
                implications={"buddy": "BOSS"}),)))
    assert lifecycle.orphans(closed, D("2026-12-18")) == []  # an ended journey is history


def test_the_summary_names_units_losing_their_hr_and_rights_lost() -> None:
    org = org_of(person("HR", leave_date=D("2026-12-18"), role="hr"), person("ANN", unit="a"))
    impact = lifecycle.impact(lifecycle.evaluate(org, D("2026-12-17")),
                              lifecycle.evaluate(org, D("2026-12-18")))
    assert impact.units_losing_hr == ["a"]
    assert impact.admin_lost == ["HR"]


def test_today_is_a_day_in_the_config_time_zone(monkeypatch) -> None:
    from datetime import datetime, timezone

    from orgctl.model import Lifecycle

    monkeypatch.delenv(lifecycle.TODAY_VARIABLE, raising=False)
    late = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert lifecycle.today(Org(), late) == D("2026-12-31")
    assert lifecycle.today(Org(lifecycle=Lifecycle("Europe/Paris")), late) == D("2027-01-01")
    monkeypatch.setenv(lifecycle.TODAY_VARIABLE, "2027-02-03")
    assert lifecycle.today(Org()) == D("2027-02-03")


def test_each_scheduled_day_says_what_is_due_whatever_the_lead_time(tmp_path: Path) -> None:
    """Before: a system with a lead time described only the days its lead time falls
    on, so the leave day itself showed no reason."""
    org = org_of(person("BOSS"), person("ANN", manager="BOSS", leave_date=D("2026-12-18")),
                 person("BOB", start_date=D("2026-12-21")))
    day = D("2026-11-30")
    plan = plan_on(tmp_path, org, day, live_of(org, day), lead=14)
    assert {(s.on, s.why) for s in plan.scheduled} == {
        ("2026-12-07", "BOB starts on 2026-12-21 (14 days ahead)"),
        ("2026-12-18", "ANN leaves on 2026-12-18")}
