"""Plan behaviour as data: each YAML file under cases/ is live state + desired state + the
plan expected from them (pyinfra style). Add a case to add a behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgctl.engine.plan import make_plan
from orgctl.model import Employee, Org

from .fakes import FakeProvider, resource

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_plan_case(case_file: Path, tmp_path: Path) -> None:
    case = yaml.safe_load(case_file.read_text())
    provider = FakeProvider(
        settings=case.get("settings", {}),
        desired=[resource(r) for r in case.get("desired", [])],
        live=[resource(r) for r in case.get("live", [])],
        unsupported=case.get("unsupported", {}),
    )
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    org = Org(employees={k: Employee(k, "A", "B", f"{k}@x.io", status="inactive")
                         for k in case.get("inactive_in_config", [])})
    plan = make_plan(org, [provider], {"fake": provider._live}, config,
                     targets=case.get("targets"))
    got = [
        {k: v for k, v in {
            "address": c.address, "action": c.action, "fields": c.fields or None,
            "depends_on": c.depends_on or None,
            "reason": c.reason if "reason" in _expected_keys(case) else None,
        }.items() if v is not None}
        for c in plan.changes
    ]
    assert got == case["expect"]["changes"]
    if "findings" in case["expect"]:
        messages = [f"{f.address}: {f.message}" for f in plan.findings]
        for expected in case["expect"]["findings"]:
            assert any(expected in m for m in messages), (expected, messages)


def _expected_keys(case: dict) -> set[str]:
    return {k for c in case["expect"]["changes"] for k in c}
