"""The CI examples of examples/ci/ (documented in docs/ci.md) cannot run here, but what can go
wrong in them without a CI is checked: YAML and shell syntax, the inline Python, every orgctl
command line against the real CLI, and the promises docs/ci.md makes about them."""

from __future__ import annotations

import re
import shlex
import subprocess
import warnings
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from orgctl.cli import cli
from orgctl.render import MARKER

ROOT = Path(__file__).resolve().parents[2]
GITHUB = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
GITLAB = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())


def github_scripts(job: str) -> list[str]:
    return [step["run"] for step in GITHUB["jobs"][job]["steps"] if "run" in step]


def gitlab_scripts(job: str) -> list[str]:
    return [*GITLAB["default"]["before_script"], *GITLAB[job]["script"]]


SCRIPTS = {
    **{f"github {job}": github_scripts(job) for job in GITHUB["jobs"]},
    **{f"gitlab {job}": gitlab_scripts(job) for job in GITLAB if "script" in GITLAB[job]},
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_shell_is_valid(name: str) -> None:
    script = "\n".join(SCRIPTS[name])
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)  # GitHub expressions, filled in by it
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_inline_python_compiles(name: str) -> None:
    for code in re.findall(r"python3 -c '([^']*)'", "\n".join(SCRIPTS[name])):
        compile(code, name, "exec")


def orgctl_lines(name: str) -> list[list[str]]:
    commands = []
    for line in "\n".join(SCRIPTS[name]).splitlines():
        found = re.search(r"\borgctl (.*?)(?:\s*(?:>|\|\||;|$))", line)
        if found and not line.lstrip().startswith("#") and "pip install" not in line:
            commands.append(shlex.split(found.group(1)))
    return commands


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_orgctl_command_line_parses(name: str) -> None:
    for args in orgctl_lines(name):
        with cli.make_context("orgctl", list(args)) as ctx:
            with warnings.catch_warnings():  # click 9 moves the command name into args
                warnings.simplefilter("ignore", DeprecationWarning)
                rest = [*getattr(ctx, "protected_args", []), *ctx.args]
            sub_name, command, sub_args = cli.resolve_command(ctx, rest)
            assert isinstance(command, click.Command), args
            command.make_context(sub_name or "", sub_args, parent=ctx)


def test_the_reviewed_plan_is_applied_never_a_fresh_one() -> None:
    for name in ("github apply", "gitlab apply", "gitlab apply-replanned"):
        lines = orgctl_lines(name)
        assert any("apply" in args and "plan.json" in args for args in lines), name
        assert not any("plan" in args for args in lines), f"{name} must not re-plan"


def test_applies_never_interleave() -> None:
    group: dict[str, Any] = GITHUB["jobs"]["apply"]["concurrency"]
    assert group["group"] and group["cancel-in-progress"] is False
    assert GITLAB["apply"]["resource_group"] == GITLAB["apply-replanned"]["resource_group"]


def test_plan_comments_are_found_again_by_the_plan_marker() -> None:
    comment = next(s["with"]["script"] for s in GITHUB["jobs"]["plan"]["steps"]
                   if "github-script" in s.get("uses", ""))
    assert f"'{MARKER}'" in comment and "updateComment" in comment
    assert MARKER in "\n".join(SCRIPTS["gitlab plan"])
    for name in ("github plan", "gitlab plan"):
        assert any({"-o", "--detailed-exitcode"} <= set(a) for a in orgctl_lines(name))


PINNED = re.compile(r"^orgctl @ git\+https://[^@\s]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def install_lines() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, `pip install` line, the variables defined at the file's top level)."""
    found = []
    for name, data in (("github-actions.yml", GITHUB), ("gitlab-ci.yml", GITLAB)):
        variables = {**(data.get("env") or {}), **(data.get("variables") or {})}
        text = (ROOT / "examples" / "ci" / name).read_text(encoding="utf-8")
        found += [(name, line.strip().lstrip("-").strip().removeprefix("run:").strip(),
                   variables)
                  for line in text.splitlines() if "pip install" in line]
    return found


def test_every_install_line_installs_orgctl_from_its_repository_at_a_pinned_ref() -> None:
    """Issue 17 item 6: `pip install orgctl` fails, orgctl is on no package index; a
    branch would move under a reviewed workflow."""
    lines = install_lines()
    assert len(lines) >= 3
    for name, line, variables in lines:
        args = shlex.split(line)
        assert args[:2] == ["pip", "install"], (name, line)
        spec = args[2]
        if spec.startswith("$"):
            spec = str(variables[spec.lstrip("$").strip("{}")])
        assert PINNED.match(spec), (name, line, spec)
        from orgctl import __version__

        assert spec.endswith(f"@v{__version__}") or not spec.split("@")[-1].startswith("v")


def test_a_daily_job_applies_what_came_due_under_the_safety_rules() -> None:
    """Issue 15: a scheduled job plans the default branch on today's date and applies that
    plan, in the apply's concurrency group, with no flag that lifts a safety rule."""
    on = GITHUB.get("on") or GITHUB.get(True)  # YAML 1.1 reads the key `on` as true
    assert on["schedule"][0]["cron"]
    daily = GITHUB["jobs"]["daily"]
    assert daily["if"] == "github.event_name == 'schedule'"
    assert daily["concurrency"]["group"] == GITHUB["jobs"]["apply"]["concurrency"]["group"]
    assert "schedule" in GITHUB["jobs"]["plan"]["if"]  # the pull-request plan stays out
    assert GITLAB["daily-apply"]["resource_group"] == GITLAB["apply"]["resource_group"]
    assert "schedule" in GITLAB["daily-apply"]["rules"][0]["if"]
    assert '!= "schedule"' in GITLAB["apply"]["rules"][0]["if"]
    for name in ("github daily", "gitlab daily-apply"):
        lines = orgctl_lines(name)
        assert [args[args.index("plan") if "plan" in args else args.index("apply")]
                for args in lines] == ["plan", "apply"], name
        assert any("plan.json" in args for args in lines if "apply" in args), name
        flat = [a for args in lines for a in args]
        for lifting in ("--force", "--allow-orphans", "--as-of"):
            assert lifting not in flat, f"{name}: {lifting}"
