"""Contract tests: the Worklete emulator against seed 004 (Swagger Worklete 1.0.0), over
real HTTP.

Each test names the seed section it checks. Behaviour the seed is silent about (object
shapes, the page-size cap, the CSV columns and their upsert semantics) is marked ASSUMED in
the test name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orgctl.sandbox.core import Profile, ServerThread
from orgctl.sandbox.worklete import WorkleteEmulator

API = "/api/v1"

SEED: dict[str, Any] = {
    "users": [
        {"username": "admin", "password": "admin-pass", "email": "admin@acme.example",
         "first_name": "Ada", "last_name": "Admin"},
        {"username": "plain", "password": "plain-pass", "email": "plain@acme.example",
         "first_name": "Paul", "last_name": "Plain"},
        {"email": "bob@acme.example", "first_name": "Bob", "last_name": "Builder"},
    ],
    "organizations": [{"name": "Acme", "s3_integrations_folder": "acme"}, {"name": "Other"}],
    "teams": [
        {"name": "Engineering"},
        {"name": "Platform", "parent": "Engineering"},
        {"name": "Sales"},
        {"name": "Elsewhere", "organization": "Other"},
    ],
    "memberships": [
        {"user": "admin", "org_admin": True, "employee_id": "E-1"},
        {"user": "plain", "teams": ["Sales"], "employee_id": "E-2"},
        {"user": "bob@acme.example", "teams": ["Engineering", "Platform"], "employee_id": "E-3"},
        {"user": "admin", "organization": "Other", "org_admin": True},
    ],
    "team_admins": [{"team": "Platform", "user": "bob@acme.example"}],
    "invitations": [{"user": "bob@acme.example", "code": "4DD47K"}],
}


class Api:
    """A signed-in httpx client against one running emulator."""

    def __init__(self, emu: WorkleteEmulator, base: str):
        self.emu = emu
        self.base = base
        self.client = httpx.Client(base_url=base + API, timeout=10)
        self.headers: dict[str, str] = {}

    def sign_in(self, username: str = "admin", password: str = "admin-pass") -> httpx.Response:
        resp = self.client.post("/auth/sign_in", json={
            "username": username, "password": password, "provider": "username"})
        if resp.status_code == 200:
            self.headers = {h: resp.headers[h] for h in ("access-token", "client", "uid")}
        return resp

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=self.headers, **kwargs)

    def org(self, name: str = "Acme") -> str:
        return next(o["id"] for o in self.emu.state["organizations"].values()
                    if o["name"] == name)

    def team(self, name: str) -> str:
        return next(t["id"] for t in self.emu.state["teams"].values() if t["name"] == name)

    def membership(self, email: str) -> dict[str, Any]:
        users = self.emu.state["users"]
        return next(m for m in self.emu.state["memberships"].values()
                    if users[m["user_id"]]["email"] == email
                    and m["organization_id"] == self.org())


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    servers: list[ServerThread] = []
    clients: list[Api] = []

    def make(seed: dict[str, Any] | None = None, **options: Any) -> Api:
        emu = WorkleteEmulator(SEED if seed is None else seed, **options)
        st = ServerThread({"worklete": emu.app}).start()
        servers.append(st)
        api = Api(emu, st.url("worklete"))
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.client.close()
    for st in servers:
        st.stop()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    a = make_api()
    assert a.sign_in().status_code == 200
    return a


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- auth ---------------------------------------------------------------------------------

def test_sign_in_answers_the_three_token_headers_and_the_user(make_api: Callable[..., Api]
                                                               ) -> None:
    """Seed "Sign in a user" and the header parameters of every other call."""
    api = make_api()
    resp = api.sign_in()
    assert resp.status_code == 200
    assert resp.json()["data"]["username"] == "admin"
    assert resp.headers["uid"] == "admin"
    assert resp.headers["access-token"] and resp.headers["client"]
    assert "password" not in resp.text and "admin-pass" not in resp.text
    assert api.call("GET", "/organizations").status_code == 200


def test_sign_in_with_a_wrong_password_is_401(make_api: Callable[..., Api]) -> None:
    """Seed "Sign in a user": 401 Unauthorized."""
    api = make_api()
    assert api.sign_in(password="wrong").status_code == 401
    assert api.sign_in(username="nobody").status_code == 401
    assert api.sign_in(username="bob@acme.example").status_code == 401  # no password


@pytest.mark.parametrize("missing", ["access-token", "client", "uid"])
def test_each_of_the_three_headers_is_required(api: Api, missing: str) -> None:
    """Seed: `access-token`, `client` and `uid` are required header parameters."""
    headers = {k: v for k, v in api.headers.items() if k != missing}
    resp = api.client.get("/organizations", headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {"errors": ["You need to sign in or sign up before continuing."]}


def test_headers_of_another_session_or_an_expired_token_are_401(api: Api) -> None:
    """Seed header auth; ASSUMED: tokens expire after `token_ttl`."""
    forged = dict(api.headers, client="someone-else")
    assert api.client.get("/organizations", headers=forged).status_code == 401
    api.emu.expire_tokens()
    assert api.call("GET", "/organizations").status_code == 401
    assert api.sign_in().status_code == 200
    assert api.call("GET", "/organizations").status_code == 200


# -- organizations and teams ----------------------------------------------------------------

def test_organizations_lists_the_callers_organizations(api: Api) -> None:
    """Seed "List all organizations": `{data, meta}`."""
    body = api.call("GET", "/organizations").json()
    assert sorted(o["name"] for o in body["data"]) == ["Acme", "Other"]
    assert body["meta"]["total"] == 2


def test_team_list_pages_default_to_page_0_of_25(make_api: Callable[..., Api]) -> None:
    """Seed "List teams": `page` default 0, `size` default 25. ASSUMED: meta.total, and
    sizes above 100 clamped to 100."""
    seed = {"teams": [{"name": f"Team {i:03d}"} for i in range(130)]}
    api = make_api(seed)
    assert api.sign_in("sandbox-admin", "sandbox-password").status_code == 200
    path = f"/organizations/{api.org()}/teams"

    first = api.call("GET", path).json()
    assert len(first["data"]) == 25
    assert first["meta"]["total"] == 130
    assert first["data"][0]["name"] == "Team 000"

    page_5 = api.call("GET", path, params={"page": 5}).json()
    assert [t["name"] for t in page_5["data"]] == [f"Team {i:03d}" for i in range(125, 130)]

    big = api.call("GET", path, params={"size": 500, "page": 1}).json()
    assert len(big["data"]) == 30 and big["meta"]["size"] == 100

    assert api.call("GET", path, params={"page": -1}).status_code == 400


def test_team_create_rename_with_put_and_patch_then_delete_is_204(api: Api) -> None:
    """Seed "Create a team", "Update a team" (PUT and PATCH), "Delete a team" (204)."""
    created = api.call("POST", f"/organizations/{api.org()}/teams", json={"name": "Ops"})
    assert created.status_code == 200
    team = created.json()["data"]
    assert team["name"] == "Ops" and team["parent_id"] is None

    put = api.call("PUT", f"/teams/{team['id']}", json={"name": "Operations"})
    assert put.status_code == 200 and put.json()["data"]["name"] == "Operations"
    patch = api.call("PATCH", f"/teams/{team['id']}", json={"name": "Ops Team"})
    assert patch.status_code == 200
    assert api.call("GET", f"/teams/{team['id']}").json()["data"]["name"] == "Ops Team"

    deleted = api.call("DELETE", f"/teams/{team['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.call("GET", f"/teams/{team['id']}").status_code == 404


def test_deleting_a_parent_team_moves_its_children_up(api: Api) -> None:
    """ASSUMED (seed silent): sub-teams of a deleted team move to its parent."""
    assert api.call("DELETE", f"/teams/{api.team('Engineering')}").status_code == 204
    platform = api.call("GET", f"/teams/{api.team('Platform')}").json()["data"]
    assert platform["parent_id"] is None
    assert api.call("GET", f"/teams/{api.team('Platform')}/admins").json()["data"]


def test_admin_teams_carry_a_parent_and_can_move(api: Api) -> None:
    """Seed "Create a team" / "Retrieve the team(s)" / "Update the team" under
    /worklete_admin (WorkleteAdminOrgTeam; ASSUMED `{data: {name, parent_id}}`)."""
    base = f"/worklete_admin/organizations/{api.org()}/teams"
    eng = api.team("Engineering")
    created = api.call("POST", base, json={"data": {"name": "SRE", "parent_id": eng}})
    assert created.status_code == 200
    sre = created.json()["data"]
    assert sre["parent_id"] == eng

    listed = {t["name"]: t["parent_id"] for t in api.call("GET", base).json()["data"]}
    assert listed["SRE"] == eng and listed["Platform"] == eng and "Elsewhere" not in listed

    moved = api.call("PATCH", f"{base}/{sre['id']}",
                     json={"data": {"parent_id": api.team("Platform")}})
    assert moved.json()["data"]["parent_id"] == api.team("Platform")
    assert api.call("GET", f"{base}/{sre['id']}").json()["data"]["parent_id"] == \
        api.team("Platform")
    root = api.call("PATCH", f"{base}/{sre['id']}", json={"data": {"parent_id": None}})
    assert root.json()["data"]["parent_id"] is None


def test_admin_team_parent_must_exist_in_the_organization_and_not_make_a_cycle(api: Api
                                                                              ) -> None:
    """Seed "Create a team" (admin): 404 Resource not found. ASSUMED: a cycle is 422."""
    base = f"/worklete_admin/organizations/{api.org()}/teams"
    elsewhere = api.team("Elsewhere")
    assert api.call("POST", base, json={"data": {"name": "X", "parent_id": elsewhere}}
                    ).status_code == 404
    cycle = api.call("PATCH", f"{base}/{api.team('Engineering')}",
                     json={"data": {"parent_id": api.team("Platform")}})
    assert cycle.status_code == 422


def test_admin_endpoints_are_403_for_a_member_who_is_not_an_org_admin(api: Api) -> None:
    """Seed: the worklete_admin endpoints answer 403 Forbidden (ASSUMED: to non-admins)."""
    assert api.sign_in("plain", "plain-pass").status_code == 200
    assert api.call("GET", f"/worklete_admin/organizations/{api.org()}/teams").status_code \
        == 403
    assert api.call("GET", "/worklete_admin/memberships").status_code == 403
    assert api.call("GET", f"/organizations/{api.org()}/teams").status_code == 200


# -- team admins ----------------------------------------------------------------------------

def test_team_admins_create_list_and_revoke_by_membership_id(api: Api) -> None:
    """Seed "Retrieve team admins", "Make a membership a team admin of the team",
    "Revoke team admin access" (admin_id: "a unique identifier for a membership")."""
    sales = api.team("Sales")
    plain = api.membership("plain@acme.example")["id"]
    assert api.call("GET", f"/teams/{sales}/admins").json()["data"] == []

    made = api.call("POST", f"/teams/{sales}/admins",
                    json={"team_id": sales, "membership_id": plain})
    assert made.status_code == 200
    assert made.json()["data"]["membership_id"] == plain

    listed = api.call("GET", f"/teams/{sales}/admins").json()["data"]
    assert [(a["membership_id"], a["email"]) for a in listed] == [(plain, "plain@acme.example")]

    revoked = api.call("DELETE", f"/teams/{sales}/admins/{plain}")
    assert revoked.status_code == 200
    assert api.call("GET", f"/teams/{sales}/admins").json()["data"] == []
    assert api.call("DELETE", f"/teams/{sales}/admins/{plain}").status_code == 404


def test_team_admin_lists_follow_each_grant_and_revoke(api: Api) -> None:
    """Seed "Retrieve team admins": the lists are indexed by team (B1), yet a revoke
    followed by a grant on another team, which leaves as many records as before, shows on
    both teams."""
    sales, engineering = api.team("Sales"), api.team("Engineering")
    plain = api.membership("plain@acme.example")["id"]
    api.call("POST", f"/teams/{sales}/admins", json={"membership_id": plain})
    assert len(api.call("GET", f"/teams/{sales}/admins").json()["data"]) == 1
    api.call("DELETE", f"/teams/{sales}/admins/{plain}")
    api.call("POST", f"/teams/{engineering}/admins", json={"membership_id": plain})
    assert api.call("GET", f"/teams/{sales}/admins").json()["data"] == []
    listed = api.call("GET", f"/teams/{engineering}/admins").json()["data"]
    assert [a["membership_id"] for a in listed] == [plain]


def test_a_team_admin_must_be_a_membership_of_the_teams_organization(api: Api) -> None:
    """Seed "Make a membership a team admin": ASSUMED 404 for a foreign membership."""
    other = next(m["id"] for m in api.emu.state["memberships"].values()
                 if m["organization_id"] == api.org("Other"))
    resp = api.call("POST", f"/teams/{api.team('Sales')}/admins",
                    json={"team_id": api.team("Sales"), "membership_id": other})
    assert resp.status_code == 404


# -- memberships -----------------------------------------------------------------------------

def test_memberships_filter_by_organization_team_and_id(api: Api) -> None:
    """Seed "Retrieve a list of memberships": organization_id, id, team_id, comma-delimited."""
    path = "/worklete_admin/memberships"

    def emails(params: dict[str, str]) -> list[str]:
        body = api.call("GET", path, params=params).json()
        return sorted(m["user"]["email"] for m in body["data"])

    acme = api.org()
    assert emails({"organization_id": acme}) == [
        "admin@acme.example", "bob@acme.example", "plain@acme.example"]
    both = f"{acme},{api.org('Other')}"
    assert emails({"organization_id": both}).count("admin@acme.example") == 2
    teams = f"{api.team('Sales')},{api.team('Platform')}"
    assert emails({"team_id": teams}) == ["bob@acme.example", "plain@acme.example"]
    ids = f"{api.membership('bob@acme.example')['id']},{api.membership('plain@acme.example')['id']}"
    assert emails({"id": ids, "organization_id": acme}) == [
        "bob@acme.example", "plain@acme.example"]


def test_membership_pages_show_each_change_to_a_membership_or_its_user(api: Api) -> None:
    """Seed "Retrieve a list of memberships": the list keeps each membership encoded
    between requests (B1), yet changes made through the API, to the membership or to its
    user, and an edit made to the state in place (as a test may make one) all show on the
    next read."""
    plain = api.membership("plain@acme.example")

    def listed() -> dict[str, Any]:
        data = api.call("GET", "/worklete_admin/memberships",
                        params={"organization_id": api.org()}).json()["data"]
        return next(m for m in data if m["id"] == plain["id"])

    assert (listed()["org_admin"], listed()["user"]["email"]) == (False, "plain@acme.example")
    api.call("PATCH", f"/memberships/{plain['id']}/admin_permission",
             params={"org_admin": "true"})
    assert listed()["org_admin"] is True
    assert api.call("PATCH", f"/users/{plain['user_id']}",
                    json={"email": "paul@acme.example"}).json() is True
    assert listed()["user"]["email"] == "paul@acme.example"
    with api.emu.lock:
        plain["team_ids"].append(api.team("Engineering"))
    assert listed()["team_ids"] == [api.team("Sales"), api.team("Engineering")]


def test_membership_by_id_on_both_endpoints(api: Api) -> None:
    """Seed "Get a membership" and "Retrieve the membership by id". ASSUMED shape."""
    bob = api.membership("bob@acme.example")
    for path in (f"/memberships/{bob['id']}", f"/worklete_admin/memberships/{bob['id']}"):
        data = api.call("GET", path).json()["data"]
        assert data["employee_id"] == "E-3"
        assert sorted(data["team_ids"]) == sorted([api.team("Engineering"),
                                                   api.team("Platform")])
        assert data["user"]["email"] == "bob@acme.example"
    assert api.call("GET", "/memberships/no-such-id").status_code == 404


def test_admin_permission_sets_and_unsets_org_admin(api: Api) -> None:
    """Seed "Update admin permission": `?org_admin=true|false`, the updated membership."""
    plain = api.membership("plain@acme.example")["id"]
    up = api.call("PATCH", f"/memberships/{plain}/admin_permission",
                  params={"org_admin": "true"})
    assert up.status_code == 200 and up.json()["data"]["org_admin"] is True
    down = api.call("PATCH", f"/memberships/{plain}/admin_permission",
                    params={"org_admin": "false"})
    assert down.json()["data"]["org_admin"] is False
    assert api.membership("plain@acme.example")["org_admin"] is False


def test_admin_permission_is_403_for_a_caller_who_is_not_an_org_admin(api: Api) -> None:
    """Seed "Update admin permission": 403 Forbidden."""
    bob = api.membership("bob@acme.example")["id"]
    assert api.sign_in("plain", "plain-pass").status_code == 200
    resp = api.call("PATCH", f"/memberships/{bob}/admin_permission",
                    params={"org_admin": "true"})
    assert resp.status_code == 403
    assert api.membership("bob@acme.example")["org_admin"] is False


# -- users and invitations --------------------------------------------------------------------

def test_user_email_patch_answers_true_and_false(api: Api) -> None:
    """Seed "Update user" (PATCH /users/{id}): `{email}`, answers true or false.
    ASSUMED: false when another user has the address."""
    bob = api.membership("bob@acme.example")["user_id"]
    ok = api.call("PATCH", f"/users/{bob}", json={"email": "robert@acme.example"})
    assert ok.status_code == 200 and ok.json() is True
    user = api.call("GET", f"/users/{bob}").json()["data"]
    assert user["email"] == "robert@acme.example"
    taken = api.call("PATCH", f"/users/{bob}", json={"email": "admin@acme.example"})
    assert taken.status_code == 200 and taken.json() is False
    assert api.call("GET", f"/users/{bob}").json()["data"]["email"] == "robert@acme.example"


def test_users_list_never_shows_a_password(api: Api) -> None:
    """Seed "List all users": `{data, meta}`; the sample's secrets are not emulated."""
    body = api.call("GET", "/users").json()
    assert {u["email"] for u in body["data"]} >= {"admin@acme.example", "bob@acme.example"}
    assert "password" not in str(body) and "tokens" not in str(body)


