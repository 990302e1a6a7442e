"""One test per error class of examples/invalid/: the exact message at the exact place."""

from __future__ import annotations

import pytest

from tests.config.conftest import problems

INVALID = "examples/invalid"


# -- reading and parsing --------------------------------------------------------------------

def test_yaml_syntax_error_points_at_the_offending_character():
    assert problems(f"{INVALID}/yaml-syntax.yaml") == [
        f"{INVALID}/yaml-syntax.yaml:6:28: invalid YAML: mapping values are not allowed in "
        "this context"]


def test_duplicate_key_is_reported_at_the_second_occurrence():
    assert problems(f"{INVALID}/duplicate-key.yaml") == [
        f"{INVALID}/duplicate-key.yaml:8:5: units.eng.name: duplicate key 'name' "
        "(first at line 6)"]


def test_alias_bomb_is_refused_at_the_first_alias():
    assert problems(f"{INVALID}/alias-bomb.yaml") == [
        f"{INVALID}/alias-bomb.yaml:5:8: b: aliases (*a) are not allowed: write the value out"]


def test_python_tag_is_refused():
    assert problems(f"{INVALID}/unsafe-tag.yaml") == [
        f"{INVALID}/unsafe-tag.yaml:6:11: units.eng.name: unsupported tag "
        "!!python/object/apply:os.system"]


def test_second_yaml_document_is_refused():
    assert problems(f"{INVALID}/multiple-documents.yaml") == [
        f"{INVALID}/multiple-documents.yaml:6:1: only one YAML document per file (remove the "
        "second '---')"]


def test_top_level_must_be_a_mapping():
    assert problems(f"{INVALID}/top-level-list.yaml") == [
        f"{INVALID}/top-level-list.yaml:3:1: the top level of a config file must be a "
        "mapping (version, providers, units, teams, employees)"]


def test_non_utf8_file_is_refused_at_the_bad_byte():
    assert problems(f"{INVALID}/not-utf8.yaml") == [
        f"{INVALID}/not-utf8.yaml:2:26: not valid UTF-8 (byte 0xe9): save the file as UTF-8"]


def test_deep_nesting_is_refused():
    [message] = problems(f"{INVALID}/deep-nesting.yaml")
    assert message.startswith(f"{INVALID}/deep-nesting.yaml:4:39: units[0][0]")
    assert message.endswith(": nested deeper than 32 levels")


def test_object_defined_in_two_files_names_both_places():
    assert problems(f"{INVALID}/duplicate-object") == [
        f"{INVALID}/duplicate-object/sales.yaml:4:3: units.eng: defined twice: first at "
        f"{INVALID}/duplicate-object/engineering.yaml:5:3"]


def test_missing_version():
    assert problems(f"{INVALID}/missing-version.yaml") == [
        f"{INVALID}/missing-version.yaml:3:1: version: missing: add `version: 1` "
        "(in any one file)"]


# -- schema ---------------------------------------------------------------------------------

def test_unknown_key_points_at_the_key_and_suggests_the_right_one():
    assert problems(f"{INVALID}/unknown-key.yaml") == [
        f"{INVALID}/unknown-key.yaml:9:5: employees.EMP-001.manger: unknown key 'manger' "
        "(did you mean 'manager'?)"]


def test_missing_required_key_points_at_the_object():
    assert problems(f"{INVALID}/missing-required.yaml") == [
        f"{INVALID}/missing-required.yaml:5:3: employees.EMP-001: missing required key "
        "'last_name'"]


def test_invalid_email():
    assert problems(f"{INVALID}/invalid-email.yaml") == [
        f"{INVALID}/invalid-email.yaml:7:12: employees.EMP-001.email: 'marie@' is not a "
        "valid email"]


def test_invalid_date():
    assert problems(f"{INVALID}/invalid-date.yaml") == [
        f"{INVALID}/invalid-date.yaml:11:21: employees.EMP-001.journeys[0].start_date: "
        "'2026-13-01' is not a valid date (YYYY-MM-DD)"]


def test_wrong_type_and_value_outside_the_enum_are_both_reported():
    assert problems(f"{INVALID}/invalid-value.yaml") == [
        f"{INVALID}/invalid-value.yaml:7:16: employees.EMP-001.last_name: expected text, got "
        "1234 (put it in quotes to make it text)",
        f"{INVALID}/invalid-value.yaml:9:13: employees.EMP-001.status: 'gone' is not one of: "
        "active, inactive"]


def test_invalid_key_points_at_the_key():
    assert problems(f"{INVALID}/invalid-key.yaml") == [
        f"{INVALID}/invalid-key.yaml:6:3: units.eng.backend: key 'eng.backend' is not a valid "
        "key: use up to 100 letters, digits, '-' and '_', starting with a letter or digit"]


