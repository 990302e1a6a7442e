"""Joiners, movers and leavers in Workelo (issue 15), without a socket: the journeys an
employee's dates imply in `desired()` of an org evaluated on a day, and how
`match_live()` and the plan match them to live tracks (open by person and mobility;
closed and cancelled ones are history, never diffed)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from orgctl import lifecycle
from orgctl.engine.plan import plan_provider
from orgctl.errors import ProviderError
from orgctl.model import Dated, Employee, Journey, Org, ProviderConfig, Unit
from orgctl.providers.workelo import WorkeloProvider
from orgctl.providers.workelo.journeys import GRACE_DAYS
from orgctl.resources import Change, Finding, Resource

START = date(2027, 1, 4)
LEAVE = date(2027, 2, 1)
MOVE = date(2027, 3, 1)
LEAD = 14
UNITS = [Unit("acme", "Acme", "Group"), Unit("eng", "Engineering", "Division", parent="acme"),
         Unit("sales", "Sales", "Division", parent="acme")]
# What read() resolves through GET /templates?mobility=&unit_organization_id= (the e2e
# tests read it from the emulator): (mobility, unit) -> template names.
TEMPLATES = {("onboarding", "eng"): ("Engineering onboarding", "Standard onboarding"),
             ("offboarding", "eng"): ("Standard offboarding",),
             ("crossboarding", "sales"): ("Sales mobility",),
             ("onboarding", "sales"): ()}

MARIE = Employee("EMP-1", "Marie", "Dubois", "marie@acme.io", unit="eng", role="manager")
PAUL = Employee("EMP-2", "Paul", "Martin", "paul@acme.io", unit="acme", role="hr")
LEA = Employee("EMP-3", "Lea", "Roux", "lea@acme.io", unit="eng", manager="EMP-1",
               hr="EMP-2", start_date=START)
TOM = Employee("EMP-4", "Tom", "Petit", "tom@acme.io", unit="eng", manager="EMP-1",
               leave_date=LEAVE)
ANA = Employee("EMP-5", "Ana", "Lima", "ana@acme.io", unit="eng", manager="EMP-1",
               dated=(Dated(MOVE, {"unit": "sales", "manager": "EMP-2"}),))


def provider(**lifecycle_block: Any) -> WorkeloProvider:
    settings: dict[str, Any] = {"client_id": "id", "client_secret": "secret"}
    if lifecycle_block:
        settings["lifecycle"] = lifecycle_block
    made = WorkeloProvider(ProviderConfig("workelo", "workelo", "https://workelo.test/v1",
                                          settings))
    made._unit_templates = dict(TEMPLATES)  # as read() leaves it
    return made


def org_of(*employees: Employee) -> Org:
    return Org(units={u.key: u for u in UNITS},
               employees={e.key: e for e in (MARIE, PAUL, *employees)})


def view(p: WorkeloProvider, org: Org, day: date) -> Org:
    """The org on `day` as the engine hands it to Workelo, bound."""
    evaluated = lifecycle.evaluate(org, day, p.lead_days("joiners"))
    p.bind(evaluated)
    return evaluated


def desired(p: WorkeloProvider, org: Org, day: date) -> dict[str, Resource]:
    return {f"{r.kind}.{r.key}": r for r in p.desired(view(p, org, day))}


def journeys(p: WorkeloProvider, org: Org, day: date) -> dict[str, Resource]:
    return {k.removeprefix("journey."): r for k, r in desired(p, org, day).items()
            if r.kind == "journey"}


def track(remote_id: int, owner: str, mobility: str, start: date, status: str,
          **attrs: Any) -> Resource:
    """A live journey as read() gives it (keyed as `_normalise_tracks` keys it)."""
    return Resource(kind="journey", key=f"{owner}.{mobility}",
                    attrs={"mobility": mobility, "start_date": start.isoformat(),
                           "started": status != "draft", "implications": {}, **attrs},
                    identities=(f"journey:{owner}/{mobility}",), remote_id=str(remote_id),
                    server={"status": status})


def person(e: Employee, remote_id: int, status: str = "active") -> Resource:
    attrs = {"external_id": e.key, "first_name": e.first_name, "last_name": e.last_name,
             "email": e.email, "role": e.role, "unit": e.unit, "status": status}
    return Resource(kind="employee", key=e.key, attrs=attrs,
                    identities=(f"email:{e.email}",), remote_id=str(remote_id))


def plan(p: WorkeloProvider, org: Org, day: date, tracks: list[Resource],
         people: list[Resource] | None = None) -> tuple[list[Change], list[Finding]]:
    """What the plan of `day` shows for Workelo against these live tracks (every employee
    of the org live and active, unless `people` says otherwise)."""
    evaluated = view(p, org, day)
    if people is None:
        people = [person(e, 100 + n) for n, e in enumerate(evaluated.employees.values())]
    units = [Resource(kind="unit", key=u.key, remote_id=str(10 + n),
                      attrs={"external_id": u.key, "name": u.name, "level": u.level.lower(),
                             "parent": u.parent}, identities=(f"name:{u.parent or ''}/{u.name}",))
             for n, u in enumerate(UNITS)]
    changes, findings, _, _ = plan_provider(p, evaluated, units + people + tracks)
    return changes, [f for f in findings if f.kind == "journey"]


def summary(changes: list[Change]) -> list[tuple[str, str]]:
    return sorted((c.action, c.address) for c in changes)


# -- the journeys the dates imply -------------------------------------------------------------

def test_a_joiners_onboarding_is_wanted_from_the_lead_day_with_a_fixed_invitation() -> None:
    p = provider()
    org = org_of(LEA)
    lead_day = START - timedelta(days=LEAD)

    assert journeys(p, org, lead_day - timedelta(days=1)) == {}
    seen = [journeys(p, org, day) for day in (lead_day, START, START + timedelta(GRACE_DAYS))]
    for wanted in seen:
        (onboarding,) = wanted.values()
        assert onboarding.key == "EMP-3.onboarding-2027-01-04"
        assert onboarding.attrs == {
            "mobility": "onboarding", "start_date": "2027-01-04", "started": True,
            "invite_at": "2026-12-21",  # the lead day, whichever day the plan is of
            "templates": ["Engineering onboarding", "Standard onboarding"],
            "implications": {"hr": "EMP-2", "manager": "EMP-1"}}
        assert onboarding.source == "start_date"
        assert onboarding.refs["unit"] == "workelo.unit.eng"
    # Past the grace period an old start date creates nothing.
    assert journeys(p, org, START + timedelta(GRACE_DAYS + 1)) == {}


def test_lead_times_come_from_the_provider_block() -> None:
    p = provider(joiners=3, leavers=0)
    assert journeys(p, org_of(LEA), START - timedelta(days=4)) == {}
    (onboarding,) = journeys(p, org_of(LEA), START - timedelta(days=3)).values()
    assert onboarding.attrs["invite_at"] == "2027-01-01"
    assert journeys(p, org_of(TOM), LEAVE - timedelta(days=1)) == {}
    assert set(journeys(p, org_of(TOM), LEAVE)) == {"EMP-4.offboarding-2027-02-01"}
    assert p.leads() == {3, 0, 14}


def test_a_leavers_offboarding_is_wanted_from_the_lead_day_and_the_leave_day_changes_nothing(
        ) -> None:
    p = provider()
    p._live_people = {"EMP-4"}  # as read() leaves it: Workelo has Tom
    org = org_of(TOM)
    lead_day = LEAVE - timedelta(days=LEAD)

    assert journeys(p, org, lead_day - timedelta(days=1)) == {}
    (offboarding,) = journeys(p, org, lead_day).values()
    assert offboarding.attrs["invite_at"] == "2027-01-18"
    assert offboarding.attrs["templates"] == ["Standard offboarding"]
    assert offboarding.attrs["implications"] == {"manager": "EMP-1"}
    # On the leave day the view has Tom inactive; Workelo has nothing more to do: the
    # employee resource is the same as the day before (no status to "deactivate").
    day_before = desired(p, org, LEAVE - timedelta(days=1))
    leave_day = desired(p, org, LEAVE)
    assert not view(p, org, LEAVE).employees["EMP-4"].active
    assert leave_day["employee.EMP-4"].attrs == day_before["employee.EMP-4"].attrs
    assert "status" not in leave_day["employee.EMP-4"].attrs
    # A leaver Workelo does not have keeps the status, so that nothing plans to create them.
    p._live_people = set()
    assert desired(p, org, LEAVE)["employee.EMP-4"].attrs["status"] == "inactive"
    p._live_people = {"EMP-4"}
    # Once the offboarding is no longer wanted, a leaver Workelo does not show offboarded
    # is the usual manual reminder.
    after = desired(p, org, LEAVE + timedelta(days=GRACE_DAYS + 1))
    assert after["employee.EMP-4"].attrs["status"] == "inactive"
    assert not [k for k in after if k.startswith("journey.")]


def test_a_move_gets_a_crossboarding_only_when_the_policy_asks() -> None:
    org = org_of(ANA)
    lead_day = MOVE - timedelta(days=LEAD)
    assert journeys(provider(), org, lead_day) == {}

    p = provider(crossboarding=True)
    assert journeys(p, org, lead_day - timedelta(days=1)) == {}
    for day in (lead_day, MOVE, MOVE + timedelta(days=GRACE_DAYS)):
        (crossboarding,) = journeys(p, org, day).values()
        assert crossboarding.key == "EMP-5.crossboarding-2027-03-01"
        assert crossboarding.source == "changes"
        # The new unit's templates, and the relations the move gives, from the lead day on.
        assert crossboarding.attrs["templates"] == ["Sales mobility"]
        assert crossboarding.attrs["implications"] == {"manager": "EMP-2"}
        assert crossboarding.attrs["invite_at"] == "2027-02-15"


def test_a_dated_change_that_keeps_the_unit_is_no_move() -> None:
    p = provider(crossboarding=True)
    promoted = dataclasses.replace(ANA, dated=(
        Dated(MOVE, {"manager": "EMP-2", "job_position": "Lead"}),
        Dated(MOVE + timedelta(days=60), {"unit": "eng"})))
    for day in (MOVE - timedelta(days=LEAD), MOVE, MOVE + timedelta(days=50)):
        assert journeys(p, org_of(promoted), day) == {}


def test_a_journey_written_by_hand_wins_over_the_implied_one() -> None:
    p = provider()
    written = Journey("onboarding", "EMP-3", "onboarding", START,
                      templates=("Standard onboarding",))
    lea = dataclasses.replace(LEA, journeys=(written,))
    assert set(journeys(p, org_of(lea), START)) == {"EMP-3.onboarding"}
    # Another start date is another journey: both are wanted.
    old = dataclasses.replace(written, start_date=date(2019, 9, 2))
    lea = dataclasses.replace(LEA, journeys=(old,))
    assert set(journeys(p, org_of(lea), START)) == {"EMP-3.onboarding",
                                                    "EMP-3.onboarding-2027-01-04"}


def test_an_org_not_evaluated_on_a_date_implies_no_journey() -> None:
    p = provider(crossboarding=True)
    org = org_of(LEA, TOM, ANA)
    p.bind(org)
    assert [r for r in p.desired(org) if r.kind == "journey"] == []


def test_crossboarding_must_be_true_or_false() -> None:
    with pytest.raises(ProviderError, match="lifecycle.crossboarding` must be true or false"):
        provider(crossboarding="yes")


# -- matching live tracks ------------------------------------------------------------------

def test_a_rehire_gets_a_new_onboarding() -> None:
    """Before: the closed onboarding of 2019 took the key EMP-3.onboarding, so the
    rehire's onboarding was an update of it, refused as manual on every plan."""
    p = provider()
    written = Journey("onboarding", "EMP-3", "onboarding", START,
                      templates=("Standard onboarding",))
    rehired = dataclasses.replace(LEA, journeys=(written,))
    closed = track(7, "EMP-3", "onboarding", date(2019, 9, 2), "closed")
    changes, findings = plan(p, org_of(rehired), START - timedelta(days=LEAD), [closed])
    assert summary(changes) == [("create", "workelo.journey.EMP-3.onboarding")]
    assert findings == []
    # The same with the onboarding the start date implies.
    changes, findings = plan(p, org_of(LEA), START - timedelta(days=LEAD), [closed])
    assert summary(changes) == [("create", "workelo.journey.EMP-3.onboarding-2027-01-04")]
    assert findings == []


