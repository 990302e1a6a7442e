"""Contract tests: the Workelo emulator against seeds 000 and 001, over real loopback HTTP.

One test per documented behaviour, each naming the seed section it checks. Behaviour the
seeds do not show (and the emulator assumes) is tested too, and says "assumed".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from orgctl.sandbox.core import Profile, ServerThread
from orgctl.sandbox.workelo import WorkeloEmulator

SEED: dict[str, Any] = {
    "unit_organizations": [
        {"external_id": "ACME", "name": "Acme", "level": "Group"},
        {"external_id": "ENG", "name": "Engineering", "level": "Division", "parent": "ACME",
         "language": "en"},
        {"external_id": "OPS", "name": "Operations", "level": "Division", "parent": "ACME"},
    ],
    "templates": [
        {"name": "Standard onboarding", "mobility": "onboarding",
         "actions": [{"name": "Welcome", "offset_days": 0},
                     {"name": "Review", "offset_days": 30}],
         "forms": [{"name": "Informations personnelles", "paperworks": ["Adresse", "IBAN"]}]},
        {"name": "Engineering onboarding", "mobility": "onboarding", "units": ["ENG"]},
        {"name": "Standard offboarding", "mobility": "offboarding"},
    ],
    "employees": [
        {"external_id": "EMP-1", "first_name": "Marie", "last_name": "Dubois",
         "email": "marie@acme.io", "unit": "ENG", "role": "manager",
         "identifications": {"badge": "B-1"}},
        {"external_id": "EMP-2", "first_name": "Paul", "last_name": "Martin",
         "email": "paul@acme.io", "unit": "OPS", "role": "hr"},
        {"external_id": "EMP-3", "first_name": "Lea", "last_name": "Roux",
         "email": "lea@acme.io", "unit": "ENG"},
    ],
    "unit_organization_managements": [{"employee": "EMP-1", "unit": "ENG"}],
}


class Clock:
    """A monotonic clock the test moves by hand: token expiry and rate windows without
    sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Api:
    """A plain httpx client on the emulator, holding one token."""

    def __init__(self, emu: WorkeloEmulator, url: str):
        self.emu = emu
        self.client = httpx.Client(base_url=url + "/v1", timeout=10)
        self.token = self.new_token()

    def new_token(self) -> str:
        creds = self.emu.credentials()
        resp = self.client.post("/tokens", files={k: (None, v) for k, v in creds.items()})
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        resp = self.call(method, path, **kwargs)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def ids(self, table: str, **match: Any) -> int:
        rows = self.emu.state[table].values()
        return next(r["id"] for r in rows if all(r.get(k) == v for k, v in match.items()))


@contextmanager
def serve(seed: dict[str, Any] | None = None, **options: Any) -> Iterator[Api]:
    emu = WorkeloEmulator(SEED if seed is None else seed, **options)
    with ServerThread({"workelo": emu.app}) as st:
        api = Api(emu, st.url("workelo"))
        try:
            yield api
        finally:
            api.client.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[WorkeloEmulator, str]]:
    # One server for the read-mostly tests; tests that write use their own via serve().
    emu = WorkeloEmulator(SEED)
    with ServerThread({"workelo": emu.app}) as st:
        yield emu, st.url("workelo")


@pytest.fixture
def api(server: tuple[WorkeloEmulator, str]) -> Iterator[Api]:
    client = Api(*server)
    yield client
    client.client.close()


# -- authentication -------------------------------------------------------------------

def test_token_is_issued_for_multipart_credentials_and_opens_the_api(api: Api) -> None:
    """seed 000 "Authentication / Get a token" and "Use the token"."""
    creds = api.emu.credentials()
    resp = api.client.post("/tokens", files={k: (None, v) for k, v in creds.items()})
    body = resp.json()
    assert resp.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert api.get("/employees", token=body["access_token"]).status_code == 200


def test_token_refused_for_a_wrong_secret(api: Api) -> None:
    """seed 000 "Authentication": credentials are checked (401 body assumed)."""
    resp = api.client.post("/tokens", files={"client_id": (None, "sandbox-client"),
                                             "client_secret": (None, "nope")})
    assert resp.status_code == 401
    assert resp.json() == {"errors": ["Invalid client credentials"],
                           "message": "unauthorized", "code": 401}


def test_a_non_ascii_secret_is_refused_not_a_server_error(api: Api) -> None:
    """Issue 14 item 13: compare_digest refused non-ASCII text, so the emulator answered
    500 to a secret like "sécret" instead of refusing it."""
    resp = api.client.post("/tokens", files={"client_id": (None, "sandbox-client"),
                                             "client_secret": (None, "sécret-ü")})
    assert resp.status_code == 401


