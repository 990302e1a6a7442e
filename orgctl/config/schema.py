"""The JSON Schema of the config (the single source of truth for its shape) and the
translation of its errors into messages a person can act on.

The schema is assembled from the core (`orgctl/schema/core.schema.json`: version, units,
teams, employees, the value types; it names no system) and the part each registered
provider type brings (`Provider.SCHEMA`): its provider block under `$defs.<type>`, and
the block an employee may hold under the type's name. `schemas/orgctl.schema.json`, what
editors load, is this assembly for the built-in types, written by `tools/gen_schema.py`.

Before use its internal `$ref`s are inlined (resolving references took half of
jsonschema's time), and entries that a check compiled from the same schema finds valid are
not given to jsonschema at all (`precheck`): a valid 10,000-employee config validates in a
fraction of a second. Both are cached per state of the provider registry, so a type
registered at run time is validated like a built-in one.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, ValidationError

from orgctl.config.precheck import Check, Unsupported, compile_schema
from orgctl.config.secrets import PRIVATE_KEYS
from orgctl.config.sources import SECTIONS, SourceMap
from orgctl.config.yamlload import Path, dotted
from orgctl.errors import ConfigIssue
from orgctl.providers import TYPES, provider_class

_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "object": "a mapping", "array": "a list",
               "null": "nothing"}

Registry = tuple[tuple[str, str], ...]


def schema_document() -> dict[str, Any]:
    """The schema for the provider types registered now (for the built-in ones: what
    editors load)."""
    return copy.deepcopy(_assembled(_registry()))


def _registry() -> Registry:
    return tuple(TYPES.items())


@lru_cache(maxsize=4)
def _assembled(registry: Registry) -> dict[str, Any]:
    """The core schema with each registered type's part put in its place: the core leaves
    the list of types (`provider.type`'s enum, `provider.allOf`, `providers.properties`)
    empty and has no `$defs` or employee block named after a system."""
    text = resources.files("orgctl").joinpath("schema/core.schema.json").read_text("utf-8")
    schema = json.loads(text)
    parts = {name: _part(name) for name, _ in registry}
    defs = schema["$defs"]
    provider = defs["provider"]
    provider["properties"]["type"]["enum"] = list(parts)
    provider["allOf"] = [
        {"if": {"required": ["type"], "properties": {"type": {"const": name}}},
         "then": {"$ref": f"#/$defs/{name}"}}
        for name in parts]
    # An instance named after its type may leave `type` out.
    schema["properties"]["providers"]["properties"] = {
        name: {"if": {"required": ["type"]}, "then": {"$ref": "#/$defs/provider"},
               "else": {"$ref": f"#/$defs/{name}"}}
        for name in parts}
    schema["$defs"] = _after(defs, "provider",
                             {name: part["provider"] for name, part in parts.items()})
    # Where the importer writes them: after the employee's own fields, before its history.
    employee = defs["employee"]
    employee["properties"] = _after(employee["properties"], "unit_scopes", {
        name: part["employee"] for name, part in parts.items() if "employee" in part})
    return schema


def _part(type_name: str) -> dict[str, Any]:
    """A provider type's part of the schema; one that declares none takes a `url` and any
    other settings."""
    declared = provider_class(type_name).SCHEMA
    if declared is not None:
        return copy.deepcopy(dict(declared))
    return {"provider": {
        "description": f"A {type_name} provider block: its url and the settings it reads.",
        "type": "object",
        "required": ["url"],
        "properties": {
            "type": {"const": type_name, "description": "Which system this block connects to."},
            "url": {"$ref": "#/$defs/url", "description": "Base URL of the API."},
        },
    }}


def _after(mapping: Mapping[str, Any], anchor: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """`mapping` with `extra` inserted right after `anchor`, in the order keys are written
    in; a provider type may not take a name the core uses."""
    clashes = sorted(set(extra) & set(mapping))
    if clashes:
        raise ValueError(f"schema: provider types named like a part of the core: {clashes}")
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        out[key] = value
        if key == anchor:
            out.update(extra)
    return out


def _validator() -> Draft202012Validator:
    return _compiled(_registry())


_SHIPPED: Registry = tuple(TYPES.items())
"""The provider types orgctl ships: their schema is the published one, checked against
the metaschema by the test suite (tests/config/test_schema.py)."""


@lru_cache(maxsize=4)
def _compiled(registry: Registry) -> Draft202012Validator:
    schema = _assembled(registry)
    if registry != _SHIPPED:  # a type registered at run time: its part is checked here
        Draft202012Validator.check_schema(schema)
    return Draft202012Validator(inline(schema), format_checker=Draft202012Validator.FORMAT_CHECKER)


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every local `$ref` (`#/...`, a JSON pointer into the schema) replaced
    by what it points at, so jsonschema and the precheck never resolve references. A
    reference that cannot be inlined (a cycle, another document, an anchor) stays as it is,
    resolved by jsonschema against the original `$defs`, which are kept; the precheck then
    refuses that part and jsonschema checks it: slower, never wrong."""
    out = _inline(schema, schema, ())
    if "$defs" in schema:
        out["$defs"] = schema["$defs"]
    return out


def _inline(node: Any, root: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline(value, root, seen) for key, value in node.items()
           if key not in ("$ref", "$defs")}
    ref = node.get("$ref")
    if ref is None:
        return out
    target = _pointer(root, ref) if ref not in seen else None
    if not isinstance(target, (dict, bool)):
        out["$ref"] = ref  # not inlined: jsonschema resolves it
        return out
    if target is True or target is False:
        return {**out, "allOf": [target, *out.get("allOf", [])]}
    resolved = _inline(target, root, seen + (ref,))
    if set(resolved) & set(out) - _ANNOTATIONS:
        # The reference and its siblings both constrain a keyword: both must hold.
        return {**out, "allOf": [resolved, *out.get("allOf", [])]}
    # Siblings override the target's annotations (a `description` of its own).
    return {**resolved, **out}


def _pointer(root: Any, ref: str) -> Any:
    """What a local JSON pointer reference (`#/$defs/a/properties/b`) names, or None."""
    if not ref.startswith("#/"):
        return None
    node = root
    for part in ref[2:].split("/"):
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


_ANNOTATIONS = frozenset({"$comment", "title", "description", "default", "examples",
                          "patternErrorMessage", "deprecated", "readOnly", "writeOnly"})


def _prechecks() -> dict[str, tuple[Check, Check]]:
    return _compiled_prechecks(_registry())


@lru_cache(maxsize=4)
def _compiled_prechecks(registry: Registry) -> dict[str, tuple[Check, Check]]:
    """Per section whose entries are independent of each other: a fast check of an
    entry's key and of its value (see `precheck`). Empty if the schema defeats it."""
    validator = _compiled(registry)
    out = {}
    try:
        for section in ("units", "teams", "employees"):
            node = validator.schema["properties"][section]
            if set(node) - {"type", "propertyNames", "additionalProperties", "description"}:
                continue  # a constraint across entries: validate the section whole
            out[section] = (compile_schema(node.get("propertyNames", True),
                                           validator.format_checker),
                            compile_schema(node["additionalProperties"],
                                           validator.format_checker))
    except Unsupported:
        return {}
    return out


MAX_SCHEMA_ISSUES = 1000
MAX_REPEATS_SHOWN = 20  # repeated items of one list reported one by one


def validate(data: dict[str, Any], sources: SourceMap) -> tuple[list[ConfigIssue], set[Path]]:
    """Every schema problem in `data`, and the objects ((section, key)) they touch."""
    issues: set[ConfigIssue] = set()
    invalid: set[Path] = set()
    # jsonschema sees only the entries the fast check rejects: the same errors, sooner.
    suspects = dict(data)
    for section, (key_ok, entry_ok) in _prechecks().items():
        entries = data.get(section)
        if isinstance(entries, dict):
            suspects[section] = {key: entry for key, entry in entries.items()
                                 if not (key_ok(key) and entry_ok(entry))}
    for error in _validator().iter_errors(suspects):
        path = tuple(error.absolute_path)
        if "propertyNames" in error.absolute_schema_path:
            path += (error.instance,)
        if len(path) >= 2 and path[0] in SECTIONS:
            invalid.add(path[:2])
        issues.update(_issues(error, path, sources))
        if len(issues) >= MAX_SCHEMA_ISSUES:
            # A file of 100,000 repeated mistakes: the first ones say what to fix, and
            # checking on would cost time and memory in proportion to the mistakes.
            issues.add(ConfigIssue(sources.value(path), dotted(path), (
                f"stopped checking the schema after {MAX_SCHEMA_ISSUES} problems")))
            break
    return sorted(issues), invalid


def _issues(error: ValidationError, path: Path, sources: SourceMap) -> Iterable[ConfigIssue]:
    keyword, expected, instance, schema = (error.validator, error.validator_value,
                                           error.instance, error.schema)
    if "propertyNames" in error.absolute_schema_path:
        yield ConfigIssue(sources.key(path), dotted(path), _bad_key(error))
    elif keyword == "required":
        for name in expected:
            if name not in instance:
                yield ConfigIssue(sources.key(path), dotted(path),
                                  f"missing required key '{name}'")
    elif keyword == "additionalProperties":
        known = list(schema.get("properties", {}))
        for name in instance:
            if name not in known:
                yield ConfigIssue(sources.key(path + (name,)), dotted(path + (name,)),
                                  f"unknown key '{name}'{_suggest(name, known)}")
    elif keyword == "uniqueItems":
        seen: set[str] = set()  # canonical JSON: hashable, and O(n) for a long list
        twice = 0
        for index, item in enumerate(instance):
            canon = json.dumps(item, sort_keys=True, default=str)
            if canon in seen:
                twice += 1
                if twice <= MAX_REPEATS_SHOWN:
                    item_path = path + (index,)
                    yield ConfigIssue(sources.value(item_path), dotted(item_path),
                                      f"{_show(item, path)} is listed twice")
            seen.add(canon)
        if twice > MAX_REPEATS_SHOWN:
            yield ConfigIssue(sources.value(path), dotted(path),
                              f"and {twice - MAX_REPEATS_SHOWN} more items listed twice")
    else:
        yield ConfigIssue(sources.value(path), dotted(path), _message(error, path))


def _message(error: ValidationError, path: Path) -> str:
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    shown = _show(instance, path)
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        if instance is None:
            return f"is empty: expected {wanted}"
        hint = ""
        if "string" in names and isinstance(instance, (bool, int, float)):
            hint = " (put it in quotes to make it text)"
        return f"expected {wanted}, got {shown}{hint}"
    if keyword == "enum":
        return f"{shown} is not one of: {', '.join(str(v) for v in expected)}"
    if keyword == "const":
        return f"must be {expected!r}, not {shown}"
    if keyword == "pattern":
        reason = error.schema.get("patternErrorMessage", f"does not match {expected}")
        return reason if _secret(path) else f"{shown} {reason}"
    if keyword == "format":
        return f"{shown} is not a valid {expected}" + (" (YYYY-MM-DD)" if expected == "date"
                                                      else "")
    if keyword == "minLength" and expected == 1:
        return "must not be empty"
    if keyword in ("minLength", "maxLength"):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"must be {bound} {expected} characters long"
    if keyword in ("minProperties", "maxProperties"):
        names = ", ".join(error.schema.get("properties", {}))
        return f"must have exactly one of: {names}"
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
              "exclusiveMaximum": "<"}
    if keyword in bounds:
        return f"must be {bounds[keyword]} {expected}, not {shown}"
    return error.message if not _secret(path) else f"invalid value ({keyword})"


def _bad_key(error: ValidationError) -> str:
    key = error.instance
    if error.validator == "pattern":
        return f"key {key!r} {error.schema.get('patternErrorMessage', 'is not valid')}"
    if error.validator == "enum":
        return f"unknown kind {key!r}: expected one of {', '.join(error.validator_value)}"
    return f"key {key!r} is not valid"


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (expected one of: {', '.join(known)})"


def _secret(path: Path) -> bool:
    return len(path) > 2 and path[0] == "providers" and path[2] in PRIVATE_KEYS


def _show(value: Any, path: Path) -> str:
    """The value as a message quotes it: short, and never a credential."""
    if _secret(path):
        return "a value (not shown)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
