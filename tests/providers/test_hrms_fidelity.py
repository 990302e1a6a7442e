"""The HRMS provider against servers that choose otherwise wherever seed 002 is silent
(issue 13): the emulator's strict profile, and strict profiles drawn at random.

Each test names what failed before its fix. A strict server serves the user list as the
seed shows it (no paging keys, no relationships, `include=` and page parameters ignored),
documents department and position only on `GET /v1/users/{userId}`, and refuses a
request without `Content-Type: application/json`.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from orgctl.errors import IncompleteRead, ProviderError, UnexpectedAnswer
from orgctl.model import Employee, Org, ProviderConfig, Unit
from orgctl.providers.hrms import HrmsProvider
from orgctl.providers.http import Http
from orgctl.resources import Resource
from orgctl.sandbox.core import Faults, Profile, ServerThread
from orgctl.sandbox.hrms import SCOPES, HrmsEmulator

TOKEN = "hrms-fidelity-token-41d2"
USERS, DETAILS = "/api/v1/users", "/api/v1/users/{user_id}"
STRICT = Profile.named("strict")

DEPARTMENTS = [{"id": "dept_eng", "name": "Engineering"}, {"id": "dept_ops", "name": "Ops"}]
POSITIONS = [{"title": "Engineer"}, {"title": "Analyst"}]


def hrms_seed(n: int, inactive: tuple[int, ...] = ()) -> dict[str, Any]:
    """`n` people S001..., alternating departments and positions; `inactive`: indexes."""
    users = [{"staffId": f"S{i:03d}", "email": f"p{i}@acme.io", "name": f"Per Son{i}",
              "status": "inactive" if i in inactive else "active",
              "department": DEPARTMENTS[i % 2]["name"], "position": POSITIONS[i % 2]["title"]}
             for i in range(n)]
    return {"tokens": [{"token": TOKEN, "scopes": list(SCOPES), "environment": "staging"}],
            "departments": DEPARTMENTS, "positions": POSITIONS, "users": users}


def matching_org(seed: dict[str, Any], keys: list[str] | None = None) -> Org:
    """The config agreeing with `seed` on the users `keys` (default: every one)."""
    unit_of = {"Engineering": "eng", "Ops": "ops"}
    employees = {}
    for u in seed["users"]:
        if keys is not None and u["staffId"] not in keys:
            continue
        first, last = u["name"].split(" ", 1)
        employees[u["staffId"]] = Employee(
            key=u["staffId"], first_name=first, last_name=last, email=u["email"],
            unit=unit_of[u["department"]], job_position=u["position"], status=u["status"])
    return Org(units={"eng": Unit("eng", "Engineering", "department"),
                      "ops": Unit("ops", "Ops", "department")}, employees=employees)


class Swap:
    """One server for the module, serving whichever emulator a test put in `app`."""

    def __init__(self) -> None:
        self.emulator: HrmsEmulator | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.emulator is not None
        await self.emulator.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Swap, str]]:
    swap = Swap()
    with ServerThread({"hrms": swap}) as thread:
        yield swap, thread.url("hrms") + "/api"


Serve = Callable[..., tuple[HrmsEmulator, Callable[..., HrmsProvider]]]


@pytest.fixture
def serve(server: tuple[Swap, str]) -> Serve:
    """serve(seed, profile, faults=None) -> (emulator, provider factory)."""
    swap, url = server

    def start(seed: dict[str, Any], profile: str | Profile = STRICT,
              faults: Faults | None = None) -> tuple[HrmsEmulator, Callable[..., HrmsProvider]]:
        swap.emulator = HrmsEmulator(copy.deepcopy(seed), faults=faults, profile=profile)

        def provider(**settings: Any) -> HrmsProvider:
            return HrmsProvider(ProviderConfig(
                name="hrms", type="hrms", url=url,
                settings={"token": TOKEN, "environment": "staging", "max_concurrency": 16,
                          **settings}))

        return swap.emulator, provider

    return start


def read(provider: HrmsProvider, org: Org | None = None, timeout: float = 30) -> list[Resource]:
    """A read as the engine makes it, failing after `timeout` seconds; with `org`, bound
    first (see `test_an_audit_reads_the_details_of_the_employees_it_compares_only`)."""
    if org is not None:
        provider.bind(org)

    async def main() -> list[Resource]:
        try:
            return await asyncio.wait_for(provider.read(), timeout=timeout)
        finally:
            await provider.aclose()

    return asyncio.run(main())


def view(live: list[Resource]) -> list[tuple[str, dict[str, Any], frozenset[str]]]:
    """What a reader of the resources sees, ids aside (the profile chooses those)."""
    return sorted((r.key, r.attrs, r.unknown) for r in live if not r.key.startswith("id:"))


def warnings(provider: HrmsProvider, org: Org, live: list[Resource]) -> list[str]:
    return [f.message for f in provider.findings(org, live) if f.level == "warning"]


# -- paging, headers --------------------------------------------------------------------------

def test_a_list_without_paging_keys_is_the_whole_list_and_the_read_ends(serve: Serve) -> None:
    """Before: a list answer without `meta` was asked for page 2, 3, ... forever (the
    server ignores page parameters and answers the whole list again): the read never
    ended and grew by ~75 MB/s. Now the answer is the whole list: one request. (More
    users than the page size asked, 100: a shorter list ended before too.)"""
    emu, provider = serve(hrms_seed(150))
    live = read(provider(), timeout=10)
    assert len(live) == 150
    assert emu.log.count(route=USERS) == 1
    assert emu.log.count(route="/api/v1/departments") == 1
    assert emu.log.count(route="/api/v1/positions") == 1


def test_every_request_says_content_type_json(serve: Serve) -> None:
    """Seed 002 "Content-Type Header Required". Before: no request carried it, and a server
    that requires it answered 400 to each one (the strict emulator does)."""
    emu, provider = serve(hrms_seed(3))
    read(provider())
    assert emu.log.count() == emu.log.count(status=200) > 3  # lists and details

    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("content-type"))
        return httpx.Response(200, json={"data": []})

    hrms = HrmsProvider(ProviderConfig("hrms", "hrms", "http://hrms.invalid/api",
                                       {"token": TOKEN, "environment": "staging"}))
    made = hrms.make_http()
    hrms.make_http = lambda: Http(  # type: ignore[method-assign]
        hrms.name, "http://hrms.invalid/api", auth=made.auth,
        transport=httpx.MockTransport(answer))
    read(hrms)
    assert sent == ["application/json"] * 3


# -- department and position: the documented details ------------------------------------------

def test_a_matching_org_has_no_false_no_department_warnings(serve: Serve) -> None:
    """Before: the server ignored `include=`, every user read as "no department, no
    position", and a matching org got a warning per person for each (90 on the issue's
    org). Now the details are read and the audit is silent."""
    seed = hrms_seed(40)
    _, provider = serve(seed)
    hrms = provider()
    live = read(hrms)
    assert warnings(hrms, matching_org(seed), live) == []
    assert {r.attrs["department"] for r in live} == {"Engineering", "Ops"}
    [note] = hrms.notes.values()
    assert note.message == (
        "GET /v1/users?include=department,position answered 40 of 40 users without their "
        "department and position: read GET /v1/users/{userId} for each of the 40 users "
        "with a staffId instead (40 requests this run)")


def test_real_department_and_position_drift_is_found_from_the_details(serve: Serve) -> None:
    """Before: with `include=` ignored, every department was "none", so a real move was one
    warning among 2 per person, and a wrong title was hidden the same way."""
    seed = hrms_seed(12)
    org = matching_org(seed)
    seed["users"][3]["department"] = "Engineering"  # S003 moved from Ops
    seed["users"][4]["position"] = "Analyst"  # S004 is an Engineer in the config
    _, provider = serve(seed)
    hrms = provider()
    assert warnings(hrms, org, read(hrms)) == [
        "S003 has department 'Engineering' in HRMS but unit 'Ops' (ops) in the config",
        "S004 has position 'Analyst' in HRMS but job_position 'Engineer' in the config",
    ]


def test_an_audit_reads_the_details_of_the_employees_it_compares_only(serve: Serve) -> None:
    """One request per user is the only documented way: an audit that knows its config
    (bound before the read) reads the details of the employees it compares, not of
    every HRMS user: not of people the config lacks, nor of leavers on both sides, nor of
    employees with neither unit nor job_position set."""
    seed = hrms_seed(30, inactive=(1, 2))
    org = matching_org(seed, keys=[f"S{i:03d}" for i in range(10)])
    employees = org.employees
    employees["S001"] = replace(employees["S001"], status="active")  # left in HRMS only
    employees["S005"] = replace(employees["S005"], unit=None, job_position=None)
    emu, provider = serve(seed)
    hrms = provider()
    live = read(hrms, org)
    # S000..S009 minus S002 (left on both sides) and S005 (nothing to compare).
    assert emu.log.count(route=DETAILS) == 8
    assert emu.log.count(route=USERS) == 1  # the list is not read again for the details
    assert warnings(hrms, org, live) == ["S001 is inactive in HRMS but active in the config"]
    unread = {r.key for r in live if r.unknown}
    assert unread == {"S002", "S005"} | {f"S{i:03d}" for i in range(10, 30)}
    assert "department" not in next(r for r in live if r.key == "S020").attrs
    assert "for each of the 8 users the audit compares" in next(iter(hrms.notes.values())).message


def test_source_mode_reads_every_imported_user_and_gives_units_and_titles(
        serve: Serve) -> None:
    """Before: with `include=` ignored, import and `mode: source` made people with no unit
    and no job title. Now every user HRMS is the source of has both, from the details;
    a user without a staffId (never imported) is not read."""
    seed = hrms_seed(6, inactive=(5,))
    seed["users"].append({"staffId": None, "name": "Temp Worker", "email": None})
    emu, provider = serve(seed)
    hrms = provider(mode="source")
    read(hrms)
    data = hrms.source_data()
    assert emu.log.count(route=DETAILS) == 6
    assert {k: (e.get("unit"), e.get("job_position")) for k, e in data["employees"].items()} \
        == {f"S{i:03d}": (DEPARTMENTS[i % 2]["id"], POSITIONS[i % 2]["title"])
            for i in range(6)}
    assert data["notes"] == [("", "HRMS user " + next(
        u.id for u in hrms.users if not u.staff_id) + " (Temp Worker) has no staffId: skipped")]


def test_the_permissive_server_serves_the_include_and_no_details_are_read(
        serve: Serve) -> None:
    seed = hrms_seed(12)
    emu, provider = serve(seed, profile="permissive")
    hrms = provider()
    live = read(hrms)
    assert emu.log.count(route=DETAILS) == 0
    assert hrms.notes == {} and hrms.fallbacks == {}
    assert warnings(hrms, matching_org(seed), live) == []


# -- rate_limit ----------------------------------------------------------------------------

def test_rate_limit_is_honoured_and_the_fallback_cost_is_given_in_time(serve: Serve) -> None:
    """Before: the schema accepted `rate_limit` and the code ignored it: no pacing at all.
    Now no window of a second holds more requests than the limit, and the plan says how
    long the details take at that rate."""
    emu, provider = serve(hrms_seed(4))
    hrms = provider(rate_limit="3/s")
    read(hrms)
    times = sorted(e.at for e in emu.log.entries)
    assert len(times) == 7  # 3 lists + 4 details
    assert all(later - first > 0.9 for first, later in zip(times, times[3:], strict=False))
    message = next(iter(hrms.notes.values())).message
    assert message.endswith("(4 requests, about 1 s at the rate limit of 3 per second this run)")


def test_a_bad_rate_limit_is_refused_at_start() -> None:
    with pytest.raises(ProviderError, match="rate_limit 'fast'"):
        HrmsProvider(ProviderConfig("hrms", "hrms", "http://hrms.invalid/api",
                                    {"token": TOKEN, "environment": "uat",
                                     "rate_limit": "fast"}))


# -- fail closed ------------------------------------------------------------------------------

def answering(answers: dict[str, Any]) -> HrmsProvider:
    """A provider whose server answers `answers` by path ({"data": []} otherwise); a path
    ending in "?include" answers only requests asking an include."""
    hrms = HrmsProvider(ProviderConfig("hrms", "hrms", "http://hrms.invalid/api",
                                       {"token": TOKEN, "environment": "staging"}))

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api")
        if "include" in request.url.params and f"{path}?include" in answers:
            path = f"{path}?include"
        if path not in answers:
            return httpx.Response(200, json={"data": []})
        status, body = answers[path] if isinstance(answers[path], tuple) else (200,
                                                                               answers[path])
        return httpx.Response(status, json=body)

    hrms.make_http = lambda: Http(  # type: ignore[method-assign]
        hrms.name, "http://hrms.invalid/api", transport=httpx.MockTransport(answer),
        backoff=0.001)
    return hrms


def user_row(uid: str = "u1", **attributes: Any) -> dict[str, Any]:
    attrs = {"staffId": "S1", "email": "a@acme.io", "name": "Ann Lee", "status": "active"}
    attrs.update(attributes)
    return {"id": uid, "type": "user",
            "attributes": {k: v for k, v in attrs.items() if v is not ...}}


@pytest.mark.parametrize(("answers", "says"), [
    ({"/v1/users": {"data": [user_row(staffId=...)]}}, "GET /v1/users: staffId is missing"),
    ({"/v1/users": {"data": [user_row(status=...)]}}, "GET /v1/users: status is missing"),
    ({"/v1/users": {"data": [{"id": "u1", "staff_id": "S1"}]}},
     "GET /v1/users: attributes is missing"),
    ({"/v1/departments": {"data": [{"id": "d1", "attributes": {"label": "Eng"}}]}},
     "GET /v1/departments: name is missing"),
    ({"/v1/positions": {"data": [{"id": "p1", "attributes": {"name": "Eng"}}]}},
     "GET /v1/positions: title is missing"),
    ({"/v1/users": {"data": [user_row()]},
      "/v1/users/u1": {"data": {"id": "u2", "attributes": {}}}},
     "GET /v1/users/{userId}: asked for user u1, answered user u2"),
    ({"/v1/users": {"data": [user_row()]},
      "/v1/users/u1": {"data": {"id": "u1", "attributes": {"department": "Engineering"}}}},
     "GET /v1/users/{userId}: department is text, not an object or null"),
    ({"/v1/users": {"data": [user_row()]},
      "/v1/users/u1": {"data": {"id": "u1", "attributes": {"position": {"id": "p1"}}}}},
     "GET /v1/users/{userId}: title is missing"),
], ids=["no-staffId", "no-status", "no-attributes", "department-without-name",
        "position-without-title", "details-of-another-user", "department-as-text",
        "position-without-title-in-details"])
def test_an_answer_orgctl_cannot_recognise_stops_the_read_naming_it(
        answers: dict[str, Any], says: str) -> None:
    """Before: a user without `staffId` was read as "no staffId" (every person a finding,
    and in source mode nobody imported, so downstream plans removed everyone); one
    without `status` as "unknown" (everyone "is unknown in HRMS but active"); a department
    without `name` as ""; details were not read. Now each stops the read, naming the
    request, the field and the start of the answer."""
    with pytest.raises(UnexpectedAnswer) as caught:
        read(answering(answers))
    assert str(caught.value).startswith(f"hrms: unexpected answer from the API: {says}")
    assert "the answer began" in str(caught.value)


def test_a_listed_user_whose_details_are_gone_fails_the_read() -> None:
    hrms = answering({"/v1/users": {"data": [user_row()]},
                      "/v1/users/u1": (404, {"message": "Resource not found"})})
    with pytest.raises(IncompleteRead, match="user u1 .S1., listed by GET /v1/users, "
                                             "answered 404"):
        read(hrms)


def test_a_server_refusing_the_include_is_read_through_the_details() -> None:
    """A 400 to the assumed `include=` is the server saying it has no such parameter: the
    list is read without it and the details give department and position."""
    hrms = answering({
        "/v1/users?include": (400, {"message": "Validation failed",
                                    "errors": {"include": ["Unknown parameter."]}}),
        "/v1/users": {"data": [user_row()]},
        "/v1/users/u1": {"data": {"id": "u1", "attributes": {
            "department": {"id": "d1", "name": "Engineering"}, "position": None}}},
    })
    [user] = read(hrms)
    assert (user.attrs["department"], user.attrs["position"], user.unknown) == (
        "Engineering", None, frozenset())
    assert hrms.fallbacks == {"user details": "GET /v1/users answered 400"}


def test_a_refused_detail_names_the_scope_it_needs() -> None:
    hrms = answering({"/v1/users": {"data": [user_row()]},
                      "/v1/users/u1": (403, {"message": "Insufficient permissions for this "
                                                        "resource"})})
    with pytest.raises(ProviderError, match="GET /v1/users/u1 answered 403 .* the token "
                                            "lacks the users:read scope"):
        read(hrms)


def test_a_detail_without_a_department_leaves_it_unknown_not_none() -> None:
    """Absent is not null: a detail that does not carry the department gives no "has no
    department" warning; one that says `department: null` does."""
    hrms = answering({
        "/v1/users": {"data": [user_row("u1"), user_row("u2", staffId="S2")]},
        "/v1/users/u1": {"data": {"id": "u1", "attributes": {"position": None}}},
        "/v1/users/u2": {"data": {"id": "u2", "attributes": {"department": None,
                                                             "position": None}}},
    })
    live = read(hrms)
    org = Org(units={"eng": Unit("eng", "Engineering", "department")}, employees={
        key: Employee(key=key, first_name="Ann", last_name="Lee", email="a@acme.io",
                      unit="eng") for key in ("S1", "S2")})
    assert warnings(hrms, org, live) == [
        "S2 has no department in HRMS but unit 'Engineering' (eng) in the config"]
    assert hrms.notes["unknown:user.department"].message == (
        "GET /v1/users/{userId} answers do not carry the users' department: it is not "
        "compared")


