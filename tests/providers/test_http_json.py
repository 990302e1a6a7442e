"""An answer's JSON is decoded by msgspec, and what msgspec refuses by the standard library
(issue 18). Whichever decoder reads it, an answer must mean exactly what `json.loads` makes
of it (the decoder `resp.json()` used before): same values, same types, same order, and the
same text when it is not JSON at all."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgctl.providers import http as http_module
from orgctl.providers.http import _body


def answer(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content, headers={"content-type": "application/json"})


def same(a: Any, b: Any) -> bool:
    """Equal with types and key order, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_any_json_value_decodes_as_the_standard_library_decodes_it(value: Any,
                                                                   ascii_only: bool) -> None:
    content = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert same(_body(answer(content)), json.loads(content))


@pytest.mark.parametrize("content", [
    b'{"id": 123456789012345678901234567890, "n": -9223372036854775809}',  # past 64 bits
    b'{"a": 1, "a": 2}',  # a duplicate key: the last one
    b'[-0.0, 1E2, 1e-5, 1.5e-400, 0.1]',
    b'"\\u0000\\/"',
    b'\t[1]\r\n',
])
def test_answers_both_decoders_read_mean_the_same(content: bytes) -> None:
    assert same(_body(answer(content)), json.loads(content))


@pytest.mark.parametrize("content", [
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b'{"a": 1e400}',  # beyond a float: Python reads infinity
    b'\xef\xbb\xbf{"a": 1}',  # a byte order mark
    '{"a": "\u00e9"}'.encode("utf-16"),
    '{"a": "\u00e9"}'.encode("utf-32-le"),
    b'{"a": "\\ud800"}',  # an escaped lone surrogate
    b'"\xed\xa0\x80"',  # a surrogate written in UTF-8
])
def test_what_msgspec_refuses_is_read_as_python_reads_it(content: bytes) -> None:
    with pytest.raises(http_module.msgspec.DecodeError):
        http_module._DECODE(content)
    assert same(_body(answer(content)), json.loads(content))


@pytest.mark.parametrize("content", [
    b'<html>Bad gateway</html>', b'{"a": 1,}', b'{"a": 1} x', b"{'a': 1}", b'  '])
def test_an_answer_that_is_not_json_is_its_text(content: bytes) -> None:
    assert _body(answer(content)) == content.decode()


def test_an_empty_answer_is_none() -> None:
    assert _body(answer(b"")) is None


def test_nesting_past_the_limit_fails_as_it_did() -> None:
    deep = b"[" * 200 + b"]" * 200
    assert _body(answer(deep)) == json.loads(deep)
    too_deep = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):
        json.loads(too_deep)
    with pytest.raises(RecursionError):
        _body(answer(too_deep))
