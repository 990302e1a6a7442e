"""A fifth system needs no engine change: a provider defined under tests/, registered with
one registry line, is planned, applied and imported through the command layer and the
CLI exactly like the built-in four."""

from __future__ import annotations

from pathlib import Path

from orgctl import commands
from tests.e2e.conftest import run_orgctl
from tests.engine import memory_provider
from tests.engine.memory_provider import DIRECTORIES, TYPE

CONFIG = """\
version: 1
providers:
  directory:
    type: memory
    url: http://127.0.0.1:9/{tenant}
units:
  acme: {{name: Acme, level: Group}}
  eng: {{name: Engineering, level: Division, parent: acme}}
employees:
  EMP-1: {{first_name: Ada, last_name: Lovelace, email: ada@acme.test, unit: eng}}
  EMP-2: {{first_name: Alan, last_name: Turing, email: alan@acme.test, unit: eng,
          manager: EMP-1}}
"""



def config(tmp_path: Path, tenant: str) -> Path:
    root = tmp_path / tenant
    root.mkdir()
    (root / "org.yaml").write_text(CONFIG.format(tenant=tenant), encoding="utf-8")
    return root


def counts(plan) -> dict[str, int]:
    return {action: n for action, n in plan.counts().items() if n}


def test_plan_apply_import_through_the_command_layer(registered: None, tmp_path: Path):
    path = config(tmp_path, "commands")
    first = commands.plan(path)
    assert counts(first.plan) == {"create": 4}
    assert {c.address for c in first.plan.changes} == {
        "directory.unit.acme", "directory.unit.eng",
        "directory.person.EMP-1", "directory.person.EMP-2"}

    report = commands.apply(path, confirm=lambda plan: True)
    assert report.status == "applied" and report.result is not None and report.result.ok
    assert len(DIRECTORIES["http://127.0.0.1:9/commands"]) == 4
    assert commands.plan(path).plan.has_changes is False

    out = tmp_path / "imported"
    result = commands.import_config(TYPE, out, path=path)
    assert sorted(result.org.employees) == ["EMP-1", "EMP-2"]
    assert result.org.units["eng"].parent == "acme"
    assert commands.plan(out).plan.has_changes is False


def test_plan_apply_import_through_the_cli(registered: None, tmp_path: Path):
    path = config(tmp_path, "cli")
    planned = run_orgctl("plan", path, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "directory\n  + unit acme\n" in planned.stdout
    assert '+ person EMP-2\n      email: "alan@acme.test"' in planned.stdout
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in planned.stdout

    applied = run_orgctl("apply", path, "--auto-approve", "--no-progress")
    assert applied.exit_code == 0, applied.output
    assert "4 applied" in applied.stdout
    assert run_orgctl("plan", path, "--detailed-exitcode").exit_code == 0

    out = tmp_path / "imported"
    imported = run_orgctl("import", "--from", TYPE, path, "--out", out)
    assert imported.exit_code == 0, imported.output
    assert "2 employees" in imported.stdout
    replanned = run_orgctl("plan", out, "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.output


def test_the_registry_line_is_all_it_takes(registered: None):
    """The memory provider's module is imported by the registry, not by orgctl's code."""
    from orgctl.providers import provider_class

    assert provider_class(TYPE) is memory_provider.MemoryProvider
