"""How a plan was asked for travels with it (issue 14 items 2 and 6), through the CLI and a
provider defined under tests/ (so no emulator is involved): a saved `--target` plan is
applied, not refused as stale; duplicates keep `--detailed-exitcode` from saying "no
changes", and `--remove-duplicates` plans all but the oldest away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orgctl.resources import Resource
from tests.e2e.conftest import run_orgctl
from tests.engine.memory_provider import DIRECTORIES, MemoryProvider
from tests.engine.test_fifth_system import config


def test_a_plan_saved_with_target_is_applied_not_refused_as_stale(
        registered: None, tmp_path: Path) -> None:
    """Before: apply re-planned without the target, got a different plan, and refused
    every such plan as stale."""
    path = config(tmp_path, "target")
    saved = tmp_path / "plan.json"
    planned = run_orgctl("plan", path, "--target", "directory.person.EMP-2", "-o", saved)
    assert planned.exit_code == 0, planned.output
    assert json.loads(saved.read_text())["options"] == {
        "targets": ["directory.person.EMP-2"]}
    applied = run_orgctl("apply", saved, "--no-progress")
    assert applied.exit_code == 0, applied.output
    assert sorted(key for _kind, key in DIRECTORIES["http://127.0.0.1:9/target"]) == [
        "EMP-2", "acme", "eng"]  # the target and what it depends on, not EMP-1


def with_a_second_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """EMP-1 held twice by the directory: the copy made later has the higher id."""
    read = MemoryProvider.read

    async def doubled(self: MemoryProvider, progress=None) -> list[Resource]:
        live = await read(self, progress)
        copies = [Resource(r.kind, r.key, dict(r.attrs), remote_id="m-99")
                  for r in live if r.key == "EMP-1"]
        return live + copies

    monkeypatch.setattr(MemoryProvider, "read", doubled)


def test_duplicates_are_errors_that_detailed_exitcode_does_not_call_no_changes(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config(tmp_path, "dups")
    assert run_orgctl("apply", path, "--auto-approve", "--no-progress").exit_code == 0
    with_a_second_copy(monkeypatch)
    plan = run_orgctl("plan", path, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "Errors:" in plan.stdout
    assert "directory.person.EMP-1: 2 live objects match this one (m-1, m-99)" in plan.stdout \
        or "directory.person.EMP-1: 2 live objects match this one (m-3, m-99)" in plan.stdout
    assert "No changes, but 1 error above needs attention" in plan.stdout

    removing = run_orgctl("plan", path, "--remove-duplicates", "--format", "json")
    changes = json.loads(removing.stdout)["changes"]
    assert [(c["action"], c["remote_id"]) for c in changes] == [("delete", "m-99")]
    assert "duplicate of EMP-1" in changes[0]["reason"]


def test_a_target_that_names_nothing_is_an_error_naming_it(
        registered: None, tmp_path: Path) -> None:
    """Issue 17: `--target directory.persn.EMP-2` (a typo) said "No changes", exit 0."""
    path = config(tmp_path, "typo")
    result = run_orgctl("plan", path, "--target", "directory.persn.EMP-2")
    assert result.exit_code == 1
    assert ("--target directory.persn.EMP-2: matches nothing in the config or the live"
            in result.stderr)
    in_sync = run_orgctl("plan", path, "--target", "directory.person.EMP-1")
    assert in_sync.exit_code == 0  # names a real object: fine, even with nothing to do


def test_apply_dir_takes_target_and_provider(registered: None, tmp_path: Path) -> None:
    """Issue 17: `apply DIR` had neither option."""
    path = config(tmp_path, "narrow")
    result = run_orgctl("apply", path, "--target", "directory.person.EMP-2", "--provider",
                        "directory", "--auto-approve", "--no-progress")
    assert result.exit_code == 0, result.output
    assert sorted(key for _kind, key in DIRECTORIES["http://127.0.0.1:9/narrow"]) == [
        "EMP-2", "acme", "eng"]


def test_a_provider_run_needs_no_other_systems_credentials(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: `plan --provider directory` failed on the other providers' unset ${ENV}."""
    path = config(tmp_path, "only")
    monkeypatch.delenv("OTHER_SECRET", raising=False)
    text = (path / "org.yaml").read_text(encoding="utf-8").replace("providers:\n", (
        "providers:\n  elsewhere:\n    type: hrms\n    url: https://x.example/api\n"
        "    token: ${OTHER_SECRET}\n    environment: staging\n"), 1)
    (path / "org.yaml").write_text(text, encoding="utf-8")
    everything = run_orgctl("plan", path)
    assert everything.exit_code == 1 and "OTHER_SECRET is not set" in everything.stderr
    narrowed = run_orgctl("plan", path, "--provider", "directory", "--detailed-exitcode")
    assert narrowed.exit_code == 2, narrowed.output
