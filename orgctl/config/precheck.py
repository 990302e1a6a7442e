"""A fast yes/no answer to "is this object valid?", compiled from the JSON Schema.

jsonschema spends ~0.2 ms per employee building validators as it descends; with 10,000
people that is most of `orgctl validate`. This module compiles the same schema into the
source of one plain Python function per schema (straight-line tests that return False at
the first failure, in the manner of fastjsonschema) that answers only valid / not valid,
for the subset of keywords the schema uses (anything else refuses to compile, and
everything then goes through jsonschema). Objects it accepts are left out of the
jsonschema run; objects it rejects get jsonschema's full diagnosis. Answers must be exact,
not just cautious: `if` takes a branch on them.

Nothing here depends on the content of the schema: the compiler reads whatever schema it
is given, and one it cannot compile exactly falls back to jsonschema (slower, not wrong).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import FormatChecker

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default",
                "examples", "patternErrorMessage", "deprecated", "readOnly", "writeOnly"}

_INLINE_DEPTH = 12
"""Indentation levels a generated function may reach before a nested schema becomes a
function of its own (Python refuses more than 20 nested blocks)."""


class Unsupported(Exception):
    """The schema uses a keyword this module does not implement exactly."""


def compile_schema(schema: Any, format_checker: FormatChecker) -> Check:
    """An exact validity check for `schema` (with `$ref`s already inlined)."""
    return _Compiler(format_checker).compile(schema)


class _Compiler:
    """Writes one `def` per schema that needs a function of its own (the top one, `if`
    conditions, schemas nested too deep) into one module's source, then runs it."""

    def __init__(self, fc: FormatChecker):
        self.fc = fc
        self.functions: list[str] = []
        self.names: dict[str, Any] = {"_number": _number, "_integer": _integer,
                                      "_equal": _equal, "_unique": _unique}
        self.counter = 0

    def compile(self, schema: Any) -> Check:
        top = self.function(schema)
        source = "\n\n".join(self.functions)
        namespace = dict(self.names)
        exec(compile(source, "<orgctl precheck>", "exec"), namespace)  # noqa: S102
        check: Check = namespace[top]
        return check

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, value: Any, prefix: str = "_c") -> str:
        name = self.fresh(prefix)
        self.names[name] = value
        return name

    def function(self, schema: Any) -> str:
        """The name of a generated function `name(v) -> bool` checking `schema`."""
        name = self.fresh("_check")
        body = self.body(schema, "v", 1)
        self.functions.append(f"def {name}(v):\n" + "\n".join(body + ["    return True"]))
        return name

    def body(self, schema: Any, var: str, depth: int) -> list[str]:
        """Statements that `return False` when the value in `var` fails `schema`."""
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        if depth > _INLINE_DEPTH:
            return [f"{pad}if not {self.function(schema)}({var}):", f"{pad}    return False"]
        # `type` first: past it, the value's type is known and later keywords need not
        # test it again (the answer does not depend on the order: every keyword must hold).
        kind = schema.get("type")
        known = kind if isinstance(kind, str) and kind in _GUARDS else None
        out: list[str] = []
        for keyword, expected in sorted(schema.items(), key=lambda item: item[0] != "type"):
            if keyword not in _ANNOTATIONS:
                out += self.keyword(schema, keyword, expected, var, depth, known)
        return out

    def child(self) -> str:
        return self.fresh("x")

    def keyword(self, schema: dict[str, Any], keyword: str, expected: Any, var: str,
                depth: int, known: str | None) -> list[str]:
        pad = "    " * depth
        fail = f"{pad}    return False"

        def when(kind: str, test: str = "") -> str:
            """`if <value is of kind> and <test>:`, leaving out what is known."""
            parts = [] if kind == known else [_GUARDS[kind].format(var)]
            return f"{pad}if {' and '.join([*parts, test] if test else parts) or 'True'}:"

        if keyword == "type":
            names = [expected] if isinstance(expected, str) else list(expected)
            tests = " or ".join(self.type_test(n, var) for n in names) or "False"
            return [f"{pad}if not ({tests}):", fail]
        if keyword == "properties":
            if not isinstance(expected, dict):
                raise Unsupported("properties")
            out = [when("object")]
            for name, sub in expected.items():
                inner = self.body(sub, x := self.child(), depth + 2)
                if inner:  # `in` first: most properties are absent from most objects
                    out += [f"{pad}    if {name!r} in {var}:",
                            f"{pad}        {x} = {var}[{name!r}]"] + inner
            return out if len(out) > 1 else []
        if keyword == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported("patternProperties")
            names = self.constant(frozenset(schema.get("properties", ())), "_known")
            if expected is False:  # no other key: one set comparison, in C
                return [when("object", f"not {var}.keys() <= {names}"), fail]
            k, x = self.fresh("k"), self.child()
            inner = self.body(expected, x, depth + 3)
            if not inner:
                return []
            return [when("object"),
                    f"{pad}    for {k}, {x} in {var}.items():",
                    f"{pad}        if {k} not in {names}:"] + inner
        if keyword == "propertyNames":
            k = self.fresh("k")
            inner = self.body(expected, k, depth + 2)
            if not inner:
                return []
            return [when("object"), f"{pad}    for {k} in {var}:"] + inner
        if keyword == "required":
            if not expected:
                return []
            tests = " and ".join(f"{name!r} in {var}" for name in expected)
            return [when("object", f"not ({tests})"), fail]
        if keyword in ("minProperties", "maxProperties"):
            op = "<" if keyword == "minProperties" else ">"
            return [when("object", f"len({var}) {op} {expected!r}"), fail]
        if keyword == "items":
            if not (isinstance(expected, (dict, bool))):
                raise Unsupported("items (array form)")
            x = self.child()
            inner = self.body(expected, x, depth + 2)
            if not inner:
                return []
            return [when("array"), f"{pad}    for {x} in {var}:"] + inner
        if keyword == "uniqueItems":
            if not expected:
                return []
            return [when("array", f"not _unique({var})"), fail]
        if keyword == "enum":
            if not isinstance(expected, list):
                raise Unsupported("enum")
            if expected and all(isinstance(option, str) for option in expected):
                options = self.constant(frozenset(expected), "_enum")
                return [f"{pad}if not (isinstance({var}, str) and {var} in {options}):", fail]
            options = self.constant(list(expected), "_enum")
            return [f"{pad}if not any(_equal({var}, o) for o in {options}):", fail]
        if keyword == "const":
            if isinstance(expected, str):
                return [f"{pad}if not (isinstance({var}, str) and {var} == {expected!r}):",
                        fail]
            value = self.constant(expected, "_const")
            return [f"{pad}if not _equal({var}, {value}):", fail]
        if keyword == "pattern":
            regex = self.constant(re.compile(expected), "_re")
            return [when("string", f"{regex}.search({var}) is None"), fail]
        if keyword in ("minLength", "maxLength"):
            op = "<" if keyword == "minLength" else ">"
            return [when("string", f"len({var}) {op} {expected!r}"), fail]
        if keyword == "format":
            checker = self.constant(_format(self.fc, expected), "_format")
            return [f"{pad}if not {checker}({var}):", fail]
        if keyword in _BOUNDS:
            if not isinstance(expected, (int, float)) or isinstance(expected, bool):
                raise Unsupported(keyword)
            bound = self.constant(expected, "_bound")
            # Written as jsonschema fails them (`instance < minimum` is an error), so NaN
            # agrees too.
            return [f"{pad}if _number({var}) and {var} {_BOUNDS[keyword]} {bound}:", fail]
        if keyword == "allOf":
            out = []
            for sub in expected:
                out += self.body(sub, var, depth)
            return out
        if keyword == "if":
            condition = self.function(expected)
            then = self.body(schema.get("then", True), var, depth + 1)
            otherwise = self.body(schema.get("else", True), var, depth + 1)
            return ([f"{pad}if {condition}({var}):"] + (then or [f"{pad}    pass"])
                    + [f"{pad}else:"] + (otherwise or [f"{pad}    pass"]))
        if keyword in ("then", "else"):
            return []  # evaluated with `if`
        raise Unsupported(keyword)

    def type_test(self, name: str, var: str) -> str:
        tests = {"string": f"isinstance({var}, str)", "boolean": f"isinstance({var}, bool)",
                 "null": f"{var} is None", "object": f"isinstance({var}, dict)",
                 "array": f"isinstance({var}, list)", "number": f"_number({var})",
                 "integer": f"_integer({var})"}
        if name not in tests:
            raise Unsupported(f"type {name}")
        return tests[name]


_GUARDS = {"object": "isinstance({}, dict)", "array": "isinstance({}, list)",
           "string": "isinstance({}, str)"}


# The comparison that fails each bound, as jsonschema writes it.
_BOUNDS = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=",
           "exclusiveMaximum": ">="}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _integer(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


def _format(fc: FormatChecker, name: str) -> Check:
    """`fc.conforms(value, name)` without its lookups: the same answer."""
    if name not in fc.checkers:
        return lambda value: True
    func, raises = fc.checkers[name]

    def conforms(value: Any) -> bool:
        try:
            result = func(value)
        except raises:
            return False
        return bool(result)

    return conforms


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
    if len(items) < 2:
        return True
    if all(isinstance(item, str) for item in items):
        return len(set(items)) == len(items)
    return not any(_equal(items[i], items[j])
                   for i in range(len(items)) for j in range(i + 1, len(items)))
