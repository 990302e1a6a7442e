"""Shared fixtures: the four emulators on free loopback ports, started by the tests."""

from __future__ import annotations

import pytest

from orgctl.sandbox import Sandbox


@pytest.fixture
def sandbox():
    """All four emulators, empty, started for one test."""
    with Sandbox({}, options={"worklete": {"upload_delay": 0.05}}) as box:
        yield box
