"""Fixtures for config tests: run from the repository root so locations read as a user
sees them (`examples/invalid/x.yaml:7:12: ...`), and the env the acme example needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgctl import config
from orgctl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

ACME_ENV = {
    "WORKELO_CLIENT_ID": "acme-client",
    "WORKELO_CLIENT_SECRET": "wk-secret-3f8a1c",
    "HRMS_TOKEN": "hrms-token-77d2e0",
    "WORKLEAP_API_KEY": "wl-key-19bc44",
    "WORKLETE_USERNAME": "it-bot@acme.example",
    "WORKLETE_PASSWORD": "wt-pass-5e6f7a",
}


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture
def acme_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in ACME_ENV.items():
        monkeypatch.setenv(name, value)
    return ACME_ENV


def problems(path: str | Path, **kwargs: object) -> list[str]:
    """The messages `config.load` reports for `path`, in the order a user sees them."""
    with pytest.raises(ConfigError) as caught:
        config.load(path, **kwargs)  # type: ignore[arg-type]
    return [str(issue) for issue in caught.value.issues]
