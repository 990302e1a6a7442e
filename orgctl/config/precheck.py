"""A fast yes/no answer to "is this object valid?", compiled from the JSON Schema.

jsonschema spends ~0.2 ms per employee building validators as it descends; with 10,000
people that is most of `orgctl validate`. This module compiles the same schema into plain
closures that answer only valid / not valid, for the subset of keywords the schema uses
(anything else refuses to compile, and everything then goes through jsonschema). Objects
it accepts are left out of the jsonschema run; objects it rejects get jsonschema's full
diagnosis. Answers must be exact, not just cautious: `if` takes a branch on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import FormatChecker

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default",
                "examples", "patternErrorMessage"}


class Unsupported(Exception):
    """The schema uses a keyword this module does not implement exactly."""


def compile_schema(schema: Any, format_checker: FormatChecker) -> Check:
    """An exact validity check for `schema` (with `$ref`s already inlined)."""
    if schema is True:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise Unsupported(repr(schema))
    checks = [_keyword(schema, keyword, expected, format_checker)
              for keyword, expected in schema.items() if keyword not in _ANNOTATIONS]
    checks = [c for c in checks if c is not None]
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _keyword(schema: dict[str, Any], keyword: str, expected: Any,
             fc: FormatChecker) -> Check | None:
    sub = lambda s: compile_schema(s, fc)  # noqa: E731
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        tests = [_TYPES[n] for n in names]
        return lambda v: any(t(v) for t in tests)
    if keyword == "properties":
        props = {name: sub(s) for name, s in expected.items()}
        return lambda v: not isinstance(v, dict) or all(
            check(v[name]) for name, check in props.items() if name in v)
    if keyword == "additionalProperties":
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = set(schema.get("properties", ()))
        extra = sub(expected)
        return lambda v: not isinstance(v, dict) or all(
            extra(item) for name, item in v.items() if name not in known)
    if keyword == "propertyNames":
        names = sub(expected)
        return lambda v: not isinstance(v, dict) or all(names(name) for name in v)
    if keyword == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in expected)
    if keyword in ("minProperties", "maxProperties"):
        low = keyword == "minProperties"
        return lambda v: not isinstance(v, dict) or (
            len(v) >= expected if low else len(v) <= expected)
    if keyword == "items":
        each = sub(expected)
        return lambda v: not isinstance(v, list) or all(each(item) for item in v)
    if keyword == "uniqueItems":
        return (lambda v: not isinstance(v, list) or _unique(v)) if expected else None
    if keyword == "enum":
        return lambda v: any(_equal(v, option) for option in expected)
    if keyword == "const":
        return lambda v: _equal(v, expected)
    if keyword == "pattern":
        regex = re.compile(expected)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if keyword in ("minLength", "maxLength"):
        low = keyword == "minLength"
        return lambda v: not isinstance(v, str) or (
            len(v) >= expected if low else len(v) <= expected)
    if keyword == "format":
        return lambda v: fc.conforms(v, expected)
    if keyword in _BOUNDS:
        compare = _BOUNDS[keyword]
        return lambda v: not _TYPES["number"](v) or compare(v, expected)
    if keyword == "allOf":
        parts = [sub(s) for s in expected]
        return lambda v: all(part(v) for part in parts)
    if keyword == "if":
        condition = sub(expected)
        then = sub(schema.get("then", True))
        otherwise = sub(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)
    if keyword in ("then", "else"):
        return None  # evaluated with `if`
    raise Unsupported(keyword)


# Written as jsonschema fails them (`instance < minimum` is an error), so NaN agrees too.
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": lambda v, b: not v < b, "maximum": lambda v, b: not v > b,
    "exclusiveMinimum": lambda v, b: not v <= b, "exclusiveMaximum": lambda v, b: not v >= b,
}

_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()),
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality, as JSON Schema defines it: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_equal(a[k], b[k]) for k in a))
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_equal(x, y) for x, y in zip(a, b, strict=True)))
    return a == b


def _unique(items: list[Any]) -> bool:
    if all(isinstance(item, str) for item in items):
        return len(set(items)) == len(items)
    return not any(_equal(items[i], items[j])
                   for i in range(len(items)) for j in range(i + 1, len(items)))
