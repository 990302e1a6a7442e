"""`orgctl plan` against the sandbox over loopback HTTP: what it plans for an empty live
state, an identical one, drift in each provider, renames declared with `previously:`, and
the HRMS audit (warnings, never a write)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from orgctl.model import Org
from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import ACME, StartSandbox, plan_json, run_orgctl, write_endpoints


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """Every test here runs against both emulator profiles (issue 13): the one the
    providers were written beside, and one serving only what the seeds document."""
    return str(request.param)


def plan(start_sandbox: StartSandbox, tmp_path: Path, seed: dict[str, Any] | None,
         *args: str) -> dict[str, Any]:
    box = start_sandbox(seed)
    result = run_orgctl("plan", ACME, "--sandbox", write_endpoints(box, tmp_path / "sb.json"),
                        "--format", "json", *args)
    return plan_json(result)


def changes_of(the_plan: dict[str, Any], provider: str) -> dict[str, tuple[str, dict]]:
    """address -> (action, fields) of the provider's changes, the manual ones left out."""
    return {c["address"]: (c["action"], c["fields"]) for c in the_plan["changes"]
            if c["provider"] == provider and c["action"] != "manual"}


def edit(rows: list[dict[str, Any]], field: str, value: str, **changes: Any) -> None:
    """Apply `changes` to the one seed row whose `field` is `value`."""
    found = [r for r in rows if r.get(field) == value]
    assert len(found) == 1, f"seed has {len(found)} rows with {field}={value!r}"
    found[0].update(changes)


def leavers(org: Org) -> set[str]:
    """People who left without an offboarding journey: Workelo, which records leaving only
    as such a journey, keeps them as manual reminders."""
    return {k for k, e in org.employees.items()
            if not e.active and not any(j.mobility == "offboarding" for j in e.journeys)}


# -- empty, identical, drifted --------------------------------------------------------------

def test_empty_live_state_plans_a_create_for_everything_the_config_declares(
        start_sandbox: StartSandbox, tmp_path: Path, acme_org: Org) -> None:
    the_plan = plan(start_sandbox, tmp_path, None)

    active = {k: e for k, e in acme_org.employees.items() if e.active}
    people_of = {k: {m for m in (*t.managers, *t.members) if m in active}
                 for k, t in acme_org.teams.items()}
    expected = {
        ("workelo", "unit"): len(acme_org.units),
        ("workelo", "employee"): len(active),
        ("workelo", "scope"): sum(len(e.unit_scopes) for e in active.values()),
        ("workelo", "journey"): sum(len(e.journeys) for e in active.values()),
        ("workleap", "member"): len(active),
        ("workleap", "team"): len(acme_org.teams),
        ("workleap", "mapping"): sum(len(p) for p in people_of.values()),
        ("worklete", "team"): len(acme_org.teams),
        ("worklete", "membership"): len(set().union(*people_of.values())
                                        | {k for k, e in active.items()
                                           if e.settings_for("worklete").get("org_admin")}),
        ("worklete", "team_admin"): sum(len({m for m in t.managers if m in active})
                                        for t in acme_org.teams.values()),
        ("worklete", "org_admin"): sum(bool(e.settings_for("worklete").get("org_admin"))
                                       for e in active.values()),
    }
    creates = Counter((c["provider"], c["kind"]) for c in the_plan["changes"]
                      if c["action"] == "create")
    assert dict(creates) == expected
    # Nothing else, except the leavers' offboarding journeys, which would create the leaver.
    others = [c for c in the_plan["changes"] if c["action"] != "create"]
    assert {(c["address"], c["action"]) for c in others} == {
        (f"workelo.journey.{k}.{j.key}", "manual")
        for k, e in acme_org.employees.items() if not e.active for j in e.journeys}
    assert the_plan["summary"]["create"] == sum(expected.values())