def test_token_request_must_be_multipart(api: Api) -> None:
    """seed 000 "Get a token": Content-Type multipart/form-data (422 otherwise: assumed)."""
    resp = api.client.post("/tokens", data=api.emu.credentials())
    assert resp.status_code == 422


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic c2FuZGJveA=="])
def test_missing_or_wrong_token_is_401_with_error_body(api: Api, header: str | None) -> None:
    """seed 000 "HTTP response codes": 401 Unauthorized (body shape assumed: the 422 one)."""
    headers = {"Authorization": header} if header else {}
    resp = api.client.get("/employees", headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {"errors": ["Invalid or missing access token"],
                           "message": "unauthorized", "code": 401}


def test_token_expires_after_its_lifetime() -> None:
    """seed 000 "Use the token": tokens are valid for 1 hour (here token_ttl=60), then 401;
    a new token works again."""
    clock = Clock()
    with serve(token_ttl=60, clock=clock) as api:
        assert api.get("/employees").status_code == 200
        clock.now += 59
        assert api.get("/employees").status_code == 200
        clock.now += 2
        resp = api.get("/employees")
        assert resp.status_code == 401
        assert resp.json()["errors"] == ["Access token expired"]
        assert api.get("/employees", token=api.new_token()).status_code == 200


def test_default_token_lifetime_is_one_hour() -> None:
    """seed 000 "Use the token": valid for 1 hour and reusable."""
    clock = Clock()
    with serve(clock=clock) as api:
        clock.now += 3599
        assert api.get("/employees").status_code == 200
        clock.now += 2
        assert api.get("/employees").status_code == 401


# -- rate limit -----------------------------------------------------------------------

def test_rate_limit_per_token_answers_429_with_retry_after() -> None:
    """seed 000 "API architecture": 1000 requests per hour per token (here 3 per 60 s);
    past it 429 with Retry-After (assumed header and body); another token is not affected;
    the window slides."""
    clock = Clock()
    with serve(rate_limit=3, rate_window=60, clock=clock) as api:
        for _ in range(3):
            assert api.get("/user_roles").status_code == 200
        clock.now += 20
        resp = api.get("/user_roles")
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "40"
        assert resp.json()["code"] == 429 and resp.json()["message"] == "too_many_requests"
        assert api.get("/user_roles", token=api.new_token()).status_code == 200
        clock.now += 40
        assert api.get("/user_roles").status_code == 200


def test_default_rate_limit_is_1000_per_hour() -> None:
    """seed 000 "Limits and performance": 1000 requests per hour per token."""
    with serve() as api:
        assert api.emu.limiter.limit == 1000 and api.emu.limiter.window == 3600


# -- pagination -----------------------------------------------------------------------

def many_employees(n: int) -> dict[str, Any]:
    return {"employees": [{"external_id": f"E{i:03}", "first_name": "F", "last_name": "L",
                           "email": f"e{i}@acme.io"} for i in range(n)]}


def test_pagination_defaults_to_10_with_a_pagination_block() -> None:
    """seed 000 "Step 3: Understand a typical response": data + pagination {total, limit,
    offset}, limit 10 by default."""
    with serve(many_employees(25)) as api:
        body = api.ok("GET", "/employees")
        assert len(body["data"]) == 10
        assert body["pagination"] == {"total": 25, "limit": 10, "offset": 0}
        last = api.ok("GET", "/employees", params={"limit": 10, "offset": 20})
        assert [e["external_id"] for e in last["data"]] == [f"E{i:03}" for i in range(20, 25)]
        assert last["pagination"] == {"total": 25, "limit": 10, "offset": 20}


def test_page_size_is_capped_at_100() -> None:
    """Issue #3 / product brief: page cap 100; a larger limit is clamped and the clamped
    value echoed (clamping assumed)."""
    with serve(many_employees(150)) as api:
        body = api.ok("GET", "/employees", params={"limit": 500})
        assert len(body["data"]) == 100
        assert body["pagination"] == {"total": 150, "limit": 100, "offset": 0}


def test_bad_paging_parameters_are_422(api: Api) -> None:
    """seed 000 "422: Unprocessable data" (for paging parameters: assumed)."""
    assert api.get("/employees", params={"limit": "ten"}).status_code == 422
    assert api.get("/employees", params={"offset": -1}).status_code == 422


# -- 422 bodies -----------------------------------------------------------------------

VALID_EMPLOYEE = {"first_name": "Jean", "last_name": "Petit", "email": "jean@acme.io",
                  "external_id": "EMP-9"}


def invalid_cases(api: Api) -> dict[str, tuple[str, str, dict[str, Any], list[str]]]:
    level = api.ids("level_organizations", name="Department")
    return {
        "bad email": ("POST", "/employees", {**VALID_EMPLOYEE, "email": "not-an-email"},
                      ["Invalid email format"]),
        "unknown unit": ("POST", "/employees", {**VALID_EMPLOYEE, "unit_organization_id": 999},
                         ["Unit organization not found"]),
        "unknown role": ("POST", "/employees", {**VALID_EMPLOYEE, "user_role_id": 999},
                         ["User role not found"]),
        "duplicate external_id": ("POST", "/employees",
                                  {**VALID_EMPLOYEE, "external_id": "EMP-1"},
                                  ["External id has already been taken"]),
        "duplicate email": ("POST", "/employees", {**VALID_EMPLOYEE, "email": "MARIE@acme.io"},
                            ["Email has already been taken"]),
        "two errors at once": ("POST", "/employees",
                               {**VALID_EMPLOYEE, "email": "x", "unit_organization_id": 999},
                               ["Invalid email format", "Unit organization not found"]),
        "unknown level": ("POST", "/unit_organizations",
                          {"name": "X", "level_organization_id": 999},
                          ["Level organization not found"]),
        "unknown parent": ("POST", "/unit_organizations",
                           {"name": "X", "level_organization_id": level, "parent_id": 999},
                           ["Parent unit organization not found"]),
        "duplicate unit external_id": ("POST", "/unit_organizations",
                                       {"name": "X", "external_id": "ENG",
                                        "level_organization_id": level},
                                       ["External id has already been taken"]),
        "unknown template": ("POST", "/tracks",
                             {"mobility": "onboarding", "start_date": "2026-06-01",
                              "employee": {"external_id": "EMP-3"}, "template_ids": [999]},
                             ["Template 999 not found"]),
        "unknown mobility": ("POST", "/tracks",
                             {"mobility": "sideboarding", "start_date": "2026-06-01",
                              "employee": {"external_id": "EMP-3"}},
                             ["mobility must be one of onboarding, crossboarding, offboarding"]),
        "unknown implication employee": ("POST", "/tracks",
                                         {"mobility": "onboarding", "start_date": "2026-06-01",
                                          "employee": {"external_id": "EMP-3"},
                                          "implications": {"manager_id": 999}},
                                         ["Employee not found for manager_id"]),
        "unknown identification resource": ("POST", "/employees/1/identifications",
                                            {"identification_resource_id": 999, "value": "X"},
                                            ["Identification resource not found"]),
        "scope on unknown unit": ("POST", "/employees/1/unit_organization_managements",
                                  {"unit_organization_id": 999},
                                  ["Unit organization not found"]),
    }


@pytest.mark.parametrize("case", [
    "bad email", "unknown unit", "unknown role", "duplicate external_id", "duplicate email",
    "two errors at once", "unknown level", "unknown parent", "duplicate unit external_id",
    "unknown template", "unknown mobility", "unknown implication employee",
    "unknown identification resource", "scope on unknown unit"])
def test_invalid_data_is_422_with_the_documented_body(api: Api, case: str) -> None:
    """seed 000 "Error handling": 422 {"errors": [...], "message": "unprocessable_entity",
    "code": 422}, every error listed; nothing is created."""
    method, path, body, errors = invalid_cases(api)[case]
    before = api.emu.snapshot()
    resp = api.call(method, path, json=body)
    assert resp.status_code == 422
    assert resp.json() == {"errors": errors, "message": "unprocessable_entity", "code": 422}
    assert api.emu.snapshot() == before


def test_unknown_object_is_404(api: Api) -> None:
    """seed 000 "HTTP response codes": 404 Resource not found (body assumed)."""
    resp = api.get("/employees/999")
    assert resp.status_code == 404
    assert resp.json() == {"errors": ["Employee not found"], "message": "not_found",
                           "code": 404}


# -- employees ------------------------------------------------------------------------

def test_employee_list_shape(api: Api) -> None:
    """seed 000 "Step 3": id, names, email, role name, unit_organization {id, name}; plus
    external_id, job_position and identifications (assumed)."""
    marie = api.ok("GET", "/employees", params={"external_id": "EMP-1"})["data"][0]
    eng = api.ids("unit_organizations", external_id="ENG")
    badge = api.ids("identification_resources", name="badge")
    assert marie == {"id": marie["id"], "external_id": "EMP-1", "first_name": "Marie",
                     "last_name": "Dubois", "email": "marie@acme.io", "job_position": None,
                     "role": "manager",
                     "unit_organization": {"id": eng, "name": "Engineering"},
                     "identifications": [{"identification_resource_id": badge,
                                          "value": "B-1"}]}


def test_employee_filters_role_units_and_external_id(api: Api) -> None:
    """seed 000 "List employees" (role, unit_organization_ids comma-separated) and
    "Search an employee by external_id"."""
    def keys(**params: Any) -> list[str]:
        return [e["external_id"] for e in api.ok("GET", "/employees", params=params)["data"]]

    eng = api.ids("unit_organizations", external_id="ENG")
    ops = api.ids("unit_organizations", external_id="OPS")
    assert keys(role="hr") == ["EMP-2"]
    assert keys(role="colleague") == ["EMP-3"]
    assert keys(unit_organization_ids=str(eng)) == ["EMP-1", "EMP-3"]
    assert keys(unit_organization_ids=f"{eng},{ops}") == ["EMP-1", "EMP-2", "EMP-3"]
    assert keys(unit_organization_ids=str(ops), role="manager") == []
    assert keys(external_id="EMP-2") == ["EMP-2"]
    assert keys(external_id="nobody") == []


def test_employee_create_get_update_and_identifications() -> None:
    """seed 000 "Create an employee" (201), "Add custom identifications"; seed 001 §1
    "View / Update the employee" (GET and PUT /employees/{id})."""
    with serve() as api:
        ops = api.ids("unit_organizations", external_id="OPS")
        manager = api.ids("user_roles", name="manager")
        badge = api.ids("identification_resources", name="badge")
        created = api.ok("POST", "/employees", 201, json={
            **VALID_EMPLOYEE, "job_position": "Developer", "unit_organization_id": ops,
            "user_role_id": manager})
        assert created["role"] == "manager" and created["unit_organization"]["id"] == ops
        api.ok("POST", f"/employees/{created['id']}/identifications", 201,
               json={"identification_resource_id": badge, "value": "B-9"})
        updated = api.ok("PUT", f"/employees/{created['id']}",
                         json={"job_position": "Lead", "email": "jean.petit@acme.io"})
        assert updated["job_position"] == "Lead" and updated["first_name"] == "Jean"
        got = api.ok("GET", f"/employees/{created['id']}")
        assert got == updated
        assert got["email"] == "jean.petit@acme.io"
        assert got["identifications"] == [{"identification_resource_id": badge,
                                           "value": "B-9"}]


def test_employee_update_rejects_another_employees_email() -> None:
    """seed 001 §1 "Update the employee" validated like a create (assumed)."""
    with serve() as api:
        paul = api.ids("employees", external_id="EMP-2")
        resp = api.call("PUT", f"/employees/{paul}", json={"email": "marie@acme.io"})
        assert resp.status_code == 422
        assert resp.json()["errors"] == ["Email has already been taken"]
        assert api.call("PUT", f"/employees/{paul}", json={"email": "paul@acme.io"}
                        ).status_code == 200


def test_reference_lists(api: Api) -> None:
    """seed 001 §1 "GET /user_roles", "GET /identification_resources"; seed 000
    "GET /level_organizations"."""
    def names(path: str) -> list[str]:
        return [r["name"] for r in api.ok("GET", path)["data"]]

    assert names("/user_roles") == ["colleague", "manager", "hr", "owner"]
    assert names("/identification_resources") == ["badge", "payroll_id"]
    assert names("/level_organizations") == ["Group", "Division", "Department", "Site"]


# -- unit organisations ---------------------------------------------------------------

def test_unit_create_and_list_by_level() -> None:
    """seed 000 "Create an organization" and "List units within a level"."""
    with serve() as api:
        division = api.ids("level_organizations", name="Division")
        department = api.ids("level_organizations", name="Department")
        eng = api.ids("unit_organizations", external_id="ENG")
        created = api.ok("POST", "/unit_organizations", 201, json={
            "external_id": "IT-001", "name": "IT Department", "level_organization_id":
            department, "parent_id": eng, "language": "fr"})
        assert created == {"id": created["id"], "external_id": "IT-001",
                           "name": "IT Department", "level_organization_id": department,
                           "parent_id": eng, "language": "fr"}
        listed = api.ok("GET", "/unit_organizations",
                        params={"level_organization_id": department})["data"]
        assert [u["external_id"] for u in listed] == ["IT-001"]
        divisions = api.ok("GET", "/unit_organizations",
                           params={"level_organization_id": division})["data"]
        assert [u["external_id"] for u in divisions] == ["ENG", "OPS"]


def test_unit_update_and_delete_assumed() -> None:
    """Assumed endpoints (seeds show no unit update or delete): PUT renames and moves;
    a parent cycle is a 422; DELETE refuses while employees or child units remain, then
    answers 204 and takes the unit's scopes with it."""
    with serve() as api:
        acme = api.ids("unit_organizations", external_id="ACME")
        eng = api.ids("unit_organizations", external_id="ENG")
        ops = api.ids("unit_organizations", external_id="OPS")
        moved = api.ok("PUT", f"/unit_organizations/{ops}",
                       json={"name": "Ops", "parent_id": eng})
        assert moved["name"] == "Ops" and moved["parent_id"] == eng
        cycle = api.call("PUT", f"/unit_organizations/{acme}", json={"parent_id": ops})
        assert cycle.status_code == 422
        refused = api.call("DELETE", f"/unit_organizations/{eng}")
        assert refused.status_code == 422
        assert refused.json()["errors"] == ["Unit organization still has child units",
                                            "Unit organization still has employees"]
        for emp in ("EMP-1", "EMP-3"):
            api.ok("PUT", f"/employees/{api.ids('employees', external_id=emp)}",
                   json={"unit_organization_id": acme})
        api.ok("PUT", f"/unit_organizations/{ops}", json={"parent_id": acme})
        assert api.call("DELETE", f"/unit_organizations/{eng}").status_code == 204
        assert eng not in api.emu.state["unit_organizations"]
        assert api.emu.state["unit_organization_managements"] == {}


# -- scopes ---------------------------------------------------------------------------

def test_scopes_list_create_and_delete() -> None:
    """seed 001 §2 "Manage an employee's scopes": GET and POST
    /employees/{id}/unit_organization_managements, DELETE
    /unit_organization_managements/{id} (204 assumed)."""
    with serve() as api:
        lea = api.ids("employees", external_id="EMP-3")
        ops = api.ids("unit_organizations", external_id="OPS")
        path = f"/employees/{lea}/unit_organization_managements"
        assert api.ok("GET", path)["data"] == []
        created = api.ok("POST", path, 201, json={"unit_organization_id": ops})
        assert created["employee_id"] == lea and created["unit_organization_id"] == ops
        assert [s["id"] for s in api.ok("GET", path)["data"]] == [created["id"]]
        again = api.call("POST", path, json={"unit_organization_id": ops})
        assert again.status_code == 422  # granting twice: assumed
        assert api.call("DELETE", f"/unit_organization_managements/{created['id']}"
                        ).status_code == 204
        assert api.ok("GET", path)["data"] == []
        assert api.call("DELETE", f"/unit_organization_managements/{created['id']}"
                        ).status_code == 404


def test_all_scopes_list_assumed(api: Api) -> None:
    """Assumed endpoint: GET /unit_organization_managements lists every scope with its
    employee and unit, paged, so a plan reads them in ceil(n/100) requests."""
    marie = api.ids("employees", external_id="EMP-1")
    eng = api.ids("unit_organizations", external_id="ENG")
    body = api.ok("GET", "/unit_organization_managements", params={"limit": 100})
    assert [(s["employee_id"], s["unit_organization_id"]) for s in body["data"]] == [
        (marie, eng)]
    assert body["pagination"]["total"] == 1
    assert api.ok("GET", "/unit_organization_managements",
                  params={"employee_id": marie + 100})["data"] == []


# -- templates ------------------------------------------------------------------------

def test_templates_filter_by_mobility_and_unit(api: Api) -> None:
    """seed 000 "List available templates": ?mobility=&unit_organization_id= (a template
    without units serves every unit: assumed)."""
    def names(**params: Any) -> list[str]:
        return [t["name"] for t in api.ok("GET", "/templates", params=params)["data"]]

    eng = api.ids("unit_organizations", external_id="ENG")
    ops = api.ids("unit_organizations", external_id="OPS")
    assert names() == ["Standard onboarding", "Engineering onboarding", "Standard offboarding"]
    assert names(mobility="offboarding") == ["Standard offboarding"]
    assert names(mobility="onboarding", unit_organization_id=eng) == [
        "Standard onboarding", "Engineering onboarding"]
    assert names(mobility="onboarding", unit_organization_id=ops) == ["Standard onboarding"]


# -- tracks ---------------------------------------------------------------------------

def track_body(api: Api, **overrides: Any) -> dict[str, Any]:
    tpl = api.ids("templates", name="Standard onboarding")
    return {"mobility": "onboarding", "start_date": "2026-06-01", "end_date": "2026-09-01",
            "employee": {"external_id": "EMP-3"},
            "implications": {"manager_id": api.ids("employees", external_id="EMP-1"),
                             "hr_id": api.ids("employees", external_id="EMP-2")},
            "template_ids": [tpl], **overrides}


def test_track_is_created_as_draft_for_an_existing_employee() -> None:
    """seed 001 §3 "Create the journey (draft status)"; the employee block naming an
    existing external_id attaches the journey to that employee (decided, assumed)."""
    with serve() as api:
        track = api.ok("POST", "/tracks", 201, json=track_body(api))
        lea = api.ids("employees", external_id="EMP-3")
        assert track["status"] == "draft" and track["employee_id"] == lea
        assert track["implications"]["manager_id"] == api.ids("employees", external_id="EMP-1")
        assert track["implications"]["buddy_id"] is None
        assert len(api.emu.state["employees"]) == 3
        listed = api.ok("GET", "/tracks", params={"status": "draft"})["data"]
        assert [t["id"] for t in listed] == [track["id"]]
        assert listed[0]["template_ids"] == track["template_ids"]


def test_track_with_a_new_employee_creates_that_employee() -> None:
    """seed 001 §3: the employee block of a new hire (no external_id match) creates the
    employee; user_creation is logged."""
    with serve() as api:
        body = track_body(api, employee={"first_name": "John", "last_name": "Martin",
                                         "email": "john.martin@acme.io",
                                         "job_position": "Developer"})
        track = api.ok("POST", "/tracks", 201, json=body)
        john = api.ok("GET", f"/employees/{track['employee_id']}")
        assert john["email"] == "john.martin@acme.io" and john["role"] == "colleague"
        assert [entry["event"] for entry in api.ok("GET", "/logs")["data"]] == [
            "user_creation", "track_creation"]


def test_track_start_now_sends_the_invitation() -> None:
    """seed 000 "Send the journey invitation": PUT /tracks/{id}/start without invite_at (or
    with today's date) → invitation_sent; track_start logged. The day is before the
    journey's start (2026-06-01): from it the journey is in progress, then closed."""
    with serve(today=lambda: date(2026, 5, 1)) as api:
        first = api.ok("POST", "/tracks", 201, json=track_body(api))
        started = api.ok("PUT", f"/tracks/{first['id']}/start", json={})
        assert started["status"] == "invitation_sent"
        second = api.ok("POST", "/tracks", 201, json=track_body(
            api, employee={"external_id": "EMP-2"}, implications={}))
        today = "2026-05-01"
        started = api.ok("PUT", f"/tracks/{second['id']}/start", json={"invite_at": today})
        assert started["status"] == "invitation_sent" and started["invite_at"] == today
        events = [e["event"] for e in api.ok("GET", "/logs", params={"event": "track_start"}
                                             )["data"]]
        assert events == ["track_start", "track_start"]


def test_track_start_with_a_future_invite_at_is_scheduled() -> None:
    """seed 001 §3 "invite_at: optional employee invitation date" and the `scheduled`
    status of seed 000 "Statuses"."""
    with serve() as api:
        track = api.ok("POST", "/tracks", 201, json=track_body(api))
        later = (date.today() + timedelta(days=10)).isoformat()
        started = api.ok("PUT", f"/tracks/{track['id']}/start", json={"invite_at": later})
        assert started["status"] == "scheduled" and started["invite_at"] == later
        again = api.call("PUT", f"/tracks/{track['id']}/start", json={})
        assert again.status_code == 422  # starting twice: assumed


def test_track_detail_has_metrics() -> None:
    """seed 001 §4 "View journey details (with live metrics)": health, progression, action
    availability rate, completed actions (names and values assumed)."""
    with serve(today=lambda: date(2026, 6, 10)) as api:
        track = api.ok("POST", "/tracks", 201, json=track_body(api))
        detail = api.ok("GET", f"/tracks/{track['id']}")
        # Two actions, due 2026-06-01 and 2026-07-01: one available on 2026-06-10.
        assert detail["metrics"] == {"health": "not_started", "progression": 0,
                                     "action_availability_rate": 50,
                                     "completed_actions_count": 0}
        api.ok("PUT", f"/tracks/{track['id']}/start", json={})
        assert api.ok("GET", f"/tracks/{track['id']}")["metrics"]["health"] == "late"


def test_track_update_moves_dates_with_apply_on_actions_and_changes_implications() -> None:
    """seed 001 §4 "Update a journey (dates, stakeholders)": PUT /tracks/{id} with
    start_date, apply_on_actions (shifts the actions) and implications."""
    with serve() as api:
        shifted = api.ok("POST", "/tracks", 201, json=track_body(api))
        kept = api.ok("POST", "/tracks", 201, json=track_body(
            api, employee={"external_id": "EMP-2"}, implications={}))
        due = [a["due_date"] for a in api.ok("GET", f"/tracks/{shifted['id']}")["actions"]]
        assert due == ["2026-06-01", "2026-07-01"]
        paul = api.ids("employees", external_id="EMP-2")
        body = api.ok("PUT", f"/tracks/{shifted['id']}", json={
            "start_date": "2026-06-15", "apply_on_actions": True,
            "implications": {"manager_id": paul}})
        assert body["start_date"] == "2026-06-15"
        assert body["implications"]["manager_id"] == paul
        assert body["implications"]["hr_id"] == paul  # untouched roles stay
        assert [a["due_date"] for a in body["actions"]] == ["2026-06-15", "2026-07-15"]
        body = api.ok("PUT", f"/tracks/{kept['id']}", json={"start_date": "2026-06-15"})
        assert [a["due_date"] for a in body["actions"]] == ["2026-06-01", "2026-07-01"]
        bad = api.call("PUT", f"/tracks/{kept['id']}", json={"end_date": "2026-01-01"})
        assert bad.status_code == 422


def test_track_list_filters_by_status(api: Api) -> None:
    """seed 001 §4 "List and filter journeys": GET /tracks?status=; an unknown status is a
    422 (assumed)."""
    assert api.ok("GET", "/tracks", params={"status": "closed"})["data"] == []
    assert api.get("/tracks", params={"status": "paused"}).status_code == 422


# -- forms and logs -------------------------------------------------------------------

def test_logs_record_events_as_they_happen() -> None:
    """seed 000 "Tracking and logs" / seed 001 §8: user_creation, track_creation,
    track_start, form_completion; ?event= and from/to filters; GET /logs/{uuid}."""
    with serve() as api:
        api.ok("POST", "/employees", 201, json=VALID_EMPLOYEE)
        track = api.ok("POST", "/tracks", 201, json=track_body(api))
        api.ok("PUT", f"/tracks/{track['id']}/start", json={})
        forms = api.ok("GET", f"/tracks/{track['id']}/forms", params={"status": "opened"})
        form = api.ok("GET", f"/forms/{forms['data'][0]['id']}")
        for paperwork in form["paperworks"]:
            api.ok("PUT", f"/paperworks/{paperwork['id']}", json={"value": "filled"})
        assert api.ok("GET", f"/forms/{form['id']}")["status"] == "closed"
        logs = api.ok("GET", "/logs")["data"]
        assert [e["event"] for e in logs] == ["user_creation", "track_creation",
                                              "track_start", "form_completion"]
        only = api.ok("GET", "/logs", params={"event": "track_creation"})["data"]
        assert [e["resource_id"] for e in only] == [track["id"]]
        today = date.today()
        window = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
        assert len(api.ok("GET", "/logs", params=window)["data"]) == 4
        past = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}
        assert api.ok("GET", "/logs", params=past)["data"] == []
        assert api.ok("GET", f"/logs/{logs[2]['uuid']}") == logs[2]
        assert api.get("/logs/00000000-0000-0000-0000-000000000000").status_code == 404


