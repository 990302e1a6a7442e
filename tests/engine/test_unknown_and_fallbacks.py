"""Unknown is not empty, and assumptions that do not hold fall back once (issue 13 items 2
and 3), at the level of the engine and the Provider base class."""

from __future__ import annotations

import asyncio

import pytest

from orgctl.engine.diff import diff
from orgctl.errors import ApiError, ProviderError
from orgctl.model import ProviderConfig
from orgctl.providers.base import NotServed, Provider
from orgctl.resources import Resource


def never_removed(_r: Resource) -> tuple[None, str]:
    return None, "left alone"


def test_an_attribute_the_live_answer_did_not_carry_is_not_drift() -> None:
    desired = [Resource("employee", "E1", {"name": "Ann", "badges": {"badge": "B-1"}})]
    live = [Resource("employee", "E1", {"name": "Ann"}, unknown=frozenset({"badges"}))]
    assert diff("p", desired, live, never_removed).changes == []


def test_a_null_the_live_answer_carried_is_a_value_and_drifts() -> None:
    desired = [Resource("employee", "E1", {"name": "Ann", "badges": {"badge": "B-1"}})]
    live = [Resource("employee", "E1", {"name": "Ann", "badges": None})]
    (change,) = diff("p", desired, live, never_removed).changes
    assert change.fields == {"badges": [None, {"badge": "B-1"}]}


def test_an_update_for_other_drift_does_not_rewrite_the_unknown_attribute() -> None:
    desired = [Resource("employee", "E1", {"name": "Ann B", "badges": {"badge": "B-1"}})]
    live = [Resource("employee", "E1", {"name": "Ann"}, unknown=frozenset({"badges"}))]
    (change,) = diff("p", desired, live, never_removed).changes
    assert change.fields == {"name": ["Ann", "Ann B"]}
    assert "badges" not in change.after


class Probe(Provider):
    type = "probe"
    KINDS = ("thing",)


def probe() -> Probe:
    return Probe(ProviderConfig("probe", "probe", "http://x.invalid", {}))


def test_a_route_the_server_does_not_serve_is_tried_once_then_the_documented_way() -> None:
    provider = probe()
    calls: list[str] = []

    async def assumed() -> str:
        calls.append("assumed")
        raise ApiError("probe", "GET", "/all_scopes", 404, {"message": "not found"})

    async def documented() -> str:
        calls.append("documented")
        return "read"

    async def twice() -> list[str]:
        return [await provider.assumed("scopes", assumed, documented) for _ in range(2)]

    assert asyncio.run(twice()) == ["read", "read"]
    assert calls == ["assumed", "documented", "documented"]
    provider.note_fallback("scopes", "GET /things/{id}/scopes", 612)
    (note,) = provider.notes.values()
    assert note.level == "info"
    assert note.message == ("GET /all_scopes answered 404: read GET /things/{id}/scopes "
                            "instead (612 requests this run)")


def test_an_explained_refusal_still_counts_as_not_served() -> None:
    provider = probe()

    async def assumed() -> str:
        try:
            raise ApiError("probe", "GET", "/x", 405, None)
        except ApiError as err:
            raise ProviderError("probe", "explained") from err

    async def documented() -> str:
        return "documented"

    assert asyncio.run(provider.assumed("x", assumed, documented)) == "documented"
    assert provider.fallbacks == {"x": "GET /x answered 405"}


def test_an_absent_field_raised_as_not_served_falls_back() -> None:
    provider = probe()

    async def assumed() -> str:
        raise NotServed("GET /users answers carry no department")

    async def documented() -> str:
        return "details"

    assert asyncio.run(provider.assumed("departments", assumed, documented)) == "details"
    assert provider.fallbacks["departments"] == "GET /users answers carry no department"


@pytest.mark.parametrize("status", [401, 403, 500, 422])
def test_other_refusals_are_not_a_reason_to_fall_back(status: int) -> None:
    provider = probe()

    async def assumed() -> str:
        raise ApiError("probe", "GET", "/x", status, None)

    async def documented() -> str:
        raise AssertionError("must not be tried")

    with pytest.raises(ApiError):
        asyncio.run(provider.assumed("x", assumed, documented))
    assert provider.fallbacks == {}


def test_unknown_fields_are_the_absent_ones_and_are_noted_once() -> None:
    provider = probe()
    fields = {"identifications": "identifications", "job_position": "job_position"}
    row = {"id": 1, "job_position": None}
    assert provider.unknown_fields("GET /employees", "employee", row, fields) == {
        "identifications"}
    provider.unknown_fields("GET /employees", "employee", row, fields)
    assert list(provider.notes) == ["unknown:employee.identifications"]


def test_a_fallback_under_a_rate_limit_says_how_long_it_takes_at_that_rate() -> None:
    """612 requests at Workelo's documented 1000/h: about 37 min, whatever the pacer's
    slots held when the note was made (it said nothing under the limit before)."""
    from orgctl.providers.http import Http, Pacer

    provider = probe()
    provider._http_client = Http("probe", "http://x.invalid", pacer=Pacer(1000, 3600.0))
    provider.fallbacks["scopes"] = "GET /all answered 404"
    provider.note_fallback("scopes", "GET /things/{id}/scopes", 612)
    assert provider.notes["fallback:scopes"].message.endswith(
        "(612 requests, about 37 min at the rate limit of 1000 per hour this run)")
    # Before: "about under a second" when the limit is far above the requests.
    quick = probe()
    quick._http_client = Http("probe", "http://x.invalid", pacer=Pacer(10**9, 3600.0))
    quick.fallbacks["scopes"] = "GET /all answered 404"
    quick.note_fallback("scopes", "GET /things/{id}/scopes", 612)
    assert quick.notes["fallback:scopes"].message.endswith(
        "(612 requests, under a second at the rate limit of 1000000000 per hour this run)")


def test_a_nested_value_set_or_cleared_shows_as_its_own_dotted_field() -> None:
    """A role cleared with null showed as the whole block (deepdiff calls it a type
    change); now `implications.buddy: "EMP-4" -> null` like any other change."""
    from orgctl.engine.diff import field_changes

    before = {"implications": {"manager": "EMP-1", "buddy": "EMP-4"}}
    after = {"implications": {"manager": "EMP-1", "buddy": None}}
    assert field_changes(before, after) == {"implications.buddy": ["EMP-4", None]}
    assert field_changes(after, before) == {"implications.buddy": [None, "EMP-4"]}
    lists = field_changes({"a": {"x": [1]}}, {"a": {"x": [1, 2]}})
    assert lists == {"a": [{"x": [1]}, {"x": [1, 2]}]}  # lists still shown whole
