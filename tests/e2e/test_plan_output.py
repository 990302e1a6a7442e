"""What a reviewer and a CI job get from `orgctl plan` against the sandbox: the three output
formats, the plan file and `orgctl show`, and narrowing with --provider and --target. All
against the quick-start drift of examples/acme, so every kind of change is in the plan."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import ACME, StartSandbox, plan_json, run_orgctl, write_endpoints

SECRETS = ("sandbox-secret", "sandbox-hrms-token", "sandbox-workleap-key", "sandbox-password")


@pytest.fixture
def drifted(start_sandbox: StartSandbox, tmp_path: Path,
            acme_seed: dict[str, Any]) -> tuple[Sandbox, Path]:
    """The sandbox seeded with the quick-start drift, and its endpoints file."""
    box = start_sandbox(acme_drift(acme_seed))
    return box, write_endpoints(box, tmp_path / "sandbox.json")


def plan(endpoints: Path, *args: str | Path) -> Any:
    return run_orgctl("plan", ACME, "--sandbox", endpoints, *args)


# -- formats ----------------------------------------------------------------------------------

def test_text_shows_each_change_with_its_symbol_and_only_changed_fields_then_a_summary(
        drifted: tuple[Sandbox, Path]) -> None:
    _, endpoints = drifted
    result = plan(endpoints)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    summary = plan_json(plan(endpoints, "--format", "json"))["summary"]

    assert lines[-1] == (f"Plan: {summary['create']} to add, {summary['update']} to change, "
                         f"{summary['delete']} to destroy, {summary['deactivate']} to deactivate,"
                         f" {summary['manual']} manual.")
    # Grouped by provider, in name order; HRMS never has a section (it is never written).
    assert [line for line in lines if line in ("hrms", "workelo", "workleap", "worklete")] == [
        "workelo", "workleap", "worklete"]
    text = result.stdout
    assert "  + employee EMP-031\n" in text
    assert ("  - deactivate member EMP-019\n"
            "      # status inactive in config (leave_date 2026-11-02)\n") in text
    # An update shows only what differs, as old → new.
    assert ('  ~ unit data\n      name: "Business Intelligence" → "Data"\n'
            '      # differs from config\n') in text
    assert ('  ~ team platform\n      name: "Infrastructure" → "Platform"\n') in text
    counted = {symbol: sum(line.startswith(f"  {symbol} ") for line in lines)
               for symbol in "+~-"}
    assert counted == {"+": summary["create"], "~": summary["update"],
                       "-": summary["delete"] + summary["deactivate"]}
    # The HRMS audit, as warnings.
    assert ("  ! hrms.user.EMP-030: EMP-030 is inactive in HRMS but active in the config"
            in lines)


def test_json_is_versioned_checksummed_and_stably_ordered(
        drifted: tuple[Sandbox, Path]) -> None:
    _, endpoints = drifted
    first = plan(endpoints, "--format", "json")
    second = plan(endpoints, "--format", "json")
    data = plan_json(first)

    assert data["format_version"] == "1"
    # docs/plan-format.md: sha256 of the canonical JSON of everything except these three.
    body = {k: v for k, v in data.items()
            if k not in ("created_at", "orgctl_version", "checksum")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data["checksum"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert list(data) == sorted(data)
    providers = [c["provider"] for c in data["changes"]]
    assert providers == sorted(providers)
    for name in set(providers):
        keys_by_kind: dict[str, list[str]] = {}
        for c in data["changes"]:
            if c["provider"] == name:
                keys_by_kind.setdefault(c["kind"], []).append(c["key"])
        kinds = [c["kind"] for c in data["changes"] if c["provider"] == name]
        assert kinds == sorted(kinds, key=list(keys_by_kind).index), f"{name}: kinds interleave"
        assert all(keys == sorted(keys) for keys in keys_by_kind.values())
    # Kinds in dependency order: what a change refers to comes first.
    assert [k for k in dict.fromkeys(c["kind"] for c in data["changes"]
                                     if c["provider"] == "workelo")] == [
        "unit", "employee", "scope", "journey"]
    # Two plans of the same live state differ in their timestamp at most.
    without_time = re.compile(r'"created_at": "[^"]*"')
    assert without_time.sub("", first.stdout) == without_time.sub("", second.stdout)
    assert not any(secret in first.stdout for secret in SECRETS)


def test_markdown_has_the_hidden_marker_and_folds_long_sections(
        drifted: tuple[Sandbox, Path], start_sandbox: StartSandbox, tmp_path: Path) -> None:
    _, endpoints = drifted
    result = plan(endpoints, "--format", "markdown", "--by", "system")
    text = plan(endpoints).stdout

    assert result.exit_code == 0, result.output
    markdown = result.stdout
    assert markdown.startswith("<!-- orgctl-plan -->\n")
    assert f"**{text.splitlines()[-1]}**" in markdown
    # An update is `!`, the line GitHub colours as changed in a diff block.
    assert "### workelo (" in markdown and "```diff\n! unit data (Data)\n" in markdown
    assert ("- `hrms.user.EMP-030` (Olivia Brown): EMP-030 is inactive in HRMS but active "
            "in the config") in markdown
    assert "<details><summary><b>" not in markdown  # no system's section is long enough

    empty = write_endpoints(start_sandbox(), tmp_path / "empty.json")
    long = plan(empty, "--format", "markdown", "--by", "system").stdout
    assert long.startswith("<!-- orgctl-plan -->\n")
    assert "<details><summary><b>workelo</b>:" in long and "</details>" in long


# -- the plan file ------------------------------------------------------------------------------

def test_plan_file_round_trips_through_show(drifted: tuple[Sandbox, Path],
                                            tmp_path: Path) -> None:
    _, endpoints = drifted
    planfile = tmp_path / "plan.json"

    made = plan(endpoints, "-o", planfile)
    shown = run_orgctl("show", planfile)

    assert made.exit_code == 0 and shown.exit_code == 0, made.output + shown.output
    assert f"Plan saved to {planfile}" in made.stderr
    assert shown.stdout == made.stdout
    for fmt in ("json", "markdown"):
        assert run_orgctl("show", planfile, "--format", fmt).stdout == (
            planfile.read_text() if fmt == "json" else
            plan(endpoints, "--format", "markdown").stdout)
    saved = json.loads(planfile.read_text())
    assert set(saved["providers"]) == {"hrms", "workelo", "workleap", "worklete"}
    assert all(p["fingerprint"].startswith("sha256:") for p in saved["providers"].values())
    assert not any(secret in planfile.read_text() for secret in SECRETS)


def test_an_edited_plan_file_is_refused_by_show_and_apply(drifted: tuple[Sandbox, Path],
                                                          tmp_path: Path) -> None:
    box, endpoints = drifted
    planfile = tmp_path / "plan.json"
    assert plan(endpoints, "-o", planfile).exit_code == 0
    data = json.loads(planfile.read_text())
    change = next(c for c in data["changes"] if c["address"] == "workelo.employee.EMP-014")
    change["after"]["job_position"] = "CEO"
    change["fields"]["job_position"][1] = "CEO"
    planfile.write_text(json.dumps(data, indent=2))
    writes_before = {n: e.log.count() - e.log.count(method="GET")
                     for n, e in box.emulators.items()}

    shown = run_orgctl("show", planfile)
    applied = run_orgctl("apply", planfile, "--sandbox", endpoints)

    for result in (shown, applied):
        assert result.exit_code == 1
        assert f"{planfile}: checksum mismatch: the plan file was edited or damaged" in (
            result.stderr)
        assert "CEO" not in result.stdout
    assert {n: e.log.count() - e.log.count(method="GET")
            for n, e in box.emulators.items()} == writes_before


# -- narrowing ----------------------------------------------------------------------------------

def test_provider_narrows_the_plan_and_the_reads(drifted: tuple[Sandbox, Path]) -> None:
    box, endpoints = drifted
    data = plan_json(plan(endpoints, "--format", "json", "--provider", "workleap"))

    assert {c["address"] for c in data["changes"]} == {
        "workleap.member.EMP-019", "workleap.member.EMP-022", "workleap.member.EMP-031",
        "workleap.mapping.insights:EMP-031"}
    assert list(data["providers"]) == ["workleap"]
    assert {n: e.log.count() for n, e in box.emulators.items() if n != "workleap"} == {
        "hrms": 0, "workelo": 0, "worklete": 0}

    unknown = plan(endpoints, "--provider", "bamboo")
    assert unknown.exit_code == 1
    assert "--provider bamboo: no such provider in the config" in unknown.stderr


def test_target_narrows_the_plan_and_keeps_what_a_change_depends_on(
        drifted: tuple[Sandbox, Path]) -> None:
    _, endpoints = drifted

    def addresses(*targets: str) -> set[str]:
        args = [a for t in targets for a in ("--target", t)]
        return {c["address"] for c in plan_json(plan(endpoints, "--format", "json",
                                                     *args))["changes"]}

    assert addresses("workelo.employee.EMP-014") == {"workelo.employee.EMP-014"}
    # The new hire's journey needs the new hire first.
    assert addresses("workelo.journey.EMP-031.onboarding") == {
        "workelo.journey.EMP-031.onboarding", "workelo.employee.EMP-031"}
    assert addresses("worklete.team") == {"worklete.team.platform"}
    assert addresses("*.*.EMP-031") == {
        "workelo.employee.EMP-031", "workleap.member.EMP-031", "worklete.membership.EMP-031"}
    assert addresses("workelo.unit.data", "workleap.member.EMP-022") == {
        "workelo.unit.data", "workleap.member.EMP-022"}
    # An object in sync: a valid target with nothing to do.
    assert addresses("workelo.employee.EMP-001") == set()
    # A target naming nothing at all is an error, not "No changes" (issue 17).
    typo = plan(endpoints, "--target", "workelo.employee.EMP-999")
    assert typo.exit_code == 1 and "matches nothing" in typo.stderr
