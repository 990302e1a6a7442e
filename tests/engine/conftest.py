"""Fixtures shared by the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orgctl.providers import TYPES
from tests.engine.memory_provider import DIRECTORIES, TARGET, TYPE


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fifth system (tests/engine/memory_provider.py) registered as a provider type
    for the test, its in-memory directories emptied after it."""
    monkeypatch.setitem(TYPES, TYPE, TARGET)
    yield
    DIRECTORIES.clear()
