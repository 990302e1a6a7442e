"""The commands a user types, as separate processes: the README's quick start, and
`orgctl sandbox serve` + `orgctl plan --sandbox ENDPOINTS` against it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import ACME, run_orgctl_process

REPO = ACME.parents[1]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start `orgctl sandbox serve --seed SEED` in its own process; give its endpoints file."""
    started: list[subprocess.Popen[str]] = []

    def start(seed: dict[str, Any]) -> Path:
        seed_file = tmp_path / "seed.json"
        seed_file.write_text(json.dumps(seed))
        endpoints = tmp_path / "sandbox.json"
        process = subprocess.Popen(
            [sys.executable, "-m", "orgctl", "sandbox", "serve", "--seed", str(seed_file),
             "--endpoints-file", str(endpoints)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        deadline = time.monotonic() + 30
        while not endpoints.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "sandbox serve wrote no endpoints file"
            time.sleep(0.05)
        return endpoints

    yield start
    for process in started:
        process.terminate()
        process.communicate(timeout=15)


def test_quick_start_plans_the_builtin_drift(tmp_path: Path) -> None:
    result = run_orgctl_process("plan", "examples/acme", "--sandbox", "--detailed-exitcode",
                                cwd=REPO)

    assert result.returncode == 2, result.stderr
    assert "~ unit data" in result.stdout and "+ employee EMP-031" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("Plan: ")


def test_plan_against_a_served_sandbox(serve: Any, acme_seed: dict[str, Any]) -> None:
    converged = serve(acme_seed)
    result = run_orgctl_process("plan", ACME, "--sandbox", converged, "--detailed-exitcode",
                                "--provider", "workleap", "--provider", "worklete")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\nNo changes. The live systems match the configuration.\n")


def test_plan_against_a_drifted_served_sandbox(serve: Any, acme_seed: dict[str, Any]) -> None:
    drifted = serve(acme_drift(acme_seed))
    result = run_orgctl_process("plan", ACME, "--sandbox", drifted, "--detailed-exitcode",
                                "--format", "json")
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["summary"]["update"] == 5
