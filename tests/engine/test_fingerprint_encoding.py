"""The fingerprint's rows are written by msgspec (`plan._FAST_CANONICAL`), in half the CPU
of the standard library's encoder (issue 18). For every value a live resource holds but
floats it must write the text `plan.canonical` writes, so a plan saved before the change
is not stale for it, and a value it cannot write (a lone surrogate) falls back to it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orgctl.engine import plan
from orgctl.engine.plan import Seen, fingerprint
from orgctl.resources import Resource

texts = st.text(st.characters(blacklist_categories=("Cs",)))  # any but lone surrogates
values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(texts, inner, max_size=4),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_fast_encoder_writes_the_canonical_text(value: Any) -> None:
    assert plan._FAST_CANONICAL(value).decode() == plan.canonical(value)


def test_a_row_msgspec_cannot_write_is_written_by_the_standard_library() -> None:
    cut = Resource("team", "t1", {"name": "Team \ud83d"}, remote_id="1")
    whole = Resource("team", "t1", {"name": "Team \ufffd"}, remote_id="1")
    digest = fingerprint(Seen(live=[cut]))
    assert digest.startswith("sha256:") and digest != fingerprint(Seen(live=[whole]))
    assert digest == fingerprint(Seen(live=[cut]))
