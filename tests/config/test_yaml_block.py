"""The common shape of a config file (block mappings and lists, one scalar per line) is
read without libyaml's events (`yamlload._read_block`): whatever that reading accepts,
libyaml must read to the same data and the same positions, and whatever it does not is
left to libyaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.generate import generate, write
from orgctl.config import yamlload
from orgctl.config.yamlload import Texts, parse

ROOT = Path(__file__).resolve().parents[2]


def same_data(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True == 1, but not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN


def collections(data: Any, path: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """The paths of every mapping and list below the top one."""
    found = set()
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        if isinstance(value, (dict, list)):
            found |= {path + (key,)} | collections(value, path + (key,))
    return found


def assert_read_alike(text: str) -> bool:
    """`text` read keeping only collections' positions (the block reading when it can)
    and read whole through libyaml: the same data, issues and positions. Returns whether
    the block reading took it."""
    block = yamlload._read_block(text, Texts())
    coarse = parse(text, "f.yaml", scalars=False)
    full = parse(text, "f.yaml")
    assert [str(i) for i in coarse.issues] == [str(i) for i in full.issues]
    assert coarse.fatal == full.fatal
    assert same_data(coarse.data, full.data)
    if block is None:
        return False
    assert not full.issues
    assert same_data(block[0], full.data)
    kept = set(block[1])
    assert kept == {()} | collections(full.data)
    for path in kept:
        assert block[1][path] == full.spans[path], path
    return True


# -- documents in the block shape, with scalars of every kind ---------------------------

KEYS = ["a", "b", "E001", "first_name", "x-y", "k.z", "é", "yes", "1", "on", "_", "null"]
ODD_KEYS = ["a b", "-k", "'q'", "k" * 1100, "<<", "a:b", "k#", "? k", "&a k", "!!str k"]
SCALARS = [
    "v", "Chloé", "yes", "No", "ON", "~", "null", "", "0x1F", "0o17", "017", "1_000", "0b101",
    "1:20", "1:20.5", "-1", "+1", ".5", ".inf", "-.INF", ".nan", "1e3", "6.8523015e+5",
    "2026-01-15", "2001-12-14t21:59:43.10-05:00", "'2026-01-15'", "'it''s'", "''", '"dq"',
    "a #c", "a#b", "a:b", "http://x:1/y?q=1&r", "${ENV}", "a  b", "v  ", "v # c", "=",
    "x,y", "--", "O'Brien", "R&D", "50%", "C#", "a - b", "-x", "\U0001f600", "a\\b", "a' b",
    "Team 0001", "ana@acme.example", "'yes'", "'0x1F'", "a]", "a}", "a%", "a@b", "a&b", "a*",
]
ODD_SCALARS = [
    "0b_", '"a\\"b"', '"a\\nb"', "'open", "a: b", "a:", "{a: 1}", "[1]", "{}", "[]", "&a x",
    "*a", "!!int 3", "!!str yes", "! 5", "!x y", "|", ">", "%x", "@x", "`x", "? x", ", x",
    "- x", "-", "---", "...", "\u00a0x", "x\u2028y", "\tv", "v\r", "x\u0085y", "é: x",
    "'a' b", '"a" # c', "x\x00", "\ufeffx", "[a", "{x",
]
NOISE = ["---", "...", "%YAML 1.1", "  more", "\tk: v", "k: v\r", "? k", "[a, b]",
         "&x a: 1", "!!str k: v", "k: |", "  text", "- - x", "-", "k: v: w", " k: v",
         "# \x00", "k: v # \x7f", "k: v\u2029", "\ufeffk: v", "'x'", "  \"x\"", "x"]


def rarely(common: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]
           ) -> st.SearchStrategy[Any]:
    """Mostly `common`, now and then `odd`: a document of many values still has one
    reading or the other often enough."""
    return st.integers(0, 79).flatmap(lambda n: odd if n == 0 else common)


def scalar() -> st.SearchStrategy[str]:
    return rarely(st.sampled_from(SCALARS), st.sampled_from(ODD_SCALARS))


def key() -> st.SearchStrategy[str]:
    return rarely(st.sampled_from(KEYS), st.sampled_from(ODD_KEYS))


def pairs(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """A mapping's entries; now and then a key written twice."""
    distinct = st.lists(st.tuples(key(), values), min_size=1, max_size=4,
                        unique_by=lambda entry: entry[0])
    return rarely(distinct, distinct.map(lambda entries: entries + entries[:1]))


