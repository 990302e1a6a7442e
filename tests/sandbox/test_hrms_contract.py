"""Contract tests: the HRMS emulator against seed 002 (HRMS public API), over real HTTP.

Each test names the seed section it checks. Behaviour the seed is silent about
(pagination, `include=`, the order of checks) is marked ASSUMED in the test name. The
strict profile's tests (at the end) check that it serves only what the seed documents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from orgctl.sandbox.core import Profile, ServerThread
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


# -- the strict profile: only what seed 002 documents, other choices where it is silent ------

@pytest.fixture(scope="module")
def strict() -> Iterator[tuple[HrmsEmulator, httpx.Client]]:
    seed = {**SEED, "users": [{k: v for k, v in u.items() if k != "id"}
                              for u in SEED["users"]]}
    seed["users"][1]["id"] = "kept-by-the-fixture"
    emu = HrmsEmulator(seed, profile=Profile.named("strict"))
    with ServerThread({"hrms": emu.app}) as st, httpx.Client(base_url=st.url("hrms")) as c:
        yield emu, c


def test_strict_lists_are_whole_without_paging_keys_whatever_is_asked(
        strict: tuple[HrmsEmulator, httpx.Client]) -> None:
    """Step 2 "Example Response" shows `{"data": [...]}` only, and Step 3 "List all
    users": no paging keys, every user; undocumented parameters are ignored, not 400."""
    _, client = strict
    for params in ({}, {"page[size]": 10, "page[number]": 2}, {"page[size]": "0"},
                   {"include": "department,position"}, {"include": "salary"}):
        body = client.get("/api/v1/users", headers=headers(), params=params).json()
        assert list(body) == ["data"], params
        assert len(body["data"]) == USERS, params
    for route, count in (("/api/v1/departments", 2), ("/api/v1/positions", 2)):
        body = client.get(route, headers=headers(), params={"page[size]": 1}).json()
        assert list(body) == ["data"] and len(body["data"]) == count


def test_strict_list_users_carry_only_the_documented_attributes(
        strict: tuple[HrmsEmulator, httpx.Client]) -> None:
    _, client = strict
    data = client.get("/api/v1/users", headers=headers(),
                      params={"include": "department,position"}).json()["data"]
    first = data[0]
    assert set(first) == {"id", "type", "attributes"}  # no relationships
    assert first["attributes"] == {
        "staffId": "S0001", "email": "john.doe@company.com", "name": "John Doe",
        "preferred_name": "John", "phone": "+60123456789", "status": "active"}
    assert list(first) == ["attributes", "type", "id"]  # another key order than documented
    assert list(first["attributes"])[0] == "status"


def test_strict_ids_are_not_small_numbers_unless_the_fixture_gives_them(
        strict: tuple[HrmsEmulator, httpx.Client]) -> None:
    _, client = strict
    ids = [u["id"] for u in client.get("/api/v1/users", headers=headers()).json()["data"]]
    assert ids[1] == "kept-by-the-fixture"
    made = [int(i) for i in ids if i != "kept-by-the-fixture"]
    assert all(i > 1_000_000 for i in made) and made == sorted(made)
    assert len(set(ids)) == USERS


def test_strict_user_details_embed_department_position_and_work_locations(
        strict: tuple[HrmsEmulator, httpx.Client]) -> None:
    """Step 3: the detail "includes department, position, work locations"; the shape is
    strict's choice (the seed shows none): objects in the attributes."""
    _, client = strict
    first, second = client.get("/api/v1/users", headers=headers()).json()["data"][:2]
    body = client.get(f"/api/v1/users/{first['id']}", headers=headers()).json()
    assert list(body) == ["data"]
    attributes = body["data"]["attributes"]
    assert attributes["department"] == {"name": "Engineering", "id": "dept_eng"}
    assert attributes["position"] == {"title": "Software Engineer", "id": "pos_swe"}
    assert sorted(w["name"] for w in attributes["work_locations"]) == ["Kuala Lumpur",
                                                                       "Remote"]
    assert "relationships" not in body["data"]
    people = client.get(f"/api/v1/users/{second['id']}", headers=headers()).json()
    assert people["data"]["attributes"]["department"]["name"] == "People"


def test_strict_requires_content_type_json_in_the_seed_s_400_shape(
        strict: tuple[HrmsEmulator, httpx.Client]) -> None:
    """Step 3 "Content-Type Header Required"; Step 4's 400 "Validation failed" shape."""
    _, client = strict
    bare = {k: v for k, v in headers().items() if k != "Content-Type"}
    for sent in (bare, {**bare, "Content-Type": "text/plain"}):
        r = client.get("/api/v1/users", headers=sent)
        assert r.status_code == 400
        assert r.json() == {"message": "Validation failed", "errors": {
            "Content-Type": ["The Content-Type header must be application/json."]}}
    charset = {**bare, "Content-Type": "application/json; charset=utf-8"}
    assert client.get("/api/v1/positions", headers=charset).status_code == 200
    # The token is checked first, as before: a bad one is 401 whatever the Content-Type.
    assert client.get("/api/v1/users", headers={**bare, "Authorization": "Bearer no"}
                      ).status_code == 401


def test_the_permissive_profile_needs_no_content_type(client: httpx.Client) -> None:
    bare = {k: v for k, v in headers().items() if k != "Content-Type"}
    assert client.get("/api/v1/users", headers=bare).status_code == 200


def test_a_strict_profile_with_paging_keys_counts_the_whole_list() -> None:
    profile = dataclasses.replace(Profile.named("strict"), paging_keys=True, ids="uuid",
                                  shuffle_fields=False)
    emu = HrmsEmulator(SEED | {"users": [{"staffId": f"S{i}"} for i in range(40)]},
                       profile=profile)
    with ServerThread({"hrms": emu.app}) as st, httpx.Client(base_url=st.url("hrms")) as c:
        body = c.get("/api/v1/users", headers=headers(), params={"page[size]": 5}).json()
    assert body["meta"] == {"total": 40} and len(body["data"]) == 40
    assert all(len(u["id"]) == 36 for u in body["data"])  # uuids