# -- faults and drawn profiles ----------------------------------------------------------------

def test_server_errors_on_the_details_are_retried_and_the_read_is_the_same(
        serve: Serve) -> None:
    seed = hrms_seed(60)
    _, provider = serve(seed)
    calm = view(read(provider()))
    emu, provider = serve(seed, faults=Faults.parse("5xx=0.1,commit_fail=0.05,seed=3"))
    assert view(read(provider())) == calm
    assert emu.log.count(status=503) > 0


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_whatever_a_strict_server_chooses_the_read_is_the_permissive_one(
        serve: Serve, rng: random.Random) -> None:
    """Page caps, default sizes, paging keys or none, ids large or uuids, key order:
    drawn per example (`Profile.draw`); the resources and findings never change."""
    seed = hrms_seed(45, inactive=(7,))
    org = matching_org(seed, keys=[f"S{i:03d}" for i in range(0, 45, 2)])
    seed["users"][4]["department"] = "Ops"
    _, provider = serve(seed, profile="permissive")
    hrms = provider()
    expected = read(hrms)
    drawn = Profile.draw(rng)
    _, provider = serve(seed, profile=drawn)
    strict = provider()
    live = read(strict)
    assert view(live) == view(expected), drawn
    assert warnings(strict, org, live) == warnings(hrms, org, expected) == [
        "S004 has department 'Ops' in HRMS but unit 'Engineering' (eng) in the config"]
