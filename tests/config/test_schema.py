"""The JSON Schema: valid, shipped in the package, what editors see, in step with the model."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from orgctl import model, providers
from orgctl.config import schema
from orgctl.config.yamlload import parse
from tests.config.conftest import ROOT

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
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (path.parent / first.removeprefix(prefix)).resolve() == SCHEMA_FILE


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
    assert tuple(employee["role"]["enum"]) == model.ROLES
    assert tuple(employee["status"]["enum"]) == model.STATUSES
    assert tuple(defs["journey"]["properties"]["mobility"]["enum"]) == model.MOBILITIES
    assert tuple(defs["journey"]["properties"]["implications"]["properties"]) == \
        model.IMPLICATIONS
    workleap = employee["workleap"]["properties"]
    assert tuple(workleap["products"]["items"]["enum"]) == model.WORKLEAP_PRODUCTS
    assert tuple(workleap["language"]["enum"]) == model.WORKLEAP_LANGUAGES


@pytest.mark.parametrize("type_name", sorted(providers.TYPES))
def test_provider_blocks_accept_exactly_what_each_provider_reads(type_name: str):
    block = published()["$defs"][type_name]["properties"]
    cls = providers.provider_class(type_name)
    kinds = {kind + "s" for kind in cls.KINDS}
    assert set(block["manages"]["items"]["enum"]) == kinds
    assert set(block["prune"]["propertyNames"]["enum"]) == kinds
    read = set(re.findall(r'option\("([a-z_]+)"', inspect.getsource(inspect.getmodule(cls))))
    assert read <= set(block), f"{type_name} reads settings the schema rejects"
