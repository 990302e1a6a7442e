"""The JSON Schema: valid, assembled from the core and the registered provider types' parts,
what editors see, in step with the model."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from orgctl import config, model, providers
from orgctl.config import load, schema
from orgctl.config.yamlload import parse
from orgctl.errors import ConfigError
from orgctl.providers.base import Provider
from orgctl.providers.http import Pacer
from orgctl.providers.workleap import vocabulary
from tests.config.conftest import ROOT, problems

SCHEMA_FILE = ROOT / "schemas" / "orgctl.schema.json"
EXAMPLES = sorted(p for d in ("acme", "invalid") for p in (ROOT / "examples" / d).rglob("*.y*ml"))
ACME = sorted((ROOT / "examples" / "acme").rglob("*.yaml"))


def published() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(published())
    assert published()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_package_ships_the_published_schema():
    assert schema.schema_document() == published()


@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_example_names_the_schema_for_editors(path: Path):
    """examples/acme names the copy inside it, so `cp -r examples/acme my-org` keeps
    editors validating; the copy is the published schema."""
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    named = (path.parent / first.removeprefix(prefix)).resolve()
    acme = ROOT / "examples" / "acme"
    if acme in path.parents:
        assert named == acme / "orgctl.schema.json"
        assert named.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")
    else:
        assert named == SCHEMA_FILE


def test_the_schema_has_an_id_and_orgctl_schema_prints_it():
    assert published()["$id"] == "urn:orgctl:config:1"
    printed = subprocess.run([sys.executable, "-m", "orgctl", "schema"], capture_output=True,
                             text=True, check=True).stdout
    assert json.loads(printed) == published()


@pytest.mark.parametrize("path", ACME, ids=[p.name for p in ACME])
def test_each_acme_file_is_valid_on_its_own_as_an_editor_checks_it(path: Path):
    data = parse(path.read_text(), str(path)).data
    errors = [e.message for e in Draft202012Validator(
        published(), format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(data)]
    assert errors == []


def _errors(validator: Draft202012Validator, data: dict) -> set[tuple]:
    return {(tuple(e.absolute_path), e.validator) for e in validator.iter_errors(data)}


def test_inlining_refs_does_not_change_what_is_an_error():
    raw = Draft202012Validator(published(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    compared = 0
    for path in sorted((ROOT / "examples" / "invalid").rglob("*.yaml")):
        try:
            doc = parse(path.read_text("utf-8"), str(path))
        except UnicodeDecodeError:
            continue
        assert _errors(schema._validator(), doc.data) == _errors(raw, doc.data), path
        compared += bool(_errors(raw, doc.data))
    assert compared >= 5


def test_model_vocabularies_match_the_schema():
    defs = published()["$defs"]
    employee = defs["employee"]["properties"]
    assert tuple(employee["role"]["examples"]) == model.ROLES  # any name: issue 16 item 4
    assert tuple(employee["status"]["enum"]) == model.STATUSES
    assert tuple(defs["journey"]["properties"]["mobility"]["enum"]) == model.MOBILITIES
    assert tuple(defs["journey"]["properties"]["implications"]["properties"]) == \
        model.IMPLICATIONS
    workleap = employee["workleap"]["properties"]
    assert tuple(workleap["products"]["items"]["enum"]) == vocabulary.WORKLEAP_PRODUCTS
    assert tuple(workleap["language"]["enum"]) == vocabulary.WORKLEAP_LANGUAGES


@pytest.mark.parametrize("type_name", sorted(providers.TYPES))
def test_provider_blocks_accept_exactly_what_each_provider_reads(type_name: str):
    block = published()["$defs"][type_name]["properties"]
    cls = providers.provider_class(type_name)
    kinds = {kind + "s" for kind in cls.KINDS}
    assert set(block["manages"]["items"]["enum"]) == kinds
    assert set(block["prune"]["propertyNames"]["enum"]) == kinds
    read = set(re.findall(r'option\("([a-z_]+)"', inspect.getsource(inspect.getmodule(cls))))
    assert read <= set(block), f"{type_name} reads settings the schema rejects"


def test_committed_schema_is_the_assembled_one():
    result = subprocess.run([sys.executable, "tools/gen_schema.py", "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_core_schema_names_no_system():
    core = (ROOT / "orgctl" / "schema" / "core.schema.json").read_text("utf-8")
    for type_name in providers.TYPES:
        assert f'"{type_name}"' not in core


class UnschemedProvider(Provider):
    """A provider type registered at run time that declares no schema of its own."""

    type = "memory"
    KINDS = ("thing",)


class SchemedProvider(Provider):
    """One that declares its provider block and an employee block."""

    type = "desk"
    KINDS = ("seat",)
    SCHEMA = {
        "provider": {"type": "object", "required": ["url", "floor"],
                     "additionalProperties": False,
                     "properties": {"type": {"const": "desk"}, "url": {"$ref": "#/$defs/url"},
                                    "floor": {"type": "integer"}}},
        "employee": {"type": "object", "additionalProperties": False,
                     "properties": {"seat": {"$ref": "#/$defs/text"}}},
    }


@pytest.fixture
def runtime_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(providers.TYPES, "memory", f"{__name__}:UnschemedProvider")
    monkeypatch.setitem(providers.TYPES, "desk", f"{__name__}:SchemedProvider")


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text("version: 1\n" + text, encoding="utf-8")
    return path


def test_a_provider_type_registered_at_run_time_validates(runtime_types: None,
                                                          tmp_path: Path):
    org = config.load(_config(tmp_path, (
        "providers:\n"
        "  memory:\n    url: http://localhost:9\n    anything: [1, 2]\n"
        "  second:\n    type: memory\n    url: http://localhost:9\n"
        "  desk:\n    url: http://localhost:9\n    floor: 3\n"
        "employees:\n"
        "  E1:\n    first_name: Ana\n    last_name: Silva\n    email: ana@acme.io\n"
        "    desk:\n      seat: A-12\n")))
    assert {p.name: p.type for p in org.providers.values()} == {
        "memory": "memory", "second": "memory", "desk": "desk"}
    assert org.providers["memory"].settings == {"anything": [1, 2]}
    assert org.employees["E1"].settings_for("desk") == {"seat": "A-12"}
    assert org.employees["E1"].settings_for("memory") == {}


def test_a_runtime_provider_type_is_checked_by_its_schema(runtime_types: None,
                                                          tmp_path: Path):
    path = _config(tmp_path, (
        "providers:\n"
        "  memory:\n    anything: 1\n"
        "  desk:\n    url: http://localhost:9\n    floor: high\n    flor: 2\n"
        "employees:\n"
        "  E1:\n    first_name: Ana\n    last_name: Silva\n    email: ana@acme.io\n"
        "    desk:\n      sea: A-12\n"
        "    memory:\n      seat: A-12\n"))
    found = problems(path)
    assert found[:4] == [
        f"{path}:3:3: providers.memory: missing required key 'url'",
        f"{path}:7:12: providers.desk.floor: expected a whole number, got 'high'",
        f"{path}:8:5: providers.desk.flor: unknown key 'flor' (did you mean 'floor'?)",
        f"{path}:15:7: employees.E1.desk.sea: unknown key 'sea' (did you mean 'seat'?)"]
    assert found[4].startswith(f"{path}:16:5: employees.E1.memory: unknown key 'memory'")
    assert len(found) == 5


def test_unregistering_a_type_is_seen_too(tmp_path: Path):
    path = _config(tmp_path, "providers:\n  memory:\n    url: http://localhost:9\n")
    assert any("providers.memory: missing required key 'type'" in p for p in problems(path))


@pytest.mark.parametrize(("where", "text"), [
    ("key", 'employees:\n  "EMP-1\\n": {first_name: A, last_name: B, email: a@b.co}\n'),
    ("email", 'employees:\n  EMP-1: {first_name: A, last_name: B, email: "a@b.co\\n"}\n'),
    ("rate_limit", "providers:\n  w: {type: workelo, url: 'https://x.example/v1', "
                   "client_id: '${X}', client_secret: '${Y}', rate_limit: 0/h}\n"),
])
def test_a_trailing_newline_or_a_zero_rate_does_not_validate(where: str, text: str,
                                                              tmp_path: Path) -> None:
    """Issue 14 item 13: the patterns ended in `$`, which Python's re also matches before
    a final newline, so "EMP-1\\n" and "a@b.co\\n" validated; "0/h" validated and then
    failed as an unexpected answer (IndexError)."""
    (tmp_path / "org.yaml").write_text("version: 1\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, environ={"X": "x", "Y": "y"})
    assert any(":" in str(issue) for issue in caught.value.issues), where


def test_a_zero_rate_is_refused_by_the_pacer_too() -> None:
    with pytest.raises(ValueError, match="at least one request"):
        Pacer.parse("0/h")


@pytest.mark.parametrize("email", ["a\x1b[2K@b.co", "a@b\x07.co", "a@b.c\x9bo"])
def test_an_email_with_a_control_character_does_not_validate(email: str,
                                                               tmp_path: Path) -> None:
    """Issue 14 item 7: keys and emails with control characters are refused at
    validation (the email pattern excluded only whitespace and @)."""
    (tmp_path / "org.yaml").write_text(
        "version: 1\nemployees:\n  EMP-1: {first_name: A, last_name: B, email: "
        + json.dumps(email) + "}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="email"):
        load(tmp_path, resolve_env=False)


def test_references_anywhere_in_the_schema_are_inlined_and_cycles_left_to_jsonschema():
    raw = {
        "$defs": {
            "text": {"type": "string", "minLength": 1},
            "person": {"type": "object", "properties": {"name": {"$ref": "#/$defs/text"}}},
            "tree": {"type": "object", "properties": {"child": {"$ref": "#/$defs/tree"}},
                     "additionalProperties": False},
        },
        "type": "object",
        "properties": {
            # a pointer into another definition, not only `#/$defs/NAME`
            "alias": {"$ref": "#/$defs/person/properties/name", "description": "own"},
            # the reference and its sibling both constrain the length: both hold
            "short": {"$ref": "#/$defs/text", "maxLength": 3, "minLength": 2},
            "tree": {"$ref": "#/$defs/tree"},
        },
    }
    inlined = schema.inline(raw)
    alias = inlined["properties"]["alias"]
    assert alias == {"type": "string", "minLength": 1, "description": "own"}
    check = Draft202012Validator(inlined)
    assert not check.is_valid({"short": "x"}) and not check.is_valid({"short": "abcd"})
    assert check.is_valid({"short": "ab"}) and not check.is_valid({"alias": ""})
    # The cycle stays a reference, resolved against the definitions kept beside it.
    assert "$ref" in json.dumps(inlined["properties"]["tree"])
    assert check.is_valid({"tree": {"child": {"child": {}}}})
    assert not check.is_valid({"tree": {"child": {"child": {"x": 1}}}})
