"""The Worklete API (seed 004, a Swagger 1.0.0 dump) as a local emulator: Devise-style
token-auth headers, organizations, teams (with parents through the admin endpoints), team
admins, memberships, users, invitations, and the memberships CSV uploaded to a signed URL
and processed asynchronously.

Routes live under `/api/v1/...`, so a provider's base URL is `http://127.0.0.1:PORT/api/v1`,
as the seed's is `https://connection.worklete.com/api/v1`. The signed upload URL is served
by the same app under `/_uploads/...` (the seed's "signed s3 url"), without auth headers.

Documented by the seed: the endpoints, methods, path and query parameters used here; the
three headers `access-token`, `client`, `uid` on every call after `POST /auth/sign_in`;
`page` (default 0) and `size` (default 25) on the team list; `{data, meta}` list envelopes
where the seed shows them; `DELETE /teams/{team_id}` answering 204; the 403 of
`PATCH /memberships/{id}/admin_permission`; `PATCH /users/{id}` answering `true`/`false`;
the flat invitation object of `GET /invitations/{code}` (which takes no auth headers); the
user fields of the seed's user sample; `admin_id` of the revoke endpoint described as "a
unique identifier for a membership".

Assumed, because the seed collapses most bodies to `{ }` (each marked ASSUMED where it is
implemented):
- every object's fields beyond the seed's samples (team, membership, team admin, upload URL);
- the 401 / 403 / 404 / 400 bodies, in devise_token_auth's `{"errors": [...]}` shape;
- tokens that do not rotate per request and expire after `token_ttl` seconds;
- pagination of `/organizations`, `/users`, `/worklete_admin/memberships` like the team list
  (page from 0, size default 25), sizes above 100 clamped to 100, meta
  `{page, size, total, total_pages}`;
- who may call what: `worklete_admin` endpoints, team writes and admin permission need an
  org admin of the organisation (or a user flagged `worklete_employee`), else 403;
- the memberships CSV (see `MEMBERSHIP_COLUMNS`): an upsert by email within the
  organisation, processed `upload_delay` seconds after the PUT;
- deleting a team re-parents its sub-teams to its parent and drops its admins and its id
  from memberships; duplicate team names and duplicate team-admin records are accepted
  (the seed shows no uniqueness rule, and accepting them lets tests count duplicates).

Profiles (`orgctl.sandbox.core.Profile`). The permissive profile is the server described
above, the one the provider was written beside. The strict profile serves only what seed 004
documents and chooses otherwise wherever it is silent, as an independently written server
would:
- paging only where the seed documents it (`page`/`size` of "List teams"): the documented
  defaults (page 0, size 25) kept, sizes capped at `profile.cap(100)`, and a `meta` with no
  paging keys (`{}`, the seed's collapsed sample) unless `profile.paging_keys`. Every other
  list (organizations, users, memberships) has no documented paging: `page` and `size` are
  ignored there and the whole list is answered. Lists come in id order, not creation order;
- a membership is `{id, organization_id, user_id, first_name, last_name, org_admin}`: no
  `user` object, no `email`, no `employee_id`, no `team_ids` (the seed shows no membership
  field; the names follow the invitation's `membership_first_name`, `org_admin` the query
  parameter of "Update admin permission"). A membership's teams are read the documented ways
  (`team_id` filter, `GET /memberships/{id}/my_teams`), its email on its user;
- "Retrieve team admins" lists the admins' memberships (their `id` is the membership id, as
  the revoke endpoint's `admin_id` is "a unique identifier for a membership"), and the revoke
  endpoint takes only a membership id;
- a team is the seed's `my_teams` sample: `{id, name, status, type, parent_id,
  organization_id}`; an organization `{id, name, s3_integrations_folder, saml_info}`;
- `POST /auth/sign_in` without `provider` signs in by email (devise_token_auth's default);
- the memberships CSV is a replacing upsert: a row sets the membership's names and teams to
  its cells, so an empty cell or a missing column clears them; the team column is
  `membership_team_column` (default `team_ids`, ids or names separated by ";" or ","); the
  `employee_id` column is kept but shown in no answer;
- every answer object's keys in `profile.shaped` order.
Ids are uuids in both profiles, as the seed documents every id: the profile's id style
(`Profile.ids`) has nothing to choose here.

Options: `token_ttl` (seconds, default 3600), `upload_delay` (seconds, default 1.0),
`upload_url_ttl` (seconds, default 900), `membership_team_column` (strict profile: the CSV
column holding a membership's teams; default `team_ids`).

Seed fixture format (YAML or JSON; every key optional):

    users:                        # default: sandbox-admin / sandbox-password
      - username: sandbox-admin   # optional (users created by an upload have none)
        password: sandbox-password  # only users that sign in need one
        email: admin@acme.example
        first_name: Sandbox
        last_name: Admin
        worklete_employee: false
    organizations:                # default: one organization "Acme"
      - {name: Acme, id: <uuid, optional>, s3_integrations_folder: acme}
    teams:
      - name: Engineering
        organization: Acme        # name or id; default: the first organization
        parent: null              # name or id of a team of the same organization
    memberships:                  # default: every user with a password is an org admin
      - user: sandbox-admin       # username or email
        organization: Acme        # default: the first organization
        teams: [Engineering]      # names or ids (`team_ids` is accepted too)
        org_admin: true
        employee_id: EMP-000      # optional
        first_name: Sandbox       # default: the user's
    team_admins:
      - {team: Engineering, user: sandbox-admin}   # the user's membership in that org
    invitations:
      - {user: someone, organization: Acme, code: 4DD47K}
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import math
import random
import secrets
import string
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from orgctl.sandbox.core import ApiError, Emulator, Encoded, EncodedItems, JSONResponse

API = "/api/v1"
UPLOADS = "/_uploads"
AUTH_HEADERS = ("access-token", "client", "uid")

DEFAULT_USERNAME = "sandbox-admin"
DEFAULT_PASSWORD = "sandbox-password"  # throw-away sandbox credential, not a secret
DEFAULT_ORGANIZATION = "Acme"

# Documented: the team list's defaults. ASSUMED: the cap, and the same scheme elsewhere.
DEFAULT_PAGE = 0
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# ASSUMED: the memberships CSV columns (the seed names only the file). `email` is required;
# `team_ids` holds team ids separated by ";" and replaces the membership's teams when the
# column is present; empty name or employee_id cells leave the stored value unchanged.
MEMBERSHIP_COLUMNS = ("email", "first_name", "last_name", "employee_id", "team_ids")
TEAM_ID_SEPARATOR = ";"

# ASSUMED bodies, in devise_token_auth's shape (the header names are devise_token_auth's).
UNAUTHORIZED = {"errors": ["You need to sign in or sign up before continuing."]}
BAD_LOGIN = {"success": False, "errors": ["Invalid login credentials. Please try again."]}
FORBIDDEN = {"errors": ["Forbidden"]}
NOT_FOUND = {"errors": ["Resource not found"]}

Handler = Callable[[Request], Awaitable[Response]]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bad_request(message: str) -> ApiError:
    return ApiError(400, {"errors": [message]})


def _invite_code(rng: secrets.SystemRandom) -> str:
    """Seed "Creating a user": "a unique 6 alpha-numeric string"."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(rng.choice(alphabet) for _ in range(6))


