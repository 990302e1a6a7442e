"""The plan by person (issue 17 item 1): whom each change concerns, found from its key
without knowing any system, with names the plan file carries; what a person's changes
amount to; the per-system table; and the reporting lines and rights that move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orgctl.engine.plan import Plan
from orgctl.engine.subjects import concerned
from orgctl.errors import OrgctlError
from orgctl.render import people, render
from orgctl.render.common import Names

from .planning import org, plan_of


def test_a_change_concerns_the_person_in_its_key_before_a_unit_or_a_team(
        tmp_path: Path) -> None:
    plan = plan_of(tmp_path, org(), [
        {"kind": "scope", "key": "EMP-1:eng", "attrs": {"employee": "EMP-1", "unit": "eng"}},
        {"kind": "journey", "key": "EMP-2.onboarding", "attrs": {"mobility": "onboarding"}},
        {"kind": "team_admin", "key": "eng:EMP-1"},
        {"kind": "unit", "key": "eng", "attrs": {"name": "Engineering"}},  # unit and team key
        {"kind": "mapping", "key": "id:9", "attrs": {"role": "member"}},  # nobody
    ])
    names = Names(plan)
    whom = {c.key: (s.id if (s := names.of(c.key)) else None) for c in plan.changes}
    assert whom == {"EMP-1:eng": "employee:EMP-1", "EMP-2.onboarding": "employee:EMP-2",
                    "eng:EMP-1": "employee:EMP-1", "eng": "unit:eng", "id:9": None}
    groups = people.by_subject(plan, names)
    assert [(g.subject.id if g.subject else None, len(g.changes)) for g in groups] == [
        ("employee:EMP-1", 2), ("employee:EMP-2", 1), ("unit:eng", 1), (None, 1)]
    # The rule is the same against the plan's table as against the config.
    assert concerned("eng", plan.subjects) == "unit:eng"


def test_the_plan_file_carries_the_names_so_show_needs_no_config(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, org(), [
        {"kind": "employee", "key": "EMP-1", "attrs": {"email": "ann@acme.io", "unit": "eng"}},
        {"kind": "mapping", "key": "eng:EMP-2", "attrs": {"team": "eng", "member": "EMP-2"}}])
    path = tmp_path / "plan.json"
    plan.write(path)
    data = json.loads(path.read_text())
    # People the changes concern, their units, and what a change names (the team).
    assert data["subjects"] == {
        "employee:EMP-1": {"name": "Ann Lee", "unit": "eng"},
        "employee:EMP-2": {"name": "Bob Stone", "unit": "data"},
        "team:eng": {"name": "Platform"}, "unit:data": {"name": "Data"},
        "unit:eng": {"name": "Engineering"}}
    shown = render(Plan.read(path), "text", by="person")
    assert "Ann Lee (EMP-1) — joins Engineering · fake adds employee" in shown
    assert "  + fake employee EMP-1 (Ann Lee)\n" in shown
    assert '      unit: "eng" (Engineering)\n' in shown
    # The names are covered by the checksum like every other part of the plan.
    data["subjects"]["employee:EMP-1"]["name"] = "Someone Else"
    path.write_text(json.dumps(data))
    with pytest.raises(OrgctlError, match="checksum mismatch"):
        Plan.read(path)


def test_a_plan_without_subjects_keeps_the_checksum_it_always_had(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, org(), [{"kind": "mapping", "key": "id:9", "attrs": {"a": 1}}])
    assert plan.subjects == {} and "subjects" not in plan.body()
    assert "refusals" not in plan.body()


def test_headlines_say_what_the_changes_amount_to(tmp_path: Path) -> None:
    the_org = org()
    the_org.employees["EMP-3"] = the_org.employees["EMP-3"].__class__(
        "EMP-3", "Chloé", "Brun", "chloe@acme.io", status="inactive")
    plan = plan_of(tmp_path, the_org, [
        {"kind": "employee", "key": "EMP-1", "attrs": {"email": "ann@acme.io"}},
        {"kind": "scope", "key": "EMP-1:data", "attrs": {"unit": "data"}},
        {"kind": "employee", "key": "EMP-2", "attrs": {"unit": "eng", "email": "bob@acme.io"}},
        {"kind": "team_admin", "key": "eng:EMP-3"},
        {"kind": "unit", "key": "data", "attrs": {"name": "Data"}},
    ], live=[
        {"kind": "employee", "key": "EMP-2", "remote_id": "2",
         "attrs": {"unit": "data", "email": "bob@old.io"}},
        {"kind": "employee", "key": "EMP-3", "remote_id": "3", "attrs": {"status": "active"}},
        {"kind": "unit", "key": "data", "remote_id": "4", "attrs": {"name": "BI"}},
    ], settings={"prune": {"employee": True}})
    names = Names(plan)
    said = {g.subject.key: people.summary(g, names) for g in people.by_subject(plan, names)}
    assert said == {
        "EMP-1": "joins Engineering · fake adds employee and scope Data",
        "EMP-2": "moves to Engineering · fake changes employee (email, unit)",
        # A kind named after a subject kind says what its key names: the team, not the unit.
        "EMP-3": "leaves · fake deactivates employee, adds team_admin Platform",
        "data": "changes name · fake changes unit (name)",
    }


def test_per_system_table_and_the_impact_on_reporting_lines_and_rights(
        tmp_path: Path) -> None:
    plan = plan_of(tmp_path, org(), [
        # A joiner: their first manager is part of joining, not a line that moves.
        {"kind": "journey", "key": "EMP-1.onboarding", "attrs": {
            "implications": {"manager": "EMP-2"}}},
        {"kind": "employee", "key": "EMP-1", "attrs": {"role": "colleague"}},
        # A mover: their new journey names a new manager; they become a manager.
        {"kind": "journey", "key": "EMP-2.crossboarding", "attrs": {
            "implications": {"manager": "EMP-1", "second_manager": "EMP-3"}}},
        {"kind": "employee", "key": "EMP-2", "attrs": {"role": "manager"}},
        # Someone made a team admin, someone no longer one.
        {"kind": "team_admin", "key": "eng:EMP-3"},
    ], live=[
        {"kind": "employee", "key": "EMP-2", "remote_id": "2", "attrs": {"role": "colleague"}},
        {"kind": "team_admin", "key": "eng:EMP-2", "remote_id": "9"},
    ], settings={"prune": {"team_admin": True}})
    names = Names(plan)
    found = people.impacts(plan, names)
    assert [(r.person, r.role, r.old, r.new, r.systems) for r in found.reporting] == [
        ("EMP-2", "manager", None, "EMP-1", ("fake",)),
        ("EMP-2", "second_manager", None, "EMP-3", ("fake",))]
    assert [(r.person, r.what, r.place) for r in found.gained] == [
        ("EMP-2", "role manager", "fake employee"),
        ("EMP-3", "team_admin Platform", "fake")]
    assert [(r.person, r.what) for r in found.lost] == [("EMP-2", "team_admin Platform")]
    assert people.system_counts(plan) == {
        "fake": {"add": 4, "change": 1, "remove": 1, "manual": 0}}

    text = render(plan, "text", by="person")
    assert "Reporting lines that change (2):\n" in text
    assert "  · Bob Stone (EMP-2): manager (none) → Ann Lee (EMP-1) (fake)\n" in text
    assert "Rights gained (2):\n  · Bob Stone (EMP-2): role manager (fake employee)\n" in text
    assert "Rights lost (1):\n  · Bob Stone (EMP-2): team_admin Platform (fake)\n" in text
    assert text.startswith("  system    add  change  remove  manual\n"
                           "  fake        4       1       1       0\n")
