"""Plan rendering, the plan file, and the safety rules that refuse a plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orgctl import inert
from orgctl.engine import safety
from orgctl.engine.lock import apply_lock
from orgctl.engine.plan import Plan, make_plan
from orgctl.errors import OrgctlError, SafetyError
from orgctl.model import Employee, Org, ProviderConfig
from orgctl.render import FOLD_AFTER, MARKER, render

from .fakes import FakeProvider, resource


def employees(n: int, **attrs) -> list:
    return [resource({"kind": "employee", "key": f"EMP-{i}", "remote_id": str(i),
                      "attrs": {"email": f"e{i}@x.io", **attrs}}) for i in range(n)]


def make(tmp_path: Path, desired, live, settings=None, org: Org | None = None) -> Plan:
    provider = FakeProvider(settings=settings or {}, desired=desired, live=live)
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    org = org or Org()
    org.providers.setdefault("fake", ProviderConfig("fake", "fake", "http://127.0.0.1",
                                                    settings or {}))
    return make_plan(org, [provider], {"fake": live}, config)


def test_text_shows_only_changed_fields_and_a_summary(tmp_path):
    desired = [resource({"kind": "employee", "key": "EMP-1",
                         "attrs": {"email": "new@x.io", "first_name": "Ann"}})]
    live = [resource({"kind": "employee", "key": "EMP-1", "remote_id": "1",
                      "attrs": {"email": "old@x.io", "first_name": "Ann"}})]
    text = render(make(tmp_path, desired, live), "text")
    assert '~ employee EMP-1' in text
    assert 'email: "old@x.io" → "new@x.io"' in text
    assert "first_name" not in text
    assert text.rstrip().endswith("Plan: 0 to add, 1 to change, 0 to destroy.")


def test_markdown_has_marker_and_folds_long_sections(tmp_path):
    desired = [resource({"kind": "employee", "key": f"EMP-{i}", "attrs": {"email": f"{i}@x"}})
               for i in range(FOLD_AFTER + 5)]
    md = render(make(tmp_path, desired, []), "markdown", by="system")
    assert md.startswith(MARKER)
    assert "<details><summary><b>fake</b>" in md and "</details>" in md
    short = render(make(tmp_path, desired[:2], []), "markdown", by="system")
    assert "<details>" not in short and "### fake" in short


def test_json_is_stable_and_round_trips_through_a_plan_file(tmp_path):
    desired = [resource({"kind": "unit", "key": k, "attrs": {"name": k}}) for k in "cab"]
    plan = make(tmp_path, desired, [])
    path = tmp_path / "plan.json"
    plan.write(path)
    data = json.loads(path.read_text())
    assert data["format_version"] == "1"
    assert [c["key"] for c in data["changes"]] == ["a", "b", "c"]
    again = Plan.read(path)
    assert render(again, "text") == render(plan, "text")
    assert again.checksum == plan.checksum


def test_an_edited_plan_file_is_refused(tmp_path):
    plan = make(tmp_path, [resource({"kind": "unit", "key": "a", "attrs": {"name": "a"}})], [])
    path = tmp_path / "plan.json"
    plan.write(path)
    data = json.loads(path.read_text())
    data["changes"][0]["after"]["name"] = "evil"
    path.write_text(json.dumps(data))
    with pytest.raises(OrgctlError, match="checksum mismatch"):
        Plan.read(path)


def test_removals_over_threshold_refused_with_scope_ratio_counts(tmp_path):
    live = employees(20)
    plan = make(tmp_path, live[:12], live, settings={"prune": {"employee": True}})
    assert plan.counts()["deactivate"] == 8
    with pytest.raises(SafetyError) as info:
        safety.check(plan, Org(providers={"fake": ProviderConfig(
            "fake", "fake", "http://127.0.0.1", {})}))
    assert "fake.employee: too many removals, 40.00% is over 30.00% (8/20), --force required" \
        in str(info.value)
    assert info.value.exit_code == 3
    safety.check(plan, Org(), force=True)  # force lets it through


def test_floor_lets_small_populations_change(tmp_path):
    live = employees(9)
    plan = make(tmp_path, [], live, settings={"prune": {"employee": True}})
    assert plan.counts()["deactivate"] == 9
    safety.check(plan, Org())  # 100 % of 9 objects: under the floor of 10


def test_thresholds_are_configurable_per_provider(tmp_path):
    live = employees(20)
    settings = {"prune": {"employee": True}, "thresholds": {"removals_percent": 50}}
    plan = make(tmp_path, live[:12], live, settings=settings)
    org = Org(providers={"fake": ProviderConfig("fake", "fake", "http://x", settings)})
    safety.check(plan, org)


def test_absolute_cap_on_removals(tmp_path):
    live = employees(30)
    settings = {"prune": {"employee": True},
                "thresholds": {"removals_percent": 100, "max_removals": 5}}
    plan = make(tmp_path, live[:20], live, settings=settings)
    org = Org(providers={"fake": ProviderConfig("fake", "fake", "http://x", settings)})
    with pytest.raises(SafetyError, match="10 is over the cap of 5 per run"):
        safety.check(plan, org)


def test_protected_objects_refuse_even_with_force(tmp_path):
    desired = [resource({"kind": "employee", "key": "EMP-1", "attrs": {"status": "inactive"}})]
    live = [resource({"kind": "employee", "key": "EMP-1", "remote_id": "1",
                      "attrs": {"status": "active"}})]
    org = Org(employees={"EMP-1": Employee("EMP-1", "A", "B", "a@x.io", status="inactive",
                                           protected=True)})
    plan = make(tmp_path, desired, live, org=org)
    with pytest.raises(SafetyError, match="fake.employee.EMP-1 is protected"):
        safety.check(plan, org, force=True)


def test_no_removals_holds_back_every_removal(tmp_path):
    live = employees(3)
    plan = make(tmp_path, [], live, settings={"prune": {"employee": True}})
    safety.drop_removals(plan)
    assert plan.changes == []
    assert sum("held back by --no-removals" in f.message for f in plan.findings) == 3


def test_second_apply_lock_is_refused(tmp_path):
    with apply_lock(tmp_path):
        with pytest.raises(SafetyError, match="another apply holds the lock"):
            with apply_lock(tmp_path):
                pass
    with apply_lock(tmp_path):  # released after the first apply ended
        pass


def test_how_each_system_was_read_is_shown_in_every_format_never_folded(tmp_path):
    """A fallback's reason and cost, noted by the provider during its read, reaches the
    reviewer in text, Markdown and JSON, ahead of the folded notes."""
    provider = FakeProvider(settings={}, desired=[], live=[])
    provider.fallbacks["scopes"] = "GET /unit_organization_managements answered 404"
    provider.note_fallback("scopes", "GET /employees/{id}/unit_organization_managements", 612)
    for i in range(FOLD_AFTER + 5):  # more read notes than other notes show: none folded
        provider.note(f"other-{i}", f"note {i}")
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    org = Org()
    org.providers["fake"] = ProviderConfig("fake", "fake", "http://127.0.0.1", {})
    plan = make_plan(org, [provider], {"fake": []}, config)
    said = ("GET /unit_organization_managements answered 404: read GET /employees/{id}/"
            "unit_organization_managements instead (612 requests this run)")
    text = render(plan, "text")
    assert f"fake: {said}" in text
    assert f"fake: note {FOLD_AFTER + 4}" in text and "more (see --format json)" not in text
    assert f"- **fake**: {inert.markdown(said)}" in render(plan, "markdown")
    assert any(f["message"] == said and f["code"] == "read"
               for f in json.loads(render(plan, "json"))["findings"])
