"""The CLI as a user types it (issue 17 item 4), through a pty or a real process: `n` or
one Ctrl-C at apply's prompt cancels it; usage errors exit 1; output piped into a reader
that leaves ends quietly; without the sandbox extra, --sandbox says what to install."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.docs.test_cli_conventions import BIN, ROOT, orgctl_env

ACME = ROOT / "examples" / "acme"


class Typed:
    """`orgctl ARGS` on a pseudo-terminal: read what it shows, type into it."""

    def __init__(self, args: list[str], cwd: Path):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become orgctl
            os.chdir(cwd)
            os.execve(str(BIN / "orgctl"), ["orgctl", *args], orgctl_env(NO_COLOR="1"))
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; saw:\n{self.seen[-2000:]}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    assert text in self.seen, f"ended without {text!r}:\n{self.seen[-2000:]}"
                self.seen += chunk.decode("utf-8", "replace")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # drain, so the child never blocks writing to the terminal
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.seen += os.read(self.fd, 65536).decode("utf-8", "replace")
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"still running; saw:\n{self.seen[-2000:]}")


@pytest.mark.parametrize("answer", ["n\r", "\x03"], ids=["n", "ctrl-c"])
def test_no_or_one_ctrl_c_at_the_apply_prompt_cancels_it(answer: str, tmp_path: Path) -> None:
    """Before: `n` printed "Aborted!"; one Ctrl-C was not seen until a line was typed,
    which then became the answer."""
    user = Typed(["apply", str(ACME), "--sandbox"], tmp_path)
    user.expect("Apply these changes? [y/N]:")
    user.type(answer)
    code = user.exit_code()
    assert "Apply cancelled." in user.seen, user.seen[-500:]
    assert code == 1
    assert "internal error" not in user.seen and "Traceback" not in user.seen


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "orgctl"), *args], capture_output=True, text=True,
                          env=kwargs.pop("env", orgctl_env()), timeout=120, **kwargs)


@pytest.mark.parametrize("args", [["plan", "--no-such-option"], ["plan", "--format", "xml"],
                                  ["no-such-command"]])
def test_usage_errors_exit_1_not_2(args: list[str]) -> None:
    """2 means "changes present" to a CI step running plan --detailed-exitcode."""
    result = run(*args)
    assert result.returncode == 1, result.stderr
    assert "Usage:" in result.stderr or "Error:" in result.stderr


def test_output_into_a_reader_that_left_ends_quietly() -> None:
    """Before: `internal error: BrokenPipeError` on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`head`) has already left
    try:
        result = subprocess.run([str(BIN / "orgctl"), "plan", str(ACME), "--sandbox"],
                                stdout=write_end, stderr=subprocess.PIPE, text=True,
                                env=orgctl_env(), timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == "", result.stderr


def test_without_the_sandbox_extra_sandbox_commands_say_what_to_install(
        tmp_path: Path) -> None:
    """Before: `internal error: ModuleNotFoundError` (and a traceback from `sandbox serve`)."""
    hide = tmp_path / "no-starlette"
    (hide / "starlette").mkdir(parents=True)
    (hide / "starlette" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'starlette'\", name='starlette')\n")
    env = orgctl_env(PYTHONPATH=str(hide))
    for args in (["plan", str(ACME), "--sandbox"], ["sandbox", "serve"]):
        result = run(*args, env=env, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert "pip install 'orgctl[sandbox]'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_off_a_terminal_apply_logs_one_line_per_change(tmp_path: Path) -> None:
    """Issue 17 item 5: a CI log showed nothing until the apply ended."""
    result = run("--log-format", "json", "apply", str(ACME), "--sandbox", "--auto-approve",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import json

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    applied = [e for e in lines if e["logger"] == "orgctl.apply"]
    assert len(applied) >= 10
    first = applied[0]
    assert first["level"] == "info" and first["time"].endswith("+00:00")
    assert first["message"].startswith("applied ") and "[1/" in first["message"]
    assert applied[-1]["message"].endswith(f"/{len(applied)}]")


def test_the_eta_follows_the_observed_rate_while_nothing_completes() -> None:
    """Issue 17 item 5: the ETA sat at "4s" for 40 s: it was only redrawn when a change
    completed. Now it is redrawn every second from the last 30 s's rate; with no change
    completed in that time it says it does not know."""
    import io

    from orgctl.engine.apply import ProgressLine

    line = ProgressLine(10, True, io.StringIO())
    start = line.started
    for i in range(1, 6):
        line._recent.append((start + i, i))  # one a second
        line.done = i
    assert round(line.eta(start + 5)) == 5
    assert line.eta(start + 5 + 31) is None  # a long wait: no rate to go by


def test_the_apply_it_with_hint_after_a_bare_sandbox_plan_works(tmp_path: Path) -> None:
    """Issue 17 item 4: the hint printed `orgctl apply plan.json --sandbox`, which a fresh
    sandbox always refused as stale (Worklete's seeded ids were random per start)."""
    planned = run("plan", str(ACME), "--sandbox", "-o", "plan.json", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    hint = next(line for line in planned.stderr.splitlines() if "Apply it with:" in line)
    command = hint.split("Apply it with: orgctl ", 1)[1].split()
    applied = run(*command, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "Apply: 13 applied, 3 manual." in applied.stdout
