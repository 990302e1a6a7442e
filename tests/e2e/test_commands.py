"""The command layer (`orgctl.commands`) runs plan and apply without the CLI: the plan is
shown before anything is asked, a declined apply changes nothing, a saved plan is applied
without asking, and a re-run finds nothing left to do. On a terminal, answering no at
`orgctl apply`'s prompt aborts cleanly."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orgctl import commands
from orgctl.engine.plan import Plan
from orgctl.sandbox import Sandbox
from tests.e2e.conftest import QUICK_WORKLEAP, StartSandbox, copy_acme, edit_yaml


def live_state(box: Sandbox) -> dict[str, Any]:
    return {name: emu.snapshot() for name, emu in box.emulators.items()}


@pytest.fixture
def acme_live(tmp_path: Path, start_sandbox: StartSandbox,
              acme_seed: dict[str, Any]) -> tuple[Sandbox, Path]:
    """The emulators holding examples/acme, and a copy of it that adds a unit."""
    acme_seed["workleap"].update(QUICK_WORKLEAP)
    box = start_sandbox(acme_seed)
    root = copy_acme(tmp_path)
    edit_yaml(root, "units.yaml", lambda d: d["units"].update(
        mobile={"name": "Mobile", "level": "Department", "parent": "eng"}))
    return box, root


def test_a_fresh_apply_shows_the_plan_asks_and_a_no_applies_nothing(
        acme_live: tuple[Sandbox, Path]) -> None:
    box, root = acme_live
    before = live_state(box)
    calls: list[tuple[str, int]] = []

    def show(plan: Plan) -> None:
        calls.append(("show", len(plan.changes)))

    def confirm(plan: Plan) -> bool:
        calls.append(("confirm", len(plan.changes)))
        return False

    report = commands.apply(root, sandbox_endpoints=box.endpoints(), show=show,
                            confirm=confirm)
    assert report.status == "declined" and report.result is None
    assert [name for name, _ in calls] == ["show", "confirm"]
    assert calls[0][1] == calls[1][1] > 0
    assert live_state(box) == before
    assert not list((root / ".orgctl").glob("journal-*")), "a declined apply wrote a journal"


def test_an_approved_apply_converges_and_the_rerun_asks_nothing(
        acme_live: tuple[Sandbox, Path]) -> None:
    box, root = acme_live
    report = commands.apply(root, sandbox_endpoints=box.endpoints(), confirm=lambda _: True)
    assert report.status == "applied" and report.result is not None and report.result.ok
    assert report.journal is not None and report.journal.exists()

    asked: list[Plan] = []
    again = commands.apply(root, sandbox_endpoints=box.endpoints(), confirm=asked.append)
    assert again.status == "no-changes" and again.result is None
    assert not asked


def test_a_saved_plan_is_applied_without_being_shown_or_asked(
        tmp_path: Path, acme_live: tuple[Sandbox, Path]) -> None:
    box, root = acme_live
    saved = tmp_path / "plan.json"
    planned = commands.plan(root, sandbox_endpoints=box.endpoints(), out=saved)
    assert planned.plan.has_changes and saved.exists()

    def never(plan: Plan) -> Any:
        raise AssertionError("a saved plan was shown or asked about")

    report = commands.apply(saved, sandbox_endpoints=box.endpoints(), show=never,
                            confirm=never)
    assert report.status == "applied" and report.result is not None and report.result.ok
    assert report.plan.checksum == planned.plan.checksum


def on_a_terminal(args: list[str], cwd: Path, answer: bytes, prompt: bytes,
                  timeout: float = 90) -> tuple[int, str]:
    """Run `orgctl ARGS` with a terminal for stdin, stdout and stderr; type `answer` once
    `prompt` shows; return the exit code and everything printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "orgctl", *args], cwd=cwd,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not answered and prompt in out:
                os.write(leader, answer)
                answered = True
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return code, out.decode("utf-8", "replace")


def test_answering_no_at_the_prompt_aborts_and_applies_nothing(tmp_path: Path) -> None:
    root = copy_acme(tmp_path)
    code, out = on_a_terminal(["--no-color", "apply", str(root), "--sandbox"], tmp_path,
                              b"n\n", b"Apply these changes?")
    assert "Plan:" in out.split("Apply these changes?")[0], "the plan is shown before asking"
    assert code == 1
    assert "Apply cancelled." in out
    assert "internal error" not in out
    assert not list((root / ".orgctl").glob("journal-*")), "a declined apply wrote a journal"