def test_invitation_by_code_needs_no_auth(api: Api) -> None:
    """Seed "Retrieve the invitation": no header parameters, a flat object."""
    resp = httpx.get(f"{api.base}{API}/invitations/4DD47K")
    assert resp.status_code == 200
    assert resp.json()["organization_name"] == "Acme"
    assert resp.json()["membership_first_name"] == "Bob"
    assert httpx.get(f"{api.base}{API}/invitations/NOPE00").status_code == 404
    listed = api.call("GET", "/worklete_admin/invitations").json()["data"]
    assert [i["invite_code"] for i in listed] == ["4DD47K"]


# -- the memberships CSV upload -----------------------------------------------------------------

CSV = (
    "email,first_name,last_name,employee_id,team_ids\r\n"
    "carol@acme.example,Carol,Danvers,E-4,{sales};{eng}\r\n"
    "bob@acme.example,Bob,Builder,E-3,{sales}\r\n"
)


def _signed_url(api: Api) -> str:
    resp = api.call("GET", f"/worklete_admin/organizations/{api.org()}/upload_memberships_list_url")
    assert resp.status_code == 200
    return resp.json()["data"]["url"]


def test_upload_url_is_a_signed_csv_url_in_the_integrations_folder(api: Api) -> None:
    """Seed "Generate a signed url for the memberships list": under s3_integrations_folder,
    a random name ending in .csv. ASSUMED `{data: {url}}`."""
    url = httpx.URL(_signed_url(api))
    assert url.path.startswith("/_uploads/acme/") and url.path.endswith(".csv")
    assert url.params.get("signature")
    assert httpx.URL(_signed_url(api)).path != url.path


