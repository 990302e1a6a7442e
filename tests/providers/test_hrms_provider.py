"""The HRMS provider against the HRMS emulator over real loopback HTTP: the audit findings
a reviewer reads, the number of requests a read costs, how refusals are reported, and the
pure HRMS-to-config mapping used when HRMS is the source."""

from __future__ import annotations

import asyncio
import math
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgctl.errors import ProviderError
from orgctl.model import Employee, Org, ProviderConfig, Unit
from orgctl.providers.base import capability_table
from orgctl.providers.hrms import (
    PAGE_SIZE,
    HrmsDepartment,
    HrmsPosition,
    HrmsProvider,
    HrmsUser,
    org_from_hrms,
)
from orgctl.providers.http import Http
from orgctl.resources import Change, Resource
from orgctl.sandbox.core import Faults, ServerThread
from orgctl.sandbox.hrms import SCOPES, HrmsEmulator

TOKEN = "hrms-app-token-7f3a9c"

DEPARTMENTS = [
    {"id": "dept_eng", "name": "Engineering"},
    {"id": "dept_ppl", "name": "People"},
    {"id": "dept_sales", "name": "Sales"},
]
POSITIONS = [
    {"id": "pos_swe", "title": "Software Engineer"},
    {"id": "pos_hrp", "title": "HR Partner"},
    {"id": "pos_ae", "title": "Account Executive"},
]


def user(staff_id: str | None, name: str, email: str, department: str | None = "Engineering",
         position: str | None = "Software Engineer", status: str = "active",
         **extra: Any) -> dict[str, Any]:
    return {"staffId": staff_id, "name": name, "email": email, "department": department,
            "position": position, "status": status, **extra}


def employee(key: str, first: str, last: str, email: str, unit: str | None = "eng",
             job_position: str | None = "Software Engineer",
             status: str = "active") -> Employee:
    return Employee(key=key, first_name=first, last_name=last, email=email, unit=unit,
                    job_position=job_position, status=status)


def seed(users: list[dict[str, Any]], tokens: list[dict[str, Any]] | None = None,
         departments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "tokens": tokens or [{"token": TOKEN, "scopes": list(SCOPES), "environment": "staging"}],
        "departments": DEPARTMENTS if departments is None else departments,
        "positions": POSITIONS,
        "users": users,
    }


Served = Callable[..., Any]


@pytest.fixture
def served() -> Iterator[Callable[..., Any]]:
    """served(seed, faults=None) -> (emulator, provider factory); servers stop at teardown."""
    stack: list[ServerThread] = []

    def start(fixture: dict[str, Any], faults: Faults | None = None
              ) -> tuple[HrmsEmulator, Callable[..., HrmsProvider]]:
        emu = HrmsEmulator(fixture, faults=faults)
        st = ServerThread({"hrms": emu.app}).start()
        stack.append(st)

        def provider(**settings: Any) -> HrmsProvider:
            settings = {"token": TOKEN, "environment": "staging", **settings}
            return HrmsProvider(ProviderConfig(name="hrms", type="hrms",
                                               url=st.url("hrms") + "/api", settings=settings))

        return emu, provider

    yield start
    for st in stack:
        st.stop()


def read(provider: HrmsProvider, **kwargs: Any) -> list[Resource]:
    return asyncio.run(provider.read(**kwargs))


# -- the audit ------------------------------------------------------------------------------

AUDIT_USERS = [
    user("EMP-001", "Ada Lovelace", "ada@acme.io"),
    user("EMP-007", "Grace Hopper", "grace@acme.io", status="inactive"),
    user("EMP-008", "Alan Turing", "alan@acme.io"),
    user("EMP-010", "Edsger Dijkstra", "edsger@acme.io", department="Sales"),
    user("EMP-011", "Frances Allen", "frances@acme.io", department="People",
         position="HR Partner"),
    user("EMP-012", "Barbara Liskov", "barbara.liskov@acme.io"),
    user("EMP-015", "Donald Knuth", "DON@ACME.IO", department="Sales"),
    user("EMP-016", "Ken Thompson", "ken@acme.io", department="Sales", status="inactive"),
    user("EMP-017", "Dennis Ritchie", "dennis@acme.io", department=None, position=None),
    user("EMP-099", "Margaret Hamilton", "margaret@acme.io"),
    user("EMP-020", "Niklaus Wirth", "niklaus@acme.io"),
    user("EMP-021", "John Backus", "john@acme.io", status="inactive"),
    user(None, "Contractor Without Id", "contractor@acme.io", id="user_900"),
    user("EMP-001", "Ada Again", "ada2@acme.io", id="user_901"),
]