def test_identical_live_state_is_no_change_and_exit_0(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any],
        acme_org: Org) -> None:
    box = start_sandbox(acme_seed)
    endpoints = write_endpoints(box, tmp_path / "sb.json")

    result = run_orgctl("plan", ACME, "--sandbox", endpoints, "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    # Workelo cannot deactivate anyone: leavers without an offboarding journey stay as
    # manual reminders, which are not changes orgctl would make.
    assert result.stdout.rstrip().endswith(
        f"Plan: 0 to add, 0 to change, 0 to destroy, {len(leavers(acme_org))} manual.")
    manual = {line.split()[-1] for line in result.stdout.splitlines()
              if line.startswith("  ! manual employee")}
    assert manual == leavers(acme_org)
    writable = run_orgctl("plan", ACME, "--sandbox", endpoints, "--detailed-exitcode",
                          "--provider", "workleap", "--provider", "worklete",
                          "--provider", "hrms")
    assert writable.exit_code == 0, writable.output
    assert writable.stdout.endswith("No changes. The live systems match the configuration.\n")


def test_drifted_live_state_exits_2_with_detailed_exitcode(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    box = start_sandbox(acme_drift(acme_seed))
    endpoints = write_endpoints(box, tmp_path / "sb.json")

    assert run_orgctl("plan", ACME, "--sandbox", endpoints, "--detailed-exitcode").exit_code == 2
    # Without the flag, changes are a success like any other plan.
    assert run_orgctl("plan", ACME, "--sandbox", endpoints).exit_code == 0


# -- drift in each provider: exactly the expected updates -----------------------------------

def test_workelo_drift_is_planned_as_field_updates(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any],
        profile: str) -> None:
    wl = acme_seed["workelo"]
    edit(wl["unit_organizations"], "external_id", "backend", name="Back-end")
    edit(wl["unit_organizations"], "external_id", "sales-emea", language="en")
    edit(wl["employees"], "external_id", "EMP-014", job_position="Junior Engineer")
    edit(wl["employees"], "external_id", "EMP-010", identifications={"badge": "B-999"})
    edit(wl["employees"], "external_id", "EMP-011", unit="backend")

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    # A strict server's employee answers carry no identifications (seed 000 shows none):
    # the badge is unknown there, never drift, and the plan says so once.
    badge = {} if profile == "strict" else {
        "workelo.employee.EMP-010": ("update", {"identifications.badge": ["B-999", "B-010"]})}
    assert changes_of(the_plan, "workelo") == {
        "workelo.unit.backend": ("update", {"name": ["Back-end", "Backend"]}),
        "workelo.unit.sales-emea": ("update", {"language": ["en", "fr"]}),
        **badge,
        "workelo.employee.EMP-011": ("update", {"unit": ["backend", "frontend"]}),
        "workelo.employee.EMP-014": ("update",
                                     {"job_position": ["Junior Engineer",
                                                       "Senior Backend Engineer"]}),
    }
    for other in ("hrms", "workleap", "worklete"):
        assert changes_of(the_plan, other) == {}


def test_workleap_drift_is_planned_as_field_updates(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    wp = acme_seed["workleap"]
    edit(wp["members"], "externalMemberId", "EMP-010", lastName="Lefèvre")
    edit(wp["members"], "externalMemberId", "EMP-022", languagePreferences="fr")
    edit(wp["members"], "externalMemberId", "EMP-011", productAssignations=["Officevibe"])
    edit(wp["teams"], "externalTeamId", "web", teamName="Web")
    mapping = [m for m in wp["mappings"]
               if m.get("externalTeamId") == "platform" and m.get("externalMemberId") == "EMP-013"]
    mapping[0]["role"] = "manager"

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    assert changes_of(the_plan, "workleap") == {
        "workleap.member.EMP-010": ("update", {"last_name": ["Lefèvre", "Lefebvre"]}),
        "workleap.member.EMP-011": ("update", {"products": [["Officevibe"],
                                                            ["Officevibe", "Skills"]]}),
        "workleap.member.EMP-022": ("update", {"language": ["fr", "en"]}),
        "workleap.team.web": ("update", {"name": ["Web", "Web Experience"]}),
        "workleap.mapping.platform:EMP-013": ("update", {"role": ["manager", "member"]}),
    }
    for other in ("hrms", "workelo", "worklete"):
        assert changes_of(the_plan, other) == {}


def test_worklete_drift_is_planned_as_field_updates(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    wt = acme_seed["worklete"]
    edit(wt["memberships"], "employee_id", "EMP-011", last_name="García")
    edit(wt["memberships"], "employee_id", "EMP-013", teams=[])
    edit(wt["teams"], "name", "Platform API", parent=None)

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    assert changes_of(the_plan, "worklete") == {
        "worklete.membership.EMP-011": ("update", {"last_name": ["García", "Garcia"]}),
        "worklete.membership.EMP-013": ("update", {"teams": [[], ["platform"]]}),
        "worklete.team.platform-api": ("update", {"parent": [None, "platform"]}),
    }
    for other in ("hrms", "workelo", "workleap"):
        assert changes_of(the_plan, other) == {}


def test_hrms_drift_is_warnings_and_never_a_write(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    users = acme_seed["hrms"]["users"]
    acme_seed["hrms"]["positions"].append({"title": "Junior Engineer"})
    edit(users, "staffId", "EMP-030", status="inactive")
    edit(users, "staffId", "EMP-021", department="Backend")
    edit(users, "staffId", "EMP-014", position="Junior Engineer")

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    warnings = {f["address"]: f["message"] for f in the_plan["findings"]
                if f["level"] == "warning"}
    assert warnings == {
        "hrms.user.EMP-030": "EMP-030 is inactive in HRMS but active in the config",
        "hrms.user.EMP-021": "EMP-021 has department 'Backend' in HRMS but unit 'Frontend' "
                             "(frontend) in the config",
        "hrms.user.EMP-014": "EMP-014 has position 'Junior Engineer' in HRMS but "
                             "job_position 'Senior Backend Engineer' in the config",
    }
    assert [c for c in the_plan["changes"] if c["provider"] == "hrms"] == []
    for other in ("workelo", "workleap", "worklete"):
        assert changes_of(the_plan, other) == {}


def test_hrms_is_never_written_even_when_it_lacks_everyone(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    acme_seed["hrms"] = {}
    box = start_sandbox(acme_seed)

    result = run_orgctl("plan", ACME, "--sandbox", write_endpoints(box, tmp_path / "sb.json"),
                        "--provider", "hrms", "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    assert "Warnings:" in result.stdout
    assert "! hrms.user.EMP-001: EMP-001 is in the config but not in HRMS" in result.stdout
    assert result.stdout.endswith("No changes. The live systems match the configuration.\n")
    hrms = box.emulators["hrms"].log
    assert hrms.count() == hrms.count(method="GET") > 0  # read, never written


# -- renames declared with `previously:` -----------------------------------------------------

def test_workelo_unit_renamed_with_previously_is_one_update(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    # The live unit was made by hand in Workelo under its old name, without an external_id:
    # only `previously: [Business Intelligence]` ties it to the config's unit `data`.
    wl = acme_seed["workelo"]
    edit(wl["unit_organizations"], "external_id", "data", external_id=None,
         name="Business Intelligence")
    for row in (*wl["employees"], *wl["unit_organization_managements"],
                *wl["unit_organizations"]):
        for field in ("unit", "parent"):
            if row.get(field) == "data":
                row[field] = "Business Intelligence"

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    assert changes_of(the_plan, "workelo") == {
        "workelo.unit.data": ("update", {"external_id": [None, "data"],
                                         "name": ["Business Intelligence", "Data"]}),
    }


def test_worklete_team_renamed_with_previously_is_one_update(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    wt = acme_seed["worklete"]
    old = "Infrastructure"  # teams.yaml: platform {name: Platform, previously: [Infrastructure]}
    for team in wt["teams"]:
        team.update({k: old for k in ("name", "parent") if team[k] == "Platform"})
    for row in wt["memberships"]:
        row["teams"] = [old if t == "Platform" else t for t in row.get("teams", [])]
    for row in wt["team_admins"]:
        row["team"] = old if row["team"] == "Platform" else row["team"]

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    assert changes_of(the_plan, "worklete") == {
        "worklete.team.platform": ("update", {"name": ["Infrastructure", "Platform"]}),
    }
    for other in ("workelo", "workleap"):
        assert changes_of(the_plan, other) == {}


def test_workelo_employee_without_external_id_is_one_update_stamping_it(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    # EMP-040 was created by hand in Workelo: matched by email, it holds unit scopes, a
    # journey of their own is absent, and they are the HR of other people's journeys.
    wl = acme_seed["workelo"]
    rows = [e for e in wl["employees"] if e["external_id"] == "EMP-040"]
    email = rows[0]["email"]
    rows[0]["external_id"] = None
    for row in (*wl["unit_organization_managements"], *wl["tracks"]):
        if row.get("employee") == "EMP-040":
            row["employee"] = email
        row.get("implications", {}).update(
            {role: email for role, who in row.get("implications", {}).items()
             if who == "EMP-040"})
    assert any(s["employee"] == email for s in wl["unit_organization_managements"])
    assert any(email in t["implications"].values() for t in wl["tracks"])

    the_plan = plan(start_sandbox, tmp_path, acme_seed)

    assert changes_of(the_plan, "workelo") == {
        "workelo.employee.EMP-040": ("update", {"external_id": [None, "EMP-040"]}),
    }
