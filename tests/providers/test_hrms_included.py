"""The `included` objects of an HRMS answer (departments, positions): read by type and
id, and refused, naming the field at fault, when their shape is not the one known."""

from __future__ import annotations

from typing import Any

import pytest

from orgctl.errors import UnexpectedAnswer
from orgctl.model import ProviderConfig
from orgctl.providers.hrms import HrmsProvider


def provider() -> HrmsProvider:
    return HrmsProvider(ProviderConfig("hrms", "hrms", "http://hrms.invalid/api",
                                       {"token": "t", "environment": "staging"}))


@pytest.mark.parametrize(("items", "read"), [
    ([], {}),
    ([{"type": "department", "id": "d-1", "attributes": {"name": "Engineering"}},
      {"type": "position", "id": 7, "attributes": {"title": "Engineer", "name": None}}],
     {("department", "d-1"): {"name": "Engineering"},
      ("position", "7"): {"title": "Engineer", "name": None}}),
    ([{"type": None, "id": None, "attributes": None}], {("None", "None"): {}}),
    ([{"type": "department", "id": "d-1"}], {("department", "d-1"): {}}),
    ([{"type": "department", "id": "d-1", "attributes": {"name": "A"}},
      {"type": "department", "id": "d-1", "attributes": {"name": "B"}}],
     {("department", "d-1"): {"name": "B"}}),  # the last wins
])
def test_the_included_objects_are_read_by_type_and_id(
        items: list[Any], read: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert provider()._included("GET /v1/users", {"included": items}) == read


@pytest.mark.parametrize(("items", "problem"), [
    (["department"], "object"),
    ([{"type": "department", "id": "d-1", "attributes": []}], "attributes is"),
    ([{"type": "department", "id": 1.5, "attributes": {}}], "id is"),
    ([{"type": 3, "id": "d-1", "attributes": {}}], "type is"),
    ([{"type": "department", "id": "d-1", "attributes": {"name": 42}}], "name is"),
    ([{"type": "position", "id": "p-1", "attributes": {"title": {"x": 1}}}], "title is"),
])
def test_a_shape_orgctl_does_not_know_is_refused_naming_the_field(items: list[Any],
                                                                  problem: str) -> None:
    with pytest.raises(UnexpectedAnswer, match=problem):
        provider()._included("GET /v1/users", {"included": items})
