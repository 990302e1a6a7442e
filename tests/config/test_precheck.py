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


EVERY_KEYWORD = {
    "type": "object",
    "required": ["name"],
    "minProperties": 1,
    "maxProperties": 6,
    "additionalProperties": {"type": ["string", "integer", "null", "array", "object"]},
    "propertyNames": {"pattern": "^[a-z_]+$", "maxLength": 12},
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "kind": {"enum": ["a", "b", 1, None, [1]]},
        "tag": {"enum": ["x", "y"]},
        "one": {"const": 1},
        "word": {"const": "w"},
        "day": {"type": "string", "format": "date"},
        "n": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
        "f": {"type": "number", "maximum": 2.5, "exclusiveMinimum": -1},
        "flag": {"type": "boolean"},
        "list": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "any": {"uniqueItems": True},
        "both": {"allOf": [{"type": "string"}, {"pattern": "^b"}]},
        "deep": {"$comment": "nested past the depth where a function of its own is made"},
    },
    "if": {"required": ["kind"], "properties": {"kind": {"const": "a"}}},
    "then": {"required": ["tag"]},
    "else": {"properties": {"tag": {"const": "y"}}},
}
_deep: dict = {"type": "object", "properties": {"leaf": {"type": "string", "minLength": 2}}}
for _ in range(10):
    _deep = {"type": "object", "properties": {"d": _deep}}
EVERY_KEYWORD["properties"]["deep"] = _deep  # type: ignore[index]

SAMPLES: list[Any] = [*BAD_VALUES, 2.0, 9, 10, -1, -0.5, 2.5, 2.6, float("nan"), "bx", "b",
                      "2026-13-01", [1, 1.0], [{"a": 1}, {"a": 1}], [True, 1], ["a", "b"]]


def nested(depth: int, leaf: Any) -> Any:
    value: Any = {"leaf": leaf}
    for _ in range(depth):
        value = {"d": value}
    return value


def test_every_keyword_the_compiler_knows_agrees_with_jsonschema():
    slow = Draft202012Validator(EVERY_KEYWORD, format_checker=Draft202012Validator.FORMAT_CHECKER)
    fast = compile_schema(EVERY_KEYWORD, Draft202012Validator.FORMAT_CHECKER)
    candidates: list[Any] = [None, [], "x", {}, {"name": "ok"}, {"name": "ok", "BAD": 1},
                             {"name": "ok", "x" * 13: 1}, {"name": "ok", "extra": 1.5},
                             {"name": "ok", "kind": "a"}, {"name": "ok", "kind": "a", "tag": "x"},
                             {"name": "ok", "kind": "b", "tag": "x"},
                             {"name": "ok", "kind": "b", "tag": "y"},
                             {"name": "ok", "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}]
    for field in EVERY_KEYWORD["properties"]:  # type: ignore[union-attr]
        candidates += [{"name": "ok", field: value} for value in SAMPLES]
    for depth in (0, 5, 10, 11):
        candidates += [{"name": "ok", "deep": nested(depth, leaf)} for leaf in ("ab", "a", 1)]
    rejected = 0
    for candidate in candidates:
        expected = slow.is_valid(candidate)
        assert fast(candidate) == expected, candidate
        rejected += not expected
    assert 0 < rejected < len(candidates) and len(candidates) > 500


def test_a_schema_nested_deeper_than_python_allows_blocks_still_compiles():
    schema: Any = {"type": "string"}
    for _ in range(40):
        schema = {"type": "array", "items": schema}
    fast = compile_schema(schema, Draft202012Validator.FORMAT_CHECKER)
    value: Any = "x"
    for _ in range(40):
        value = [value]
    assert fast(value) and not fast([[[1]]])
