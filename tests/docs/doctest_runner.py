"""Run the commands shown in README.md and docs/*.md the way a reader would type them.

The convention (also written in docs/troubleshooting.md, "How these pages are tested"):

- A ```sh block is runnable. Every line is one command (`\\` continues it; blank and `#`
  lines are skipped), run with bash in a scratch directory holding a copy of `examples/`,
  in order, with the files a command leaves behind kept for the next one (per document).
- The expected exit code is 0, or N when the line's comment says `exit N`.
- A command ending in `&` (e.g. `orgctl sandbox serve &`) is started in the background; the
  runner waits for its first line of output, then goes on, and stops it when the document
  is done.
- A ```console block is a transcript: `$ command` lines are run as above, and the lines
  after each one are its expected output (stdout and stderr, as a terminal shows them).
  Loopback ports are ignored (`127.0.0.1:PORT`), and a line `...` stands for any lines.
- Any other fence (```, ```yaml, ```text, ...) is not run.
- Commands that cannot run in a test (installing packages, the test suite itself) are listed
  in `NOT_RUN` with the reason; a listed command that no document shows any more fails.

Commands run with a terminal as stdin (so `orgctl apply` may ask, and gets `yes`), and
without the providers' credentials in the environment unless the document is one of
`STANDIN_DOCS`.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

NOT_RUN = {
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[sandbox]' && .venv/bin/orgctl plan "
    "examples/acme --sandbox": "installs packages (the fresh-machine quick start); its orgctl "
                               "command runs in docs/getting-started.md",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m "
    "pytest -q": "the test suite itself",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[sandbox]'":
        "installs packages",
    ". .venv/bin/activate": "changes the reader's shell; the tests put orgctl on PATH",
}

# Environment variables that hold provider credentials: never inherited by doc commands.
CREDENTIALS = ("WORKELO_CLIENT_ID", "WORKELO_CLIENT_SECRET", "HRMS_TOKEN", "WORKLEAP_API_KEY",
               "WORKLETE_USERNAME", "WORKLETE_PASSWORD")

EXIT_NOTE = re.compile(r"#.*\bexit (\d+)\b")
PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
TIMEOUT = 90


@dataclass
class Command:
    text: str
    doc: Path
    line: int
    expected_output: list[str] | None = None  # only for console transcripts

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def exit_code(self) -> int:
        found = EXIT_NOTE.search(self.text)
        return int(found.group(1)) if found else 0

    @property
    def background(self) -> bool:
        return without_comment(self.text).endswith("&")


@dataclass
class Document:
    path: Path
    commands: list[Command] = field(default_factory=list)
    skipped: list[Command] = field(default_factory=list)


def without_comment(text: str) -> str:
    return re.sub(r"\s+#[^'\"]*$", "", text).rstrip()


def _sh_commands(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    pending: list[str] = []
    start = 0
    for number, line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1].rstrip())
            continue
        pending.append(line.strip() if pending else line.rstrip())
        yield start, " ".join(pending)
        pending = []


def parse(path: Path) -> Document:
    doc = Document(path)
    fence: str | None = None
    block: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:
            opened = re.match(r"^```(\w*)\s*$", line)
            if opened:
                fence, block = opened.group(1), []
            continue
        if line.startswith("```"):
            if fence == "sh":
                for start, text in _sh_commands(block):
                    doc.commands.append(Command(text, path, start))
            elif fence == "console":
                doc.commands.extend(_transcript(block, path))
            fence = None
            continue
        block.append((number, line))
    kept = []
    for command in doc.commands:
        (doc.skipped if without_comment(command.text) in NOT_RUN else kept).append(command)
    doc.commands = kept
    return doc


def _transcript(block: list[tuple[int, str]], path: Path) -> Iterator[Command]:
    current: Command | None = None
    for number, line in block:
        if line.startswith("$ "):
            if current:
                yield current
            current = Command(line[2:], path, number, expected_output=[])
        elif current is not None and current.expected_output is not None:
            current.expected_output.append(line)
    if current:
        yield current


def normalise(text: str) -> list[str]:
    lines = [PORT.sub(r"\1:PORT", line).rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def output_matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else re.escape(line) + r"\n"
                      for line in normalise("\n".join(expected)))
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


class Session:
    """One document's scratch directory, environment and background processes."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        shutil.copytree(ROOT / "examples", workdir / "examples",
                        ignore=shutil.ignore_patterns(".orgctl"))
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
        env.pop("NO_COLOR", None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra_env or {})
        self.env = env
        self.background: list[subprocess.Popen[str]] = []

    def run(self, command: Command) -> tuple[int, str]:
        """Run one command; return its exit code and its output (stdout then stderr merged
        in the order written, as on a terminal)."""
        text = without_comment(command.text)
        if command.background:
            return self._start(text[:-1].rstrip()), ""
        leader, follower = pty.openpty()
        try:
            os.write(leader, b"yes\n")
            proc = subprocess.run(["bash", "-c", command.text], cwd=self.workdir, env=self.env,
                                  stdin=follower, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
        finally:
            os.close(follower)
            os.close(leader)
        # Off a terminal an apply logs a line per change; on one (what the pages show) the
        # progress line stands in for them and is rewritten away.
        shown = "".join(line for line in proc.stdout.splitlines(keepends=True)
                        if not line.startswith("INFO orgctl.apply: "))
        return proc.returncode, shown

    def _start(self, text: str) -> int:
        proc = subprocess.Popen(["bash", "-c", f"exec {text}"], cwd=self.workdir, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.background.append(proc)
        ready = threading.Event()

        def first_line() -> None:
            assert proc.stdout is not None
            proc.stdout.readline()
            ready.set()
            for _ in proc.stdout:  # keep the pipe drained
                pass

        threading.Thread(target=first_line, daemon=True).start()
        if not ready.wait(30) or proc.poll() not in (None, 0):
            return proc.poll() or 1
        return 0

    def close(self) -> None:
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