# -- fixture and control plane ----------------------------------------------------------

def test_seed_fixture_references_by_name_and_defaults() -> None:
    """The seed fixture format of the module docstring: refs by external_id, name or email;
    defaults for roles, levels, identification resources, templates and the client."""
    seed = {
        "unit_organizations": [{"name": "Root", "level": "Group"},
                               {"external_id": "R1", "name": "Child", "parent": "Root"}],
        "employees": [{"first_name": "A", "last_name": "B", "email": "a@x.io", "unit": "R1"}],
        "unit_organization_managements": [{"employee": "a@x.io", "unit": "Root"}],
        "tracks": [{"employee": "a@x.io", "mobility": "onboarding", "start_date": "2026-01-05",
                    "status": "in_progress", "templates": ["Standard onboarding"],
                    "implications": {"buddy": "a@x.io"}}],
    }
    # A day within the seeded journey (from 2026-01-05, no end date: 90 days), so its
    # status is the seed's in_progress.
    with serve(seed, today=lambda: date(2026, 2, 1)) as api:
        assert api.emu.credentials() == {"client_id": "sandbox-client",
                                         "client_secret": "sandbox-secret"}
        track = api.ok("GET", "/tracks")["data"][0]
        assert track["status"] == "in_progress" and track["implications"]["buddy_id"] == 1
        assert [t["name"] for t in api.ok("GET", "/templates")["data"]] == [
            "Standard onboarding", "Engineering onboarding", "Sales onboarding",
            "Internal mobility", "Standard offboarding"]
        child = api.ok("GET", "/unit_organizations")["data"][1]
        assert child["parent_id"] == api.ids("unit_organizations", name="Root")
    with pytest.raises(ValueError, match="no unit organisation 'Nowhere'"):
        WorkeloEmulator({"employees": [{"first_name": "A", "last_name": "B",
                                        "email": "a@x.io", "unit": "Nowhere"}]})


