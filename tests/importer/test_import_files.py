"""What `orgctl import` writes and says: notes where a value could not be mapped, a stable
and readable layout, large imports cut into files with progress, how it finds the system,
and YAML text that reads back as exactly the values written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orgctl.cli import cli
from orgctl.config import load
from orgctl.config.yamlload import parse
from orgctl.engine import importer
from tests.importer.conftest import ACME, addresses, orgctl, plan_of


def test_unmapped_values_are_noted_above_their_object_and_the_plan_shows_their_cost(
        serve, tmp_path: Path) -> None:
    seed = {"workelo": {
        "user_roles": ["colleague", "manager", "hr", "owner", "intern"],
        "unit_organizations": [
            {"external_id": "ops", "name": "Operations", "level": "Division"},
            {"name": "Legacy Ops", "level": "Department", "parent": "ops"}],
        "employees": [
            {"external_id": "EMP-1", "first_name": "Ada", "last_name": "Byron",
             "email": "ada@acme.example", "role": "intern", "unit": "ops"},
            {"first_name": "Pat", "last_name": "Keyless", "email": "pat@acme.example"}],
        "tracks": [
            {"employee": "EMP-1", "mobility": "onboarding", "start_date": "2027-01-04",
             "templates": ["Standard onboarding"], "invite_at": "2026-12-20"},
            {"employee": "EMP-1", "mobility": "onboarding", "start_date": "2025-01-06",
             "templates": ["Standard onboarding"], "status": "closed"},
            {"employee": "pat@acme.example", "mobility": "onboarding",
             "start_date": "2027-02-01", "templates": ["Standard onboarding"]}],
    }}
    box, endpoints = serve(seed)
    out = tmp_path / "org"
    result = orgctl("import", "--from", "workelo", "--sandbox", endpoints, "--out", out)
    assert result.exit_code == 0, result.output
    assert "5 notes on values that could not be mapped" in result.stdout

    units = (out / "units.yaml").read_text(encoding="utf-8")
    assert ("  # no external_id in workelo: key made from its name; the plan will show "
            "external_id set to 'legacy-ops'\n  legacy-ops:\n    name: Legacy Ops\n") in units
    people = (out / "people" / "ops.yaml").read_text(encoding="utf-8")
    assert "    role: intern\n" in people  # a tenant's own role is kept (issue 16 item 4)
    assert ("invitation date 2026-12-20 of a journey not started is not kept"
            in people)
    keyless = (out / "people" / "no-unit.yaml").read_text(encoding="utf-8")
    assert "  # no external_id in workelo: key made from its name" in keyless
    assert "the employee has no external_id in Workelo yet" in keyless
    providers = (out / "providers.yaml").read_text(encoding="utf-8")
    assert "another onboarding journey of EMP-1 holds its key" in providers

    plan = plan_of(out, endpoints)
    # EMP-1's tenant role 'intern' round-trips: no change for them.
    assert addresses(plan) == {"workelo.unit.legacy-ops", "workelo.employee.pat"}
    fields = {c["address"]: c["fields"] for c in plan["changes"]}
    assert fields["workelo.unit.legacy-ops"] == {"external_id": [None, "legacy-ops"]}
    assert fields["workelo.employee.pat"] == {"external_id": [None, "pat"]}


def test_a_text_cut_inside_an_emoji_is_written_mended_and_noted(
        serve, tmp_path: Path) -> None:
    """A lone surrogate (JSON's `\\ud83d`: a name a server cut inside an emoji's UTF-16
    pair) fits no UTF-8 file and no YAML: the import crashed with UnicodeEncodeError."""
    seed = {"workelo": {
        "unit_organizations": [{"external_id": "ops", "name": "Ops \ud83d",
                                "level": "Division"}],
        "employees": [
            {"external_id": "EMP-1", "first_name": "Ada\ud83d", "last_name": "Byron",
             "email": "ada@acme.example", "unit": "ops"},
            {"external_id": "EMP-2", "first_name": "Bo", "last_name": "Lind",
             "email": "bo@acme.example", "unit": "ops"}]}}
    box, endpoints = serve(seed)
    out = tmp_path / "org"
    result = orgctl("import", "--from", "workelo", "--sandbox", endpoints, "--out", out)
    assert result.exit_code == 0, result.output
    assert "2 notes on values that could not be mapped" in result.stdout

    note = "a character workelo holds cut in half was written as \ufffd; correct it"
    units = (out / "units.yaml").read_text(encoding="utf-8")
    assert f'  # {note}\n  ops:\n    name: "Ops \ufffd"\n' in units
    people = (out / "people" / "ops.yaml").read_text(encoding="utf-8")
    assert f'  # {note}\n  EMP-1:\n    first_name: "Ada\ufffd"\n' in people
    assert people.count(note) == 1

    plan = plan_of(out, endpoints)
    fields = {c["address"]: c["fields"] for c in plan["changes"]}
    assert fields == {"workelo.unit.ops": {"name": ["Ops \ud83d", "Ops \ufffd"]},
                      "workelo.employee.EMP-1": {"first_name": ["Ada\ud83d", "Ada\ufffd"]}}


def test_a_second_import_refuses_a_directory_with_yaml_and_force_rewrites_it_identically(
        acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    assert orgctl("import", "--from", "workelo", "--sandbox", endpoints,
                  "--out", out).exit_code == 0
    first = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    again = orgctl("import", "--from", "workelo", "--sandbox", endpoints, "--out", out)
    assert again.exit_code == 1
    assert "already holds YAML files" in again.stderr and "--force" in again.stderr

    forced = orgctl("import", "--from", "workelo", "--sandbox", endpoints, "--out", out,
                    "--force")
    assert forced.exit_code == 0, forced.output
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == first


def test_people_are_filed_by_unit_and_objects_read_in_schema_order(
        acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    orgctl("import", "--from", "workelo", "--sandbox", endpoints, "--out", out)

    assert sorted(p.name for p in (out / "people").iterdir())[:3] == \
        ["acme.yaml", "backend.yaml", "data.yaml"]
    units = (out / "units.yaml").read_text(encoding="utf-8")
    assert units.index("  acme:") < units.index("  eng:") < units.index("  backend:")
    backend = (out / "people" / "backend.yaml").read_text(encoding="utf-8")
    assert ("  EMP-029:\n    first_name: Jules\n    last_name: Marchand\n"
            "    email: jules.marchand@acme.example\n    job_position: Backend Engineer\n"
            "    unit: backend\n    manager: EMP-010\n    hr: EMP-040\n"
            "    second_hr: EMP-042\n    buddy: EMP-014\n"
            "    identifications: {badge: B-029}\n    journeys:\n"
            "      - mobility: onboarding\n        start_date: 2027-01-04\n"
            "        end_date: 2027-04-02\n"
            "        templates: [Engineering onboarding, Standard onboarding]\n"
            "        invite_at: 2026-12-14\n        start: true\n") in backend


def test_a_large_import_is_written_file_by_file_with_progress(
        acme_seed: dict[str, Any], serve, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "PEOPLE_PER_FILE", 20)
    members = acme_seed["workleap"]["members"]
    members += [{"externalMemberId": f"NEW-{i:04d}", "email": f"new{i}@acme.example",
                 "firstName": "New", "lastName": f"Hire {i}", "status": "active"}
                for i in range(1200)]
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    result = orgctl("import", "--from", "workleap", "--sandbox", endpoints, "--out", out,
                    "--progress")
    assert result.exit_code == 0, result.output

    total = len(members)
    files = sorted((out / "people").iterdir(), key=lambda p: (len(p.name), p.name))
    assert len(files) == -(-total // 20)
    assert files[0].name == "people.yaml" and files[1].name == "people.2.yaml"
    assert "reading workleap: " in result.stderr
    assert f"wrote people/people.2.yaml (40/{total} employees)" in result.stderr
    assert f"({total}/{total} employees)" in result.stderr
    assert len(load(out, resolve_env=False).employees) == total


def test_the_provider_block_of_a_config_is_written_as_it_is(
        acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    out = tmp_path / "org"
    result = orgctl("import", "--from", "workelo", ACME, "--sandbox", endpoints, "--out", out)
    assert result.exit_code == 0, result.output

    written = load(out, resolve_env=False).providers["workelo"]
    acme = load(ACME, resolve_env=False).providers["workelo"]
    assert (written.url, written.settings) == (acme.url, acme.settings)
    assert plan_of(out, endpoints)["changes"] == []


def test_without_a_config_the_url_and_credentials_come_from_the_command_line_and_env(
        acme_seed: dict[str, Any], serve, tmp_path: Path) -> None:
    box, endpoints = serve(acme_seed)
    url = box.url("workleap")
    out = tmp_path / "org"
    runner = CliRunner()
    missing = runner.invoke(cli, ["import", "--from", "workleap", "--url", url,
                                  "--out", str(out)], env={"WORKLEAP_API_KEY": ""})
    assert missing.exit_code == 1
    assert "WORKLEAP_API_KEY" in missing.stderr
    assert not out.exists()

    key = box.endpoints()["workleap"]["api_key"]
    result = runner.invoke(cli, ["import", "--from", "workleap", "--url", url,
                                 "--out", str(out)], env={"WORKLEAP_API_KEY": key})
    assert result.exit_code == 0, result.output
    providers = (out / "providers.yaml").read_text(encoding="utf-8")
    assert f"    url: {url}\n    api_key: ${{WORKLEAP_API_KEY}}\n" in providers
    assert key not in providers

    nowhere = orgctl("import", "--from", "workleap", "--out", tmp_path / "other")
    assert nowhere.exit_code == 1
    assert "--url" in nowhere.stderr and "WORKLEAP_API_KEY" in nowhere.stderr


@pytest.mark.parametrize("text", [
    "plain", "Sales & Marketing", "O'Brien", "Zoé", "yes", "No", "null", "~", "123",
    "0x1F", "1.5", "1e3", "2026-11-02", "2026-1-2", "a: b", "a:b", "#tag", "x # y",
    " padded ", "- dash", "[list]", "{map}", "a, b", "${HRMS_TOKEN}", "$$literal", "@at",
    "*star", "&anchor", "!tag", "%pct", "`tick", "|pipe", ">fold", "'quoted'", '"dq"',
    "line\nbreak", "tab\there", "trailing:", "", "=",
])
def test_text_reads_back_as_written(text: str) -> None:
    for flow in (False, True):
        line = f"k: {importer.scalar(text, flow)}" if not flow else \
            f"k: [{importer.scalar(text, flow)}]"
        doc = parse(line + "\n", "t.yaml")
        assert not doc.issues, (text, line, doc.issues)
        assert doc.data["k"] == (text if not flow else [text]), line
