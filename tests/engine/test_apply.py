"""The apply engine with an in-memory provider: order, partial failure, unknown outcomes,
the journal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from orgctl.engine.apply import Journal, apply_changes
from orgctl.engine.plan import make_plan
from orgctl.errors import OrgctlError, expect_mapping
from orgctl.model import Org
from orgctl.providers.base import Provider

from .fakes import FakeProvider, resource


def plan_for(provider: FakeProvider, tmp_path: Path):
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    return make_plan(Org(), [provider], {provider.name: provider._live}, config)


def tree() -> list:
    return [
        resource({"kind": "unit", "key": "root", "attrs": {"name": "Root"}}),
        resource({"kind": "unit", "key": "eng", "attrs": {"name": "Eng", "parent": "root"},
                  "refs": {"parent": "fake.unit.root"}}),
        resource({"kind": "unit", "key": "ops", "attrs": {"name": "Ops"}}),
        resource({"kind": "employee", "key": "EMP-1", "attrs": {"unit": "eng"},
                  "refs": {"unit": "fake.unit.eng"}}),
        resource({"kind": "employee", "key": "EMP-2", "attrs": {"unit": "ops"},
                  "refs": {"unit": "fake.unit.ops"}}),
        resource({"kind": "scope", "key": "EMP-1:eng",
                  "attrs": {"employee": "EMP-1", "unit": "eng"},
                  "refs": {"employee": "fake.employee.EMP-1", "unit": "fake.unit.eng"}}),
    ]


def test_creates_run_parents_first_and_resolve_new_ids(tmp_path):
    provider = FakeProvider(desired=tree())
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids,
                                       parallelism=4))
    assert result.ok, result.outcomes
    order = provider.applied
    assert order.index("fake.unit.root") < order.index("fake.unit.eng")
    assert order.index("fake.unit.eng") < order.index("fake.employee.EMP-1")
    assert order.index("fake.employee.EMP-1") < order.index("fake.scope.EMP-1:eng")
    assert result.count("applied") == 6


def test_a_failure_skips_its_dependents_and_not_the_rest(tmp_path):
    provider = FakeProvider(desired=tree())
    provider.fail.add("fake.unit.eng")
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    status = {o.address: o.status for o in result.outcomes}
    assert status["fake.unit.eng"] == "failed"
    assert status["fake.employee.EMP-1"] == "skipped"
    assert status["fake.scope.EMP-1:eng"] == "skipped"
    assert status["fake.unit.ops"] == "applied"
    assert status["fake.employee.EMP-2"] == "applied"
    skipped = next(o for o in result.outcomes if o.address == "fake.scope.EMP-1:eng")
    assert "fake.unit.eng" in skipped.detail  # the cause is named
    assert not result.ok


def test_unknown_outcome_create_is_looked_up_not_repeated(tmp_path):
    provider = FakeProvider(desired=tree()[:1])
    provider.unknown_once.add("fake.unit.root")
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    assert result.ok
    assert provider.calls == 1  # found by lookup: no second create
    assert result.outcomes[0].detail == "created (confirmed by lookup)"


def test_a_create_whose_lookup_fails_ends_unknown_and_is_not_sent_again(tmp_path):
    """Issue 14 item 1: the create committed and answered 500, then the lookup's list
    answered 503; apply POSTed again (4 copies each of 4 teams in the probe). Now the
    change ends `unknown`, the apply is not ok, and the object exists once."""
    provider = FakeProvider(desired=tree()[:1])
    provider.unknown_once.add("fake.unit.root")
    provider.lookup_fails = True
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    (outcome,) = result.outcomes
    assert outcome.status == "unknown"
    assert "not sent again" in outcome.detail and "orgctl plan" in outcome.detail
    assert provider.calls == 1
    assert not result.ok
    assert result.summary() == "Apply: 1 unknown."


def test_a_provider_that_cannot_look_up_never_sends_a_create_twice(tmp_path):
    provider = FakeProvider(desired=tree()[:1])
    provider.unknown_once.add("fake.unit.root")
    provider.lookup = Provider.lookup.__get__(provider)  # the base class: cannot tell
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    assert [o.status for o in result.outcomes] == ["unknown"]
    assert provider.calls == 1


def test_deletes_run_after_creates_and_children_first(tmp_path):
    live = [
        resource({"kind": "unit", "key": "old-root", "remote_id": "1",
                  "attrs": {"name": "R", "parent": None}}),
        resource({"kind": "unit", "key": "old-leaf", "remote_id": "2",
                  "attrs": {"name": "L", "parent": "old-root"}}),
        resource({"kind": "scope", "key": "EMP-9:old-leaf", "remote_id": "3",
                  "attrs": {"employee": "EMP-9", "unit": "old-leaf"}}),
    ]
    provider = FakeProvider(settings={"prune": {"unit": True}}, desired=tree()[:1], live=live)
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    assert result.ok
    assert provider.applied == ["fake.unit.root", "fake.scope.EMP-9:old-leaf",
                                "fake.unit.old-leaf", "fake.unit.old-root"]


def test_manual_changes_are_reported_not_applied(tmp_path):
    provider = FakeProvider(
        desired=[resource({"kind": "employee", "key": "EMP-1", "attrs": {"status": "inactive"}})],
        live=[resource({"kind": "employee", "key": "EMP-1", "remote_id": "1",
                        "attrs": {"status": "active"}})],
        unsupported={"employee:deactivate": "no documented endpoint"})
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    assert [o.status for o in result.outcomes] == ["manual"]
    assert provider.calls == 0


def test_journal_records_each_step_as_json_lines(tmp_path):
    provider = FakeProvider(desired=tree()[:2])
    provider.fail.add("fake.unit.eng")
    plan = plan_for(provider, tmp_path)
    journal = Journal(tmp_path / "journal.jsonl")
    asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids, journal=journal))
    journal.close()
    events = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert {"time", "address", "action", "event"} <= set(events[0])
    outcomes = {(e["address"], e["event"]) for e in events if e["event"] != "start"}
    assert ("fake.unit.root", "applied") in outcomes
    assert ("fake.unit.eng", "failed") in outcomes
    applied = next(e for e in events if e["event"] == "applied")
    assert applied["remote_id"] == "r-root"


def test_what_needs_a_manual_create_is_manual_too_with_the_reason(tmp_path):
    """Before, such changes were planned as creates and `skipped` by every apply: each
    apply exited 1 and each plan reported changes, forever (issue 14 item 13)."""
    provider = FakeProvider(desired=tree()[:4], unsupported={"unit:create": "no such level"})
    plan = plan_for(provider, tmp_path)
    deps = {c.address: c.depends_on for c in plan.changes}
    assert deps["fake.employee.EMP-1"] == ["fake.unit.eng"]  # waits for the hand-made unit
    waiting = next(c for c in plan.changes if c.address == "fake.employee.EMP-1")
    assert waiting.action == "manual"
    assert waiting.reason.startswith("create waits for fake.unit.eng, which must be made by "
                                     "hand first")
    assert not plan.has_changes
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    assert {o.status for o in result.outcomes} == {"manual"}
    assert result.ok
    assert provider.calls == 0


def test_journal_hides_a_secret_that_json_would_escape(tmp_path):
    from orgctl.redact import register

    secret = 'pa"ss\\word-1234'
    register(secret)
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(event="failed", detail=f"server echoed {secret}")
    journal.close()
    text = (tmp_path / "j.jsonl").read_text()
    assert "word-1234" not in text and "***" in text


def test_an_unexpected_answer_fails_one_change_not_the_apply(tmp_path):
    class Odd(FakeProvider):
        async def apply(self, change, ids):
            if change.key == "eng":
                # the API answered without the field we need: the provider's check says so
                expect_mapping(self.name, "POST /units", ["not", "an", "object"])
            return await super().apply(change, ids)

    provider = Odd(desired=tree())
    plan = plan_for(provider, tmp_path)
    result = asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))
    status = {o.address: o.status for o in result.outcomes}
    assert status["fake.unit.eng"] == "failed" and status["fake.unit.ops"] == "applied"
    assert "unexpected answer from the API: POST /units: expected an object" in next(
        o.detail for o in result.outcomes if o.address == "fake.unit.eng")


def test_a_bug_in_a_provider_stays_a_bug(tmp_path):
    """A KeyError inside orgctl's own code is not blamed on the vendor: it propagates
    (the CLI reports it as an internal error, with the traceback under -v)."""
    class Buggy(FakeProvider):
        async def apply(self, change, ids):
            if change.key == "eng":
                return {}["id"]
            return await super().apply(change, ids)

    provider = Buggy(desired=tree())
    plan = plan_for(provider, tmp_path)
    with pytest.raises(KeyError):
        asyncio.run(apply_changes(plan.changes, {"fake": provider}, {}, plan.ids))


def test_a_resource_of_an_undeclared_kind_fails_the_plan(tmp_path):
    """A kind missing from KINDS used to be dropped silently by the managed-kinds filter."""
    provider = FakeProvider(desired=tree(), live=[
        resource({"kind": "team", "key": "t1", "remote_id": "9"})])
    with pytest.raises(OrgctlError, match="kind 'team', which is not one of its KINDS"):
        plan_for(provider, tmp_path)