def test_uploaded_csv_creates_memberships_users_and_invitations_asynchronously(
        make_api: Callable[..., Api]) -> None:
    """Seed "Generate a signed url for the memberships list". ASSUMED: the CSV columns,
    processing after the PUT, an upsert by email that also updates existing memberships."""
    api = make_api(upload_delay=0.1)
    api.sign_in()
    url = _signed_url(api)
    csv_text = CSV.format(sales=api.team("Sales"), eng=api.team("Engineering"))
    put = httpx.put(url, content=csv_text.encode(), headers={"content-type": "text/csv"})
    assert put.status_code == 200

    def carol_listed() -> bool:
        body = api.call("GET", "/worklete_admin/memberships",
                        params={"organization_id": api.org()}).json()
        return any(m["user"]["email"] == "carol@acme.example" for m in body["data"])

    assert _wait_for(carol_listed)
    carol = api.membership("carol@acme.example")
    assert carol["employee_id"] == "E-4" and carol["first_name"] == "Carol"
    assert sorted(carol["team_ids"]) == sorted([api.team("Sales"), api.team("Engineering")])
    invitations = api.call("GET", "/worklete_admin/invitations",
                           params={"membership_id": carol["id"]}).json()["data"]
    assert len(invitations) == 1
    code = invitations[0]["invite_code"]
    assert httpx.get(f"{api.base}{API}/invitations/{code}").json()["membership_last_name"] \
        == "Danvers"
    # bob already had a membership: updated in place, not duplicated
    assert api.membership("bob@acme.example")["team_ids"] == [api.team("Sales")]
    bobs = [m for m in api.emu.state["memberships"].values()
            if api.emu.state["users"][m["user_id"]]["email"] == "bob@acme.example"]
    assert len(bobs) == 1


