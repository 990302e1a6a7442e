"""The command-line conventions the docs promise (issue #9): --version, shell completion,
colour only on a terminal and never with NO_COLOR or --no-color, JSON log lines for CI."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from orgctl import __version__

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ANSI = "\x1b["


def orgctl_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR" and not k.startswith("_ORG")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan file with changes of every kind, to show."""
    where = tmp_path_factory.mktemp("plan")
    subprocess.run([BIN / "orgctl", "plan", ROOT / "examples" / "acme", "--sandbox", "-o",
                    "plan.json"], cwd=where, env=orgctl_env(), check=True, capture_output=True)
    return where


def on_a_terminal(cwd: Path, args: list[str], **env: str) -> str:
    """What `orgctl ARGS` prints when its stdout is a terminal."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([str(BIN / "orgctl"), *args], cwd=cwd, env=orgctl_env(**env),
                                stdin=subprocess.DEVNULL, stdout=follower,
                                stderr=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


SHOW = ["show", "plan.json"]


def test_plans_are_coloured_on_a_terminal(saved: Path) -> None:
    assert ANSI in on_a_terminal(saved, SHOW)


@pytest.mark.parametrize(("args", "env"), [
    (["--no-color", *SHOW], {}),
    (SHOW, {"NO_COLOR": "1"}),
])
def test_no_color_and_no_color_env_make_plain_output(saved: Path, args: list[str],
                                                     env: dict[str, str]) -> None:
    out = on_a_terminal(saved, args, **env)
    assert "Plan:" in out and ANSI not in out


def test_an_empty_no_color_does_not_disable_colour(saved: Path) -> None:
    # no-color.org: "when present and not an empty string".
    assert ANSI in on_a_terminal(saved, SHOW, NO_COLOR="")


def test_version() -> None:
    out = subprocess.run([BIN / "orgctl", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"orgctl, version {__version__}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_command_prints_clicks_own_script(shell: str) -> None:
    ours = subprocess.run([BIN / "orgctl", "completion", shell], capture_output=True,
                          text=True, env=orgctl_env())
    clicks = subprocess.run([BIN / "orgctl"], capture_output=True, text=True,
                            env=orgctl_env(_ORGCTL_COMPLETE=f"{shell}_source"))
    assert ours.returncode == 0 and ours.stdout.strip() == clicks.stdout.strip() != ""


def test_bash_completion_completes_commands_and_options() -> None:
    script = ('eval "$(orgctl completion bash)"; '
              'COMP_WORDS=(orgctl pl); COMP_CWORD=1; _orgctl_completion orgctl; '
              'echo "${COMPREPLY[@]}"; '
              'COMPREPLY=(); COMP_WORDS=(orgctl plan --for); COMP_CWORD=2; '
              '_orgctl_completion orgctl; '
              'echo "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                         env=orgctl_env())
    assert out.stdout.split("\n")[:2] == ["plan", "--format --force"], out.stderr


def test_json_log_lines_are_json_objects() -> None:
    out = subprocess.run([BIN / "orgctl", "-v", "--log-format", "json", "plan", "examples/acme",
                          "--sandbox", "--provider", "hrms"], capture_output=True, text=True,
                         cwd=ROOT, env=orgctl_env())
    lines = [json.loads(line) for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 0 and lines
    assert all({"level", "logger", "message"} <= set(line) for line in lines)
