"""What a plan computes, counted (issue 18): an org without dates has its desired state
computed once per system, the scheduled section adds none; a large plan leaves what it
allocated out of the cyclic collector's reach."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from orgctl import commands
from orgctl import config as org_config
from tests.engine.memory_provider import MemoryProvider
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