tree = st.recursive(
    scalar(),
    lambda inner: rarely(
        st.one_of(pairs(inner),
                  st.lists(st.one_of(scalar(), pairs(inner)), min_size=1, max_size=3)
                  .map(tuple)),
        st.sampled_from([[], (), (("x",),)])),  # empty, a list in a list
    max_leaves=12)
"""A mapping (a list of pairs), a list (a tuple) or a scalar's text."""


@st.composite
def documents(draw: st.DrawFn) -> str:
    step = draw(st.sampled_from([1, 2, 4]))
    indentless = draw(st.booleans())
    dash = draw(st.sampled_from(["- ", "-   "]))
    lines: list[str] = []

    def mapping(pairs: list[tuple[str, Any]], indent: int, first: str | None = None) -> None:
        for i, (k, value) in enumerate(pairs):
            lead = first if i == 0 and first is not None else " " * indent
            if isinstance(value, str):
                lines.append(f"{lead}{k}: {value}".rstrip() if value.strip() else f"{lead}{k}:")
            elif not value:
                lines.append(f"{lead}{k}: {'[]' if isinstance(value, tuple) else '{}'}")
            else:
                lines.append(f"{lead}{k}:" + draw(st.sampled_from(["", " # c", "  "])))
                below = indent + (0 if indentless and isinstance(value, tuple) else step)
                node(value, below)

    def sequence(items: tuple[Any, ...], indent: int) -> None:
        for item in items:
            if isinstance(item, str):
                lines.append(f"{' ' * indent}{dash}{item}".rstrip())
            elif isinstance(item, list) and item:
                mapping(item, indent + len(dash), first=" " * indent + dash)
            else:
                lines.append(f"{' ' * indent}-")
                node(item, indent + step)

    def node(value: Any, indent: int) -> None:
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", "# a comment", " " * indent + "# c"])))
        if isinstance(value, list):
            mapping(value, indent)
        elif isinstance(value, tuple):
            sequence(value, indent)
        else:
            lines.append(" " * indent + value)

    node(draw(pairs(tree)), 0)
    if draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(NOISE)))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
@example("a:\n- x\nb:\n  - y\n  - k: 1\n    j:\n    - z\n")
@example("a:\n  b:\nc: 1\nd:\n")
@example("# lead\n\nroot:\n  x: 1 # c\n")
@example("a: v\n  more\n")
@example("a:\n  b: 1\n c: 2\n")
@example("a:\n  - x\n  b: 1\n")
def test_what_the_block_reading_accepts_libyaml_reads_alike(text: str):
    assert_read_alike(text)


# -- what it takes, and what it leaves to libyaml ---------------------------------------


def test_a_generated_org_and_the_example_are_read_in_the_block_shape(tmp_path: Path):
    files = sorted(write(generate(300), tmp_path / "org").rglob("*.yaml"))
    files += sorted((ROOT / "examples" / "acme").rglob("*.yaml"))
    taken = [f.name for f in files if assert_read_alike(f.read_text("utf-8"))]
    assert {"providers.yaml", "units.yaml", "teams.yaml", "000.yaml"} <= set(taken)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",  # a duplicate key: libyaml's reading words it
    "a: 0b_\n",  # not a valid number
    "a: v\n  more\n",  # a scalar continued on the next line
    "a: |\n  text\n",
    "a: {b: 1}\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a:\tv\n",
    "a: v\r\nb: w\r\n",
    "---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "- a\n- b\n",  # not a mapping at the top
    "k" * 1100 + ": v\n",  # libyaml refuses a key this long
    "".join(" " * i + f"k{i}:\n" for i in range(40)) + " " * 40 + "v: 1\n",  # too deep
    "",
    "# nothing\n",
])
def test_any_other_writing_is_left_to_libyaml(text: str):
    assert yamlload._read_block(text, Texts()) is None
    assert_read_alike(text)
