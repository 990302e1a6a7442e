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
