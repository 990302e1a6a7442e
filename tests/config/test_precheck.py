"""The fast check compiled from the schema must agree exactly with jsonschema: an entry it
wrongly accepts would be an error nobody is told about."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from orgctl.config import schema
from orgctl.config.precheck import Unsupported, compile_schema
from orgctl.config.yamlload import parse
from tests.config.conftest import ROOT

BAD_VALUES: list[Any] = [None, 0, 1, 1.5, -3, True, False, "", "x", "a b", "EMP-001",
                         "2026-02-30", "2026-06-01", "a@b", "a@b.c", [], ["x", "x"], ["x"],
                         [1], {}, {"x": 1}, {"hr": "EMP-1"}, "onboarding", "Skills", "en"]


def acme_entries() -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {"units": {}, "teams": {}, "employees": {}}
    for path in sorted((ROOT / "examples" / "acme").rglob("*.yaml")):
        data = parse(path.read_text(), str(path)).data
        for section, items in entries.items():
            items.update(data.get(section) or {})
    return entries


def mutations(entry: dict[str, Any]):
    """The entry with each field (and each field of each nested mapping) replaced by each
    bad value, one at a time, plus an unknown key and each field removed."""
    yield {**entry, "unknown": 1}
    for field in entry:
        yield {k: v for k, v in entry.items() if k != field}
        for bad in BAD_VALUES:
            yield {**entry, field: bad}
        value = entry[field]
        nested = value[0] if isinstance(value, list) and value and isinstance(value[0], dict) \
            else value
        if isinstance(nested, dict):
            for inner in list(nested):
                for bad in BAD_VALUES:
                    changed = copy.deepcopy(entry)
                    target = changed[field][0] if nested is not value else changed[field]
                    target[inner] = bad
                    yield changed


@pytest.mark.parametrize("section", ["units", "teams", "employees"])
def test_fast_check_agrees_with_jsonschema(section: str):
    node = schema._validator().schema["properties"][section]["additionalProperties"]
    slow = Draft202012Validator(node, format_checker=Draft202012Validator.FORMAT_CHECKER)
    fast = compile_schema(node, Draft202012Validator.FORMAT_CHECKER)
    cases = rejected = 0
    for entry in list(acme_entries()[section].values())[:12]:
        for candidate in mutations(entry):
            expected = slow.is_valid(candidate)
            assert fast(candidate) == expected, candidate
            cases += 1
            rejected += not expected
    assert cases > 300 and 0 < rejected < cases


def test_keys_agree_with_jsonschema():
    node = schema._validator().schema["properties"]["units"]["propertyNames"]
    slow = Draft202012Validator(node)
    fast = compile_schema(node, Draft202012Validator.FORMAT_CHECKER)
    for key in ["eng", "EMP-001", "a_b", "-x", "a.b", "", "é", "x" * 100, "x" * 101, "a b"]:
        assert fast(key) == slow.is_valid(key), key


def test_the_whole_schema_compiles():
    # Fails when someone adds a keyword the fast check does not know: the loader would
    # still be right, but slow again.
    assert set(schema._prechecks()) == {"units", "teams", "employees"}


def test_unknown_keyword_refuses_to_compile():
    with pytest.raises(Unsupported):
        compile_schema({"dependentRequired": {"a": ["b"]}}, Draft202012Validator.FORMAT_CHECKER)
