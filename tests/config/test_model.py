"""examples/acme builds exactly the model downstream code relies on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from orgctl import config
from orgctl.errors import Location
from orgctl.model import Journey, Org
from tests.config.conftest import problems


@pytest.fixture
def acme(acme_env: dict[str, str]) -> Org:
    return config.load("examples/acme")


def test_acme_summary(acme: Org):
    assert acme.summary() == "12 units, 6 teams, 51 employees, 6 journeys"


def test_units_form_three_levels(acme: Org):
    assert acme.units["acme"].parent is None and acme.units["acme"].protected
    assert acme.units["eng"].parent == "acme"
    assert acme.units["backend"].parent == "eng"
    assert {u.level for u in acme.units.values()} == {"Group", "Division", "Department"}
    assert acme.units["eng"].previously == ("R&D",)
    assert acme.units["backend"].location == Location("examples/acme/units.yaml", 27, 3)


def test_teams_nest_and_list_people(acme: Org):
    api = acme.teams["platform-api"]
    assert (api.parent, api.unit, api.managers) == ("platform", "backend", ("EMP-013",))
    assert "EMP-029" in api.members


def test_employee_fields(acme: Org):
    marie = acme.employees["EMP-002"]
    assert (marie.first_name, marie.email, marie.role, marie.manager, marie.hr) == (
        "Marie", "marie.dubois@acme.example", "manager", "EMP-001", "EMP-040")
    assert marie.previously == ("marie.durand@acme.example",)
    assert marie.settings_for("worklete").get("org_admin", False) is False
    assert marie.settings_for("workleap")["language"] == "en"
    assert tuple(marie.settings_for("workleap")["products"]) == ("Officevibe", "Skills")
    sophie = acme.employees["EMP-004"]
    assert sophie.unit_scopes == ("acme",) and sophie.settings_for("worklete")["org_admin"]
    assert acme.employees["EMP-043"].identifications == {"badge": "B-043",
                                                         "payroll_id": "PAY-0043"}
    assert not acme.employees["EMP-047"].active


def test_defaults_apply_when_omitted(acme: Org):
    julien = acme.employees["EMP-013"]
    assert (julien.role, julien.status, julien.buddy, julien.protected) == (
        "colleague", "active", None, False)


def test_journeys_carry_dates_and_overrides(acme: Org):
    [onboarding] = acme.employees["EMP-058"].journeys
    assert onboarding == Journey(
        key="onboarding", employee="EMP-058", mobility="onboarding",
        start_date=date(2027, 1, 11), end_date=date(2027, 3, 31),
        templates=("Standard onboarding", "Sales onboarding"), invite_at=date(2026, 12, 21),
        start=True, implications={"hr": "EMP-041", "buddy": "EMP-059"})
    assert onboarding.address_key == "EMP-058.onboarding"
    [move] = acme.employees["EMP-063"].journeys
    assert (move.key, move.mobility) == ("move-to-marketing", "crossboarding")
    assert {j.mobility for j in acme.journeys} == {"onboarding", "crossboarding", "offboarding"}


def test_providers_resolve_secrets_into_settings_only(acme: Org, acme_env: dict[str, str]):
    workelo = acme.providers["workelo"]
    assert (workelo.type, workelo.url) == ("workelo", "https://api.workelo.eu/v1")
    assert workelo.settings["client_secret"] == acme_env["WORKELO_CLIENT_SECRET"]
    assert workelo.settings["manages"] == ["units", "employees", "scopes", "journeys"]
    assert workelo.settings["prune"]["scopes"] is True
    assert "url" not in workelo.settings and "type" not in workelo.settings
    assert acme.providers["hrms"].settings == {
        "token": acme_env["HRMS_TOKEN"], "environment": "staging", "mode": "audit"}
    assert acme.providers["worklete"].settings["organization"] == "Acme"


def test_no_env_leaves_placeholders_unresolved(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HRMS_TOKEN", raising=False)
    org = config.load("examples/acme", resolve_env=False)
    assert org.providers["hrms"].settings["token"] == "${HRMS_TOKEN}"


def test_provider_type_defaults_to_its_name_and_can_be_named(tmp_path: Path):
    (tmp_path / "org.yaml").write_text(
        "version: 1\nproviders:\n"
        "  hrms-uat:\n    type: hrms\n    url: http://127.0.0.1:8001\n"
        "    token: ${T}\n    environment: uat\n"
        "  workleap:\n    url: http://[::1]:8002/\n    api_key: ${K}\n")
    org = config.load(tmp_path, environ={"T": "t0k3n", "K": "k3y!"})
    assert org.providers["hrms-uat"].type == "hrms"
    assert org.providers["workleap"].type == "workleap"
    assert org.providers["workleap"].settings == {"api_key": "k3y!"}


def test_objects_with_schema_errors_do_not_hide_other_problems(tmp_path: Path):
    (tmp_path / "org.yaml").write_text(
        "version: 1\nunits:\n  eng: {name: Engineering}\n"
        "  web: {name: Web, level: Department, parent: eng}\n"
        "  ops: {name: Ops, level: Division, parent: nowhere}\n")
    # eng is invalid (no level) but exists: web's parent is fine, ops's is not.
    assert problems(tmp_path) == [
        f"{tmp_path}/org.yaml:3:3: units.eng: missing required key 'level'",
        f"{tmp_path}/org.yaml:5:45: units.ops.parent: unknown unit 'nowhere'"]
