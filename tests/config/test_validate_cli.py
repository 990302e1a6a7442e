"""`orgctl validate` as a user runs it: exit codes, stdout/stderr, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orgctl.cli import cli
from tests.config.conftest import ROOT

INVALID = sorted((ROOT / "examples" / "invalid").iterdir())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_acme_is_valid(acme_env: dict[str, str]):
    assert run("examples/acme") == (0, "valid: 12 units, 6 teams, 51 employees, 6 journeys\n",
                                    "")


def test_acme_without_secrets_fails_naming_each_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WORKLEAP_API_KEY", raising=False)
    code, out, err = run("examples/acme")
    assert code == 1 and out == ""
    assert ("examples/acme/providers.yaml:29:14: providers.workleap.api_key: environment "
            "variable WORKLEAP_API_KEY is not set") in err


def test_no_env_validates_without_secrets(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WORKLEAP_API_KEY", raising=False)
    assert run("--no-env", "examples/acme")[0] == 0


def test_path_defaults_to_the_current_directory(acme_env: dict[str, str],
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT / "examples" / "acme")
    assert run()[:2] == (0, "valid: 12 units, 6 teams, 51 employees, 6 journeys\n")


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_every_invalid_example_fails_cleanly(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ORGCTL_EXAMPLE_UNSET_TOKEN", raising=False)
    code, out, err = run(str(path.relative_to(ROOT)))
    assert code == 1
    assert out == ""
    assert f"examples/invalid/{path.name}" in err
    assert "Traceback" not in err and "internal error" not in err


def test_errors_are_sorted_by_location(tmp_path: Path):
    (tmp_path / "b.yaml").write_text("units:\n  b: {name: B, level: L, parent: nope}\n")
    (tmp_path / "a.yaml").write_text("version: 1\nunits:\n  a: {name: A, level: L, x: 1}\n")
    code, _, err = run(str(tmp_path))
    assert code == 1
    *problems, total = err.splitlines()
    locations = [line.split(": ")[0] for line in problems]
    assert locations == [f"{tmp_path}/a.yaml:3:26", f"{tmp_path}/b.yaml:2:34"]
    assert total == "Error: 2 problems in the configuration"


def test_missing_path_is_a_clear_error_not_a_traceback():
    code, out, err = run("no/such/dir")
    assert (code, out) == (1, "")
    assert "no/such/dir: no such file or directory" in err and "Traceback" not in err


def test_help_documents_no_env():
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0 and "--no-env" in result.stdout