def audit_org() -> Org:
    units = {"eng": Unit("eng", "Engineering", "department"),
             "ppl": Unit("ppl", "People", "department"),
             "sales": Unit("sales", " SALES", "department")}
    people = [
        employee("EMP-001", "Ada", "Lovelace", "ada@acme.io"),
        employee("EMP-007", "Grace", "Hopper", "grace@acme.io"),
        employee("EMP-008", "Alan", "Turing", "alan@acme.io", status="inactive"),
        employee("EMP-010", "Edsger", "Dijkstra", "edsger@acme.io"),
        employee("EMP-011", "Frances", "Allen", "frances@acme.io", unit="ppl",
                 job_position="People Partner"),
        employee("EMP-012", "Barbara", "Liskov", "barbara@acme.io"),
        employee("EMP-013", "Linus", "Torvalds", "linus@acme.io"),
        employee("EMP-014", "Margaret", "Hamilton", "margaret@acme.io"),
        employee("EMP-015", "Donald", "Knuth", "don@acme.io", unit="sales",
                 job_position="software ENGINEER "),
        employee("EMP-016", "Ken", "Thompson", "ken@acme.io", status="inactive"),
        employee("EMP-017", "Dennis", "Ritchie", "dennis@acme.io"),
        employee("EMP-018", "Old", "Timer", "old@acme.io", status="inactive"),
        employee("EMP-019", "No", "Unit", "nounit@acme.io", unit=None, job_position=None),
    ]
    return Org(units=units, employees={e.key: e for e in people})


def test_audit_reports_each_disagreement_naming_both_values(served: Served) -> None:
    _, provider = served(seed(AUDIT_USERS + [
        user("EMP-019", "No Unit", "nounit@acme.io", department="Sales", position="HR Partner"),
    ]))
    hrms = provider()
    live = read(hrms)
    found = [(f.address, f.level, f.message) for f in hrms.findings(audit_org(), live)]
    assert found == [
        ("hrms.user.id:user_900", "info",
         "HRMS user user_900 (Contractor Without Id) has no staffId and cannot be matched "
         "to the config"),
        ("hrms.user.id:user_901", "warning",
         "HRMS users user_001 and user_901 share staffId EMP-001; only user_001 is "
         "compared with the config"),
        ("hrms.user.EMP-007", "warning", "EMP-007 is inactive in HRMS but active in the config"),
        ("hrms.user.EMP-008", "warning", "EMP-008 is active in HRMS but inactive in the config"),
        ("hrms.user.EMP-010", "warning",
         "EMP-010 has department 'Sales' in HRMS but unit 'Engineering' (eng) in the config"),
        ("hrms.user.EMP-011", "warning",
         "EMP-011 has position 'HR Partner' in HRMS but job_position 'People Partner' "
         "in the config"),
        ("hrms.user.EMP-012", "warning",
         "EMP-012 email is barbara.liskov@acme.io in HRMS but barbara@acme.io in the config"),
        ("hrms.user.EMP-013", "warning", "EMP-013 is in the config but not in HRMS"),
        ("hrms.user.EMP-014", "warning",
         "EMP-014 is in the config but not in HRMS (HRMS staffId EMP-099 has the same email "
         "margaret@acme.io)"),
        ("hrms.user.EMP-017", "warning",
         "EMP-017 has no department in HRMS but unit 'Engineering' (eng) in the config"),
        ("hrms.user.EMP-017", "warning",
         "EMP-017 has no position in HRMS but job_position 'Software Engineer' in the config"),
        ("hrms.user.EMP-018", "info", "EMP-018 is in the config but not in HRMS"),
        ("hrms.user.EMP-020", "info",
         "EMP-020 (Niklaus Wirth) is active in HRMS but absent from the config"),
        ("hrms.user.EMP-099", "info",
         "EMP-099 (Margaret Hamilton) is active in HRMS but absent from the config"),
    ]
    # Not reported: EMP-001 agrees; EMP-015 differs only in case and spacing; EMP-016 is
    # inactive on both sides; EMP-019 sets neither unit nor job_position; EMP-021 is an
    # inactive HRMS user absent from the config.