def test_secrets_stay_out_of_the_published_state(api: Api) -> None:
    """Tokens and client secrets are not in /_sandbox/state."""
    state = api.client.get(str(api.client.base_url).removesuffix("/v1/") + "/_sandbox/state")
    assert state.status_code == 200
    assert "sandbox-secret" not in state.text and api.token not in state.text


# -- the strict profile: only what the seeds show ---------------------------------------

STRICT = Profile.named("strict")


def test_strict_serves_scopes_per_employee_only() -> None:
    """seed 001 §2 lists scopes per employee (GET /employees/{id}/unit_organization_
    managements); no seed shows the org-wide list, so strict answers it 404. A scope is
    its id (the management_id of seed 000 "Revoke access") and the grant body's unit."""
    with serve(profile=STRICT) as api:
        assert api.get("/unit_organization_managements").status_code == 404
        marie = api.ids("employees", external_id="EMP-1")
        eng = api.ids("unit_organizations", external_id="ENG")
        scope = api.ids("unit_organization_managements", employee_id=marie)
        body = api.ok("GET", f"/employees/{marie}/unit_organization_managements")
        assert body["data"] == [{"unit_organization_id": eng, "id": scope}]
        assert api.call("DELETE", f"/unit_organization_managements/{scope}"
                        ).status_code == 204