def test_uploaded_csv_is_not_applied_before_the_processing_delay(
        make_api: Callable[..., Api]) -> None:
    """ASSUMED: the upload is processed asynchronously, `upload_delay` after the PUT."""
    api = make_api(upload_delay=60)
    api.sign_in()
    url = _signed_url(api)
    csv_text = CSV.format(sales=api.team("Sales"), eng=api.team("Engineering"))
    assert httpx.put(url, content=csv_text.encode()).status_code == 200
    uploads = list(api.emu.state["uploads"].values())
    assert [u["status"] for u in uploads] == ["received"]
    emails = {u["email"] for u in api.emu.state["users"].values()}
    assert "carol@acme.example" not in emails


def test_upload_rows_with_unknown_teams_are_skipped_and_reported(api: Api) -> None:
    """ASSUMED: a row naming a team of another organisation is not applied."""
    name = httpx.URL(_signed_url(api)).path.rsplit("/", 1)[1]
    api.emu.process_upload(name, f"email,team_ids\r\nzed@acme.example,{api.team('Elsewhere')}\r\n")
    upload = api.emu.state["uploads"][name]
    assert upload["created"] == 0 and len(upload["errors"]) == 1
    assert "zed@acme.example" not in {u["email"] for u in api.emu.state["users"].values()}