def test_audit_of_an_agreeing_org_is_silent(served: Served) -> None:
    _, provider = served(seed([user("EMP-001", "Ada Lovelace", "ada@acme.io")]))
    hrms = provider()
    org = Org(units={"eng": Unit("eng", "Engineering", "department")},
              employees={"EMP-001": employee("EMP-001", "Ada", "Lovelace", "ada@acme.io")})
    assert hrms.findings(org, read(hrms)) == []


def test_audit_reads_a_decomposed_accent_as_the_same_letter(served: Served) -> None:
    """"Équipe Données" decomposed in HRMS (E and a combining accent, as text that went
    through a file name or an export can come back) and composed in the config are one
    name: no finding. Before, the audit reported a department and a position that
    differed in nothing a reader could see."""
    nfd = unicodedata.normalize("NFD", "Équipe Données")
    world = seed([user("EMP-001", "Ada Lovelace", "ada@acme.io", department=nfd,
                       position=nfd)], departments=[{"id": "dept_data", "name": nfd}])
    world["positions"] = [{"id": "pos_data", "title": nfd}]
    _, provider = served(world)
    hrms = provider()
    org = Org(units={"data": Unit("data", "Équipe Données", "department")},
              employees={"EMP-001": employee("EMP-001", "Ada", "Lovelace", "ada@acme.io",
                                             unit="data", job_position="Équipe Données")})
    assert hrms.findings(org, read(hrms)) == []


def test_read_normalises_users_keyed_by_staff_id(served: Served) -> None:
    _, provider = served(seed([user("EMP-001", "Mary Ann Smith", "mary@acme.io",
                                    department="People", position="HR Partner",
                                    phone="+60123456789")]))
    [live] = read(provider())
    assert (live.kind, live.key, live.remote_id, live.source) == (
        "user", "EMP-001", "user_001", "hrms")
    assert live.attrs == {
        "name": "Mary Ann Smith", "first_name": "Mary", "last_name": "Ann Smith",
        "email": "mary@acme.io", "status": "active", "department": "People",
        "position": "HR Partner",
    }
    assert "+60123456789" not in repr(live)  # the audit does not need the phone number


def answering(answers: dict[str, Any]) -> HrmsProvider:
    """A provider whose server answers each path with `answers[path]`, in memory."""
    provider = HrmsProvider(ProviderConfig("hrms", "hrms", "http://hrms.invalid/api",
                                           {"token": TOKEN, "environment": "staging"}))
    provider.make_http = lambda: Http(  # type: ignore[method-assign]
        provider.name, "http://hrms.invalid/api", transport=httpx.MockTransport(
            lambda request: httpx.Response(
                200, json=answers[request.url.path.removeprefix("/api")])))
    return provider


def test_a_name_the_include_leaves_out_comes_from_the_lists_or_stays_unknown() -> None:
    """A user whose included objects name its department and position is read as they say;
    a reference the include does not name is named by the department or position list; one
    neither names is unknown (never "none"), and the plan says so once."""

    def related(kind: str, ref: str) -> dict[str, Any]:
        return {"data": {"type": kind, "id": ref}}

    def listed(staff_id: str, department: str, position: str) -> dict[str, Any]:
        return {"id": f"user_{staff_id}", "type": "user",
                "attributes": {"staffId": staff_id, "name": "Ann Lee", "email": "a@acme.io",
                               "status": "active"},
                "relationships": {"department": related("department", department),
                                  "position": related("position", position)}}

    answers = {
        "/v1/users": {"data": [listed("S1", "dept_eng", "pos_swe"),
                               listed("S2", "dept_eng", "pos_hrp"),
                               listed("S3", "dept_gone", "pos_swe")],
                      "included": [
                          {"type": "department", "id": "dept_eng",
                           "attributes": {"name": "Engineering"}},
                          {"type": "position", "id": "pos_swe",
                           "attributes": {"title": "Software Engineer"}}]},
        "/v1/departments": {"data": [{"id": "dept_eng", "attributes": {"name": "Eng"}}]},
        "/v1/positions": {"data": [{"id": "pos_hrp", "attributes": {"title": "HR Partner"}}]},
    }
    provider = answering(answers)
    live = {r.key: r for r in read(provider)}
    assert {key: (r.attrs.get("department"), r.attrs.get("position"), r.unknown)
            for key, r in live.items()} == {
        "S1": ("Engineering", "Software Engineer", frozenset()),
        "S2": ("Engineering", "HR Partner", frozenset()),
        "S3": (None, "Software Engineer", frozenset({"department"})),
    }
    assert "department" not in live["S3"].attrs  # unknown: left out, not emptied
    assert provider.notes["unnamed"].message == (
        "1 users refer to a department or position that GET /v1/departments and GET "
        "/v1/positions do not list: not compared")


