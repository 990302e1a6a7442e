"""HRMS as the source of truth: employees, departments and job titles come from HRMS, the
YAML adds what HRMS does not know, every change says where it comes from, and a leaver in
HRMS is deactivated downstream by the next plan, within the safety thresholds."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orgctl.model import Org
from orgctl.sandbox import Sandbox
from tests.importer.conftest import (
    acme_overlays,
    addresses,
    department,
    orgctl,
    plan_of,
    write_sourced_config,
)

# Leavers in examples/acme have offboarding journeys, but were never created in Workelo:
# a journey would create them, so the plan leaves them to a person (see workelo.py).
LEAVER_JOURNEYS = {"workelo.journey.EMP-019.offboarding", "workelo.journey.EMP-047.offboarding"}


def converged(acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path,
              **config: Any) -> tuple[Sandbox, Path, Path]:
    """HRMS seeded with Acme, the other systems empty; the sourced config applied."""
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    path = write_sourced_config(tmp_path / "org", acme_overlays(acme), **config)
    result = orgctl("apply", path, "--sandbox", endpoints, "--auto-approve")
    assert result.exit_code == 0, result.output
    return box, endpoints, path


def leave(box: Sandbox, *staff_ids: str) -> None:
    hrms = box.emulators["hrms"]
    with hrms.lock:
        for user in hrms.state["users"]:
            if user["staffId"] in staff_ids:
                user["status"] = "inactive"


def test_an_hrms_sourced_org_fans_out_to_every_system_and_converges(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    path = write_sourced_config(tmp_path / "org", acme_overlays(acme))

    first = plan_of(path, endpoints)
    source = {c["address"]: c["source"] for c in first["changes"] if c["action"] == "create"}
    for address in ("workelo.employee.EMP-010", "workleap.member.EMP-010",
                    "worklete.membership.EMP-010", f"workelo.unit.{department('eng')}"):
        assert source[address] == "hrms", address
    for address in ("workleap.team.platform", "worklete.team.platform",
                    "workleap.mapping.platform:EMP-013", "worklete.team_admin.platform:EMP-010",
                    "worklete.org_admin.EMP-001", "workelo.journey.EMP-029.onboarding",
                    f"workelo.scope.EMP-042:{department('ops')}"):
        assert source[address] == "yaml", address
    after = {c["address"]: c["after"] for c in first["changes"]}
    assert after[f"workelo.unit.{department('eng')}"] == {
        "external_id": "dept_eng", "name": "Engineering", "level": "division",
        "parent": "dept_acme"}
    assert after["workelo.employee.EMP-010"]["job_position"] == "Head of Backend"
    assert after["workelo.employee.EMP-010"]["role"] == "manager"
    assert after["workleap.member.EMP-010"]["products"] == ["Officevibe", "Skills"]
    text = orgctl("plan", path, "--sandbox", endpoints).stdout
    assert "  + employee EMP-010 (from hrms)\n" in text
    assert "  + team platform (from yaml)\n" in text

    result = orgctl("apply", path, "--sandbox", endpoints, "--auto-approve")
    assert result.exit_code == 0, result.output
    again = plan_of(path, endpoints)
    assert addresses(again) == LEAVER_JOURNEYS
    assert addresses(again, "manual") == LEAVER_JOURNEYS
    check = orgctl("plan", path, "--sandbox", endpoints, "--detailed-exitcode")
    assert check.exit_code == 0, check.output


def signed_in(box: Sandbox, *member_ids: str) -> None:
    """Workleap members created by a sync are invited; these accepted and became active
    (Workleap deletes a never-active member instead of deactivating it)."""
    workleap = box.emulators["workleap"]
    with workleap.lock:
        for member in workleap.state["members"].values():
            if member["externalMemberId"] in member_ids:
                member["status"] = "active"


def test_a_leaver_in_hrms_is_deactivated_downstream_by_the_next_plan(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints, path = converged(acme, acme_seed, serve, tmp_path)
    signed_in(box, "EMP-015")
    leave(box, "EMP-015")

    plan = plan_of(path, endpoints)
    changes = {c["address"]: c for c in plan["changes"]}
    member = changes["workleap.member.EMP-015"]
    assert (member["action"], member["source"]) == ("deactivate", "hrms")
    assert member["reason"] == "status inactive in HRMS"
    workelo = changes["workelo.employee.EMP-015"]
    assert (workelo["action"], workelo["source"]) == ("manual", "hrms")
    assert workelo["fields"]["status"] == ["active", "inactive"]
    assert "deactivate them in Workelo by hand" in workelo["reason"]
    assert changes["workleap.mapping.platform-api:EMP-015"]["source"] == "hrms"
    assert addresses(plan) - LEAVER_JOURNEYS == {
        "workleap.member.EMP-015", "workleap.mapping.platform-api:EMP-015",
        "workelo.employee.EMP-015", "worklete.membership.EMP-015"}
    text = orgctl("plan", path, "--sandbox", endpoints).stdout
    assert "  - deactivate member EMP-015 (from hrms)\n" in text

    assert orgctl("apply", path, "--sandbox", endpoints, "--auto-approve").exit_code == 0
    members = box.emulators["workleap"].snapshot()["members"]
    status = {m["externalMemberId"]: m["status"] for m in members.values()}
    assert status["EMP-015"] == "deactivated"
    assert "workleap.member.EMP-015" not in addresses(plan_of(path, endpoints))


def test_a_wave_of_leavers_over_the_threshold_is_refused_without_force(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints, path = converged(acme, acme_seed, serve, tmp_path)
    active = [u["staffId"] for u in acme_seed["hrms"]["users"] if u["status"] == "active"]
    signed_in(box, *active)
    leave(box, *active[:15])

    refused = orgctl("plan", path, "--sandbox", endpoints)
    assert refused.exit_code == 3, refused.output
    assert "workleap.member: too many removals" in refused.stderr
    # The leavers HRMS reports manage people who stay: a refusal --force does not lift
    # (issue 15), naming each of them and the relation they lose.
    forced = orgctl("plan", path, "--sandbox", endpoints, "--force")
    assert forced.exit_code == 3, forced.output
    assert "active people would be left behind on 2026-11-30" in forced.stderr
    assert "EMP-026: manager EMP-012 is inactive (HRMS)" in forced.stderr
    allowed = orgctl("plan", path, "--sandbox", endpoints, "--force", "--allow-orphans")
    assert allowed.exit_code == 0, allowed.output


def test_an_overlay_that_contradicts_hrms_is_a_finding_and_hrms_wins(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    overlays = acme_overlays(acme)
    overlays["employees"]["EMP-010"]["job_position"] = "Chief Everything Officer"
    overlays["employees"]["EMP-011"]["job_position"] = "head of frontend"  # case only
    path = write_sourced_config(tmp_path / "org", overlays)

    plan = plan_of(path, endpoints)
    findings = {f["address"]: f for f in plan["findings"] if f["level"] == "warning"}
    assert set(findings) == {"hrms.user.EMP-010"}
    message = findings["hrms.user.EMP-010"]["message"]
    assert message.startswith("job_position is 'Chief Everything Officer' in the YAML "
                              f"overlay ({path / 'overlays.yaml'}:")
    assert message.endswith("but 'Head of Backend' in HRMS; HRMS wins: remove it from the "
                            "overlay or fix HRMS")
    after = {c["address"]: c["after"] for c in plan["changes"]}
    assert after["workelo.employee.EMP-010"]["job_position"] == "Head of Backend"


def test_an_overlay_for_someone_hrms_does_not_list_is_an_error_at_its_place(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    overlays = acme_overlays(acme)
    overlays["employees"]["EMP-999"] = {"buddy": "EMP-010"}
    overlays["teams"]["web"]["members"].append("EMP-404")
    path = write_sourced_config(tmp_path / "org", overlays)

    # Offline, HRMS unread, any key may be an HRMS staffId: the overlays validate.
    offline = orgctl("validate", path, "--no-env")
    assert offline.exit_code == 0, offline.output

    result = orgctl("plan", path, "--sandbox", endpoints)
    assert result.exit_code == 1
    assert ("employees.EMP-999: EMP-999 is not a staffId in HRMS, so this overlay has "
            "nothing to complete: fix the key, or declare the whole object (add first_name, "
            "last_name, email)") in result.stderr
    assert "teams.web.members[4]: unknown employee 'EMP-404'" in result.stderr


def test_a_contractor_hrms_does_not_list_can_be_declared_whole_in_yaml(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    overlays = acme_overlays(acme)
    overlays["employees"]["CTR-1"] = {"first_name": "Casey", "last_name": "Contractor",
                                      "email": "casey@contractor.example"}
    overlays["teams"]["web"]["members"].append("CTR-1")
    path = write_sourced_config(tmp_path / "org", overlays)

    changes = {c["address"]: c for c in plan_of(path, endpoints)["changes"]}
    assert changes["workleap.member.CTR-1"]["source"] == "yaml"
    assert changes["workleap.member.EMP-020"]["source"] == "hrms"


def test_a_gap_in_hrms_is_an_error_an_overlay_can_fill(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    seed = copy.deepcopy(acme_seed["hrms"])
    for user in seed["users"]:
        if user["staffId"] == "EMP-020":
            user["name"] = "Manon"
    box, endpoints = serve({"hrms": seed})
    overlays = acme_overlays(acme)
    path = write_sourced_config(tmp_path / "org", overlays)

    result = orgctl("plan", path, "--sandbox", endpoints)
    assert result.exit_code == 1
    assert (f"{path / 'overlays.yaml'}:") in result.stderr
    assert ("employees.EMP-020: HRMS has no last_name for EMP-020: add last_name to an "
            "overlay for EMP-020 (or fix it in HRMS)") in result.stderr

    overlays["employees"]["EMP-020"]["last_name"] = "Faure"
    write_sourced_config(path, overlays)
    plan = plan_of(path, endpoints)
    assert [f for f in plan["findings"] if f["level"] == "warning"] == []
    after = {c["address"]: c["after"] for c in plan["changes"]}
    assert after["workleap.member.EMP-020"]["last_name"] == "Faure"


def test_only_one_provider_can_be_the_source(tmp_path: Path) -> None:
    path = write_sourced_config(tmp_path / "org", {})
    text = (path / "providers.yaml").read_text(encoding="utf-8")
    second = ("  hr2:\n    type: hrms\n    url: https://dev.workbeats.app/api\n"
              "    token: ${HRMS_TOKEN}\n    environment: uat\n    mode: source\n")
    (path / "providers.yaml").write_text(text + second, encoding="utf-8")

    result = orgctl("validate", path, "--no-env")
    assert result.exit_code == 1
    assert ("providers.hr2.mode: only one provider can be the source of truth: hrms is "
            "already (set mode: audit here)") in result.stderr


def test_the_plan_file_keeps_each_change_source(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    path = write_sourced_config(tmp_path / "org", acme_overlays(acme))
    saved = tmp_path / "plan.json"
    result = orgctl("plan", path, "--sandbox", endpoints, "-o", saved)
    assert result.exit_code == 0, result.output

    sources = {c["source"] for c in json.loads(saved.read_text())["changes"]}
    assert sources == {"hrms", "yaml"}
    shown = orgctl("show", saved)
    assert "(from hrms)" in shown.stdout and "(from yaml)" in shown.stdout
    applied = orgctl("apply", saved, "--sandbox", endpoints)
    assert applied.exit_code == 0, applied.output


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_plan_of_yaml_alone_shows_no_source_tags(fmt: str, acme_seed: dict[str, Any],
                                                   serve) -> None:
    from tests.importer.conftest import ACME

    for member in acme_seed["workleap"]["members"]:
        if member["externalMemberId"] == "EMP-001":
            member["lastName"] = "Renamed"
    box, endpoints = serve(acme_seed)
    result = orgctl("plan", ACME, "--sandbox", endpoints, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "member EMP-001" in result.stdout
    assert "(from " not in result.stdout


def test_hrms_is_read_for_the_org_even_when_the_plan_is_narrowed_to_another_provider(
        acme: Org, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve({"hrms": acme_seed["hrms"]})
    path = write_sourced_config(tmp_path / "org", acme_overlays(acme))

    plan = plan_of(path, endpoints, "--provider", "workleap")
    assert {c["provider"] for c in plan["changes"]} == {"workleap"}
    assert "workleap.member.EMP-010" in addresses(plan, "create")
    assert list(plan["providers"]) == ["workleap"]