def test_strict_employee_answers_carry_no_identifications() -> None:
    """seed 000 "Step 3" shows no identifications (they are written through their own
    route); external_id and job_position, the create body's, are kept."""
    with serve(profile=STRICT) as api:
        marie = api.ids("employees", external_id="EMP-1")
        listed = next(e for e in api.ok("GET", "/employees")["data"] if e["id"] == marie)
        assert listed == api.ok("GET", f"/employees/{marie}")
        assert set(listed) == {"id", "external_id", "first_name", "last_name", "email",
                               "job_position", "role", "unit_organization"}
        assert api.emu.state["employees"][marie]["identifications"]  # held, not shown


def test_strict_track_answers_carry_the_create_fields_only() -> None:
    """The create body's fields with id and status; the roles that are set (as seed 001
    §3 writes them); no employee_id, template_ids or invite_at. An undocumented filter
    (employee_id) is ignored."""
    with serve(profile=STRICT) as api:
        track = api.ok("POST", "/tracks", 201, json=track_body(api))
        api.ok("PUT", f"/tracks/{track['id']}/start", json={"invite_at": "2099-01-01"})
        (listed,) = api.ok("GET", "/tracks")["data"]
        lea = api.ids("employees", external_id="EMP-3")
        assert set(listed) == {"id", "mobility", "status", "start_date", "end_date",
                               "employee", "implications"}
        assert listed["employee"]["id"] == lea and listed["status"] == "scheduled"
        assert set(listed["implications"]) == {"manager_id", "hr_id"}
        assert "template_ids" not in api.ok("GET", f"/tracks/{track['id']}")
        assert len(api.ok("GET", "/tracks", params={"employee_id": lea + 1})["data"]) == 1