def test_source_mode_reports_only_unmatchable_users(served: Served) -> None:
    _, provider = served(seed(AUDIT_USERS))
    hrms = provider(mode="source")
    found = hrms.findings(audit_org(), read(hrms))
    assert [f.key for f in found] == ["id:user_900", "id:user_901"]


# -- requests -------------------------------------------------------------------------------

def test_a_read_makes_one_request_per_page_at_the_largest_size(served: Served) -> None:
    n_users, n_departments = 250, 101
    departments = [{"id": f"d{i}", "name": f"Dept {i}"} for i in range(n_departments)]
    users = [user(f"EMP-{i:04d}", f"Person {i}", f"p{i}@acme.io", department=f"d{i % 101}")
             for i in range(n_users)]
    emu, provider = served(seed(users, departments=departments))
    seen: list[tuple[int, int | None]] = []
    live = read(provider(), progress=lambda done, total: seen.append((done, total)))

    assert len(live) == n_users
    assert {r.attrs["department"] for r in live} == {d["name"] for d in departments}
    assert emu.log.count(route="/api/v1/users") == math.ceil(n_users / PAGE_SIZE) == 3
    assert emu.log.count(route="/api/v1/departments") == math.ceil(n_departments / 100) == 2
    assert emu.log.count(route="/api/v1/positions") == 1
    assert emu.log.count() == emu.log.count(status=200) == 6
    assert emu.log.count(route="/api/v1/users/{user_id}") == 0  # never one GET per person
    assert seen[-1] == (n_users, n_users)


def test_a_read_survives_injected_server_errors(served: Served) -> None:
    users = [user(f"EMP-{i:03d}", f"Person {i}", f"p{i}@acme.io") for i in range(300)]
    emu, provider = served(seed(users), faults=Faults(error_rate=0.25, seed=7))
    live = read(provider())
    assert sorted(r.key for r in live) == sorted(u["staffId"] for u in users)
    assert emu.log.count(status=503) > 0


# -- refusals -------------------------------------------------------------------------------

def test_an_invalid_token_is_a_provider_error_without_the_token(served: Served) -> None:
    _, provider = served(seed([]))
    with pytest.raises(ProviderError) as info:
        read(provider(token="not-the-right-token-123"))
    message = str(info.value)
    assert message.startswith("hrms: ")
    assert "401" in message and "token was refused" in message
    assert "not-the-right-token-123" not in message and TOKEN not in message


def test_a_token_from_another_environment_is_refused(served: Served) -> None:
    tokens = [{"token": TOKEN, "scopes": list(SCOPES), "environment": "uat"}]
    _, provider = served(seed([], tokens=tokens))
    with pytest.raises(ProviderError) as info:
        read(provider(environment="staging"))
    assert "created for the staging environment" in str(info.value)


@pytest.mark.parametrize("missing", SCOPES)
def test_a_missing_scope_is_named_and_the_token_is_not(served: Served, missing: str) -> None:
    tokens = [{"token": TOKEN, "scopes": [s for s in SCOPES if s != missing],
               "environment": "staging"}]
    _, provider = served(seed([user("EMP-001", "Ada Lovelace", "ada@acme.io")],
                              tokens=tokens))
    with pytest.raises(ProviderError) as info:
        read(provider())
    message = str(info.value)
    assert message.startswith("hrms: ")
    assert f"lacks the {missing} scope" in message
    assert TOKEN not in message


# -- read-only contract and settings -----------------------------------------------------------

def test_hrms_is_never_written_nor_pruned(served: Served) -> None:
    _, provider = served(seed([]))
    hrms = provider()
    assert hrms.desired(audit_org()) == []
    assert hrms.removal("user") is None
    change = Change(action="update", provider="hrms", kind="user", key="EMP-001")
    assert hrms.unsupported(change) == "hrms is read-only: orgctl never writes to it"
    assert {c.status for c in HrmsProvider.CAPABILITIES} == {"documented", "assumed"}


@pytest.mark.parametrize("settings,expected", [
    ({"environment": "staging"}, "setting `token` is required"),
    ({"token": TOKEN, "environment": "production"}, "must be one of staging, uat"),
    ({"token": TOKEN}, "must be one of staging, uat, not 'empty'"),
    ({"token": TOKEN, "environment": "uat", "mode": "sync"}, "must be one of audit, source"),
])
def test_bad_settings_are_refused_at_start(settings: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProviderError, match=expected) as info:
        HrmsProvider(ProviderConfig(name="hrms", type="hrms", url="http://127.0.0.1:9/api",
                                    settings=settings))
    assert TOKEN not in str(info.value)


