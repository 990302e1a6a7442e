"""`diff`'s live indexes, made by `dict` at C speed when no key or identity is shared,
hold what the one-resource-at-a-time way holds, whatever the live state."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orgctl.engine.diff import _indexes
from orgctl.resources import Resource

resources = st.lists(st.builds(
    lambda kind, key, identities: Resource(kind, key, identities=tuple(identities)),
    st.sampled_from(["unit", "person"]), st.sampled_from(["a", "b", "c", "d"]),
    st.lists(st.sampled_from(["email:a", "email:b", "name:x"]), max_size=2)), max_size=12)


def one_at_a_time(live: list[Resource]) -> tuple[dict[str, Any], dict[str, Any]]:
    by_key: dict[str, dict[str, Any]] = {}
    by_identity: dict[str, dict[str, Any]] = {}
    for r in live:
        for index, names in ((by_key.setdefault(r.kind, {}), [r.key]),
                             (by_identity, r.identities)):
            if index is by_identity:
                if not names:
                    continue
                index = by_identity.setdefault(r.kind, {})
            for name in names:
                there = index.get(name)
                index[name] = r if there is None else (
                    [*there, r] if type(there) is list else [there, r])
    return by_key, by_identity


def shape(index: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same index, by object identity (equal resources are not the same one)."""
    return {kind: {name: [id(r) for r in there] if type(there) is list else id(there)
                   for name, there in names.items()} for kind, names in index.items()}


@given(resources)
def test_the_fast_indexes_hold_what_the_slow_ones_do(live: list[Resource]) -> None:
    fast, slow = _indexes(live), one_at_a_time(live)
    assert shape(fast[0]) == shape(slow[0])
    assert shape(fast[1]) == shape(slow[1])


def test_objects_sharing_a_key_or_an_identity_are_listed_in_live_order() -> None:
    first, second = Resource("person", "a", identities=("email:a",)), Resource(
        "person", "a", identities=("email:a",))
    by_key, by_identity = _indexes([first, Resource("unit", "u"), second])
    assert by_key["person"]["a"] == [first, second]
    assert by_identity["person"]["email:a"][0] is first
    assert "unit" not in by_identity