def test_a_closed_journey_is_the_journey_of_its_date() -> None:
    p = provider()
    done = track(7, "EMP-3", "onboarding", START, "closed",
                 templates=["Standard onboarding"], invite_at="2026-12-01")
    for status in ("closed", "cancelled"):
        changes, findings = plan(p, org_of(LEA), START + timedelta(days=5),
                                 [dataclasses.replace(done, server={"status": status})])
        assert changes == [] and findings == []


def test_closed_and_cancelled_journeys_never_appear_in_a_plan() -> None:
    p = provider()
    history = [track(7, "EMP-1", "onboarding", date(2020, 1, 6), "closed"),
               track(8, "EMP-1", "offboarding", date(2026, 3, 1), "cancelled"),
               track(9, "EMP-2", "crossboarding", date(2026, 5, 4), "closed")]
    changes, findings = plan(p, org_of(), date(2026, 12, 1), history)
    assert changes == [] and findings == []


def test_an_unmanaged_open_journey_is_still_reported() -> None:
    p = provider()
    foreign = track(9, "EMP-2", "crossboarding", date(2026, 11, 2), "in_progress")
    _, findings = plan(p, org_of(), date(2026, 12, 1), [foreign])
    assert [(f.key, f.level) for f in findings] == [("EMP-2.crossboarding", "info")]


