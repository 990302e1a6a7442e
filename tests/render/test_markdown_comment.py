"""The Markdown plan as a pull-request comment (issue 17 items 2 and 3): updates GitHub
colours, reasons that wrap, repeated findings folded, nothing linked or mentioned, hostile
values inert, personal data masked on request, safety refusals at the top, and a comment
that stays under GitHub's limit at any plan size."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from orgctl.engine import safety
from orgctl.engine.subjects import subjects_of
from orgctl.errors import SafetyError
from orgctl.model import Employee, Org, ProviderConfig
from orgctl.render import FOLD_AFTER, MARKER, render, summary_line
from orgctl.render.markdown import COMMENT_LIMIT, MAX_COMMENT, WRAP, size
from orgctl.resources import Finding

from .markdown_check import EMAIL, check_unbreakable, fenced_blocks, outside_code
from .planning import org, plan_of

HOSTILE = ("x``` </details> <img src=x onerror=alert(1)> @octocat eve@evil.example\n"
           "## Plan: 0\x1b[2K")


def test_updates_are_coloured_by_github_and_manual_changes_say_so(tmp_path: Path) -> None:
    long_reason = "Workelo documents no way to deactivate or delete an employee " * 5
    plan = plan_of(tmp_path, org(), [
        {"kind": "unit", "key": "data", "attrs": {"name": "Data"}},
        {"kind": "employee", "key": "EMP-2", "attrs": {"status": "inactive"}},
        {"kind": "employee", "key": "EMP-1", "attrs": {"email": "ann@acme.io"}},
    ], live=[{"kind": "unit", "key": "data", "remote_id": "1", "attrs": {"name": "BI"}},
             {"kind": "employee", "key": "EMP-2", "remote_id": "2",
              "attrs": {"status": "active"}}],
        unsupported={"employee:deactivate": long_reason})
    md = render(plan, "markdown")
    lines = [line for block in fenced_blocks(md) for line in block]
    # A diff block colours a line by its first character: + - and ! (changed); ~ is not.
    assert "! fake unit data (Data)" in lines
    assert '!   name: "BI" → "Data"' in lines
    assert "? manual fake employee EMP-2 (Bob Stone)" in lines
    assert '?   status: "active" → "inactive"' in lines
    assert not any(line.startswith("~") for line in lines)
    assert "`!` change" in md and "`?` to do by hand" in md
    # The reason wraps instead of running off the side of the block.
    reason = [line for line in lines if line.startswith("    #")]
    assert len(reason) > 2 and all(len(line) <= WRAP + 8 for line in reason)
    assert " ".join(line[6:].strip() for line in reason).startswith("deactivate needed")


def test_repeated_findings_fold_into_one_line_with_a_count(tmp_path: Path) -> None:
    live = [{"kind": "employee", "key": f"OLD-{i}", "remote_id": str(i),
             "attrs": {"email": f"old{i}@acme.io"}} for i in range(30)]
    plan = plan_of(tmp_path, org(), [], live=live)
    plan.findings += [Finding("audit", "user", f"EMP-{i}",
                              f"EMP-{i} is inactive in HRMS but active in the config")
                      for i in (1, 2, 3)]
    plan.findings.append(Finding("audit", "user", "EMP-1", "EMP-1 email is a@b.example in "
                                                           "HRMS but c@d.example in the config"))
    plan.subjects = subjects_of(org(), plan.changes, plan.findings)
    md = render(plan, "markdown")
    assert ("<details><summary><b>3 ×</b> <code>audit.user</code>: <i>key</i> is inactive "
            "in HRMS but active in the config</summary>\n\n"
            "- `audit.user.EMP-1` (Ann Lee)\n- `audit.user.EMP-2` (Bob Stone)\n"
            "- `audit.user.EMP-3` (Chloé Brun)\n\n</details>") in md
    assert ("<b>30 ×</b> <code>fake.employee</code>: not in config; left alone "
            "(prune.employee: false)</summary>") in md
    assert md.count("`fake.employee.OLD-") == 30  # each in the list, none on its own line
    # A finding said once stays a line; its emails are code, which GitHub does not link.
    assert ("- `audit.user.EMP-1` (Ann Lee): EMP-1 email is `a@b.example` in HRMS but "
            "`c@d.example` in the config\n") in md
    check_unbreakable(md)


def test_hostile_values_stay_inside_their_code_spans_and_blocks(tmp_path: Path) -> None:
    the_org = org()
    the_org.employees["EMP-1"] = Employee("EMP-1", "Eve `</details>`", "<b>x</b> @octocat",
                                          "eve@acme.io", unit="eng")
    plan = plan_of(tmp_path, the_org, [
        {"kind": "unit", "key": "data", "attrs": {"name": "Data"}},
        {"kind": "employee", "key": "EMP-1", "attrs": {"email": "eve@acme.io"}},
    ], live=[
        {"kind": "unit", "key": "data", "remote_id": "1", "attrs": {"name": HOSTILE}},
        {"kind": "unit", "key": HOSTILE, "remote_id": "2", "attrs": {"name": HOSTILE}},
    ], settings={"prune": {"unit": True}})
    plan.findings.append(Finding("audit", "user", "EMP-1", f"department {HOSTILE!r} differs"))
    plan.findings += [Finding("audit", "user", f"EMP-{i}", f"EMP-{i}: {HOSTILE}")
                      for i in (2, 3)]
    plan.subjects = subjects_of(the_org, plan.changes, plan.findings)
    for by in ("person", "system"):
        md = render(plan, "markdown", by=by)
        check_unbreakable(md)
        shown = [line for block in fenced_blocks(md) for line in block]
        assert any("<img src=x onerror=alert(1)> @octocat eve@evil.example\\n## Plan" in line
                   for line in shown), "the value is shown, as text, in the diff block"
    md = render(plan, "markdown")
    assert "**Eve \\`&lt;/details&gt;\\` &lt;b&gt;x&lt;/b&gt; `@octocat`** (`EMP-1`)" in md


def test_personal_data_is_masked_on_request_and_kept_in_the_plan_file(
        tmp_path: Path) -> None:
    plan = plan_of(tmp_path, org(), [
        {"kind": "employee", "key": "EMP-1", "attrs": {
            "first_name": "Ann", "last_name": "Lee", "email": "ann.lee@acme.io",
            "job_position": "Engineer"}},
        {"kind": "team", "key": "eng", "attrs": {"name": "Platform"}},
    ])
    plan.findings.append(Finding("audit", "user", "EMP-1",
                                 "EMP-1 (Ann Lee) has email ann.lee@acme.io in HRMS"))
    # A note on someone the config does not know: nothing tells their name from the rest.
    plan.findings.append(Finding("audit", "user", "S-77", "S-77 (Zed Quill) is active in "
                                 "HRMS but absent from the config", level="info"))
    for fmt in ("markdown", "text"):
        shown = render(plan, fmt, by="person", mask=True)
        assert "Ann" not in shown and "Lee" not in shown and "ann.lee" not in shown
        assert "Zed" not in shown and "audit.user.S-77" in shown
        assert "A. L." in shown and "•••@acme.io" in shown
        assert "Engineer" in shown and "Platform" in shown  # not personal: kept
    assert "EMP-1 (A. L.) has email `•••@acme.io` in HRMS" in render(plan, "markdown",
                                                                     mask=True)
    assert "ann.lee@acme.io" in render(plan, "json")  # the full record
    with pytest.raises(ValueError, match="never masked"):
        render(plan, "json", mask=True)


def removal_wave(tmp_path: Path) -> tuple[Org, object]:
    the_org = org()
    settings = {"prune": {"employee": True}, "protected": ["OLD-19"]}
    live = [{"kind": "employee", "key": f"OLD-{i}", "remote_id": str(i),
             "attrs": {"email": f"old{i}@acme.io"}} for i in range(20)]
    desired = live[:12]
    plan = plan_of(tmp_path, the_org, desired, live, settings=settings)
    return the_org, plan


def test_a_refused_plan_says_why_at_the_top_of_every_format(tmp_path: Path) -> None:
    the_org, plan = removal_wave(tmp_path)
    safety.assess(plan, the_org)
    md = render(plan, "markdown")
    lines = md.splitlines()
    assert lines[:4] == [MARKER, "## orgctl plan", "", f"**{summary_line(plan)}**"]
    assert lines[5:9] == [
        "> [!CAUTION]",
        "> **Refused by safety rules: nothing of this plan is applied** (exit 3).",
        "> - `fake.employee.OLD-19` is protected: refusing to deactivate it (remove "
        "\\`protected\\` from its config first; --force does not override this). Nothing "
        "lifts it, not even `--force`.",
        "> - **removals: 40.00%** of `fake.employee` (8 of 20), over the limit of 30.00%. "
        "Lifted by `--force`."]
    data = json.loads(render(plan, "json"))
    assert data["refusals"][1] == {
        "rule": "removals-percent", "scope": "fake.employee", "count": 8, "existing": 20,
        "ratio": 40.0, "limit": 30.0, "override": "--force",
        "message": "fake.employee: too many removals, 40.00% is over 30.00% (8/20), "
                   "--force required"}
    text = render(plan, "text").splitlines()
    assert text[-5:] == [
        "Refused by safety rules (exit 3): nothing is applied.",
        "  ✗ fake.employee.OLD-19 is protected: refusing to deactivate it (remove `protected` "
        "from its config first; --force does not override this)",
        "  ✗ fake.employee: too many removals, 40.00% is over 30.00% (8/20), --force required",
        "", summary_line(plan)]
    with pytest.raises(SafetyError) as refused:
        safety.enforce(plan, force=True)  # the protected object: force does not lift it
    assert "OLD-19 is protected" in str(refused.value) and "40.00%" not in str(refused.value)
    forced = render(plan, "markdown", forced=True)
    assert "> [!WARNING]\n> **Safety rules overridden by `--force`:**\n> - **removals" in forced
    # The plan file carries them, under its checksum.
    path = tmp_path / "plan.json"
    plan.write(path)
    assert plan.read(path).refusals == plan.refusals


def test_a_comment_stays_under_githubs_limit_at_any_plan_size(tmp_path: Path) -> None:
    n = 10_000
    the_org = Org(employees={f"EMP-{i}": Employee(f"EMP-{i}", f"First{i}", f"Last{i}",
                                                  f"p{i}@acme.io", unit=None)
                             for i in range(n)},
                  providers={"fake": ProviderConfig("fake", "fake", "http://127.0.0.1", {})})
    plan = plan_of(tmp_path, the_org, [
        {"kind": "employee", "key": f"EMP-{i}",
         "attrs": {"email": f"p{i}@acme.io", "first_name": f"First{i}",
                   "manager": "EMP-0", "role": "manager" if i % 50 == 0 else "colleague"}}
        for i in range(n)])
    plan.findings += [Finding("audit", "user", f"EMP-{i}", f"EMP-{i} is not in HRMS")
                      for i in range(n)]
    for by, mask in (("person", False), ("system", False), ("person", True)):
        started = time.process_time()
        md = render(plan, "markdown", by=by, mask=mask)
        assert time.process_time() - started < 10
        assert size(md) <= MAX_COMMENT < COMMENT_LIMIT
        lines = md.splitlines()
        assert lines[3] == f"**{summary_line(plan)}**"
        shown = int(re.search(r"This comment shows ([\d,]+) of 10,000 changes", md)
                    .group(1).replace(",", ""))
        heads = [line for block in fenced_blocks(md) for line in block
                 if line.startswith("+ ") and line[2] != " "]
        assert 0 < shown == len(heads) < n
        assert md.count("This comment shows") == 2  # at the top, and where the cut is
        assert md.rstrip().endswith(f"<sub>checksum `{plan.checksum}`</sub>")
        assert "<b>" + format(n, "") + " ×</b> <code>audit.user</code>" in md
        check_unbreakable(md)
    # Nothing cut in a plan that fits.
    small = render(plan_of(tmp_path, org(), [
        {"kind": "employee", "key": f"EMP-{i}", "attrs": {"email": f"{i}@acme.io"}}
        for i in range(1, 4)]), "markdown")
    assert "This comment shows" not in small


def test_every_section_past_the_fold_is_folded(tmp_path: Path) -> None:
    n = FOLD_AFTER + 5
    the_org = Org(employees={f"EMP-{i}": Employee(f"EMP-{i}", "A", f"B{i}", f"{i}@acme.io")
                             for i in range(n)},
                  providers={"fake": ProviderConfig("fake", "fake", "http://127.0.0.1", {})})
    plan = plan_of(tmp_path, the_org, [{"kind": "employee", "key": f"EMP-{i}",
                                        "attrs": {"role": "manager"}} for i in range(n)])
    md = render(plan, "markdown")
    assert f"<details><summary><b>People</b>: {n} people, {n} changes</summary>" in md
    assert f"**Rights gained ({n})**" in md and "<details><summary>5 more</summary>" in md
    outside = outside_code(md)
    assert not EMAIL.search(outside)
