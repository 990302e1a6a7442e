"""`orgctl import` against the sandbox, per system: the written configuration is valid, and
a plan of it against the same system shows no changes (or only the ones named here, which
no configuration could avoid)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orgctl.config import load
from orgctl.sandbox import load_fixture
from tests.importer.conftest import addresses, orgctl, plan_of


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    """Every test here runs against both emulator profiles (issue 13): the one the
    providers were written beside, and one serving only what the seeds document."""
    return str(request.param)

SYSTEMS = ("workelo", "workleap", "worklete", "hrms")


def import_from(system: str, endpoints: Path, out: Path, *extra: str) -> str:
    result = orgctl("import", "--from", system, "--sandbox", endpoints, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("system", SYSTEMS)
def test_import_then_plan_shows_no_changes(system: str, acme_seed: dict[str, Any], serve,
                                           tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    said = import_from(system, endpoints, out)

    plan = plan_of(out, endpoints)
    assert plan["changes"] == []
    assert [f for f in plan["findings"] if f["level"] == "warning"] == []
    assert f"next: orgctl plan {out}" in said
    org = load(out, resolve_env=False)
    assert list(org.providers) == [system]
    expected_people = {"workelo": 50, "hrms": 50, "workleap": 45, "worklete": 37}[system]
    assert len(org.employees) == expected_people


@pytest.mark.parametrize("system", SYSTEMS)
def test_written_files_point_editors_at_the_schema_and_hold_no_secret(
        system: str, acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    import_from(system, endpoints, out)

    files = sorted(out.rglob("*.yaml"))
    assert {f.relative_to(out).parts[0] for f in files} >= {"providers.yaml", "people"}
    secrets = [str(v) for s in box.endpoints().values() for k, v in s.items()
               if k in ("client_secret", "token", "api_key", "password")]
    for file in files:
        text = file.read_text(encoding="utf-8")
        schema = "../orgctl.schema.json" if file.parent.name == "people" else \
            "orgctl.schema.json"
        assert text.startswith(f"# yaml-language-server: $schema={schema}\n"), file
        assert not any(secret in text for secret in secrets), file
    assert json.loads((out / "orgctl.schema.json").read_text())["title"] == \
        "orgctl configuration"
    providers = (out / "providers.yaml").read_text(encoding="utf-8")
    assert "${" in providers


def test_a_workleap_member_without_external_id_gets_a_key_stamped_by_the_first_apply(
        serve, tmp_path: Path) -> None:
    """The quick-start live state has a Workleap admin with no externalMemberId: the
    import names it from its email and says so; the plan stamps that key, once."""
    box, endpoints = serve(load_fixture(None))
    out = tmp_path / "org"
    import_from("workleap", endpoints, out)

    people = (out / "people" / "people.yaml").read_text(encoding="utf-8")
    assert ("  # no externalMemberId in workleap: key made from its name; the plan will "
            "show externalMemberId set to 'it-admin'\n") in people
    plan = plan_of(out, endpoints)
    assert addresses(plan) == {"workleap.member.it-admin"}
    change = plan["changes"][0]
    assert change["fields"] == {"external_id": [None, "it-admin"]}

    result = orgctl("apply", out, "--sandbox", endpoints, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert plan_of(out, endpoints)["changes"] == []


def test_every_system_of_the_quick_start_state_round_trips(serve, tmp_path: Path) -> None:
    """The drifted quick-start state (a renamed unit, a changed email, an unknown employee,
    a leaver still active...) imports as it is: only the unavoidable key stamp shows."""
    box, endpoints = serve(load_fixture(None))
    unavoidable = {"workleap": {"workleap.member.it-admin"}}
    for system in SYSTEMS:
        out = tmp_path / system
        import_from(system, endpoints, out)
        assert addresses(plan_of(out, endpoints)) == unavoidable.get(system, set()), system


def test_the_account_orgctl_signs_in_as_is_not_imported_as_a_person(
        acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    import_from("worklete", endpoints, out)

    providers = (out / "providers.yaml").read_text(encoding="utf-8")
    assert ("#   - membership sandbox-admin@orgctl.invalid: the account orgctl signs in as, "
            "not a person of the organisation") in providers
    org = load(out, resolve_env=False)
    assert all("sandbox-admin" not in e.email for e in org.employees.values())
    # A strict server's memberships carry no employee_id (seed 004 shows none): keys then
    # come from emails, so the admins are checked by email.
    admins = {e.email for e in org.employees.values() if e.settings_for("worklete").get(
        "org_admin")}
    emails = {e["staffId"]: e["email"] for e in acme_seed["hrms"]["users"]}
    assert admins == {emails["EMP-001"], emails["EMP-004"], emails["EMP-042"]}