def test_strict_pages_at_the_profiles_cap_with_the_seeds_pagination_block() -> None:
    """The seed shows {total, limit, offset}: strict keeps it (even with paging_keys off,
    which concerns answers whose seed shows none), at its own cap and default size."""
    profile = dataclasses.replace(STRICT, page_cap=7, default_size=3, paging_keys=False)
    with serve(many_employees(20), profile=profile) as api:
        assert api.ok("GET", "/employees")["pagination"] == {"total": 20, "limit": 3,
                                                              "offset": 0}
        body = api.ok("GET", "/employees", params={"limit": 100, "offset": 14})
        assert len(body["data"]) == 6
        assert body["pagination"] == {"total": 20, "limit": 7, "offset": 14}


def test_strict_ids_are_large_and_increasing_and_keys_in_another_order() -> None:
    """Where the seed shows small ids (123, 5), strict gives other ones (`new_id`), never
    one taken; answer keys come in another order than the seed's example."""
    with serve(many_employees(5), profile=STRICT) as api:
        body = api.ok("GET", "/employees")
        ids = [e["id"] for e in body["data"]]
        assert ids == sorted(ids) and min(ids) > 1000
        assert list(body) == ["pagination", "data"]
        assert list(body["data"][0])[0] == "unit_organization"
        created = api.ok("POST", "/employees", 201, json={
            "first_name": "N", "last_name": "W", "email": "n@acme.io"})
        assert created["id"] > max(ids)


def test_the_permissive_profile_is_unchanged(api: Api) -> None:
    """What the provider was written beside: small ids, documented key order, the assumed
    fields and the org-wide scope list."""
    body = api.ok("GET", "/employees")
    assert [e["id"] for e in body["data"]] == [1, 2, 3]
    assert list(body) == ["data", "pagination"]
    assert "identifications" in body["data"][0]
    assert api.get("/unit_organization_managements").status_code == 200