def test_secret_written_in_clear_is_refused_without_echoing_it():
    [message] = problems(f"{INVALID}/secret-in-clear.yaml")
    assert message == (
        f"{INVALID}/secret-in-clear.yaml:7:14: providers.workleap.api_key: must be an "
        "environment variable reference such as ${API_TOKEN} or a file reference such as "
        "${file:/run/secrets/api_token}: secrets are never written in the config")
    assert "wl_live" not in message


# -- environment ----------------------------------------------------------------------------

def test_missing_env_var_is_named_with_its_location(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ORGCTL_EXAMPLE_UNSET_TOKEN", raising=False)
    assert problems(f"{INVALID}/missing-env.yaml") == [
        f"{INVALID}/missing-env.yaml:7:12: providers.hrms.token: environment variable "
        "ORGCTL_EXAMPLE_UNSET_TOKEN is not set"]


def test_malformed_placeholder_is_reported_even_without_env():
    assert problems(f"{INVALID}/malformed-placeholder.yaml", resolve_env=False) == [
        f"{INVALID}/malformed-placeholder.yaml:6:10: providers.workleap.url: unterminated "
        "placeholder '${WORKLEAP_HOST': close it with '}'"]


def test_plain_http_url_is_refused():
    assert problems(f"{INVALID}/insecure-url.yaml", resolve_env=False) == [
        f"{INVALID}/insecure-url.yaml:6:10: providers.workleap.url: 'http://api.workleap.com' "
        "must use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])"]


# -- semantic checks ------------------------------------------------------------------------

def test_dangling_references():
    assert problems(f"{INVALID}/dangling-reference.yaml") == [
        f"{INVALID}/dangling-reference.yaml:5:53: units.eng.parent: unknown unit 'acme'",
        f"{INVALID}/dangling-reference.yaml:12:14: employees.EMP-001.manager: unknown "
        "employee 'EMP-999'"]


def test_unit_cycle_reports_the_whole_path():
    assert problems(f"{INVALID}/unit-cycle.yaml") == [
        f"{INVALID}/unit-cycle.yaml:5:41: units.a.parent: unit parent cycle: a -> c -> b -> a"]


def test_team_cycle_reports_the_whole_path():
    assert problems(f"{INVALID}/team-cycle.yaml") == [
        f"{INVALID}/team-cycle.yaml:4:38: teams.platform.parent: team parent cycle: "
        "platform -> web -> platform"]


def test_manager_cycle_reports_the_whole_path():
    assert problems(f"{INVALID}/manager-cycle.yaml") == [
        f"{INVALID}/manager-cycle.yaml:9:14: employees.EMP-001.manager: manager cycle: "
        "EMP-001 -> EMP-002 -> EMP-001"]


def test_managing_oneself():
    assert problems(f"{INVALID}/self-reference.yaml") == [
        f"{INVALID}/self-reference.yaml:9:14: employees.EMP-001.manager: EMP-001 cannot be "
        "its own manager"]


def test_duplicate_email_ignores_case_and_names_the_first_owner():
    assert problems(f"{INVALID}/duplicate-email.yaml") == [
        f"{INVALID}/duplicate-email.yaml:12:12: employees.EMP-002.email: email "
        f"'Marie.Dubois@acme.example' is also used by EMP-001 "
        f"({INVALID}/duplicate-email.yaml:8:12)"]


def test_journey_ending_before_it_starts():
    assert problems(f"{INVALID}/journey-end-before-start.yaml") == [
        f"{INVALID}/journey-end-before-start.yaml:11:19: employees.EMP-001.journeys[0]."
        "end_date: end date 2026-05-01 is before start date 2026-06-01"]


def test_journey_for_an_inactive_employee():
    assert problems(f"{INVALID}/journey-inactive-employee.yaml") == [
        f"{INVALID}/journey-inactive-employee.yaml:11:19: employees.EMP-001.journeys[0]."
        "mobility: crossboarding journey for an inactive employee (only offboarding is "
        "allowed; set status: active or remove it)"]


def test_two_journeys_with_the_same_key():
    assert problems(f"{INVALID}/duplicate-journey-key.yaml") == [
        f"{INVALID}/duplicate-journey-key.yaml:12:9: employees.EMP-001.journeys[1]: journey "
        f"key 'onboarding' is used twice (first at {INVALID}/duplicate-journey-key.yaml:10:9): "
        "give each journey its own `key:`"]


def test_a_tag_on_a_mapping_key_is_refused_not_ignored(tmp_path):
    """Issue 14 item 13: `!!python/name:os.system eng:` read as the key 'eng', the tag
    dropped without a word."""
    (tmp_path / "org.yaml").write_text(
        "version: 1\nunits:\n  !!python/name:os.system eng: {name: Eng, level: Division}\n",
        encoding="utf-8")
    found = problems(tmp_path)
    assert any(f"{tmp_path}/org.yaml:3:3: units: unsupported tag !!python/name:os.system on "
               f"the key 'eng': keys are text" in p for p in found), found