@pytest.mark.parametrize("tamper", ["signature", "expires", "folder"])
def test_upload_with_a_bad_signature_is_refused(api: Api, tamper: str) -> None:
    """Seed: a *signed* URL. ASSUMED: S3's 403 AccessDenied for a tampered URL."""
    url = httpx.URL(_signed_url(api))
    if tamper == "signature":
        url = url.copy_set_param("signature", "0" * 64)
    elif tamper == "expires":
        url = url.copy_set_param("expires", str(int(url.params["expires"]) + 60))
    else:
        url = url.copy_with(path=url.path.replace("/acme/", "/other/"))
    resp = httpx.put(url, content=b"email\r\nmallory@acme.example\r\n")
    assert resp.status_code == 403 and "AccessDenied" in resp.text
    assert all(u["status"] == "issued" for u in api.emu.state["uploads"].values())


def test_an_expired_upload_url_is_refused(make_api: Callable[..., Api]) -> None:
    """ASSUMED: signed URLs expire after `upload_url_ttl` seconds."""
    api = make_api(upload_url_ttl=-1)
    api.sign_in()
    resp = httpx.put(_signed_url(api), content=b"email\r\nlate@acme.example\r\n")
    assert resp.status_code == 403


def test_my_teams_lists_the_teams_of_a_membership(api: Api) -> None:
    """Seed "Get a list of teams that a membership belongs to": `{data: [teams]}`."""
    bob = api.membership("bob@acme.example")["id"]
    teams = api.call("GET", f"/memberships/{bob}/my_teams").json()["data"]
    assert sorted(t["name"] for t in teams) == ["Engineering", "Platform"]