class WorkleteEmulator(Emulator):
    """The Worklete API, seeded from a fixture (see the module docstring)."""

    name = "worklete"

    def __init__(self, seed: dict[str, Any] | None = None, **kwargs: Any):
        # Kept out of `state` so `/_sandbox/state` never shows a password or a token.
        self._passwords: dict[str, str] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._random = secrets.SystemRandom()
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_user: dict[str, list[dict[str, Any]]] = {}
        self._by_org: dict[str, list[dict[str, Any]]] = {}
        self._memberships_stamp: tuple[int, int] | None = None
        self._admins_by_team: dict[str, list[dict[str, Any]]] = {}
        self._admins_stamp: tuple[int, int, str | None] | None = None
        super().__init__(seed, **kwargs)

    # -- options --------------------------------------------------------------------------
    @property
    def token_ttl(self) -> float:
        return float(self.options.get("token_ttl", 3600))

    @property
    def upload_delay(self) -> float:
        return float(self.options.get("upload_delay", 1.0))

    @property
    def upload_url_ttl(self) -> float:
        return float(self.options.get("upload_url_ttl", 900))

    @property
    def membership_team_column(self) -> str:
        return str(self.options.get("membership_team_column", "team_ids")).strip().lower()

    # -- seed -----------------------------------------------------------------------------
    def _seed_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._seed_ids.getrandbits(128), version=4)

    def load_seed(self, seed: dict[str, Any]) -> None:
        # Ids the fixture leaves out are drawn from a generator seeded by the profile, so
        # the same fixture always gives the same ids: a plan saved against a fresh sandbox
        # applies to another fresh one (`plan -o plan.json --sandbox`, then `apply
        # plan.json --sandbox`) instead of being refused as stale.
        self._seed_ids = random.Random(f"worklete-seed-{self.profile.seed}")
        self._passwords = {}
        self._tokens = {}
        now = _now()
        users: dict[str, dict[str, Any]] = {}
        user_specs = seed.get("users")
        if user_specs is None:
            user_specs = [{"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD,
                           "email": "sandbox-admin@acme.example", "first_name": "Sandbox",
                           "last_name": "Admin"}]
        for u in user_specs:
            uid = str(u.get("id") or self._seed_uuid())
            users[uid] = {
                "id": uid, "username": u.get("username"), "email": u.get("email"),
                "first_name": u.get("first_name"), "last_name": u.get("last_name"),
                "language_code": u.get("language_code", "en"),
                "worklete_employee": bool(u.get("worklete_employee", False)),
                "provider": "username" if u.get("username") else "email",
                "created_at": now, "updated_at": now,
            }
            if u.get("password"):
                self._passwords[uid] = str(u["password"])

        orgs: dict[str, dict[str, Any]] = {}
        for o in seed.get("organizations") or [{"name": DEFAULT_ORGANIZATION}]:
            oid = str(o.get("id") or self._seed_uuid())
            orgs[oid] = {"id": oid, "name": o["name"],
                         "s3_integrations_folder": o.get("s3_integrations_folder") or oid,
                         "created_at": now, "updated_at": now}
        first_org = next(iter(orgs))

        def org_ref(ref: Any, where: str) -> str:
            if ref in (None, ""):
                return first_org
            for o in orgs.values():
                if ref in (o["id"], o["name"]):
                    return o["id"]
            raise ValueError(f"worklete seed: {where} refers to unknown organization {ref!r}")

        # First user (in seed order) with that id, username or email: an index, because a
        # scan per membership made seeding 10,000 memberships take 8 s.
        user_index: dict[Any, str] = {}
        for u in users.values():
            for value in (u["id"], u["username"], u["email"]):
                user_index.setdefault(value, u["id"])

        def user_ref(ref: Any, where: str) -> str:
            if ref in user_index:
                return user_index[ref]
            raise ValueError(f"worklete seed: {where} refers to unknown user {ref!r}")

        teams: dict[str, dict[str, Any]] = {}
        pending_parents: list[tuple[str, Any]] = []
        for t in seed.get("teams") or []:
            tid = str(t.get("id") or self._seed_uuid())
            teams[tid] = {"id": tid, "name": t["name"],
                          "organization_id": org_ref(t.get("organization"), f"team {t['name']}"),
                          "parent_id": None, "type": "LEARNER",
                          "created_at": now, "updated_at": now}
            if t.get("parent") not in (None, ""):
                pending_parents.append((tid, t["parent"]))

        team_index: dict[tuple[str, Any], str] = {}
        for t in teams.values():
            for value in (t["id"], t["name"]):
                team_index.setdefault((t["organization_id"], value), t["id"])

        def team_ref(ref: Any, org_id: str, where: str) -> str:
            if (org_id, ref) in team_index:
                return team_index[(org_id, ref)]
            raise ValueError(f"worklete seed: {where} refers to unknown team {ref!r}")

        for tid, parent in pending_parents:
            team = teams[tid]
            team["parent_id"] = team_ref(parent, team["organization_id"], f"team {team['name']}")

        memberships: dict[str, dict[str, Any]] = {}
        membership_specs = seed.get("memberships")
        if membership_specs is None:
            membership_specs = [{"user": uid, "org_admin": True} for uid in self._passwords]
        for m in membership_specs:
            where = f"membership of {m.get('user')!r}"
            user_id = user_ref(m.get("user"), where)
            org_id = org_ref(m.get("organization"), where)
            mid = str(m.get("id") or self._seed_uuid())
            refs = m.get("teams", m.get("team_ids")) or []
            memberships[mid] = {
                "id": mid, "organization_id": org_id, "user_id": user_id,
                "first_name": m.get("first_name", users[user_id]["first_name"]),
                "last_name": m.get("last_name", users[user_id]["last_name"]),
                "employee_id": m.get("employee_id"),
                "org_admin": bool(m.get("org_admin", False)),
                "team_ids": [team_ref(r, org_id, where) for r in refs],
                "created_at": now, "updated_at": now,
            }

        membership_index: dict[tuple[str, str], str] = {}
        for m in memberships.values():
            membership_index.setdefault((m["user_id"], m["organization_id"]), m["id"])

        def membership_of(user: Any, org_id: str, where: str) -> str:
            found = membership_index.get((user_ref(user, where), org_id))
            if found is None:
                raise ValueError(f"worklete seed: {where}: {user!r} has no membership there")
            return found

        any_team_index: dict[Any, dict[str, Any]] = {}
        for t in teams.values():
            for value in (t["id"], t["name"]):
                any_team_index.setdefault(value, t)
        admins: dict[str, dict[str, Any]] = {}
        for a in seed.get("team_admins") or []:
            where = f"team admin {a.get('user')!r}"
            any_team = any_team_index.get(a.get("team"))
            if any_team is None:
                raise ValueError(f"worklete seed: {where} refers to unknown team {a.get('team')!r}")
            aid = str(a.get("id") or self._seed_uuid())
            admins[aid] = {"id": aid, "team_id": any_team["id"],
                           "membership_id": membership_of(a.get("user"),
                                                          any_team["organization_id"], where),
                           "created_at": now}

        invitations: dict[str, dict[str, Any]] = {}
        for i in seed.get("invitations") or []:
            where = f"invitation {i.get('code')!r}"
            org_id = org_ref(i.get("organization"), where)
            iid = str(i.get("id") or self._seed_uuid())
            invitations[iid] = {"id": iid, "invite_code": i.get("code") or
                                _invite_code(self._random),
                                "membership_id": membership_of(i.get("user"), org_id, where),
                                "organization_id": org_id, "accepted": False,
                                "created_at": now}

        self._memberships_stamp = None
        self._admins_stamp = None
        self._encoded_memberships = EncodedItems()  # see _encoded_membership
        self.state = {
            "users": users, "organizations": orgs, "teams": teams,
            "memberships": memberships, "team_admins": admins,
            "invitations": invitations, "uploads": {},
        }

    def credentials(self) -> dict[str, str]:
        users = self.state["users"]
        admins = {m["user_id"] for m in self.state["memberships"].values() if m["org_admin"]}
        signers = sorted(self._passwords, key=lambda uid: (uid not in admins,
                                                           users[uid]["username"] or ""))
        if not signers:
            raise ValueError("worklete seed: no user has a password, so nobody can sign in")
        uid = signers[0]
        org = next(iter(self.state["organizations"].values()))
        return {"username": users[uid]["username"] or users[uid]["email"],
                "password": self._passwords[uid], "organization": org["name"]}

    def expire_tokens(self) -> None:
        """Expire every issued token now, as the passage of `token_ttl` would."""
        with self.lock:
            for token in self._tokens.values():
                token["expires_at"] = 0.0

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        a = self._authed
        adm = f"{API}/worklete_admin"
        return [
            Route(f"{API}/auth/sign_in", self._public(self.sign_in), methods=["POST"]),
            Route(f"{API}/auth/sign_out", a(self.sign_out), methods=["DELETE"]),
            Route(f"{API}/invitations/{{code}}", self._public(self.get_invitation)),
            Route(f"{API}/organizations", a(self.list_organizations)),
            Route(f"{API}/organizations/{{organization_id}}/teams",
                  a(self.teams_collection), methods=["GET", "POST"]),
            Route(f"{API}/teams/{{team_id}}", a(self.team_item),
                  methods=["GET", "PUT", "PATCH", "DELETE"]),
            Route(f"{API}/teams/{{team_id}}/admins", a(self.team_admins),
                  methods=["GET", "POST"]),
            Route(f"{API}/teams/{{team_id}}/admins/{{admin_id}}", a(self.revoke_team_admin),
                  methods=["DELETE"]),
            Route(f"{API}/memberships/{{membership_id}}", a(self.get_membership)),
            Route(f"{API}/memberships/{{membership_id}}/my_teams", a(self.membership_teams)),
            Route(f"{API}/memberships/{{membership_id}}/admin_permission",
                  a(self.admin_permission), methods=["PATCH"]),
            Route(f"{API}/users", a(self.list_users)),
            Route(f"{API}/users/{{user_id}}", a(self.user_item), methods=["GET", "PATCH"]),
            Route(f"{adm}/organizations", a(self.admin_list_organizations)),
            Route(f"{adm}/organizations/{{organization_id}}", a(self.admin_get_organization)),
            Route(f"{adm}/organizations/{{organization_id}}/teams",
                  a(self.admin_teams_collection), methods=["GET", "POST"]),
            Route(f"{adm}/organizations/{{organization_id}}/teams/{{team_id}}",
                  a(self.admin_team_item), methods=["GET", "PATCH"]),
            Route(f"{adm}/organizations/{{organization_id}}/upload_memberships_list_url",
                  a(self.upload_url)),
            Route(f"{adm}/memberships", a(self.admin_list_memberships)),
            Route(f"{adm}/memberships/{{membership_id}}", a(self.admin_get_membership)),
            Route(f"{adm}/users", a(self.admin_list_users)),
            Route(f"{adm}/users/{{user_id}}", a(self.admin_user_item),
                  methods=["GET", "PATCH"]),
            Route(f"{adm}/invitations", a(self.admin_list_invitations)),
            Route(f"{adm}/invitations/{{invitation_id}}", a(self.admin_get_invitation)),
            Route(f"{UPLOADS}/{{folder}}/{{filename}}", self._public(self.receive_upload),
                  methods=["PUT"]),
        ]

    def _public(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as err:
                return err.response()

        return endpoint

    def _authed(self, handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]
                ) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, self._authenticate(request))
            except ApiError as err:
                return err.response()

        return endpoint

    def _authenticate(self, request: Request) -> dict[str, Any]:
        """Seed: every call after sign-in carries `access-token`, `client` and `uid`."""
        values = [request.headers.get(name) for name in AUTH_HEADERS]
        if not all(values):
            raise ApiError(401, UNAUTHORIZED)
        token, client, uid = values
        with self.lock:
            grant = self._tokens.get(str(token))
            if (grant is None or grant["client"] != client or grant["uid"] != uid
                    or grant["expires_at"] <= time.monotonic()):
                raise ApiError(401, UNAUTHORIZED)
            user = self.state["users"].get(grant["user_id"])
        if user is None:
            raise ApiError(401, UNAUTHORIZED)
        return user

    # -- permissions (ASSUMED: the seed lists 403s but not who gets them) ------------------
    def _memberships_of(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        """The user's memberships. Every authenticated call asks, so they are indexed by
        user: scanning all memberships per call made a plan's reads quadratic in the
        organisation's size."""
        self._index_memberships()
        return self._by_user.get(user["id"], [])

    def _memberships_in(self, org_id: str) -> list[dict[str, Any]]:
        """The organisation's memberships, in creation order: each page of the membership
        list needs them, and scanning every membership per page made reading them
        quadratic."""
        self._index_memberships()
        return self._by_org.get(org_id, [])

    def _index_memberships(self) -> None:
        """Index the memberships by user and by organisation. Memberships are only ever
        added (no endpoint removes one) and keep their user and organisation, so the
        indexes are rebuilt when their number or the dict changes."""
        memberships = self.state["memberships"]
        stamp = (id(memberships), len(memberships))
        if self._memberships_stamp != stamp:
            by_user: dict[str, list[dict[str, Any]]] = {}
            by_org: dict[str, list[dict[str, Any]]] = {}
            for m in memberships.values():
                by_user.setdefault(m["user_id"], []).append(m)
                by_org.setdefault(m["organization_id"], []).append(m)
            self._by_user, self._by_org, self._memberships_stamp = by_user, by_org, stamp

    def _member_orgs(self, user: dict[str, Any]) -> set[str]:
        return {m["organization_id"] for m in self._memberships_of(user)}

    def _admin_orgs(self, user: dict[str, Any]) -> set[str]:
        if user["worklete_employee"]:
            return set(self.state["organizations"])
        return {m["organization_id"] for m in self._memberships_of(user) if m["org_admin"]}

    def _visible_org(self, user: dict[str, Any], org_id: str) -> dict[str, Any]:
        org = self.state["organizations"].get(org_id)
        if org is None or not (user["worklete_employee"] or org_id in self._member_orgs(user)):
            raise ApiError(404, NOT_FOUND)
        return org

    def _require_admin(self, user: dict[str, Any], org_id: str) -> None:
        if org_id not in self._admin_orgs(user):
            raise ApiError(403, FORBIDDEN)

    def _team(self, user: dict[str, Any], team_id: str) -> dict[str, Any]:
        team = self.state["teams"].get(team_id)
        if team is None:
            raise ApiError(404, NOT_FOUND)
        self._visible_org(user, team["organization_id"])
        return team

    def _membership(self, user: dict[str, Any], membership_id: str) -> dict[str, Any]:
        m = self.state["memberships"].get(membership_id)
        if m is None:
            raise ApiError(404, NOT_FOUND)
        self._visible_org(user, m["organization_id"])
        return m

    # -- auth -----------------------------------------------------------------------------
    async def sign_in(self, request: Request) -> Response:
        """Seed "Sign in a user": 200 with the token headers, 401 on bad credentials."""
        body = await _json(request)
        login = str(body.get("username") or "")
        password = str(body.get("password") or "")
        field = self._sign_in_field(body.get("provider"))
        with self.lock:
            user = next((u for u in self.state["users"].values()
                         if login and (u[field] or "").lower() == login.lower()), None)
            stored = self._passwords.get(user["id"]) if user else None
            if user is None or stored is None or not hmac.compare_digest(stored, password):
                raise ApiError(401, BAD_LOGIN)
            token = secrets.token_urlsafe(15)
            client = secrets.token_urlsafe(16)
            uid = user[field]
            self._tokens[token] = {"client": client, "uid": uid, "user_id": user["id"],
                                   "expires_at": time.monotonic() + self.token_ttl}
            data = self._user_json(user)
        headers = {"access-token": token, "client": client, "uid": uid,
                   "token-type": "Bearer", "expiry": str(int(time.time() + self.token_ttl))}
        return JSONResponse({"data": data}, headers=headers)

    def _sign_in_field(self, provider: Any) -> str:
        """The user field the seed's `provider` ("email" or "username") names. Without one,
        the permissive server looks up usernames; the strict one emails, as
        devise_token_auth does by default."""
        if provider in ("email", "username"):
            return str(provider)
        if self.profile.strict and provider is not None:
            raise ApiError(401, BAD_LOGIN)
        return "email" if self.profile.strict else "username"

    async def sign_out(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            self._tokens.pop(request.headers["access-token"], None)
        return JSONResponse({"success": True})

    # -- organizations --------------------------------------------------------------------
    async def list_organizations(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            ids = self._member_orgs(user) | (set(self.state["organizations"])
                                             if user["worklete_employee"] else set())
            orgs = [self._org_json(o) for o in self.state["organizations"].values()
                    if o["id"] in ids]
        return JSONResponse(self._listed(request, orgs))

    async def admin_list_organizations(self, request: Request,
                                       user: dict[str, Any]) -> Response:
        with self.lock:
            ids = self._admin_orgs(user)
            if not ids:
                raise ApiError(403, FORBIDDEN)
            orgs = [self._org_json(o) for o in self.state["organizations"].values()
                    if o["id"] in ids]
        return JSONResponse(self._listed(request, orgs))

    async def admin_get_organization(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            org = self._visible_org(user, request.path_params["organization_id"])
            self._require_admin(user, org["id"])
            return JSONResponse({"data": self._org_json(org)})

    # -- teams ----------------------------------------------------------------------------
    async def teams_collection(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "List teams" (page/size) and "Create a team" (name only, at the root)."""
        org_id = request.path_params["organization_id"]
        if request.method == "GET":
            with self.lock:
                self._visible_org(user, org_id)
                teams = [t for t in self.state["teams"].values()
                         if t["organization_id"] == org_id]
            return JSONResponse(self._paged(request, teams, self._team_json))
        body = await _json(request)
        name = _team_name(body.get("name"))
        with self.lock:
            self._visible_org(user, org_id)
            self._require_admin(user, org_id)
            team = self._create_team(org_id, name, None)
            return JSONResponse({"data": self._team_json(team), "meta": {}})

    async def team_item(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve / Update (PUT and PATCH) / Delete a team"; delete answers 204."""
        team_id = request.path_params["team_id"]
        body = await _json(request) if request.method in ("PUT", "PATCH") else {}
        with self.lock:
            team = self._team(user, team_id)
            if request.method == "GET":
                return JSONResponse({"data": self._team_json(team)})
            self._require_admin(user, team["organization_id"])
            if request.method == "DELETE":
                self._delete_team(team)
                return Response(status_code=204)
            team["name"] = _team_name(body.get("name"))
            team["updated_at"] = _now()
            return JSONResponse({"data": self._team_json(team)})

    async def admin_teams_collection(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve the teams" / "Create a team" (WorkleteAdminOrgTeam, ASSUMED
        `{data: {name, parent_id}}`). The seed shows no pagination here: all teams."""
        org_id = request.path_params["organization_id"]
        body = await _json(request) if request.method == "POST" else {}
        with self.lock:
            self._visible_org(user, org_id)
            self._require_admin(user, org_id)
            if request.method == "GET":
                teams = [self._team_json(t) for t in self._in_order(
                    t for t in self.state["teams"].values() if t["organization_id"] == org_id)]
                return JSONResponse({"data": teams})
            data = _data(body)
            parent_id = self._parent_in(org_id, data.get("parent_id"), None)
            team = self._create_team(org_id, _team_name(data.get("name")), parent_id)
            return JSONResponse({"data": self._team_json(team)})

    async def admin_team_item(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve the team" ({data, meta}) / "Update the team" (ASSUMED body
        `{data: {name?, parent_id?}}`, parent_id null moving it to the root)."""
        org_id = request.path_params["organization_id"]
        body = await _json(request) if request.method == "PATCH" else {}
        with self.lock:
            self._visible_org(user, org_id)
            self._require_admin(user, org_id)
            team = self.state["teams"].get(request.path_params["team_id"])
            if team is None or team["organization_id"] != org_id:
                raise ApiError(404, NOT_FOUND)
            if request.method == "GET":
                return JSONResponse({"data": self._team_json(team), "meta": {}})
            data = _data(body)
            if "name" in data:
                team["name"] = _team_name(data["name"])
            if "parent_id" in data:
                team["parent_id"] = self._parent_in(org_id, data["parent_id"], team["id"])
            team["updated_at"] = _now()
            return JSONResponse({"data": self._team_json(team)})

    def _parent_in(self, org_id: str, parent_id: Any, moving: str | None) -> str | None:
        if parent_id in (None, ""):
            return None
        parent = self.state["teams"].get(str(parent_id))
        if parent is None or parent["organization_id"] != org_id:
            raise ApiError(404, NOT_FOUND)
        # ASSUMED: a team cannot become its own ancestor (422, the Rails validation status).
        cursor: dict[str, Any] | None = parent
        while cursor is not None and moving is not None:
            if cursor["id"] == moving:
                raise ApiError(422, {"errors": ["parent_id would make a cycle"]})
            cursor = self.state["teams"].get(cursor["parent_id"] or "")
        return parent["id"]

    def _create_team(self, org_id: str, name: str, parent_id: str | None) -> dict[str, Any]:
        now = _now()
        tid = str(uuid.uuid4())
        team = {"id": tid, "name": name, "organization_id": org_id, "parent_id": parent_id,
                "type": "LEARNER", "created_at": now, "updated_at": now}
        self.state["teams"][tid] = team
        return team

    def _delete_team(self, team: dict[str, Any]) -> None:
        """ASSUMED: sub-teams move up to the deleted team's parent; its admins go."""
        tid = team["id"]
        for t in self.state["teams"].values():
            if t["parent_id"] == tid:
                t["parent_id"] = team["parent_id"]
        for m in self.state["memberships"].values():
            if tid in m["team_ids"]:
                m["team_ids"] = [x for x in m["team_ids"] if x != tid]
        admins = self.state["team_admins"]
        for aid in [aid for aid, a in admins.items() if a["team_id"] == tid]:
            del admins[aid]
        del self.state["teams"][tid]

    # -- team admins ----------------------------------------------------------------------
    async def team_admins(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve team admins" / "Make a membership a team admin of the team"."""
        team_id = request.path_params["team_id"]
        body = await _json(request) if request.method == "POST" else {}
        with self.lock:
            team = self._team(user, team_id)
            if request.method == "GET":
                admins = [self._admin_json(a) for a in self._in_order(self._admins_of(team_id))]
                return JSONResponse({"data": admins})
            self._require_admin(user, team["organization_id"])
            membership = self.state["memberships"].get(str(body.get("membership_id") or ""))
            if membership is None or membership["organization_id"] != team["organization_id"]:
                raise ApiError(404, NOT_FOUND)
            aid = str(uuid.uuid4())
            admin = {"id": aid, "team_id": team_id, "membership_id": membership["id"],
                     "created_at": _now()}
            self.state["team_admins"][aid] = admin
            return JSONResponse({"data": self._admin_json(admin)})

    async def revoke_team_admin(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed: `admin_id` is "a unique identifier for a membership". The admin record's
        own id is accepted too (ASSUMED), except by the strict profile. Every matching
        record goes."""
        team_id = request.path_params["team_id"]
        admin_id = request.path_params["admin_id"]
        with self.lock:
            team = self._team(user, team_id)
            self._require_admin(user, team["organization_id"])
            admins = self.state["team_admins"]
            # Strict: only the documented meaning, a membership's id.
            gone = [aid for aid, a in admins.items() if a["team_id"] == team_id
                    and admin_id in ((a["membership_id"],) if self.profile.strict
                                     else (aid, a["membership_id"]))]
            if not gone:
                raise ApiError(404, NOT_FOUND)
            body = {"data": self._admin_json(admins[gone[0]])}
            for aid in gone:
                del admins[aid]
        return JSONResponse(body)

    def _admins_of(self, team_id: str) -> list[dict[str, Any]]:
        """The team's admin records, in creation order. A plan reads every team's, so they
        are indexed by team: scanning every record per team made reading them quadratic.
        Records are added and removed, never edited, so the index is rebuilt when the
        records' dict changes: its length, or its newest key, for a removal followed by
        an addition."""
        admins = self.state["team_admins"]
        stamp = (id(admins), len(admins), next(reversed(admins), None))
        if self._admins_stamp != stamp:
            by_team: dict[str, list[dict[str, Any]]] = {}
            for a in admins.values():
                by_team.setdefault(a["team_id"], []).append(a)
            self._admins_by_team, self._admins_stamp = by_team, stamp
        return self._admins_by_team.get(team_id, [])

    def _admin_json(self, admin: dict[str, Any]) -> dict[str, Any]:
        """ASSUMED shape: the record plus the membership's names and email. Strict: the
        admin's membership, whose id is the seed's `admin_id`."""
        if self.profile.strict:
            return self._membership_json(self.state["memberships"][admin["membership_id"]])
        m = self.state["memberships"].get(admin["membership_id"], {})
        u = self.state["users"].get(m.get("user_id", ""), {})
        return {"id": admin["id"], "team_id": admin["team_id"],
                "membership_id": admin["membership_id"],
                "first_name": m.get("first_name"), "last_name": m.get("last_name"),
                "email": u.get("email"), "created_at": admin["created_at"]}

    # -- memberships ----------------------------------------------------------------------
    async def get_membership(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            m = self._membership(user, request.path_params["membership_id"])
            return JSONResponse({"data": self._membership_json(m)})

    async def membership_teams(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Get a list of teams that a membership belongs to": `{data: [teams]}`."""
        with self.lock:
            m = self._membership(user, request.path_params["membership_id"])
            teams = [self.state["teams"][t] for t in m["team_ids"] if t in self.state["teams"]]
            return JSONResponse({"data": [self._team_json(t) for t in teams]})

    async def admin_get_membership(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            m = self._membership(user, request.path_params["membership_id"])
            self._require_admin(user, m["organization_id"])
            return JSONResponse({"data": self._membership_json(m)})

    async def admin_list_memberships(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve a list of memberships": organization_id, id and team_id filters,
        each comma-delimited. ASSUMED: limited to the caller's admin organisations, and
        paged like the team list."""
        params = request.query_params
        org_ids = _csv_param(params.get("organization_id"))
        ids = _csv_param(params.get("id"))
        team_ids = _csv_param(params.get("team_id"))
        with self.lock:
            allowed = self._admin_orgs(user)
            if not allowed:
                raise ApiError(403, FORBIDDEN)
            orgs = allowed if org_ids is None else allowed & org_ids
            if len(orgs) == 1 and ids is None and team_ids is None:
                # A provider's read, page after page: the organisation's memberships as
                # indexed, without filtering every membership again for each page.
                rows = self._memberships_in(next(iter(orgs)))
            else:
                rows = [
                    m for m in self.state["memberships"].values()
                    if m["organization_id"] in orgs
                    and (ids is None or m["id"] in ids)
                    and (team_ids is None or team_ids.intersection(m["team_ids"]))
                ]
            body = self._listed(request, rows, self._encoded_membership)
        return JSONResponse(body)

    async def admin_permission(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Update admin permission": `?org_admin=true|false`; 403 for a caller who is
        not an org admin of the membership's organisation."""
        raw = request.query_params.get("org_admin", "").lower()
        if raw not in ("true", "false"):
            raise _bad_request("org_admin must be true or false")  # ASSUMED status
        with self.lock:
            m = self._membership(user, request.path_params["membership_id"])
            self._require_admin(user, m["organization_id"])
            m["org_admin"] = raw == "true"
            m["updated_at"] = _now()
            return JSONResponse({"data": self._membership_json(m)})

    def _encoded_membership(self, m: dict[str, Any]) -> dict[str, Any] | Encoded:
        """`_membership_json(m)`, kept encoded until the membership or what the answer
        shows of its user change (see EncodedItems): rendering and encoding each
        membership again was most of the CPU of a page."""
        u = self.state["users"].get(m["user_id"], {})
        return self._encoded_memberships.item(
            m["id"], m, (u.get("id"), u.get("username"), u.get("email")),
            lambda m, _user: self._membership_json(m))

    def _membership_json(self, m: dict[str, Any]) -> dict[str, Any]:
        """ASSUMED shape (the seed's is `{ }`); first/last name are the membership's, as the
        invitation's `membership_first_name` suggests; email lives on the user. Strict: no
        user object, employee id or team ids (see the module docstring)."""
        if self.profile.strict:
            return self.profile.shaped({
                "id": m["id"], "organization_id": m["organization_id"],
                "user_id": m["user_id"], "first_name": m["first_name"],
                "last_name": m["last_name"], "org_admin": m["org_admin"]})
        u = self.state["users"].get(m["user_id"], {})
        return {
            "id": m["id"], "organization_id": m["organization_id"], "user_id": m["user_id"],
            "first_name": m["first_name"], "last_name": m["last_name"],
            "employee_id": m["employee_id"], "org_admin": m["org_admin"],
            "team_ids": list(m["team_ids"]),
            "user": {"id": u.get("id"), "username": u.get("username"), "email": u.get("email")},
            "created_at": m["created_at"], "updated_at": m["updated_at"],
        }

    # -- users ----------------------------------------------------------------------------
    def _visible_users(self, user: dict[str, Any], admin_only: bool) -> list[dict[str, Any]]:
        orgs = self._admin_orgs(user) if admin_only else self._member_orgs(user)
        if user["worklete_employee"]:
            return list(self.state["users"].values())
        ids = {m["user_id"] for m in self.state["memberships"].values()
               if m["organization_id"] in orgs}
        ids.add(user["id"])
        return [u for u in self.state["users"].values() if u["id"] in ids]

    def _visible_user(self, user: dict[str, Any], user_id: str,
                      admin_only: bool) -> dict[str, Any]:
        found = next((u for u in self._visible_users(user, admin_only) if u["id"] == user_id),
                     None)
        if found is None:
            raise ApiError(404, NOT_FOUND)
        return found

    async def list_users(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            rows = [self._user_json(u) for u in self._visible_users(user, admin_only=False)]
        return JSONResponse(self._listed(request, rows))

    async def user_item(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Retrieve a user" / "Update user" (`{email}`, answers `true` or `false`).
        ASSUMED: false when the email is malformed or another user has it; only the user
        or an org admin of one of the user's organisations may change it (else 403)."""
        body = await _json(request) if request.method == "PATCH" else {}
        with self.lock:
            target = self._visible_user(user, request.path_params["user_id"], admin_only=False)
            if request.method == "GET":
                return JSONResponse({"data": self._user_json(target)})
            orgs = {m["organization_id"] for m in self.state["memberships"].values()
                    if m["user_id"] == target["id"]}
            if target["id"] != user["id"] and not orgs & self._admin_orgs(user):
                raise ApiError(403, FORBIDDEN)
            return JSONResponse(self._set_email(target, body.get("email")))

    async def admin_list_users(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            if not self._admin_orgs(user):
                raise ApiError(403, FORBIDDEN)
            rows = [self._user_json(u) for u in self._visible_users(user, admin_only=True)]
        return JSONResponse(self._listed(request, rows))

    async def admin_user_item(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Update the user" (PatchWorkleteAdminUserRequest, ASSUMED
        `{data: {first_name?, last_name?, email?}}`); an email taken by another user is 422."""
        body = await _json(request) if request.method == "PATCH" else {}
        with self.lock:
            if not self._admin_orgs(user):
                raise ApiError(403, FORBIDDEN)
            target = self._visible_user(user, request.path_params["user_id"], admin_only=True)
            if request.method == "PATCH":
                data = _data(body)
                if "email" in data and not self._set_email(target, data["email"]):
                    raise ApiError(422, {"errors": ["email is invalid or already taken"]})
                for name in ("first_name", "last_name"):
                    if name in data:
                        target[name] = data[name]
                target["updated_at"] = _now()
            return JSONResponse({"data": self._user_json(target)})

    def _set_email(self, target: dict[str, Any], email: Any) -> bool:
        if email is not None and (not isinstance(email, str) or "@" not in email):
            return False
        if email is not None and any(
                u["id"] != target["id"] and (u["email"] or "").lower() == email.lower()
                for u in self.state["users"].values()):
            return False
        target["email"] = email
        target["updated_at"] = _now()
        return True

    # -- invitations ----------------------------------------------------------------------
    async def get_invitation(self, request: Request) -> Response:
        """Seed "Retrieve the invitation": no auth headers, a flat object."""
        code = request.path_params["code"]
        with self.lock:
            inv = next((i for i in self.state["invitations"].values()
                        if i["invite_code"] == code), None)
            if inv is None:
                raise ApiError(404, NOT_FOUND)
            m = self.state["memberships"].get(inv["membership_id"], {})
            org = self.state["organizations"].get(inv["organization_id"], {})
            return JSONResponse(self.profile.shaped({
                "id": inv["id"], "organization_name": org.get("name"),
                "membership_first_name": m.get("first_name"),
                "membership_last_name": m.get("last_name"), "invite_code": inv["invite_code"],
            }))

    async def admin_list_invitations(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "List of invitations": `id` and `membership_id` filters (comma-delimited,
        ASSUMED like the memberships list)."""
        ids = _csv_param(request.query_params.get("id"))
        mids = _csv_param(request.query_params.get("membership_id"))
        with self.lock:
            allowed = self._admin_orgs(user)
            if not allowed:
                raise ApiError(403, FORBIDDEN)
            rows = [self._invitation_json(i) for i in self.state["invitations"].values()
                    if i["organization_id"] in allowed
                    and (ids is None or i["id"] in ids)
                    and (mids is None or i["membership_id"] in mids)]
        return JSONResponse({"data": rows})

    async def admin_get_invitation(self, request: Request, user: dict[str, Any]) -> Response:
        with self.lock:
            inv = self.state["invitations"].get(request.path_params["invitation_id"])
            if inv is None or inv["organization_id"] not in self._admin_orgs(user):
                raise ApiError(404, NOT_FOUND)
            return JSONResponse({"data": self._invitation_json(inv)})

    # -- the memberships CSV upload -------------------------------------------------------
    async def upload_url(self, request: Request, user: dict[str, Any]) -> Response:
        """Seed "Generate a signed url for the memberships list": a signed URL under the
        organisation's s3_integrations_folder, "randomly generated appended with .csv".
        ASSUMED response `{data: {url, expires_at}}`."""
        org_id = request.path_params["organization_id"]
        with self.lock:
            org = self._visible_org(user, org_id)
            self._require_admin(user, org_id)
            folder = org["s3_integrations_folder"]
            filename = f"{uuid.uuid4().hex}.csv"
            expires = int(time.time() + self.upload_url_ttl)
            self.state["uploads"][filename] = {
                "organization_id": org_id, "folder": folder, "status": "issued",
                "expires": expires, "rows": 0, "created": 0, "updated": 0, "errors": [],
                "content": None,
            }
        path = f"{UPLOADS}/{folder}/{filename}"
        signature = self._sign(path, expires)
        base = str(request.base_url).rstrip("/")
        url = f"{base}{path}?expires={expires}&signature={signature}"
        return JSONResponse({"data": self.profile.shaped({"url": url, "expires_at": expires})})

    def _sign(self, path: str, expires: int) -> str:
        message = f"PUT\n{path}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    async def receive_upload(self, request: Request) -> Response:
        """The signed URL itself (S3-like, ASSUMED): PUT the CSV, no auth headers; a wrong,
        missing or expired signature is 403 with an S3 AccessDenied body. Processing
        happens `upload_delay` seconds later; a repeated PUT is processed again, which the
        upsert makes harmless."""
        folder = request.path_params["folder"]
        filename = request.path_params["filename"]
        path = f"{UPLOADS}/{folder}/{filename}"
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            expires = 0
        signature = request.query_params.get("signature", "")
        with self.lock:
            upload = self.state["uploads"].get(filename)
            valid = (upload is not None and upload["folder"] == folder
                     and expires == upload["expires"] and expires > time.time()
                     and hmac.compare_digest(signature, self._sign(path, expires)))
        if not valid:
            return Response(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                "<Message>Request has expired or the signature does not match</Message>"
                "</Error>", 403, media_type="application/xml")
        content = (await request.body()).decode("utf-8-sig", errors="replace")
        with self.lock:
            upload["status"] = "received"
            upload["content"] = content
        task = asyncio.get_running_loop().create_task(self._process_later(filename, content))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        etag = hashlib.md5(content.encode(), usedforsecurity=False).hexdigest()
        return Response(status_code=200, headers={"ETag": f'"{etag}"'})

    async def _process_later(self, filename: str, content: str) -> None:
        await asyncio.sleep(self.upload_delay)
        with self.lock:
            self.process_upload(filename, content)

    def process_upload(self, filename: str, content: str) -> None:
        """Apply one memberships CSV (ASSUMED semantics, see MEMBERSHIP_COLUMNS): per row,
        find the user by email (or create one), then the membership in the upload's
        organisation (or create it, with an invitation), and set its fields. A row with an
        unknown team id or no email is skipped and recorded in the upload's errors. The
        strict profile replaces instead (see the module docstring)."""
        upload = self.state["uploads"][filename]
        org_id = upload["organization_id"]
        reader = csv.DictReader(io.StringIO(content))
        columns = {(c or "").strip().lower() for c in reader.fieldnames or ()}
        strict = self.profile.strict
        team_column = self.membership_team_column if strict else "team_ids"
        counts = {"rows": 0, "created": 0, "updated": 0}
        errors: list[str] = []
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            counts["rows"] += 1
            email = row.get("email", "")
            if "@" not in email:
                errors.append(f"line {line}: email is missing or invalid")
                continue
            team_ids: list[str] | None = [] if strict else None
            if team_column in columns:
                refs = row.get(team_column, "").replace(",", TEAM_ID_SEPARATOR) if strict \
                    else row.get(team_column, "")
                found = [(t.strip(), self._team_in(org_id, t.strip(), by_name=strict))
                         for t in refs.split(TEAM_ID_SEPARATOR) if t.strip()]
                unknown = [ref for ref, team_id in found if team_id is None]
                if unknown:
                    errors.append(f"line {line}: unknown team ids {', '.join(unknown)}")
                    continue
                team_ids = [team_id for _, team_id in found if team_id is not None]
            created = self._upsert_membership(org_id, email, row, team_ids, replace=strict)
            counts["created" if created else "updated"] += 1
        upload.update(counts, status="processed", errors=errors)

    def _team_in(self, org_id: str, ref: str, by_name: bool) -> str | None:
        """The id of the organisation's team `ref` (an id; or a name, `by_name`)."""
        team = self.state["teams"].get(ref)
        if team is not None and team["organization_id"] == org_id:
            return str(team["id"])
        if by_name:
            return next((t["id"] for t in self.state["teams"].values()
                         if t["organization_id"] == org_id and t["name"] == ref), None)
        return None

    def _upsert_membership(self, org_id: str, email: str, row: dict[str, str],
                           team_ids: list[str] | None, replace: bool = False) -> bool:
        """Find or create the user and membership of `email`; set the row's fields: the
        non-empty cells (`replace`: every cell, an empty one clearing its field), and
        `team_ids` when not None."""
        now = _now()
        users = self.state["users"]
        user = next((u for u in users.values() if (u["email"] or "").lower() == email.lower()),
                    None)
        if user is None:
            uid = str(uuid.uuid4())
            user = {"id": uid, "username": None, "email": email,
                    "first_name": row.get("first_name") or None,
                    "last_name": row.get("last_name") or None, "language_code": "en",
                    "worklete_employee": False, "provider": "email",
                    "created_at": now, "updated_at": now}
            users[uid] = user
        membership = next((m for m in self.state["memberships"].values()
                           if m["user_id"] == user["id"] and m["organization_id"] == org_id),
                          None)
        created = membership is None
        if membership is None:
            mid = str(uuid.uuid4())
            membership = {"id": mid, "organization_id": org_id, "user_id": user["id"],
                          "first_name": user["first_name"], "last_name": user["last_name"],
                          "employee_id": None, "org_admin": False, "team_ids": [],
                          "created_at": now, "updated_at": now}
            self.state["memberships"][mid] = membership
            iid = str(uuid.uuid4())
            self.state["invitations"][iid] = {
                "id": iid, "invite_code": _invite_code(self._random), "membership_id": mid,
                "organization_id": org_id, "accepted": False, "created_at": now}
        if replace:
            for name in ("first_name", "last_name", "employee_id"):
                membership[name] = row.get(name) or None
        else:
            for name in ("first_name", "last_name", "employee_id"):
                if row.get(name):
                    membership[name] = row[name]
        if team_ids is not None:
            membership["team_ids"] = list(dict.fromkeys(team_ids))
        membership["updated_at"] = now
        return created

    # -- representations: where the seed is silent, the profile chooses ---------------------
    def _in_order(self, rows: Any) -> list[dict[str, Any]]:
        """Rows in the order a list answers them: creation order, or the strict server's id
        order (nothing in the seed promises either)."""
        if self.profile.strict:
            return sorted(rows, key=lambda r: str(r["id"]))
        return rows if isinstance(rows, list) else list(rows)  # a page slices, not a copy

    def _paged(self, request: Request, items: list[dict[str, Any]],
               render: Callable[[dict[str, Any]], dict[str, Any] | Encoded] | None = None
               ) -> dict[str, Any]:
        """Seed "List teams": `page` from 0 (default 0), `size` default 25. ASSUMED: sizes
        above the cap (MAX_PAGE_SIZE, or the profile's) are clamped; meta `{page, size,
        total, total_pages}`, or `{}` under a profile without paging keys. `render` turns
        the page's rows (only them) into their JSON shape."""
        items = self._in_order(items)
        page = _int_param(request, "page", DEFAULT_PAGE, minimum=0)
        size = min(_int_param(request, "size", DEFAULT_PAGE_SIZE, minimum=1),
                   self.profile.cap(MAX_PAGE_SIZE))
        total = len(items)
        data = items[page * size:(page + 1) * size]
        meta = {"page": page, "size": size, "total": total,
                "total_pages": math.ceil(total / size)} if self.profile.paging_keys else {}
        return {"data": [render(row) for row in data] if render else data, "meta": meta}

    def _listed(self, request: Request, items: list[dict[str, Any]],
                render: Callable[[dict[str, Any]], dict[str, Any] | Encoded] | None = None
                ) -> dict[str, Any]:
        """A list the seed shows as `{data, meta}` without paging parameters: paged like
        the team list (ASSUMED) by the permissive server; whole, `page` and `size` ignored,
        by the strict one."""
        if not self.profile.strict:
            return self._paged(request, items, render)
        rows = [render(row) if render else row for row in self._in_order(items)]
        return {"data": rows, "meta": {"total": len(rows)} if self.profile.paging_keys else {}}

    def _user_json(self, u: dict[str, Any]) -> dict[str, Any]:
        """The seed's user sample, minus the secrets it shows (password hash, tokens)."""
        return self.profile.shaped({k: u.get(k) for k in (
            "id", "username", "email", "first_name", "last_name", "language_code",
            "worklete_employee", "provider", "created_at", "updated_at")} | {
            "uid": u.get("username") or u.get("email")})

    def _org_json(self, o: dict[str, Any]) -> dict[str, Any]:
        """ASSUMED shape; strict: the fields of the seed's "Create an organization"."""
        if self.profile.strict:
            return self.profile.shaped({"id": o["id"], "name": o["name"],
                                        "s3_integrations_folder": o["s3_integrations_folder"],
                                        "saml_info": None})
        return {"id": o["id"], "name": o["name"],
                "s3_integrations_folder": o["s3_integrations_folder"],
                "created_at": o["created_at"], "updated_at": o["updated_at"]}

    def _team_json(self, t: dict[str, Any]) -> dict[str, Any]:
        """ASSUMED shape, after the seed's `my_teams` sample (id, name, type, parent_id,
        organization_id); strict: that sample's fields only."""
        if self.profile.strict:
            return self.profile.shaped({"id": t["id"], "name": t["name"], "status": {},
                                        "type": t["type"], "parent_id": t["parent_id"],
                                        "organization_id": t["organization_id"]})
        return {"id": t["id"], "name": t["name"], "type": t["type"],
                "parent_id": t["parent_id"], "organization_id": t["organization_id"],
                "created_at": t["created_at"], "updated_at": t["updated_at"]}

    def _invitation_json(self, i: dict[str, Any]) -> dict[str, Any]:
        return self.profile.shaped({
            "id": i["id"], "invite_code": i["invite_code"], "membership_id": i["membership_id"],
            "organization_id": i["organization_id"], "accepted": i["accepted"],
            "created_at": i["created_at"]})


# -- request helpers ---------------------------------------------------------------------------

async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _bad_request("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    return body


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    if not isinstance(data, dict):
        raise _bad_request("the body must be {\"data\": {...}}")
    return data


def _team_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, {"errors": ["name can't be blank"]})  # ASSUMED status and body
    return value.strip()


def _csv_param(raw: str | None) -> set[str] | None:
    """A comma-delimited filter (seed: `id=mid1,mid2,mid3`); None when absent."""
    if raw is None:
        return None
    return {v.strip() for v in raw.split(",") if v.strip()}


def _int_param(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_request(f"{name} must be an integer") from None
    if value < minimum:
        raise _bad_request(f"{name} must be at least {minimum}")
    return value
