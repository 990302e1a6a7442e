"""Fixtures of the import and HRMS-source tests: the CLI run in-process against sandbox
emulators over loopback, and examples/acme turned into an HRMS-sourced config (its
overlays) so that both sides describe the same organisation."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from orgctl.cli import cli
from orgctl.config import load
from orgctl.model import IMPLICATIONS, Org
from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import seed_from_org
from tests.conftest import QUICK_OPTIONS, Sandboxes

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme"
OPTIONS = QUICK_OPTIONS  # Worklete processes uploads in 50 ms


@pytest.fixture(scope="session")
def acme() -> Org:
    """examples/acme as it is on the suite's day (tests/conftest.py SUITE_DAY): what each
    system holds after a perfect apply, and what an import of it gives back."""
    from orgctl import lifecycle

    org = load(ACME, resolve_env=False)
    return lifecycle.evaluate(org, lifecycle.today(org))


@pytest.fixture
def acme_seed(acme: Org) -> dict[str, Any]:
    """What each system holds after a perfect apply of examples/acme."""
    return seed_from_org(acme)


@pytest.fixture
def serve(tmp_path: Path, sandboxes: Sandboxes
          ) -> Callable[[dict[str, Any]], tuple[Sandbox, Path]]:
    """serve(seed) -> (sandbox, endpoints file), running for the test."""
    written = itertools.count(1)

    def start(seed: dict[str, Any]) -> tuple[Sandbox, Path]:
        box = sandboxes.start(seed, options=OPTIONS)
        endpoints = tmp_path / f"endpoints-{next(written)}.json"
        endpoints.write_text(json.dumps(box.endpoints()), encoding="utf-8")
        return box, endpoints

    return start


def orgctl(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def plan_of(config: Path, endpoints: Path, *extra: str) -> dict[str, Any]:
    result = orgctl("plan", config, "--sandbox", endpoints, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def addresses(plan: dict[str, Any], *actions: str) -> set[str]:
    return {c["address"] for c in plan["changes"] if not actions or c["action"] in actions}


# -- examples/acme as an HRMS-sourced config -------------------------------------------------

def department(unit: str) -> str:
    """The HRMS department id seed_from_org gives a unit, hence its key in source mode."""
    return f"dept_{unit}"


def acme_overlays(org: Org) -> dict[str, Any]:
    """examples/acme minus what HRMS knows (names, emails, status, unit, job title, unit
    names): what a company keeps in YAML once HRMS is the source."""
    units = {}
    for key, u in org.units.items():
        unit: dict[str, Any] = {"level": u.level}
        if u.parent:
            unit["parent"] = department(u.parent)
        if u.language:
            unit["language"] = u.language
        units[department(key)] = unit
    teams = {}
    for key, t in org.teams.items():
        team: dict[str, Any] = {"name": t.name, "managers": list(t.managers),
                                "members": list(t.members)}
        if t.unit:
            team["unit"] = department(t.unit)
        if t.parent:
            team["parent"] = t.parent
        teams[key] = team
    employees = {}
    for key, e in org.employees.items():
        overlay: dict[str, Any] = {}
        if e.role != "colleague":
            overlay["role"] = e.role
        overlay.update({r: e.relation(r) for r in IMPLICATIONS if e.relation(r)})
        if e.identifications:
            overlay["identifications"] = dict(e.identifications)
        if e.unit_scopes:
            overlay["unit_scopes"] = [department(u) for u in e.unit_scopes]
        own = e.settings_for("workleap")
        workleap = {"language": own.get("language"), "products": list(own.get("products", ()))}
        if any(workleap.values()):
            overlay["workleap"] = {k: v for k, v in workleap.items() if v}
        if e.settings_for("worklete").get("org_admin"):
            overlay["worklete"] = {"org_admin": True}
        journeys = []
        for j in e.journeys:
            journey: dict[str, Any] = {"mobility": j.mobility,
                                       "start_date": j.start_date.isoformat(),
                                       "templates": list(j.templates)}
            if j.end_date:
                journey["end_date"] = j.end_date.isoformat()
            if j.start:
                journey["start"] = True
                if j.invite_at:
                    journey["invite_at"] = j.invite_at.isoformat()
            if j.implications:
                journey["implications"] = dict(j.implications)
            journeys.append(journey)
        if journeys:
            overlay["journeys"] = journeys
        employees[key] = overlay
    return {"units": units, "teams": teams, "employees": employees}


def write_sourced_config(directory: Path, overlays: dict[str, Any],
                         thresholds: dict[str, Any] | None = None) -> Path:
    """providers.yaml (the four systems, HRMS as the source) and overlays.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    providers = {
        "workelo": {"url": "https://api.workelo.eu/v1", "client_id": "${WORKELO_CLIENT_ID}",
                    "client_secret": "${WORKELO_CLIENT_SECRET}"},
        "hrms": {"url": "https://dev.workbeats.app/api", "token": "${HRMS_TOKEN}",
                 "environment": "staging", "mode": "source"},
        "workleap": {"url": "https://api.workleap.com", "api_key": "${WORKLEAP_API_KEY}"},
        "worklete": {"url": "https://connection.worklete.com/api/v1",
                     "username": "${WORKLETE_USERNAME}", "password": "${WORKLETE_PASSWORD}",
                     "organization": "Acme"},
    }
    if thresholds:
        for name in ("workelo", "workleap", "worklete"):
            providers[name]["thresholds"] = thresholds
    (directory / "providers.yaml").write_text(
        yaml.safe_dump({"version": 1, "providers": providers}, sort_keys=False),
        encoding="utf-8")
    (directory / "overlays.yaml").write_text(
        yaml.safe_dump(overlays, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return directory
