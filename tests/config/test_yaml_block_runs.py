"""Runs of `key: value` and `- item` lines longer than one match of the block reading
reads (`yamlload._RUN` lines each), and the `key:` line it reads with a run (`opener`):
whatever the length of a run, its place, or a duplicate key across two matches, libyaml
reads the same data and positions, or the block reading leaves the file to it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgctl.config import yamlload
from orgctl.config.yamlload import Texts
from tests.config.test_yaml_block import assert_read_alike

RUN = yamlload._RUN
LENGTHS = [1, RUN - 1, RUN, RUN + 1, 2 * RUN, 2 * RUN + 1, 3 * RUN + 2]


def pairs(n: int, indent: int, start: int = 0) -> str:
    return "".join(f"{' ' * indent}k{i}: v{i % 3}\n" for i in range(start, start + n))


def items(n: int, indent: int) -> str:
    return "".join(f"{' ' * indent}- i{i % 4}\n" for i in range(n))


@pytest.mark.parametrize("n", LENGTHS)
def test_a_long_run_of_pairs_is_read_whole(n: int):
    text = "top:\n  E1:\n" + pairs(n, 4) + "    sub:\n" + pairs(n, 6) + "  E2:\n" + pairs(n, 4)
    assert assert_read_alike(text)
    data = yamlload._read_block(text, Texts())[0]  # type: ignore[index]
    assert list(data["top"]["E1"]) == [f"k{i}" for i in range(n)] + ["sub"]


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("indentless", [True, False])
def test_a_long_run_of_items_is_read_whole(n: int, indentless: bool):
    below = 2 if indentless else 4
    text = ("a:\n  list:\n" + items(n, below) + "  next:\n" + items(n, below)
            + "  after: 1\nb:\n" + items(n, 0))
    assert assert_read_alike(text)
    data = yamlload._read_block(text, Texts())[0]  # type: ignore[index]
    assert len(data["a"]["list"]) == n and len(data["b"]) == n


@pytest.mark.parametrize("at", [0, RUN - 1, RUN, RUN + 1, 2 * RUN])
def test_a_key_written_twice_across_matches_is_left_to_libyaml(at: int):
    text = "a:\n" + pairs(2 * RUN + 2, 2) + f"  k{at}: again\n"
    assert yamlload._read_block(text, Texts()) is None
    assert_read_alike(text)
    text = "a:\n" + pairs(2 * RUN + 2, 2) + f"  k{at}:\n    b: 1\n"  # as an opener
    assert yamlload._read_block(text, Texts()) is None
    assert_read_alike(text)


@pytest.mark.parametrize("opener", ["k:", "k:  ", "k: # c", "k:   # c  "])
def test_an_opener_is_read_as_the_same_line_alone(opener: str):
    for after in ("", "    x: 1\n", "  - x\n", "    - x\n", "  j: 1\n", "j: 1\n"):
        text = "a:\n  b: 1\n  c: 2\n  " + opener + "\n" + after
        assert_read_alike(text)
        text = "a:\n  l:\n  - 1\n  - 2\n  " + opener + "\n" + after
        assert_read_alike(text)


line = st.one_of(
    st.tuples(st.sampled_from(["pairs", "items"]), st.integers(1, 2 * RUN + 2)),
    st.just(("open", 0)), st.just(("close", 0)), st.just(("blank", 0)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=12), st.sampled_from([1, 2, 3]))
def test_runs_of_any_length_at_any_depth_read_alike(steps: list[tuple[str, int]], step: int):
    """Runs and `key:` lines one after the other, going down (`open`) and up (`close`)
    the tree: what the block reading takes libyaml reads alike."""
    lines, depth, made = ["root:"], 1, 0
    for kind, n in steps:
        pad = " " * (depth * step)
        made += 1
        if kind == "pairs":
            lines += [f"{pad}p{made}x{i}: {i % 5}" for i in range(n)]
        elif kind == "items":
            lines += [f"{pad}l{made}:"] + [f"{pad}- {i % 3}" for i in range(n)]
        elif kind == "open":
            lines.append(f"{pad}o{made}:")
            depth += 1
        elif kind == "close" and depth > 1:
            depth -= 1
        elif kind == "blank":
            lines.append("")
    assert_read_alike("\n".join(lines) + "\n")
