"""Roles at unit level (issue 16 item 2): a unit names its HR partner, administrative owner
and default manager; employees inherit them down the unit tree unless they set their own;
an HR partner's unit scopes follow the units they partner. Inheriting gives the same plan
as writing the relations on every employee."""

from __future__ import annotations

from pathlib import Path

from orgctl import config
from orgctl.model import ProviderConfig
from orgctl.providers.workelo import WorkeloProvider
from tests.config.conftest import problems

UNITS = """units:
  acme: {name: Acme, level: Group, hr: HRA, manager: CEO}
  eng: {name: Engineering, level: Division, parent: acme, manager: CTO, second_hr: OPS}
  web: {name: Web, level: Department, parent: eng}
  sales: {name: Sales, level: Division, parent: acme, hr: HRB}
"""
PEOPLE = {
    "CEO": "unit: acme, role: owner",
    "CTO": "unit: eng, role: manager",
    "HRA": "unit: acme, role: hr",
    "HRB": "unit: sales, role: hr",
    "OPS": "unit: acme, role: hr",
    "DEV": "unit: web",
    "SAM": "unit: sales, hr: HRA",
}


def write(tmp_path: Path, people: dict[str, str], units: str = UNITS) -> Path:
    lines = ["version: 1", units.rstrip("\n"), "employees:"]
    for key, extra in people.items():
        lines.append(f"  {key}: {{first_name: F, last_name: {key}, email: "
                     f"{key.lower()}@acme.io, {extra}}}")
    (tmp_path / "org.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_employees_inherit_the_nearest_units_roles_unless_they_set_their_own(
        tmp_path: Path) -> None:
    org = config.load(write(tmp_path, PEOPLE), resolve_env=False)
    e = org.employees
    assert (e["DEV"].hr, e["DEV"].second_hr, e["DEV"].manager) == ("HRA", "OPS", "CTO")
    assert e["CTO"].manager == "CEO"  # the default manager reports to the unit above's
    assert e["CEO"].manager is None  # nobody is their own manager
    assert e["SAM"].hr == "HRA"  # set by hand: kept over the unit's HRB
    assert e["HRB"].hr == "HRA"  # HRB partners sales, not themselves: the one above


def test_an_hr_partners_scopes_follow_the_units_they_partner(tmp_path: Path) -> None:
    org = config.load(write(tmp_path, PEOPLE), resolve_env=False)
    assert org.employees["HRA"].unit_scopes == ("acme", "eng", "sales", "web")
    assert org.employees["HRB"].unit_scopes == ("sales",)
    written = write(tmp_path, {**PEOPLE, "HRB": "unit: sales, role: hr, unit_scopes: [web]"})
    assert config.load(written, resolve_env=False).employees["HRB"].unit_scopes == ("web",)


def test_inheriting_gives_the_same_plan_as_writing_it_on_every_employee(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    inherited = config.load(write(tmp_path / "a", PEOPLE), resolve_env=False)
    spelled = {key: extra for key, extra in PEOPLE.items()}
    for key, employee in inherited.employees.items():
        for role in ("hr", "second_hr", "manager"):
            if employee.relation(role) and f"{role}:" not in spelled[key]:
                spelled[key] += f", {role}: {employee.relation(role)}"
        if employee.unit_scopes and "unit_scopes" not in spelled[key]:
            spelled[key] += f", unit_scopes: [{', '.join(employee.unit_scopes)}]"
    plain_units = "\n".join(line.split(", hr:")[0].split(", manager:")[0].split(
        ", second_hr:")[0].rstrip("}") + "}" for line in UNITS.splitlines()[1:])
    written = config.load(write(tmp_path / "b", spelled, "units:\n" + plain_units),
                          resolve_env=False)
    provider = WorkeloProvider(ProviderConfig("workelo", "workelo", "https://x.example/v1",
                                              {"client_id": "i", "client_secret": "s"}))
    assert provider.desired(inherited) == provider.desired(written)
    assert [e.relation("manager") for e in written.employees.values()] == [
        e.relation("manager") for e in inherited.employees.values()]


def test_a_units_role_holder_is_checked_where_the_unit_names_them(tmp_path: Path) -> None:
    path = write(tmp_path, {**PEOPLE, "CTO": "unit: eng, role: manager, status: inactive"})
    text = (path / "org.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("  eng:"))
    column = text[line - 1].index("CTO") + 1
    cto = next(i for i, t in enumerate(text, 1) if t.startswith("  CTO:"))
    found = problems(path, resolve_env=False)
    # once for the unit, not once per employee inheriting it
    assert [p for p in found if "CTO is inactive" in p] == [
        f"{path}/org.yaml:{line}:{column}: units.eng.manager: manager CTO is inactive "
        f"({path}/org.yaml:{cto}:{text[cto - 1].index('inactive') + 1}): give unit "
        f"eng an active manager"], found


def test_an_explicit_null_is_recorded_as_cleared_and_stops_inheritance(tmp_path: Path) -> None:
    """Issue 16 item 5: `manager: null` clears instead of inheriting the unit's default
    manager; `job_position: null` and a journey's `end_date: null` are kept as cleared."""
    people = {**PEOPLE, "DEV": "unit: web, manager: null, job_position: null, journeys: "
                              "[{mobility: onboarding, start_date: 2026-01-05, end_date: null}]"}
    org = config.load(write(tmp_path, people), resolve_env=False)
    dev = org.employees["DEV"]
    assert dev.manager is None and dev.hr == "HRA"  # cleared, not inherited; hr inherited
    assert dev.cleared == {"manager", "job_position"}
    assert dev.journeys[0].cleared == {"end_date"}