# -- the strict profile: only what seed 004 documents, other choices where it is silent -------

STRICT = Profile.named("strict")


@pytest.fixture
def strict(make_api: Callable[..., Api]) -> Api:
    a = make_api(profile=STRICT)
    assert a.sign_in().status_code == 200
    return a


def test_strict_team_list_keeps_the_documented_defaults_and_caps_without_paging_keys(
        make_api: Callable[..., Api]) -> None:
    """Seed "List teams": page from 0, size default 25, kept. Silent: the cap (the
    profile's, 25 here, below the permissive 100) and the meta (`{}`, the seed's sample)."""
    api = make_api({"teams": [{"name": f"Team {i:03d}"} for i in range(60)]}, profile=STRICT)
    assert api.sign_in("sandbox-admin", "sandbox-password").status_code == 200
    path = f"/organizations/{api.org()}/teams"
    first = api.call("GET", path).json()
    assert len(first["data"]) == 25 and first["meta"] == {}
    asked = api.call("GET", path, params={"size": 100}).json()
    assert len(asked["data"]) == STRICT.cap(100) == 25
    last = api.call("GET", path, params={"size": 100, "page": 2}).json()
    seen = {t["id"] for p in (0, 1, 2) for t in api.call(
        "GET", path, params={"size": 100, "page": p}).json()["data"]}
    assert len(last["data"]) == 10 and len(seen) == 60