def test_a_postponed_start_date_is_an_update_of_the_open_journey() -> None:
    p = provider()
    live = track(7, "EMP-3", "onboarding", START, "scheduled", invite_at="2026-12-21",
                 templates=["Engineering onboarding", "Standard onboarding"],
                 implications={"hr": "EMP-2", "manager": "EMP-1"})
    later = START + timedelta(days=7)
    changes, findings = plan(p, org_of(dataclasses.replace(LEA, start_date=later)),
                             START - timedelta(days=3), [live])
    assert [(c.action, c.key, c.remote_id, c.fields) for c in changes] == [
        ("update", "EMP-3.onboarding-2027-01-11", "7",
         {"start_date": ["2027-01-04", "2027-01-11"]})]
    assert findings == []


def test_an_implied_journey_past_its_grace_is_left_alone_silently() -> None:
    """Workelo keeps a journey open longer than the grace period: it is orgctl's own, in
    progress, not an unmanaged object to report on every plan."""
    p = provider()
    live = track(7, "EMP-3", "onboarding", START, "in_progress")
    changes, findings = plan(p, org_of(LEA), START + timedelta(days=GRACE_DAYS + 20), [live])
    assert changes == [] and findings == []


def test_no_template_for_the_unit_is_a_manual_create_saying_so() -> None:
    p = provider()
    joiner = dataclasses.replace(LEA, unit="sales")
    changes, _ = plan(p, org_of(joiner), START, [])
    (change,) = [c for c in changes if c.kind == "journey"]
    assert change.action == "manual"
    assert ("Workelo has no onboarding template for unit sales (GET /templates?"
            "mobility=onboarding&unit_organization_id=… lists none)") in change.reason


