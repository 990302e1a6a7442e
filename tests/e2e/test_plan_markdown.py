"""The Markdown plan of examples/acme as a pull-request comment, by person (issue 17 items 1-3,
"Must show"): against the quick-start drift and against empty systems, over real HTTP. Names
next to keys, the summary table, folding, the size limit, hostile live values kept inert, a
safety refusal carried by the plan, and personal data masked in the comment only."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from orgctl.engine.subjects import concerned
from orgctl.render import MARKER
from orgctl.render.markdown import MAX_COMMENT, size
from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import (
    ACME,
    StartSandbox,
    copy_acme,
    edit_yaml,
    plan_json,
    run_orgctl,
    write_endpoints,
)
from tests.render.markdown_check import check_unbreakable, fenced_blocks

HOSTILE = "BI``` </details> <img src=x onerror=alert(1)> @octocat eve@evil.example\n## Plan: 0"
SYMBOL = {"create": "+", "update": "!", "delete": "-", "deactivate": "-", "manual": "?"}


def heads(markdown: str) -> list[str]:
    """The head line of every change due (the plan's own) shown in the comment's diff
    blocks; what is scheduled for later days comes after its own heading."""
    due = re.split(r"\n(?:### |<details><summary><b>)Scheduled in the next", markdown)[0]
    return [line for block in fenced_blocks(due) for line in block
            if line[:1] in "+!-?" and line[1:2] == " " and line[2:3] != " "]


def head_of(change: dict[str, Any]) -> str:
    verb = "" if change["action"] in ("create", "update", "delete") else f"{change['action']} "
    return (f"{SYMBOL[change['action']]} {verb}{change['provider']} {change['kind']} "
            f"{change['key']}")


def plan_of(endpoints: Path, *args: str | Path, config: Path = ACME) -> Any:
    return run_orgctl("plan", config, "--sandbox", endpoints, *args)


def test_the_drifted_plan_by_person(start_sandbox: StartSandbox, acme_seed: dict[str, Any],
                                    tmp_path: Path) -> None:
    endpoints = write_endpoints(start_sandbox(acme_drift(acme_seed)), tmp_path / "sb.json")
    result = plan_of(endpoints, "--format", "markdown")
    data = plan_json(plan_of(endpoints, "--format", "json"))

    assert result.exit_code == 0, result.output
    markdown = result.stdout
    lines = markdown.splitlines()
    assert lines[0] == MARKER and lines[3].startswith("**Plan: 7 to add, 5 to change")
    # The table: per system what the plan does, as the JSON counts it.
    counted: dict[str, Counter[str]] = {p: Counter() for p in data["providers"]}
    column = {"create": "add", "update": "change", "delete": "remove", "deactivate": "remove",
              "manual": "manual"}
    for change in data["changes"]:
        counted[change["provider"]][column[change["action"]]] += 1
    for provider, n in counted.items():
        assert (f"| {provider} | {n['add']} | {n['change']} | {n['remove']} | "
                f"{n['manual']} |") in lines
    assert "| **total** | **7** | **5** | **1** | **3** |" in lines
    # People by name, with what their changes amount to.
    assert ("**Lina Bouvier** (`EMP-031`) — joins Data · workelo adds employee and journey "
            "onboarding; workleap adds member and mapping Insights; worklete adds "
            "membership") in lines
    assert "**Marie Dubois** (`EMP-002`) — changes email · workelo changes employee (email)" \
        in lines
    assert "**Maxime Perrin** (`EMP-019`) — leaves · workleap deactivates member" in lines
    assert "**Clara Henry** (`EMP-024`) — leaves · workelo by hand: employee" in lines
    assert "**Data** (`data`) — changes name · workelo changes unit (name)" in lines
    assert "**Rights gained (1)**" in lines
    assert "- Inès Garcia (`EMP-011`): team\\_admin Web Experience (worklete)" in lines
    # Every change once, its name beside its key when it concerns someone.
    shown = heads(markdown)
    assert len(shown) == len(data["changes"])
    for change in data["changes"]:
        named = [h for h in shown if h.split(" (")[0] == head_of(change)]
        assert len(named) == 1, head_of(change)
        sid = concerned(change["key"], data["subjects"])
        if sid is not None:
            assert named[0].endswith(f"({data['subjects'][sid]['name']})")
    assert "! workelo unit data (Data)" in shown and '!   name: "Business Intelligence" → ' \
        '"Data"' in markdown
    assert "<details><summary><b>" not in markdown  # small enough: nothing folded
    assert size(markdown) <= MAX_COMMENT
    check_unbreakable(markdown)


def test_empty_systems_fold_every_long_section_and_fit_one_comment(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    endpoints = write_endpoints(start_sandbox(), tmp_path / "empty.json")
    markdown = plan_of(endpoints, "--format", "markdown").stdout
    data = plan_json(plan_of(endpoints, "--format", "json"))

    whom = [concerned(c["key"], data["subjects"]) or "" for c in data["changes"]]
    people = [sid for sid in whom if sid.startswith("employee:")]
    assert (f"<details><summary><b>People</b>: {len(set(people))} people, {len(people)} "
            f"changes</summary>") in markdown.splitlines()
    assert "### Units (12 units, 12 changes)" in markdown  # short enough to stay open
    assert "**Rights gained (" in markdown and " more</summary>" in markdown
    assert size(markdown) <= MAX_COMMENT
    shown = heads(markdown)
    if "This comment shows" in markdown:  # cut: as many as it says, the rest in the file
        assert f"shows {len(shown):,} of {len(data['changes']):,} changes" in markdown
    else:
        assert sorted(h.split(" (")[0] for h in shown) == sorted(
            head_of(c) for c in data["changes"])
    check_unbreakable(markdown)


def test_hostile_live_values_stay_inside_their_code_blocks(
        start_sandbox: StartSandbox, acme_seed: dict[str, Any], tmp_path: Path) -> None:
    seed = acme_drift(acme_seed)
    for unit in seed["workelo"]["unit_organizations"]:
        if unit["external_id"] == "data":
            unit["name"] = HOSTILE
    seed["hrms"]["departments"].append({"id": "dept_evil", "name": HOSTILE})
    for user in seed["hrms"]["users"]:
        if user["staffId"] == "EMP-021":
            user["department"] = HOSTILE
    seed["workleap"]["members"].append({"email": "eve@evil.example", "firstName": HOSTILE,
                                        "lastName": "`x`", "status": "active"})
    endpoints = write_endpoints(start_sandbox(seed), tmp_path / "sb.json")
    for by in ("person", "system"):
        result = plan_of(endpoints, "--format", "markdown", "--by", by)
        assert result.exit_code == 0, result.output
        markdown = result.stdout
        check_unbreakable(markdown)
        blocks = "\n".join(line for block in fenced_blocks(markdown) for line in block)
        assert "<img src=x onerror=alert(1)> @octocat eve@evil.example\\n## Plan: 0" in blocks


def test_a_refused_plan_carries_its_refusal_and_applies_with_force(
        start_sandbox: StartSandbox, acme_seed: dict[str, Any], tmp_path: Path) -> None:
    config = copy_acme(tmp_path)
    edit_yaml(config, "providers.yaml",
              lambda d: d["providers"]["workelo"]["thresholds"].update(updates_percent=2))
    endpoints = write_endpoints(start_sandbox(acme_drift(acme_seed)), tmp_path / "sb.json")
    planfile = tmp_path / "plan.json"

    refused = plan_of(endpoints, "--format", "markdown", "-o", planfile, config=config)
    as_json = plan_of(endpoints, "--format", "json", config=config)

    assert refused.exit_code == as_json.exit_code == 3
    assert "refused by safety rules" in refused.stderr
    lines = refused.stdout.splitlines()
    assert lines[5:8] == [
        "> [!CAUTION]",
        "> **Refused by safety rules: nothing of this plan is applied** (exit 3).",
        "> - **updates: 4.00%** of `workelo.employee` (2 of 50), over the limit of 2.00%. "
        "Lifted by `--force`."]
    assert json.loads(as_json.stdout)["refusals"][0] == {
        "rule": "updates-percent", "scope": "workelo.employee", "count": 2, "existing": 50,
        "ratio": 4.0, "limit": 2, "override": "--force",
        "message": "workelo.employee: too many updates, 4.00% is over 2.00% (2/50), "
                   "--force required"}
    assert json.loads(planfile.read_text())["refusals"] == json.loads(
        as_json.stdout)["refusals"]
    assert "> [!CAUTION]" in run_orgctl("show", planfile, "--format", "markdown").stdout
    # The refusal is part of the plan: applying the reviewed file with --force is not stale.
    assert run_orgctl("apply", planfile, "--sandbox", endpoints).exit_code == 3
    forced = run_orgctl("apply", planfile, "--sandbox", endpoints, "--force")
    assert forced.exit_code == 0, forced.output


def test_personal_data_is_masked_in_the_comment_and_kept_in_the_plan_file(
        start_sandbox: StartSandbox, acme_seed: dict[str, Any], tmp_path: Path) -> None:
    endpoints = write_endpoints(start_sandbox(acme_drift(acme_seed)), tmp_path / "sb.json")
    planfile = tmp_path / "plan.json"
    masked = plan_of(endpoints, "--format", "markdown", "--mask-personal-data", "-o", planfile)

    assert masked.exit_code == 0, masked.output
    assert "Lina Bouvier" not in masked.stdout and "lina.bouvier" not in masked.stdout
    assert "**L. B.** (`EMP-031`) — joins Data" in masked.stdout
    assert '+   email: "•••@acme.example"' in masked.stdout
    saved = planfile.read_text()
    assert "Lina Bouvier" in saved and "lina.bouvier@acme.example" in saved
    refused = plan_of(endpoints, "--format", "json", "--mask-personal-data")
    assert refused.exit_code == 1 and "the JSON plan is the full record" in refused.stderr


@pytest.mark.parametrize("by", ["person", "system"])
def test_show_renders_a_saved_plan_by_person_or_system(
        start_sandbox: StartSandbox, acme_seed: dict[str, Any], tmp_path: Path,
        by: str) -> None:
    endpoints = write_endpoints(start_sandbox(acme_drift(acme_seed)), tmp_path / "sb.json")
    planfile = tmp_path / "plan.json"
    made = plan_of(endpoints, "--format", "markdown", "--by", by, "-o", planfile)
    text = run_orgctl("show", planfile, "--by", by).stdout
    if by == "person":
        assert "Lina Bouvier (EMP-031) — joins Data · workelo adds employee" in text
        assert "  + workelo employee EMP-031 (Lina Bouvier)\n" in text
    else:  # as text always read
        assert "workelo\n" in text and "  + employee EMP-031\n" in text
    assert run_orgctl("show", planfile, "--format", "markdown", "--by", by).stdout == \
        made.stdout
