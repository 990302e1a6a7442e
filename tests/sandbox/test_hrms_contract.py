"""Contract tests: the HRMS emulator against seed 002 (HRMS public API), over real HTTP.

Each test names the seed section it checks. Behaviour the seed is silent about
(pagination, `include=`, the order of checks) is marked ASSUMED in the test name.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orgctl.sandbox.core import ServerThread
from orgctl.sandbox.hrms import DEFAULT_TOKEN, SCOPES, HrmsEmulator

USERS = 230  # three pages at the cap, nine at the default size

SEED = {
    "tokens": [
        {"token": "all-scopes", "scopes": list(SCOPES), "environment": "staging"},
        {"token": "uat-token", "scopes": list(SCOPES), "environment": "uat"},
        *[
            {"token": f"only-{s}", "scopes": [s], "environment": "staging"}
            for s in SCOPES
        ],
        *[
            {"token": f"without-{s}", "scopes": [x for x in SCOPES if x != s],
             "environment": "staging"}
            for s in SCOPES
        ],
    ],
    "departments": [{"id": "dept_eng", "name": "Engineering"}, {"name": "People"}],
    "positions": [{"id": "pos_swe", "title": "Software Engineer"}, {"title": "HR Partner"}],
    "users": [
        {
            "id": "user_001", "staffId": "S0001", "email": "john.doe@company.com",
            "name": "John Doe", "preferred_name": "John", "phone": "+60123456789",
            "status": "active", "department": "dept_eng", "position": "Software Engineer",
            "work_locations": ["Kuala Lumpur", "Remote"],
        },
        {
            "staffId": "S0002", "email": "mary.major@company.com", "name": "Mary Major",
            "status": "inactive", "department": "People", "position": "HR Partner",
        },
        *[
            {"staffId": f"S{i:04d}", "email": f"user{i}@company.com", "name": f"User {i}",
             "department": "Engineering"}
            for i in range(3, USERS + 1)
        ],
    ],
}

ROUTES = {
    "users:read": "/api/v1/users",
    "departments:read": "/api/v1/departments",
    "positions:read": "/api/v1/positions",
}


def headers(token: str = "all-scopes", env: str | None = "staging") -> dict[str, str]:
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if env is not None:
        h["X-Environment"] = env
    return h


@pytest.fixture(scope="module")
def emu() -> HrmsEmulator:
    return HrmsEmulator(SEED)


@pytest.fixture(scope="module")
def client(emu: HrmsEmulator) -> Iterator[httpx.Client]:
    with ServerThread({"hrms": emu.app}) as st, httpx.Client(base_url=st.url("hrms")) as c:
        yield c


# -- Step 4 - Handle Errors: 401 Unauthorized ----------------------------------------------

@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic all-scopes", "all-scopes"])
def test_401_for_missing_or_invalid_token(client: httpx.Client, auth: str | None) -> None:
    h = {"X-Environment": "staging"} | ({"Authorization": auth} if auth else {})
    r = client.get("/api/v1/users", headers=h)
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthenticated"}


def test_401_for_a_token_used_in_another_environment_ASSUMED(client: httpx.Client) -> None:
    r = client.get("/api/v1/users", headers=headers("all-scopes", env="uat"))
    assert r.status_code == 401
    assert r.json() == {"message": "Unauthenticated"}


def test_uat_token_works_in_uat(client: httpx.Client) -> None:
    """Step 3 "Required Headers": X-Environment is staging or uat."""
    assert client.get("/api/v1/users", headers=headers("uat-token", env="uat")).status_code == 200


# -- Step 1 "Select Required Scopes" and Step 4: 403 Forbidden ------------------------------

@pytest.mark.parametrize("scope", SCOPES)
def test_403_when_the_token_lacks_the_scope(client: httpx.Client, scope: str) -> None:
    r = client.get(ROUTES[scope], headers=headers(f"without-{scope}"))
    assert r.status_code == 403
    assert r.json() == {"message": "Insufficient permissions for this resource"}


@pytest.mark.parametrize("scope", SCOPES)
def test_a_single_scope_opens_exactly_its_endpoint(client: httpx.Client, scope: str) -> None:
    for other, route in ROUTES.items():
        r = client.get(route, headers=headers(f"only-{scope}"))
        assert r.status_code == (200 if other == scope else 403), (scope, route)


def test_user_detail_needs_users_read(client: httpx.Client) -> None:
    r = client.get("/api/v1/users/user_001", headers=headers("without-users:read"))
    assert r.status_code == 403


# -- Step 3 "Required Headers" and Step 4: 400 Bad Request ----------------------------------

def test_400_for_missing_x_environment(client: httpx.Client) -> None:
    r = client.get("/api/v1/users", headers=headers(env=None))
    assert r.status_code == 400
    body = r.json()
    assert body["message"] == "Validation failed"
    assert list(body["errors"]) == ["X-Environment"]
    assert isinstance(body["errors"]["X-Environment"], list)


def test_400_for_an_invalid_x_environment(client: httpx.Client) -> None:
    r = client.get("/api/v1/departments", headers=headers(env="production"))
    assert r.status_code == 400
    assert r.json()["message"] == "Validation failed"
    assert "staging" in r.json()["errors"]["X-Environment"][0]


# -- Step 4: 404 Not Found -----------------------------------------------------------------

def test_404_for_an_unknown_user(client: httpx.Client) -> None:
    r = client.get("/api/v1/users/user_999", headers=headers())
    assert r.status_code == 404
    assert r.json() == {"message": "Resource not found"}


def test_404_for_an_unknown_endpoint(client: httpx.Client) -> None:
    r = client.get("/api/v1/leaves", headers=headers())
    assert r.status_code == 404
    assert r.json() == {"message": "Resource not found"}


def test_the_api_is_read_only_ASSUMED_405(client: httpx.Client) -> None:
    r = client.post("/api/v1/users", headers=headers(), json={"name": "x"})
    assert r.status_code == 405
    assert len(client.get("/api/v1/users", headers=headers()).json()["data"]) == 25


# -- Step 2 "Example Response" and Step 3 "Available Endpoints": shapes -----------------------

def test_user_list_has_the_seed_shape(client: httpx.Client) -> None:
    r = client.get("/api/v1/users", headers=headers())
    assert r.status_code == 200
    first = r.json()["data"][0]
    assert first == {
        "id": "user_001",
        "type": "user",
        "attributes": {
            "staffId": "S0001", "email": "john.doe@company.com", "name": "John Doe",
            "preferred_name": "John", "phone": "+60123456789", "status": "active",
        },
    }


def test_user_detail_includes_department_position_and_work_locations(
        client: httpx.Client) -> None:
    r = client.get("/api/v1/users/user_001", headers=headers())
    assert r.status_code == 200
    body = r.json()
    assert body["data"]["attributes"]["staffId"] == "S0001"
    rel = body["data"]["relationships"]
    assert rel["department"]["data"] == {"type": "department", "id": "dept_eng"}
    assert rel["position"]["data"] == {"type": "position", "id": "pos_swe"}
    assert len(rel["work_locations"]["data"]) == 2
    included = {(o["type"], o["id"]): o["attributes"] for o in body["included"]}
    assert included[("department", "dept_eng")] == {"name": "Engineering"}
    assert included[("position", "pos_swe")] == {"title": "Software Engineer"}
    names = sorted(a["name"] for (t, _), a in included.items() if t == "work_location")
    assert names == ["Kuala Lumpur", "Remote"]


def test_departments_and_positions_lists_ASSUMED_attributes(client: httpx.Client) -> None:
    deps = client.get("/api/v1/departments", headers=headers()).json()["data"]
    assert deps == [
        {"id": "dept_eng", "type": "department", "attributes": {"name": "Engineering"}},
        {"id": "dept_002", "type": "department", "attributes": {"name": "People"}},
    ]
    pos = client.get("/api/v1/positions", headers=headers()).json()["data"]
    assert [p["attributes"]["title"] for p in pos] == ["Software Engineer", "HR Partner"]
    assert all(p["type"] == "position" for p in pos)


# -- ASSUMED: pagination (the seed is silent) -----------------------------------------------

def test_pagination_defaults_to_25_ASSUMED(client: httpx.Client) -> None:
    body = client.get("/api/v1/users", headers=headers()).json()
    assert len(body["data"]) == 25
    assert body["meta"] == {"total": USERS, "page": 1, "size": 25}
    assert body["links"]["prev"] is None
    assert "page%5Bnumber%5D=2" in body["links"]["next"]


def test_page_size_is_capped_at_100_ASSUMED(client: httpx.Client) -> None:
    body = client.get("/api/v1/users", headers=headers(),
                      params={"page[size]": 1000}).json()
    assert len(body["data"]) == 100
    assert body["meta"]["size"] == 100


def test_following_next_links_returns_every_user_once_ASSUMED(client: httpx.Client) -> None:
    url: str | None = "/api/v1/users?page[size]=100"
    seen: list[str] = []
    pages = 0
    while url:
        body = client.get(url, headers=headers()).json()
        seen += [u["attributes"]["staffId"] for u in body["data"]]
        url = body["links"]["next"]
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == USERS


def test_a_page_past_the_end_is_empty_ASSUMED(client: httpx.Client) -> None:
    body = client.get("/api/v1/users", headers=headers(),
                      params={"page[number]": 99, "page[size]": 100}).json()
    assert body["data"] == []
    assert body["meta"]["total"] == USERS
    assert body["links"]["next"] is None


@pytest.mark.parametrize("param,value", [("page[size]", "0"), ("page[number]", "x")])
def test_bad_page_parameters_are_400_ASSUMED(client: httpx.Client, param: str,
                                             value: str) -> None:
    r = client.get("/api/v1/users", headers=headers(), params={param: value})
    assert r.status_code == 400
    assert list(r.json()["errors"]) == [param]


# -- ASSUMED: include=department,position on the user list ----------------------------------

def test_list_include_adds_relationships_and_included_once_ASSUMED(
        client: httpx.Client) -> None:
    body = client.get("/api/v1/users", headers=headers(),
                      params={"include": "department,position", "page[size]": 100}).json()
    users = body["data"]
    assert users[1]["relationships"] == {
        "department": {"data": {"type": "department", "id": "dept_002"}},
        "position": {"data": {"type": "position", "id": "pos_002"}},
    }
    assert users[5]["relationships"]["position"]["data"] is None
    keys = [(o["type"], o["id"]) for o in body["included"]]
    assert sorted(keys) == sorted(set(keys)) == [
        ("department", "dept_002"), ("department", "dept_eng"),
        ("position", "pos_002"), ("position", "pos_swe"),
    ]


def test_list_include_rejects_unknown_names_ASSUMED(client: httpx.Client) -> None:
    r = client.get("/api/v1/users", headers=headers(), params={"include": "salary"})
    assert r.status_code == 400
    assert "include" in r.json()["errors"]


# -- the seed fixture format --------------------------------------------------------------

def test_default_seed_has_one_all_scope_staging_token() -> None:
    emu = HrmsEmulator()
    assert emu.credentials() == {"token": DEFAULT_TOKEN, "environment": "staging"}
    assert emu.state["tokens"][DEFAULT_TOKEN]["scopes"] == sorted(SCOPES)


def test_credentials_prefer_a_token_with_every_scope(emu: HrmsEmulator) -> None:
    assert emu.credentials() == {"token": "all-scopes", "environment": "staging"}


def test_a_fixture_naming_an_unknown_department_is_refused() -> None:
    with pytest.raises(ValueError, match="S9 refers to unknown department 'Sales'"):
        HrmsEmulator({"users": [{"staffId": "S9", "department": "Sales"}]})