def test_a_unit_workelo_does_not_have_yet_gets_its_templates_at_create() -> None:
    p = provider()
    p._unit_templates = {}  # the unit was not in Workelo when read
    (onboarding,) = journeys(p, org_of(LEA), START).values()
    assert "templates" not in onboarding.attrs
    assert onboarding.refs["unit"] == "workelo.unit.eng"


# -- leavers ---------------------------------------------------------------------------------

def test_an_offboarding_created_in_the_same_plan_leaves_no_manual_deactivation() -> None:
    """Before: a leaver whose offboarding this plan creates was also a manual "deactivate"
    (Workelo documents none), though the journey is how Workelo records leaving."""
    p = provider()
    offboarding = Journey("offboarding", "EMP-2", "offboarding", date(2026, 12, 1),
                          templates=("Standard offboarding",))
    gone = dataclasses.replace(PAUL, status="inactive", journeys=(offboarding,))
    org = Org(units={u.key: u for u in UNITS}, employees={"EMP-1": MARIE, "EMP-2": gone})
    changes, _ = plan(p, org, date(2026, 11, 20), [])
    assert [c.address for c in changes] == ["workelo.journey.EMP-2.offboarding"]
    assert "deactivate" not in changes[0].reason  # (the e2e tests create it)


def test_a_leaver_by_date_with_an_offboarding_in_workelo_plans_nothing() -> None:
    p = provider()
    live = track(7, "EMP-4", "offboarding", LEAVE, "in_progress", invite_at="2027-01-18",
                 templates=["Standard offboarding"], implications={"manager": "EMP-1"})
    people = [person(MARIE, 1), person(PAUL, 2), person(TOM, 4, status="inactive")]
    for day in (LEAVE - timedelta(days=1), LEAVE, LEAVE + timedelta(days=GRACE_DAYS + 1)):
        changes, findings = plan(p, org_of(TOM), day, [live], people)
        assert changes == [] and findings == [], day
