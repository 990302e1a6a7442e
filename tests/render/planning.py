"""Plans of a small org in one in-memory provider, for the renderer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orgctl.engine.plan import Plan, make_plan
from orgctl.model import Employee, Org, ProviderConfig, Team, Unit
from tests.engine.fakes import FakeProvider, resource

KINDS = ("unit", "team", "employee", "scope", "journey", "team_admin", "mapping")


def org(people: int = 3) -> Org:
    """Units eng (Engineering) and data, a team eng (Platform: same key as the unit), and
    people EMP-1... (EMP-1 Ann Lee in eng, EMP-2 Bob Stone in data, ...)."""
    names = [("Ann", "Lee"), ("Bob", "Stone"), ("Chloé", "Brun")]
    employees = {}
    for i in range(1, people + 1):
        first, last = names[i - 1] if i <= len(names) else (f"First{i}", f"Last{i}")
        employees[f"EMP-{i}"] = Employee(f"EMP-{i}", first, last, f"{first.lower()}@acme.io",
                                         unit="eng" if i % 2 else "data")
    return Org(units={"eng": Unit("eng", "Engineering", "department"),
                      "data": Unit("data", "Data", "department")},
               teams={"eng": Team("eng", "Platform", managers=("EMP-1",))},
               employees=employees,
               providers={"fake": ProviderConfig("fake", "fake", "http://127.0.0.1", {})})


def plan_of(tmp_path: Path, the_org: Org, desired: list[dict[str, Any]],
            live: list[dict[str, Any]] = (), settings: dict[str, Any] | None = None,
            unsupported: dict[str, str] | None = None) -> Plan:
    """The plan of `desired` against `live` (resources as dicts) in provider "fake";
    `unsupported`: "kind:action" -> why the provider cannot (a manual change)."""
    provider = FakeProvider(settings=settings or {}, desired=[resource(r) for r in desired],
                            live=[resource(r) for r in live], unsupported=unsupported)
    provider.KINDS = KINDS
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    if settings:
        the_org.providers["fake"] = ProviderConfig("fake", "fake", "http://127.0.0.1",
                                                   settings)
    return make_plan(the_org, [provider], {"fake": [resource(r) for r in live]}, config)