# -- HRMS as a source (issue #7) ----------------------------------------------------------

def test_org_from_hrms_builds_units_and_employees() -> None:
    departments = [HrmsDepartment("dept_2", "People"), HrmsDepartment("dept_1", "Engineering")]
    positions = [HrmsPosition("pos_1", "Software Engineer")]
    users = [
        HrmsUser("u2", "S0002", "zoe@acme.io", "Zoe Quinn", "inactive", "dept_2", "People"),
        HrmsUser("u1", "S0001", "ada@acme.io", "Ada King Lovelace", "active", "dept_1",
                 "Engineering", "pos_1", None),
        HrmsUser("u3", "S0003", "cher@acme.io", "Cher", "suspended"),
        HrmsUser("u4", None, "x@acme.io", "No Id", "active"),
        HrmsUser("u5", "S0001", "dup@acme.io", "Dup Licate", "active"),
        HrmsUser("u6", "S0006", "ghost@acme.io", "Ghost Dept", "active", "dept_9", None,
                 "pos_9", None),
    ]
    data = org_from_hrms(users, departments, positions)
    assert data["units"] == {"dept_1": {"name": "Engineering", "level": "department"},
                             "dept_2": {"name": "People", "level": "department"}}
    assert data["employees"] == {
        "S0001": {"first_name": "Ada", "last_name": "King Lovelace", "email": "ada@acme.io",
                  "status": "active", "unit": "dept_1", "job_position": "Software Engineer"},
        "S0002": {"first_name": "Zoe", "last_name": "Quinn", "email": "zoe@acme.io",
                  "status": "inactive", "unit": "dept_2"},
        "S0003": {"first_name": "Cher", "last_name": "", "email": "cher@acme.io",
                  "status": "inactive"},
        "S0006": {"first_name": "Ghost", "last_name": "Dept", "email": "ghost@acme.io",
                  "status": "active"},
    }
    assert data["notes"] == [
        ("S0003", "name 'Cher' has no last name to split off"),
        ("S0003", "HRMS status 'suspended' read as inactive"),
        ("", "HRMS user u4 (No Id) has no staffId: skipped"),
        ("", "HRMS user u5 repeats staffId S0001: skipped"),
        ("S0006", "department dept_9 is not in the department list"),
        ("S0006", "position pos_9 is not in the position list"),
    ]
    assert list(data["employees"]) == sorted(data["employees"])


def test_source_data_is_the_last_read_as_config(served: Served) -> None:
    _, provider = served(seed([
        user("EMP-002", "Grace Hopper", "grace@acme.io", department="People",
             position="HR Partner"),
        user("EMP-001", "Ada Lovelace", "ada@acme.io", status="inactive"),
    ]))
    hrms = provider(mode="source")
    read(hrms)
    data = hrms.source_data()
    assert set(data["units"]) == {"dept_eng", "dept_ppl", "dept_sales"}
    assert data["employees"]["EMP-002"] == {
        "first_name": "Grace", "last_name": "Hopper", "email": "grace@acme.io",
        "status": "active", "unit": "dept_ppl", "job_position": "HR Partner"}
    assert data["employees"]["EMP-001"]["status"] == "inactive"
    assert data["notes"] == []


def test_the_docs_show_the_capability_table_as_declared() -> None:
    docs = Path(__file__).parents[2] / "docs" / "providers" / "hrms.md"
    assert capability_table(HrmsProvider) in docs.read_text(encoding="utf-8")


def test_a_user_without_a_department_takes_no_name_from_an_included_one_without_an_id() -> None:
    """`{"data": null}` is "no department". Before the fix the name lookup used
    `str(None)`, so an included department whose id was null ("None") named it."""
    answers = {
        "/v1/users": {"data": [{
            "id": "user_S1", "type": "user",
            "attributes": {"staffId": "S1", "name": "Ann Lee", "email": "a@acme.io",
                           "status": "active"},
            "relationships": {"department": {"data": None}, "position": {"data": None}}}],
            "included": [{"type": "department", "id": None,
                          "attributes": {"name": "Nowhere"}}]},
        "/v1/departments": {"data": []},
        "/v1/positions": {"data": []},
    }
    (user,) = read(answering(answers))
    assert user.attrs.get("department") is None and "department" not in user.unknown
