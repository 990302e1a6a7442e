"""Shared fixtures: one sandbox (the four emulators on free loopback ports) for the whole test
session, reset to what each test asks for.

Starting and stopping four servers per test cost about 0.2 s each time; `Sandbox.reset` gives
the running servers new emulators instead. A test asks through `sandboxes.start(...)` (or the
`sandbox`, `start_sandbox` and `serve` fixtures built on it): its first sandbox is the
session's, reset; a further one in the same test (two live states side by side) is its own,
stopped after the test. Tests that need their own process or ports (`orgctl sandbox serve`
as a subprocess, a sandbox kept for a whole module) still start one themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from orgctl.lifecycle import TODAY_VARIABLE
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, Profile

# The suite runs on one day, whatever the calendar says: examples/acme has a joiner, a mover
# and leavers on dates around it, and what is due depends on the day (ORGCTL_TODAY reaches
# the orgctl subprocesses the tests start too). A test of another day says --as-of.
SUITE_DAY = "2026-11-30"
os.environ[TODAY_VARIABLE] = SUITE_DAY

# Worklete processes an uploaded CSV after `upload_delay` seconds (1 s by default); tests
# do not need to wait that long.
QUICK_OPTIONS: dict[str, dict[str, Any]] = {"worklete": {"upload_delay": 0.05}}


class Sandboxes:
    """The sandboxes one test uses: the session's for the first, private ones after it."""

    def __init__(self, shared: Sandbox, profile: str = "permissive"):
        self._shared: Sandbox | None = shared
        self._private: list[Sandbox] = []
        self.profile = profile

    def start(self, seed: dict[str, Any] | None = None, faults: Faults | None = None,
              options: dict[str, dict[str, Any]] | None = None,
              profile: str | Profile | None = None) -> Sandbox:
        """A running sandbox holding `seed`, with `faults` and per-emulator `options`, its
        emulators of `profile` (default: the test's `profile` fixture)."""
        profile = profile or self.profile
        if self._shared is not None:
            shared, self._shared = self._shared, None
            return shared.reset(seed, faults=faults, options=options, profile=profile)
        box = Sandbox(seed, faults=faults, options=options, profile=profile).start()
        self._private.append(box)
        return box

    def stop(self) -> None:
        for box in self._private:
            box.stop()


@pytest.fixture(scope="session")
def session_sandbox() -> Iterator[Sandbox]:
    """The one shared sandbox; use it through `sandboxes`, which resets it for each test."""
    with Sandbox({}, options=QUICK_OPTIONS) as box:
        yield box


@pytest.fixture
def profile() -> str:
    """The emulators' profile ("permissive" or "strict"); a directory whose tests run
    against both overrides it with a parametrised fixture."""
    return "permissive"


@pytest.fixture
def sandboxes(session_sandbox: Sandbox, profile: str) -> Iterator[Sandboxes]:
    started = Sandboxes(session_sandbox, profile)
    yield started
    started.stop()


@pytest.fixture
def sandbox(sandboxes: Sandboxes) -> Sandbox:
    """All four emulators, empty."""
    return sandboxes.start({}, options=QUICK_OPTIONS)