def test_strict_lists_the_seed_shows_without_paging_are_whole(strict: Api) -> None:
    """Seed: organizations, users and memberships lists have no page or size parameter;
    the strict server ignores them and answers the whole list."""
    for path, params in (("/organizations", {}), ("/worklete_admin/users", {}),
                         ("/worklete_admin/memberships", {"organization_id": strict.org()})):
        whole = strict.call("GET", path, params=params).json()
        paged = strict.call("GET", path, params={**params, "page": 1, "size": 1}).json()
        assert whole == paged and whole["meta"] == {}
    assert len(whole["data"]) == 3


def test_strict_memberships_carry_no_user_employee_id_or_team_ids(strict: Api) -> None:
    """Silent in seed 004: the membership's fields. The strict server's are its own."""
    bob = strict.membership("bob@acme.example")
    for path in (f"/memberships/{bob['id']}", f"/worklete_admin/memberships/{bob['id']}"):
        data = strict.call("GET", path).json()["data"]
        assert list(data) == ["org_admin", "last_name", "first_name", "user_id",
                              "organization_id", "id"]  # the profile's key order
    teams = strict.call("GET", "/worklete_admin/memberships",
                        params={"team_id": strict.team("Platform")}).json()["data"]
    assert [m["id"] for m in teams] == [bob["id"]]


def test_strict_team_admins_are_memberships_revoked_by_membership_id_only(
        strict: Api) -> None:
    """Seed "Revoke team admin access": admin_id is "a unique identifier for a
    membership". The strict server lists admins as their memberships and takes only that."""
    platform = strict.team("Platform")
    bob = strict.membership("bob@acme.example")["id"]
    [listed] = strict.call("GET", f"/teams/{platform}/admins").json()["data"]
    assert listed["id"] == bob and "membership_id" not in listed
    record = next(iter(strict.emu.state["team_admins"]))
    assert strict.call("DELETE", f"/teams/{platform}/admins/{record}").status_code == 404
    assert strict.call("DELETE", f"/teams/{platform}/admins/{bob}").status_code == 200


def test_strict_sign_in_without_provider_is_by_email(make_api: Callable[..., Api]) -> None:
    """Seed "Sign in a user": provider is "email" or "username"; without it, the strict
    server signs in by email (devise_token_auth's default), the permissive one by name."""
    api = make_api(profile=STRICT)
    no_provider = {"username": "admin@acme.example", "password": "admin-pass"}
    assert api.client.post("/auth/sign_in", json=no_provider).status_code == 200
    by_name = {"username": "admin", "password": "admin-pass"}
    assert api.client.post("/auth/sign_in", json=by_name).status_code == 401
    odd = {**by_name, "provider": "ldap"}
    assert api.client.post("/auth/sign_in", json=odd).status_code == 401
    permissive = make_api()
    assert permissive.client.post("/auth/sign_in", json=by_name).status_code == 200


def test_strict_csv_replaces_names_and_teams_from_its_own_team_column(
        make_api: Callable[..., Api]) -> None:
    """Silent in seed 004: the CSV's columns and semantics. The strict server replaces:
    an empty cell clears, and a missing team column (`membership_team_column`, here
    `teams`, holding names) strips the row's member of every team."""
    api = make_api(profile=STRICT, membership_team_column="teams")
    api.sign_in()
    name = httpx.URL(_signed_url(api)).path.rsplit("/", 1)[1]
    api.emu.process_upload(name, "email,first_name,last_name,teams\r\n"
                                 "plain@acme.example,Paula,,Engineering;Platform\r\n")
    plain = api.membership("plain@acme.example")
    assert (plain["first_name"], plain["last_name"]) == ("Paula", None)
    assert sorted(plain["team_ids"]) == sorted([api.team("Engineering"),
                                                api.team("Platform")])
    api.emu.process_upload(name, "email,first_name,last_name,team_ids\r\n"
                                 f"bob@acme.example,Bob,Builder,{api.team('Sales')}\r\n")
    assert api.membership("bob@acme.example")["team_ids"] == []
