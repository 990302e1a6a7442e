"""What a plan computes, counted (issue 18): an org without dates has its desired state
computed once per system, the scheduled section adds none; a large plan leaves what it
allocated out of the cyclic collector's reach."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from orgctl import commands
from orgctl import config as org_config
from tests.engine.memory_provider import DIRECTORIES, MemoryProvider
from tests.engine.test_fifth_system import config


def test_an_org_without_dates_computes_its_desired_state_once(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    desired = MemoryProvider.desired

    def counted(self: MemoryProvider, org):  # type: ignore[no-untyped-def]
        calls.append(self.name)
        return desired(self, org)

    monkeypatch.setattr(MemoryProvider, "desired", counted)
    made = commands.plan(config(tmp_path, "once"))
    assert made.plan.as_of and not made.plan.scheduled
    assert calls == ["directory"]


def test_a_large_plan_is_frozen_out_of_the_collector_a_small_one_is_not(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_freeze_count()
    try:
        commands.plan(config(tmp_path, "small"))
        assert gc.get_freeze_count() == before
        monkeypatch.setattr(org_config, "FREEZE_AFTER", 0)  # as if it were large
        commands.plan(config(tmp_path, "large"))
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_remote_ids_are_made_when_first_asked_for(registered: None, tmp_path: Path) -> None:
    """A plan that is only shown never needs every live object's address (`Plan.ids`,
    400,000 of them at 100,000 people): they are made when apply first asks."""
    path = config(tmp_path, "ids")
    commands.apply(path, confirm=lambda plan: True)
    plan = commands.plan(path).plan
    assert plan._ids is None
    assert plan.ids == {"directory.unit.acme": "m-1", "directory.unit.eng": "m-2",
                        "directory.person.EMP-1": "m-3", "directory.person.EMP-2": "m-4"}
    assert plan.ids is plan.ids  # made once: apply adds what it creates to the same dict


def test_every_live_attribute_that_moves_moves_the_fingerprint(registered: None,
                                                                tmp_path: Path) -> None:
    """An object equal to its config is written short in the fingerprint (its kind, key and
    id: the config says the rest), yet the fingerprint still moves with any live attribute,
    set by the config or not, so `apply plan.json` refuses a plan made before it moved."""
    path = config(tmp_path, "moves")
    commands.apply(path, confirm=lambda plan: True)
    person = DIRECTORIES["http://127.0.0.1:9/moves"][("person", "EMP-1")][1]

    def fingerprint() -> str:
        plan = commands.plan(path).plan
        return plan.fingerprints["directory"]

    equal = fingerprint()
    person["email"] = "someone.else@acme.test"  # set by the config: now a change
    moved = fingerprint()
    person["email"] = commands.load(path).employees["EMP-1"].email
    assert moved != equal and fingerprint() == equal
    person["phone"] = "+33 1"  # not in the config: no change planned, the fingerprint moves
    assert not commands.plan(path).plan.has_changes
    extra = fingerprint()
    person["phone"] = "+33 2"
    assert len({equal, extra, fingerprint()}) == 3


def test_a_fingerprint_writes_equal_objects_short_and_the_others_in_full() -> None:
    """An object equal to the config is its kind, key and id; one holding the config's
    attributes and more is those with the others; any other object is written whole."""
    from orgctl.engine.plan import Seen, fingerprint
    from orgctl.resources import Resource

    def person(**attrs: object) -> Resource:
        return Resource("person", "EMP-1", attrs, remote_id="m-1")

    wanted = {"email": "a@acme.test"}

    def covered(r: Resource) -> str:
        return fingerprint(Seen([r], covered=[(r, wanted)]))

    base = person(email="a@acme.test", phone="+33 1")
    # The attributes the config sets are its digest's to pin, not the fingerprint's...
    assert covered(base) == covered(person(email="b@acme.test", phone="+33 1"))
    # ...every other one moves it.
    assert covered(base) != covered(person(email="a@acme.test", phone="+33 2"))
    assert covered(base) != covered(person(email="a@acme.test"))
    short = fingerprint(Seen([base], same=[base]))
    full = fingerprint(Seen([base]))
    assert len({short, full, covered(base)}) == 3
    assert fingerprint(Seen([base, person()], same=[base])) != short


def test_the_fingerprint_is_of_live_state_as_the_provider_matched_it(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider whose `match_live` gives new objects (Worklete re-keys its teams and
    memberships) still has those equal to the config written short: the plan is made
    from them, so the fingerprint is too."""
    import dataclasses

    path = config(tmp_path, "matched")
    commands.apply(path, confirm=lambda plan: True)
    as_read = commands.plan(path).plan.fingerprints["directory"]
    monkeypatch.setattr(MemoryProvider, "match_live", lambda self, desired, live: [
        dataclasses.replace(r) for r in live])
    plan = commands.plan(path).plan
    assert not plan.has_changes
    assert plan.fingerprints["directory"] == as_read
