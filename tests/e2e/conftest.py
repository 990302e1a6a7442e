"""Shared fixtures of the end-to-end tests: the `orgctl` CLI against the sandbox emulators,
over real loopback HTTP.

A test seeds emulators (`start_sandbox(seed)`), writes the endpoints file a running
`orgctl sandbox serve` would write (`write_endpoints`), and runs the CLI in-process with
click's runner (`run_orgctl`), so every request crosses a real socket.

Stable API for other e2e test modules (import from `tests.e2e.conftest`):
    ACME                                    path of examples/acme
    acme_org            (fixture, session)  examples/acme loaded with resolve_env=False,
                                            evaluated on the suite's day
    acme_seed           (fixture)           a fresh copy of seed_from_org(acme_org)
    start_sandbox       (fixture)           start_sandbox(seed=None, faults=None,
                                            options=None, profile=None) -> Sandbox, running
                                            for the test (profile: the `profile` fixture's)
                                            (the session's, reset: see tests/conftest.py)
    write_endpoints(box, path, overrides=None) -> path
    run_orgctl(*args, input=None) -> click.testing.Result   (.exit_code .stdout .stderr)
    run_orgctl_process(*args, cwd=None, timeout=60) -> subprocess.CompletedProcess
                                            the real `python -m orgctl` in its own process
    plan_json(result) -> dict                the parsed `--format json` output
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from orgctl.cli import cli
from orgctl.config import load
from orgctl.model import Org
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, Profile
from orgctl.sandbox.seeding import seed_from_org
from tests.conftest import QUICK_OPTIONS, Sandboxes

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme"
DEFAULT_OPTIONS = QUICK_OPTIONS

StartSandbox = Callable[..., Sandbox]


@pytest.fixture(scope="session")
def acme_org() -> Org:
    """examples/acme, without resolving ${ENV} credentials (the sandbox has its own), as it
    is on the suite's day (tests/conftest.py SUITE_DAY: its leavers by date inactive, its
    joiner not started yet), which is the day every plan of the suite is of."""
    from orgctl import lifecycle

    org = load(ACME, resolve_env=False)
    return lifecycle.evaluate(org, lifecycle.today(org))


@pytest.fixture(scope="session")
def _acme_seed(acme_org: Org) -> dict[str, Any]:
    return seed_from_org(acme_org)


@pytest.fixture
def acme_seed(_acme_seed: dict[str, Any]) -> dict[str, Any]:
    """The live state a perfect apply of examples/acme leaves: a copy the test may edit."""
    return copy.deepcopy(_acme_seed)


@pytest.fixture
def start_sandbox(sandboxes: Sandboxes) -> StartSandbox:
    """All four emulators seeded with `seed` (by system name; empty by default), with
    `faults` and per-emulator `options` (merged over DEFAULT_OPTIONS), for this test."""

    def start(seed: dict[str, Any] | None = None, faults: Faults | None = None,
              options: dict[str, dict[str, Any]] | None = None,
              profile: str | Profile | None = None) -> Sandbox:
        merged = {name: {**DEFAULT_OPTIONS.get(name, {}), **(options or {}).get(name, {})}
                  for name in {*DEFAULT_OPTIONS, *(options or {})}}
        return sandboxes.start(seed, faults=faults, options=merged, profile=profile)

    return start


def write_endpoints(box: Sandbox, path: Path,
                    overrides: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write `box`'s endpoints file (as `orgctl sandbox serve` does) to `path`; `overrides`
    replace settings per system, e.g. {"workelo": {"client_secret": "wrong"}}."""
    endpoints = box.endpoints()
    for system, settings in (overrides or {}).items():
        endpoints[system] = {**endpoints[system], **settings}
    path.write_text(json.dumps(endpoints, indent=2) + "\n", encoding="utf-8")
    return path


def run_orgctl(*args: str | Path, input: str | None = None) -> Result:
    """Run `orgctl ARGS` in-process; never raises, the exit code is in the result."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def run_orgctl_process(*args: str | Path, cwd: Path | None = None,
                       timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `orgctl ARGS` as its own process (what a user or CI runs), text output."""
    return subprocess.run([sys.executable, "-m", "orgctl", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def plan_json(result: Result) -> dict[str, Any]:
    """The plan a `--format json` run printed, parsed."""
    assert result.exit_code in (0, 2), f"plan failed ({result.exit_code}):\n{result.output}"
    return json.loads(result.stdout)


# -- config copies the apply tests edit ------------------------------------------------------

QUICK_WORKLEAP = {"integration": {"processing_delay": 0.05}}


def copy_acme(tmp_path: Path) -> Path:
    """examples/acme in a scratch directory: apply writes its lock and journal beside it."""
    root = tmp_path / "acme"
    shutil.copytree(ACME, root, ignore=shutil.ignore_patterns(".orgctl"))
    return root


def edit_yaml(root: Path, relative: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    path = root / relative
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
