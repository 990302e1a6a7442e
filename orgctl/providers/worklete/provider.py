"""Worklete (seed 004, Swagger 1.0.0): teams with parents, team admins, memberships (created
through the memberships CSV uploaded to a signed URL), the org-admin permission, user email.

Identity. Worklete teams carry no external id, so a live team is matched by name within its
parent, top-down (a rename declared with `previously:` is an update), and, when a name is
carried by exactly one live team and one config team, by that name alone (so a move is an
update too). `read()` cannot do that matching: the engine reads before it asks for the
desired side. `match_live(desired, live)` does it, and rewrites the live team keys, the
`parent` and `teams` attributes and the team-admin keys into config keys; the engine calls
it between `desired()` and the diff. Memberships are keyed by their `employee_id` (the
config's employee key, written by orgctl's CSV) with the email as fallback identity; when
the answers carry no `employee_id` at all, `match_live` keys them by the config employee
of their email.

Seed 004 shows no membership field, no team-admin field and no CSV column: every one of
them is an assumption (see CAPABILITIES and docs/providers/worklete.md), and the provider
notices when one does not hold:
- a membership's teams and email are read from the list answer when it carries them
  (`team_ids`, `user.email`), else the documented ways, once per run, with the cost in the
  plan: the `team_id` filter per team or `/memberships/{id}/my_teams` per membership
  (whichever costs fewer requests), and `/worklete_admin/users` joined by `user_id`;
- a membership answer that carries neither `user` nor `user_id`, or a team admin that names
  no membership, stops the plan (`UnexpectedAnswer`) before anything is written;
- `employee_id` and the names absent from the answers are unknown: never drift;
- the memberships CSV is proven on one row before the rest is sent (`_Uploads`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import compress
from types import NoneType
from typing import Any, ClassVar, Literal, NoReturn

import httpx

from orgctl.errors import ProviderError, UnexpectedAnswer
from orgctl.model import Employee, Org, ProviderConfig, Team
from orgctl.providers.base import (
    Capability,
    Fields,
    NotServed,
    Progress,
    Provider,
    Settings,
    Write,
    folded,
    lowered,
    schema_file,
)
from orgctl.providers.csvsafe import FORMULA_PREFIXES, neutralise, render_csv
from orgctl.providers.http import Http, Page, Paging, SignInHeaders
from orgctl.providers.importing import NO_KEY
from orgctl.providers.reporting import (
    DERIVED,
    ReportingTeams,
    derived_teams,
    reporting_findings,
)
from orgctl.redact import register
from orgctl.resources import NOTHING, Action, Change, Finding, Resource

log = logging.getLogger("orgctl.worklete")

SIGN_IN = "/auth/sign_in"
AUTH_HEADERS = ("access-token", "client", "uid")
SIGN_IN_PROVIDERS = ("email", "username")  # seed 004 "Sign in a user": provider's enum
# Documented: `page` from 0 and `size` on the team list. ASSUMED: 100 is the largest size
# served (and the same scheme on the organization, user and membership lists, which the
# seed shows without paging: there, an answer without a total is the whole list).
PAGE_SIZE = 100
PAGING = Paging("page", PAGE_SIZE, size_param="size", index_param="page", first_index=0)
MEMBERSHIPS = "/worklete_admin/memberships"
USERS = "/worklete_admin/users"
# ASSUMED: the memberships CSV (the seed names only the file): one row per membership,
# upserted by email; `team_ids` replaces the membership's teams. Proven on one row per run.
MEMBERSHIP_COLUMNS = ("email", "first_name", "last_name", "employee_id", "team_ids")
TEAM_ID_SEPARATOR = ";"
UPLOAD_BATCH_WINDOW = 0.2  # seconds a membership waits for others to share its upload
UPLOAD_TIMEOUT = 300.0  # seconds to wait for an uploaded CSV to show up in the API
POLL_FIRST, POLL_MAX = 0.2, 5.0
# How far this run's one-row proof of the CSV went: a row with teams proves every column.
UNPROVEN, PROVEN_WITHOUT_TEAMS, PROVEN_WITH_TEAMS = 0, 1, 2

NAME = "name:"  # identity and fallback key prefix of a team matched by name within parent
EMAIL = "email:"  # identity prefix of a membership (and fallback key without employee_id)
REMOTE = NO_KEY  # key of a live object that has neither (a second team of the same name)
NO_LOGIN = ("", "")  # (email, username) of a membership without a user

# `assumed` topics: what a membership list answer may not carry.
TEAMS_OF = "membership teams"
EMAILS_OF = "membership emails"
NO_EMAIL = f"GET {MEMBERSHIPS} answers carry no user.email"  # why they are read otherwise

# What reading relies on in each listed object (answers' shapes: see CAPABILITIES).
ORGANIZATION_FIELDS: Fields = {"id": str, "name": (str, NoneType)}
TEAM_FIELDS: Fields = {"id": str, "name": str, "parent_id": (str, NoneType)}
MEMBERSHIP_FIELDS: Fields = {"id": str, "user": (dict, NoneType),
                             "employee_id": (str, int, NoneType), "user_id": (str, NoneType),
                             "team_ids": (list, NoneType), "org_admin": (bool, NoneType),
                             "first_name": (str, NoneType), "last_name": (str, NoneType)}
USER_FIELDS: Fields = {"id": str, "email": (str, NoneType), "username": (str, NoneType)}
ADMIN_FIELDS: Fields = {"membership_id": (str, NoneType), "id": (str, int, NoneType)}
# Membership answer field -> attribute, for those an answer may leave out (unknown, then).
MEMBERSHIP_OPTIONAL = {"employee_id": "employee_id", "first_name": "first_name",
                       "last_name": "last_name"}
# The fields whose presence a membership remembers (`_Member.carried`): one set shared by
# every membership whose answer carries them all, the usual one.
CARRIED = frozenset((*MEMBERSHIP_OPTIONAL, "org_admin"))


@dataclass(frozen=True, kw_only=True)
class WorkleteSettings(Settings):
    """username, password (write it as ${WORKLETE_PASSWORD}), organization (name or id);
    sign_in_provider ("email" or "username": how Worklete looks the username up; default
    "email" when it holds an @, else "username"); rate_limit (none by default),
    upload_timeout, upload_batch_window (seconds); timeout, max_concurrency;
    reporting_teams (teams derived from `manager:`, the manager their team admin: see
    `orgctl.providers.reporting`; default off)."""

    username: str
    password: str = field(repr=False)
    organization: str
    sign_in_provider: Literal["email", "username"] = "username"
    upload_timeout: float = UPLOAD_TIMEOUT
    upload_batch_window: float = UPLOAD_BATCH_WINDOW
    reporting_teams: ReportingTeams | None = None

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> WorkleteSettings:
        for name in ("username", "password", "organization"):
            if raw.get(name) in (None, ""):
                hint = " (write it as ${WORKLETE_PASSWORD}, never in the file)" \
                    if name == "password" else ""
                raise ProviderError(provider, f"setting `{name}` is required{hint}")
        common = cls.common(provider, raw)
        username = str(raw["username"])
        sign_in = raw.get("sign_in_provider") or ("email" if "@" in username else "username")
        if sign_in not in SIGN_IN_PROVIDERS:
            raise ProviderError(provider, f"sign_in_provider {sign_in!r}: expected email or "
                                          f"username (seed 004 \"Sign in a user\")")
        return cls(username=username, password=str(raw["password"]),
                   organization=str(raw["organization"]), sign_in_provider=sign_in,
                   upload_timeout=float(raw.get("upload_timeout", UPLOAD_TIMEOUT)),
                   upload_batch_window=float(raw.get("upload_batch_window",
                                                     UPLOAD_BATCH_WINDOW)),
                   reporting_teams=ReportingTeams.parse(provider,
                                                        raw.get("reporting_teams")),
                   **common)


@dataclass(slots=True)
class _Member:
    """One membership as read, whichever way each of its fields was found. `carried`: the
    optional fields (MEMBERSHIP_OPTIONAL, org_admin) the answer had, null or not.

    Never changed once made; not frozen all the same, as a frozen dataclass sets each
    field through `object.__setattr__`, which made it five times slower to make (one per
    membership read, and the read keeps them all for apply)."""

    id: str
    user_id: str | None
    email: str  # lowercased; "" when the user has none
    username: str
    employee_id: str | None
    first_name: str | None
    last_name: str | None
    org_admin: bool
    team_ids: tuple[str, ...]
    carried: frozenset[str]


class WorkleteProvider(Provider):
    """Worklete through its token-auth API. Settings: username, password, organization
    (name or id), optional sign_in_provider, timeout, max_concurrency, rate_limit,
    upload_timeout, upload_batch_window, reporting_teams (a team per manager from
    `manager:`, the manager its team admin and the direct reports its members)."""

    type: ClassVar[str] = "worklete"
    SCHEMA: ClassVar[dict[str, Any]] = schema_file(__package__)
    KINDS: ClassVar[tuple[str, ...]] = ("team", "membership", "team_admin", "org_admin")
    IMPORT_SETTINGS: ClassVar[dict[str, str]] = {
        "username": "${WORKLETE_USERNAME}", "password": "${WORKLETE_PASSWORD}",
        "organization": "${WORKLETE_ORGANIZATION}"}
    # Team admins exist only as part of a team's managers: revoked when removed from config.
    PRUNE_DEFAULTS: ClassVar[dict[str, bool]] = {"team_admin": True}
    # A membership apply joins the next memberships CSV upload (see _Uploads).
    COALESCED_KINDS: ClassVar[frozenset[str]] = frozenset({"membership"})
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = (
        Capability("sign in", "POST", "/auth/sign_in", "documented",
                   "004 auth \"Sign in a user\" {username, password, provider: email or "
                   "username, as configured}; access-token, client, uid on every call"),
        Capability("find the organization", "GET", "/organizations", "documented",
                   "004 organizations \"List all organizations\" {data, meta}; the "
                   "organization id is a uuid"),
        Capability("list teams", "GET", "/organizations/{organization_id}/teams", "documented",
                   "004 teams \"List teams\" (page from 0, size); parent_id on each team "
                   "assumed (it is on the team of the my_teams sample); absent, a team's "
                   "parent is unknown"),
        Capability("read every list at 100 a page", "GET", "?page=N&size=100", "assumed",
                   "004 gives page and size on the team list only; the cap of 100 and "
                   "meta.total are assumed, paging follows what the server answers; the "
                   "other lists are asked the same way and an answer without a total is "
                   "the whole list"),
        Capability("create a team with its parent", "POST",
                   "/worklete_admin/organizations/{organization_id}/teams", "documented",
                   "004 worklete admins \"Create a team\"; body {data: {name, parent_id}} "
                   "assumed (WorkleteAdminOrgTeam is collapsed)"),
        Capability("look up a team whose create had no answer", "GET",
                   "/worklete_admin/organizations/{organization_id}/teams", "documented",
                   "004 worklete admins \"Retrieve the teams\" {data}: every team in one "
                   "answer, by name under its parent"),
        Capability("rename a team", "PUT", "/teams/{team_id}", "documented",
                   "004 teams \"Update a team\" {name}"),
        Capability("move a team", "PATCH",
                   "/worklete_admin/organizations/{organization_id}/teams/{team_id}",
                   "documented", "004 worklete admins \"Update the team\"; body "
                   "{data: {parent_id}} assumed"),
        Capability("delete a team", "DELETE", "/teams/{team_id}", "documented",
                   "004 teams \"Delete a team\" (204)"),
        Capability("list a team's admins", "GET", "/teams/{team_id}/admins", "documented",
                   "004 teams \"Retrieve team admins\"; one request per team (the seed has "
                   "no organisation-wide list); item field membership_id assumed: without "
                   "it the item's id is read as the membership's (the revoke endpoint's "
                   "admin_id is \"a unique identifier for a membership\"), and an item "
                   "naming no membership stops the plan"),
        Capability("make a team admin", "POST", "/teams/{team_id}/admins", "documented",
                   "004 teams \"Make a membership a team admin\" {team_id, membership_id}"),
        Capability("revoke a team admin", "DELETE", "/teams/{team_id}/admins/{admin_id}",
                   "documented", "004 teams \"Revoke team admin access\"; admin_id is "
                   "\"a unique identifier for a membership\": the membership id is sent"),
        Capability("list memberships", "GET", "/worklete_admin/memberships?organization_id=",
                   "documented", "004 worklete admins \"Retrieve a list of memberships\" "
                   "(organization_id, team_id, id filters); the membership fields are "
                   "assumed: id and user.email or user_id identify it (without them the "
                   "plan stops), employee_id and names absent are unknown, team_ids and "
                   "user.email absent fall back to the next rows"),
        Capability("fallback: a team's memberships", "GET",
                   "/worklete_admin/memberships?organization_id=&team_id=", "documented",
                   "004 \"Retrieve a list of memberships\" team_id filter: one request per "
                   "team, when the answers carry no team_ids and teams are fewer than "
                   "memberships"),
        Capability("fallback: a membership's teams", "GET",
                   "/memberships/{membership_id}/my_teams", "documented",
                   "004 teams \"Get a list of teams that a membership belongs to\": one "
                   "request per membership, when the answers carry no team_ids and "
                   "memberships are fewer than teams"),
        Capability("fallback: the memberships' emails", "GET", "/worklete_admin/users",
                   "documented", "004 worklete admins \"Retrieve a list of users\" (the user "
                   "sample shows email and username), joined by the membership's user_id, "
                   "when the answers carry no user object"),
        Capability("get a membership's user", "GET", "/memberships/{membership_id}",
                   "documented", "004 users \"Get a membership\"; field user_id assumed"),
        Capability("get the memberships upload URL", "GET",
                   "/worklete_admin/organizations/{organization_id}/"
                   "upload_memberships_list_url", "documented",
                   "004 worklete admins \"Generate a signed url for the memberships list\"; "
                   "response {data: {url}} assumed"),
        Capability("create or update memberships", "PUT", "{signed url}", "assumed",
                   "S3-style PUT of the memberships CSV (columns " +
                   ",".join(MEMBERSHIP_COLUMNS) + "), processed asynchronously as an upsert "
                   "by email; proven on one row, read back, before the rest is sent; orgctl "
                   "polls the membership list until the rows show"),
        Capability("set or unset org admin", "PATCH",
                   "/memberships/{membership_id}/admin_permission?org_admin=", "documented",
                   "004 users \"Update admin permission\" (403 unless the caller is an "
                   "org admin)"),
        Capability("change a user's email", "PATCH", "/users/{id}", "documented",
                   "004 users \"Update user\" {email}, answers true or false"),
    )

    SETTINGS: ClassVar[type[Settings]] = WorkleteSettings
    settings: WorkleteSettings

    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        self._uploads: _Uploads | None = None
        self._org_id: str | None = None
        # From the last read: what apply needs and the plan does not carry.
        self._members: dict[str, _Member] = {}  # membership id -> membership
        self._user_ids: dict[str, str] = {}  # membership id -> user id
        self._org_admins: set[str] = set()  # membership ids with org_admin
        self._own_membership: str | None = None  # the signed-in user's, never un-admined
        self._live_employee_ids: set[str] = set()  # employee ids of live memberships
        self._live_emails: set[str] = set()  # emails of live memberships without one
        self._team_names: dict[str, str] = {}  # team id -> name, for messages
        self._read_memberships = False
        # The memberships CSV this run: how far one row proved it (PROVEN_*), or why it was
        # refused.
        self._csv_proven = UNPROVEN
        self._csv_refused: str | None = None

    # -- plumbing -------------------------------------------------------------------------
    def make_http(self) -> Http:
        settings = self.settings
        return self.client(SignInHeaders(SIGN_IN, {"username": settings.username,
                                                   "password": settings.password,
                                                   "provider": settings.sign_in_provider},
                                         header_names=AUTH_HEADERS))

    def _upload_queue(self) -> _Uploads:
        """The memberships upload queue of the running loop: its batches are futures of
        that loop, as the client is a client of it."""
        loop = asyncio.get_running_loop()
        if self._uploads is None or self._uploads.loop is not loop:
            self._uploads = _Uploads(self, loop)
        return self._uploads

    async def _organization_id(self) -> str:
        """The configured organisation's id: the setting when it is the id of one the
        account sees (a uuid, compared without case), else the one of that name."""
        if self._org_id is None:
            orgs = await self._pages("/organizations", {}, ORGANIZATION_FIELDS, paged=False)
            organization = self.settings.organization
            wanted = folded(organization)
            found = [o for o in orgs if folded(str(o["id"])) == wanted] or [
                o for o in orgs if folded(str(o.get("name") or "")) == wanted]
            if len(found) != 1:
                names = ", ".join(sorted(str(o.get("name")) for o in orgs)) or "none"
                what = "matches several organizations" if found else "is not an organization"
                raise ProviderError(self.name, f"organization {organization!r} {what} "
                                               f"this account can see (visible: {names})")
            self._org_id = str(found[0]["id"])
        return self._org_id

    async def _pages(self, path: str, params: dict[str, Any], fields: Fields,
                     paged: bool = True) -> list[dict[str, Any]]:
        """Every item of a list, each page's shape checked once: {data: [objects with
        `fields`], meta}. Paging follows the server (`Http.collect`): an answer without
        `meta` is the whole list, and so is one whose `meta` has no total on a list the
        seed shows without paging (`paged` False); a documented paged list (the teams)
        with an empty `meta` is read on until a short page."""
        what = f"GET {path}"

        def page(body: Any) -> Page:
            answer = self.expect_object(what, body, {"data": list, "meta": (dict, NoneType)})
            meta = answer.get("meta")
            rows = self.expect_items(what, answer["data"], fields)
            if meta is None or (not paged and "total" not in meta):
                return Page(rows, paged=False)
            self.expect_object(what, meta, {"total": (int, NoneType)})
            return Page(rows, total=meta.get("total"))

        with self.explaining():
            return await self.http().collect(path, params, PAGING, page)

    async def _teams(self) -> list[dict[str, Any]]:
        return await self._pages(f"/organizations/{await self._organization_id()}/teams", {},
                                 TEAM_FIELDS)

    async def _all_teams(self) -> list[dict[str, Any]]:
        """Every team in one answer, for a lookup: the admin team list, which the seed shows
        without paging. The paged list would not do while the same apply creates other
        teams: a server listing teams in id order (uuids) moves rows across its pages as
        they are created, and the read fails as incomplete. An admin list shorter than the
        plan's read is not taken as whole (a team missed would be created twice): the
        paged list is read instead, and fails as incomplete rather than miss one."""
        org_id = await self._organization_id()
        teams = await self._pages(f"/worklete_admin/organizations/{org_id}/teams", {},
                                  TEAM_FIELDS, paged=False)
        return teams if len(teams) >= len(self._team_names) else await self._teams()

    async def _membership_rows(self, team_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The organisation's membership answers (of `team_ids`' teams, when given)."""
        params: dict[str, Any] = {"organization_id": await self._organization_id()}
        if team_ids:
            params["team_id"] = ",".join(sorted(team_ids))
        rows = await self._pages(MEMBERSHIPS, params, MEMBERSHIP_FIELDS, paged=False)
        for row in rows:
            if "user" not in row and not row.get("user_id"):
                # Whose membership this is cannot be known: planning from it would create
                # its person again, or rewrite someone else's.
                raise UnexpectedAnswer(self.name, f"GET {MEMBERSHIPS}",
                                       "user (with its email) and user_id are missing: "
                                       "orgctl cannot tell whose membership it is", row)
        return rows

    async def _read_members(self, team_ids: Iterable[str] = (),
                            teams: Iterable[str] | None = None,
                            pick: Callable[[str, str], bool] | None = None) -> list[_Member]:
        """The organisation's memberships (of `team_ids`' teams, when given; those `pick`
        keeps by id and email, when given), each with its email and its teams among
        `teams` (None: every team of the organisation)."""
        rows = await self._membership_rows(team_ids)
        logins = await self._emails(rows)
        if pick is not None:
            kept = [pick(str(r["id"]), login[0]) for r, login in zip(rows, logins, strict=True)]
            rows, logins = list(compress(rows, kept)), list(compress(logins, kept))
        return list(map(self._member, rows, logins, await self._teams_of(rows, teams)))

    def _member(self, row: dict[str, Any], login: tuple[str, str],
                team_ids: tuple[str, ...]) -> _Member:
        """The membership of answer `row` (its types checked: MEMBERSHIP_FIELDS), whose
        user is `login` (email, username) and whose teams are `team_ids`."""
        get = row.get
        employee_id = get("employee_id")
        # The fields in order, as `_Member` lists them: keywords cost more (one call per
        # membership read).
        return _Member(
            row["id"], get("user_id") or None, login[0], login[1],
            str(employee_id) if employee_id not in (None, "") else None,
            get("first_name"), get("last_name"), bool(get("org_admin")), team_ids,
            CARRIED if row.keys() >= CARRIED else CARRIED.intersection(row))

    async def _emails(self, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """(email lowercased, username) of each membership's user, in the order of `rows`:
        from the answers' `user` object (assumed), else from the documented user list by
        `user_id`."""

        async def assumed() -> list[tuple[str, str]]:
            # A null user is a value (no user): only an absent field is not served. (One
            # pass: an absent `user` raises KeyError; `user` is an object or null, checked.)
            try:
                return [NO_LOGIN if (user := r["user"]) is None else
                        _login(user) if "email" in user else _no_email() for r in rows]
            except KeyError:
                raise NotServed(NO_EMAIL) from None

        async def documented() -> list[tuple[str, str]]:
            if not rows:
                return []
            with self.explaining():
                users = {str(u["id"]): u for u in await self._pages(USERS, {}, USER_FIELDS,
                                                                    paged=False)}
            self.note_fallback(EMAILS_OF, f"GET {USERS} (joined by user_id)", 1)
            out: list[tuple[str, str]] = []
            for r in rows:
                user = users.get(str(r.get("user_id") or ""))
                if user is None and isinstance(r.get("user"), dict):
                    user = r["user"]
                out.append(_login(user) if user is not None else NO_LOGIN)
            return out

        return await self.assumed(EMAILS_OF, assumed, documented)

    async def _teams_of(self, rows: list[dict[str, Any]],
                        teams: Iterable[str] | None) -> list[tuple[str, ...]]:
        """The ids of each membership's teams (among `teams`; None: all of them), in the
        order of `rows`: the answers' `team_ids` (assumed), else the documented reads,
        whichever takes fewer requests: the `team_id` filter once per team, or `my_teams`
        once per membership."""

        async def assumed() -> list[tuple[str, ...]]:
            try:  # (one pass: an absent `team_ids` raises KeyError)
                return [tuple(map(str, r["team_ids"] or ())) for r in rows]
            except KeyError:
                raise NotServed(f"GET {MEMBERSHIPS} answers carry no team_ids") from None

        async def documented() -> list[tuple[str, ...]]:
            if not rows:
                return []
            among = sorted(teams) if teams is not None else [
                str(t["id"]) for t in await self._teams()]
            if not among:
                return [() for _ in rows]
            ids = [str(r["id"]) for r in rows]
            if len(rows) < len(among):
                found = await self._my_teams(ids, among)
            else:
                found = await self._team_members(among, set(ids))
            return [found[i] for i in ids]

        return await self.assumed(TEAMS_OF, assumed, documented)

    async def _team_members(self, team_ids: list[str],
                            members: set[str]) -> dict[str, tuple[str, ...]]:
        """Teams of `members` from one filtered membership list per team."""
        self.note_fallback(TEAMS_OF, f"GET {MEMBERSHIPS}?team_id= once per team",
                           len(team_ids))

        async def of(team_id: str) -> list[dict[str, Any]]:
            return await self._membership_rows([team_id])

        found: dict[str, list[str]] = {m: [] for m in members}
        for team_id, rows in zip(team_ids, await asyncio.gather(*map(of, team_ids)),
                                 strict=True):
            for row in rows:
                if str(row["id"]) in found:
                    found[str(row["id"])].append(team_id)
        return {m: tuple(t) for m, t in found.items()}

    async def _my_teams(self, members: list[str],
                        among: list[str]) -> dict[str, tuple[str, ...]]:
        """Teams of `members` from `GET /memberships/{id}/my_teams`, one request each."""
        self.note_fallback(TEAMS_OF, "GET /memberships/{id}/my_teams once per membership",
                           len(members))
        wanted = set(among)

        async def of(membership_id: str) -> tuple[str, ...]:
            path = f"/memberships/{membership_id}/my_teams"
            body = self.expect_object(f"GET {path}", await self.call("GET", path),
                                      {"data": list})
            teams = self.expect_items(f"GET {path}", body["data"], {"id": str})
            return tuple(str(t["id"]) for t in teams if str(t["id"]) in wanted)

        return dict(zip(members, await asyncio.gather(*map(of, members)), strict=True))

    async def _admins(self, team_id: str) -> list[dict[str, Any]]:
        """A team's admins: {data: [items naming a membership]} (see `_admin_of`)."""
        path = f"/teams/{team_id}/admins"
        page = self.expect_object(f"GET {path}", await self.call("GET", path), {"data": list})
        return self.expect_items(f"GET {path}", page["data"], ADMIN_FIELDS)

    def _admin_of(self, team_id: str, item: dict[str, Any], members: Mapping[str, Any]) -> str:
        """The membership id a team-admin item names: its `membership_id` (assumed), else
        its `id` when that is a membership's (seed 004: the revoke endpoint's `admin_id` is
        "a unique identifier for a membership"). An item naming no membership stops the
        plan: an admin orgctl cannot identify is never revoked."""
        if item.get("membership_id"):
            return str(item["membership_id"])
        if "membership_id" not in item and str(item.get("id")) in members:
            self.note("admin ids", "GET /teams/{id}/admins answers carry no membership_id: "
                                   "an admin's id is read as its membership's (seed 004: "
                                   "admin_id is \"a unique identifier for a membership\")")
            return str(item["id"])
        raise UnexpectedAnswer(self.name, f"GET /teams/{team_id}/admins",
                               "membership_id is missing and the item's id is no membership "
                               "of the organisation: orgctl cannot tell who the admin is",
                               item)

    async def _membership(self, membership_id: str, fields: Fields) -> dict[str, Any]:
        """One membership ({data: {...}}) with `fields`."""
        path = f"/memberships/{membership_id}"
        page = self.expect_object(f"GET {path}", await self.call("GET", path), {"data": dict})
        return self.expect_object(f"GET {path}", page["data"], fields)

    # -- capabilities ---------------------------------------------------------------------
    def removal(self, kind: str) -> Action | None:
        # No documented endpoint removes a membership: a member is "deactivated" by taking
        # every team away (see removal_of). org_admin "delete" unsets the flag.
        return "deactivate" if kind == "membership" else "delete"

    def removal_of(self, resource: Resource) -> Action | None:
        """As `removal`, but the admins of a team the config does not manage stay: pruning
        team admins must not reach into teams orgctl leaves alone. A membership is
        deactivated by the memberships CSV with no teams (its `team_ids` replace the
        membership's teams): the account stays, as Worklete documents no removal, but it
        is in no team; one already in none, or whose teams were not read, is left."""
        if resource.kind == "team_admin" and resource.key.startswith((NAME, REMOTE)):
            return None
        if resource.kind == "membership" and (
                "teams" in resource.unknown or not resource.attrs.get("teams")):
            return None
        return self.removal(resource.kind)

    def is_inactive(self, resource: Resource) -> bool:
        """A leaver's membership is done with once it is in no team (see removal_of)."""
        return (resource.kind == "membership" and "teams" not in resource.unknown
                and not resource.attrs.get("teams"))

    def unsupported(self, change: Change) -> str | None:
        if (change.kind == "org_admin" and change.action == "delete"
                and change.remote_id is not None and change.remote_id == self._own_membership):
            return (f"it is the account orgctl signs in as ({self.settings.username}): "
                    "unsetting it "
                    "would lock orgctl out and could leave the organisation without an "
                    "org admin; change it in Worklete by hand")
        if change.kind == "membership" and change.action in ("create", "update"):
            after = change.after or {}
            for name in ("email", "employee_id"):
                if str(after.get(name) or "").startswith(FORMULA_PREFIXES):
                    return (f"its {name} starts with a spreadsheet formula character and "
                            "cannot go through the memberships CSV unaltered")
        return super().unsupported(change)


    # -- desired --------------------------------------------------------------------------
    def derived_teams(self, org: Org) -> dict[str, Team]:
        """The reporting teams `reporting_teams` derives from `manager:` (none when it is
        off) as teams the manager leads, but for a key a hand-written team has (that one
        is kept as written)."""
        return {key: d.as_team() for key, d in
                derived_teams(org, self.settings.reporting_teams).items()}

    def desired(self, org: Org) -> list[Resource]:
        """Teams (the config's and the derived ones, source "manager"), a membership per
        person in a team (their teams: those they are a member of), a team admin per
        (team, manager), an org admin per employee the config makes one."""
        out: list[Resource] = []
        derived = self.derived_teams(org)
        every = {**org.teams, **derived}
        in_order = sorted(every.values(), key=lambda t: t.key)
        for team in in_order:
            parent = team.parent or ""
            out.append(Resource(
                kind="team", key=team.key,
                attrs={"name": team.name, "parent": team.parent},
                identities=tuple(f"{NAME}{parent}/{n}"
                                 for n in dict.fromkeys((team.name, *team.previously))),
                refs={"parent": self.address("team", team.parent)} if team.parent else {},
                protected=team.protected, source=DERIVED if team.key in derived else "yaml",
            ))

        active = {k: e for k, e in org.employees.items() if e.active}
        # Asked only of those with Worklete settings (`wants_org_admin`): most have none.
        worklete = self.type
        admins = sorted([k for k, e in active.items()
                         if worklete in e.systems and self.wants_org_admin(e)])
        # Each member's teams, sorted as they are made: the teams are taken in key order,
        # a name listed twice in one team comes twice in a row.
        member_of: dict[str, list[str]] = {}
        wanted: set[str] = set(admins)
        for team in in_order:
            for key in team.members:
                teams = member_of.get(key)
                if teams is None:
                    member_of[key] = [team.key]
                elif teams[-1] != team.key:
                    teams.append(team.key)
            wanted.update(team.members, team.managers)
        # Someone taken out of their last team keeps the membership orgctl wrote (Worklete
        # removes none), so it stays desired, with no teams: the removal is an update. Where
        # the answers carry no employee id, that membership is known by its email.
        wanted.update(self._live_employee_ids)
        if self._live_emails:
            wanted.update(k for k, e in active.items()
                          if {m.lower() for m in (e.email, *e.previously)} & self._live_emails)
        # A membership refers to each of its teams: (ref name, address), made once a team.
        team_refs = {key: (f"teams.{key}", self.address("team", key)) for key in every}
        team_ref = team_refs.__getitem__  # (mapped over a membership's teams, in C)
        # Taken in the config's order, which is usually sorted already: sorting then costs
        # one pass, where sorting the set would cost a sort.
        for key in sorted([k for k in active if k in wanted]):
            e = active[key]
            email = lowered(e.email)
            teams = member_of.get(key) or []
            # The fields in order (`RESOURCE_FIELDS`): keywords cost more (one a person).
            out.append(Resource(
                "membership", key,
                # Names go through the CSV, which neutralises formula characters: compare
                # with what Worklete will hold.
                {"email": email, "first_name": neutralise(e.first_name),
                 "last_name": neutralise(e.last_name), "employee_id": key, "teams": teams},
                tuple(f"{EMAIL}{m.lower()}" for m in dict.fromkeys((e.email, *e.previously)))
                if e.previously else (f"{EMAIL}{email}",),
                dict(map(team_ref, teams)), None, e.protected))
        for team in in_order:
            for key in team.managers:
                if key not in active:
                    continue
                out.append(Resource(
                    kind="team_admin", key=f"{team.key}:{key}",
                    identities=(f"{team.key}:{EMAIL}{active[key].email.lower()}",),
                    refs={"team": self.address("team", team.key),
                          "membership": self.address("membership", key)},
                    source=DERIVED if team.key in derived else "yaml",
                ))
        for key in admins:
            out.append(Resource(
                kind="org_admin", key=key,
                identities=(f"{EMAIL}{active[key].email.lower()}",),
                refs={"membership": self.address("membership", key)},
            ))
        return out

    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Which teams and team admins are derived from `manager:` (`reporting_findings`),
        in the config keys `match_live` gave the live teams."""
        return reporting_findings(self.name, org, self.settings.reporting_teams,
                                  (r.key for r in live if r.kind == "team"),
                                  "team admin and team member links")

    @classmethod
    def wants_org_admin(cls, employee: Employee) -> bool:
        """Whether the config makes this employee an organisation admin."""
        return bool(employee.settings_for(cls.type).get("org_admin", False))

    # -- live -----------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Teams and memberships (concurrently, pages of 100) and each team's admins (one
        request per team: the seed has no organisation-wide admin list), asked for as soon
        as the teams are known, and, when the membership answers do not carry them, the
        memberships' teams and emails the documented ways. Team keys are name paths until
        `match_live` turns them into config keys."""
        await self._organization_id()
        teams_read = asyncio.ensure_future(self._teams())
        done = 0

        def step() -> None:  # a list read: the teams, the memberships, a team's admins
            nonlocal done
            done += 1
            if progress:
                progress(done, 2 + len(teams_read.result()))

        async def memberships() -> list[_Member]:
            rows = await self._membership_rows()
            team_ids = [str(t["id"]) for t in await teams_read]
            step()
            # The answers are let go as soon as their memberships are made (this returns),
            # not kept until the admin lists are all read too.
            return await self._read_rows(rows, team_ids)

        async def admin_lists() -> list[list[dict[str, Any]]]:
            # Started with the teams, not after the memberships: the admin lists share the
            # client's requests in flight with the last membership pages, none left idle.
            teams = await teams_read
            step()
            lists: list[list[dict[str, Any]]] = [[] for _ in teams]
            turns = iter(enumerate(teams))  # shared: each team is read by the next reader free

            async def reader() -> None:
                for i, team in turns:
                    lists[i] = await self._admins(team["id"])
                    step()

            # At most a client's worth of admin lists wait at the client, not all of them:
            # the membership pages it asks for later (a window at a time, `Http.collect`)
            # then queue ahead of the admin lists still to come, and the memberships are
            # made while the last admin lists are read rather than after them. That many
            # readers, rather than a task a team waiting on a semaphore: with 5,000 teams
            # (100,000 people) those tasks and their waits cost some 35 ms of CPU.
            await _together(*(reader() for _ in range(max(1, self.settings.max_concurrency))))
            return lists

        teams, members, admins = await _together(teams_read, memberships(), admin_lists())
        team_ids = [str(t["id"]) for t in teams]
        self._team_names = {str(t["id"]): str(t["name"]) for t in teams}
        self._remember(members)
        admin_ids = {team_id: [self._admin_of(team_id, item, self._members) for item in items]
                     for team_id, items in zip(team_ids, admins, strict=True)}
        return self._live(teams, members, self._members, admin_ids)

    async def _read_rows(self, rows: list[dict[str, Any]],
                         team_ids: list[str]) -> list[_Member]:
        """The memberships of the answers `rows`, each with its email and its teams among
        `team_ids` (see `_emails`, `_teams_of`), the answers checked (`_check_org_admins`)."""
        logins, teams = await asyncio.gather(self._emails(rows),
                                             self._teams_of(rows, team_ids))
        members = list(map(self._member, rows, logins, teams))
        self._check_org_admins(rows)
        return members

    def _check_org_admins(self, rows: list[dict[str, Any]]) -> None:
        """Fail closed when membership answers carry no org_admin while org admins are
        managed: every org admin would be planned again, and none ever unset."""
        manages = self.option("manages")
        if manages and "org_admins" not in manages and "org_admin" not in manages:
            return
        missing = next((r for r in rows if "org_admin" not in r), None)
        if missing is not None:
            raise UnexpectedAnswer(self.name, f"GET {MEMBERSHIPS}",
                                   "org_admin is missing: orgctl cannot tell who is an "
                                   "organisation admin (leave org_admins out of `manages` "
                                   "to manage the rest)", dict(missing))

    def _remember(self, members: list[_Member]) -> None:
        self._read_memberships = True
        self._members = {m.id: m for m in members}
        self._user_ids = {m.id: m.user_id for m in members if m.user_id}
        self._org_admins = {m.id for m in members if m.org_admin}
        self._live_employee_ids = {m.employee_id for m in members if m.employee_id}
        self._live_emails = {m.email for m in members
                             if "employee_id" not in m.carried and m.email}
        me = self.settings.username.casefold()
        self._own_membership = next((m.id for m in members
                                     if me in (m.username.casefold(), m.email)), None)

    def _live(self, teams: list[dict[str, Any]], members: list[_Member],
              by_id: Mapping[str, _Member], admins: dict[str, list[str]]) -> list[Resource]:
        """The live state as read, keyed as `match_live` keys it without a desired side:
        teams by name path, memberships by employee id (else by the config employee of
        their email, else by email), team admins by team and membership. `by_id`: the
        memberships by id; `admins`: team id -> the membership ids of its admins. Made
        here in those keys rather than made and then moved by `match_live`, so that each
        membership is made once."""
        provisional = [Resource("team", f"{REMOTE}{t['id']}",
                                {"name": t.get("name"), "parent": None},
                                remote_id=str(t["id"]), server={"parent_id": t.get("parent_id")},
                                unknown=self.unknown_fields("GET /organizations/{id}/teams",
                                                            "team", t, {"parent_id": "parent"}))
                       for t in teams]
        keys = _team_keys([], provisional)
        teams_attr = _TeamsAttrs(keys)
        out = [_keyed_team(r, keys) for r in provisional]
        # (an employee id, the usual key, without a call)
        key_of = {m.id: m.employee_id or _membership_key(m) for m in members}
        key_of.update(self._keys_by_email(
            [(m.id, m.email) for m in members if "employee_id" not in m.carried],
            key_of.values()))
        unknown_of: dict[frozenset[str], frozenset[str]] = {}
        for m in members:
            unknown = unknown_of.get(m.carried)
            if unknown is None:  # asked once per set of fields: it notes what is missing
                unknown = unknown_of[m.carried] = self.unknown_fields(
                    f"GET {MEMBERSHIPS}", "membership", dict.fromkeys(m.carried),
                    MEMBERSHIP_OPTIONAL)  # (an answer with exactly the fields carried)
            attrs = {"email": m.email or None, "first_name": m.first_name,
                     "last_name": m.last_name, "employee_id": m.employee_id,
                     "teams": [*teams_attr[m.team_ids]]}
            for name in unknown:
                del attrs[name]
            key = key_of[m.id]
            identities = (f"{EMAIL}{m.email}",) if m.email else ()
            # `team_ids` is the membership's own tuple: the resource shares it. The fields
            # in order (`RESOURCE_FIELDS`), as `_moved` passes them: keywords cost more.
            out.append(Resource("membership", key, attrs, identities, NOTHING, m.id, False,
                                "yaml", {"team_ids": m.team_ids, "user_id": m.user_id},
                                unknown))
            if m.org_admin:
                out.append(Resource("org_admin", key, identities=identities, remote_id=m.id))
        for team_id, membership_ids in admins.items():
            team = keys.get(team_id, f"{REMOTE}{team_id}")
            for membership_id in dict.fromkeys(membership_ids):
                # (a duplicate record is the same admin: one resource, one revoke)
                admin = by_id.get(membership_id)
                member = key_of.get(membership_id, f"{REMOTE}{membership_id}")
                email = admin.email if admin else ""
                out.append(Resource("team_admin", f"{team}:{member}",
                                    identities=(f"{team}:{EMAIL}{email}",),
                                    remote_id=f"{team_id}:{membership_id}",
                                    server={"team_id": team_id, "membership_id": membership_id,
                                            "membership_key": member, "email": email}))
        return out

    def match_live(self, desired: list[Resource], live: list[Resource]) -> list[Resource]:
        """`live` with its teams matched to the desired teams (see the module docstring) and
        every team reference written as the matched config key; an unmatched team keeps a
        name-path key ("name:eng/Old", "name:/Legacy"). A membership whose answers carry no
        employee id takes the key of the config employee of its email. Pure: returns new
        resources, but for those it leaves as they are."""
        teams: list[Resource] = []
        memberships: list[Resource] = []
        for r in live:
            if r.kind == "team":
                teams.append(r)
            elif r.kind == "membership":
                memberships.append(r)
        keys = _team_keys([d for d in desired if d.kind == "team"], teams)
        teams_attr = _TeamsAttrs(keys)
        # Membership id -> key: its own, but for those `_keys_by_email` gives one. (A live
        # membership's id is the answer's `id`, a string: used as it is.)
        member_keys = {r.remote_id: r.key for r in memberships}
        member_keys.update(self._keys_by_email(
            [(str(r.remote_id), str(r.attrs.get("email") or "")) for r in memberships
             if "employee_id" in r.unknown], member_keys.values()))
        out: list[Resource] = []
        for r in live:
            kind = r.kind
            if kind == "membership":
                key = member_keys[r.remote_id]
                teams_now = [*teams_attr[tuple(r.server["team_ids"])]]
                if key == r.key and teams_now == r.attrs.get("teams"):
                    out.append(r)
                    continue
                attrs = r.attrs.copy()
                attrs["teams"] = teams_now
                out.append(_moved(r, key, attrs))
            elif kind == "team":
                out.append(_keyed_team(r, keys))
            elif kind == "team_admin":
                server = r.server
                team = keys.get(server["team_id"], f"{REMOTE}{server['team_id']}")
                member = member_keys.get(server["membership_id"], server["membership_key"])
                out.append(_moved(r, f"{team}:{member}",
                                  identities=(f"{team}:{EMAIL}{server['email']}",),
                                  server={**server, "membership_key": member}))
            elif kind == "org_admin":
                key = member_keys.get(r.remote_id, r.key)
                out.append(r if key == r.key else _moved(r, key))
            else:
                out.append(r)
        return out

    def _keys_by_email(self, keyless: list[tuple[str, str]],
                       keys: Iterable[str]) -> dict[str, str]:
        """Membership id -> the key of the bound config's employee of its email, for the
        `keyless` memberships (id, email) whose answers carry no employee id: one per
        employee, and none whose key a membership already has (`keys`, all of theirs)."""
        if not keyless:
            return {}
        by_email = self._employees_by_email()
        taken = set(keys)
        out: dict[str, str] = {}
        for membership_id, email in keyless:
            found = by_email.get(email)
            if found is not None and found not in taken:
                taken.add(found)
                out[membership_id] = found
        return out

    def _employees_by_email(self) -> dict[str, str]:
        """Lowercased email (current or previous) -> key of the bound config's employee."""
        if self.org is None:
            return {}
        out: dict[str, str] = {}
        for key, e in self.org.employees.items():
            for email in (e.email, *e.previously):
                out.setdefault(email.lower(), key)
        return out

    # -- apply ----------------------------------------------------------------------------
    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Find what an unknown-outcome create may have made, so it is never made twice."""
        after = change.after or {}
        if change.kind == "team":
            parent_id = self._ref(change, "parent", ids) if after.get("parent") else None
            for team in await self._all_teams():
                if team.get("name") == after.get("name") and team.get("parent_id") == parent_id:
                    return str(team["id"])
            return None
        if change.kind == "membership":
            email = str(after.get("email", "")).lower()
            found = await self._read_members(teams=(), pick=lambda _id, e: e == email)
            return found[0].id if found else None
        if change.kind == "team_admin":
            team_id = self._ref(change, "team", ids)
            membership_id = self._ref(change, "membership", ids)
            known = {**self._members, membership_id: None}
            if any(self._admin_of(team_id, a, known) == membership_id
                   for a in await self._admins(team_id)):
                return f"{team_id}:{membership_id}"
            return None
        if change.kind == "org_admin":
            membership_id = self._ref(change, "membership", ids)
            membership = await self._membership(membership_id, {"org_admin": (bool, NoneType)})
            return membership_id if membership.get("org_admin") else None
        return None

    def _ref(self, change: Change, attr: str, ids: Mapping[str, str]) -> str:
        address = change.refs.get(attr)
        if address is None or address not in ids:
            raise ProviderError(self.name, f"{change.address}: its {attr} "
                                           f"{address or '(none)'} has no Worklete id: "
                                           "create it first")
        return ids[address]

    async def _create_team(self, change: Change, ids: Mapping[str, str]) -> str:
        after = change.after or {}
        parent_id = self._ref(change, "parent", ids) if after.get("parent") else None
        # Worklete does not enforce team names as unique: another apply (another CI job,
        # another checkout) may have made this team since the plan read the list. Look
        # again just before creating; this narrows that window to this read, it cannot
        # close it (docs/safety.md).
        existing = await self.lookup(change, ids)
        if existing is not None:
            log.info("%s: team %r under %s exists since the plan was made: not created "
                     "again", self.name, after["name"], parent_id or "the organisation")
            return existing
        org_id = await self._organization_id()
        path = f"/worklete_admin/organizations/{org_id}/teams"
        body = await self.call("POST", path,
                               json={"data": {"name": after["name"], "parent_id": parent_id}})
        page = self.expect_object(f"POST {path}", body, {"data": dict})
        return str(self.expect_object(f"POST {path}", page["data"], {"id": str})["id"])

    async def _update_team(self, change: Change, ids: Mapping[str, str]) -> None:
        team_id = _rid(change)
        after = change.after or {}
        if "name" in change.fields:
            await self.call("PUT", f"/teams/{team_id}", json={"name": after["name"]})
        if "parent" in change.fields:
            parent_id = self._ref(change, "parent", ids) if after.get("parent") else None
            org_id = await self._organization_id()
            await self.call("PATCH", f"/worklete_admin/organizations/{org_id}/teams/{team_id}",
                            json={"data": {"parent_id": parent_id}})
        return None

    async def _delete_team(self, change: Change, ids: Mapping[str, str]) -> None:
        await self.call("DELETE", f"/teams/{_rid(change)}", allow=(404,))

    async def _create_team_admin(self, change: Change, ids: Mapping[str, str]) -> str:
        team_id = self._ref(change, "team", ids)
        membership_id = self._ref(change, "membership", ids)
        await self.call("POST", f"/teams/{team_id}/admins",
                        json={"team_id": team_id, "membership_id": membership_id})
        return f"{team_id}:{membership_id}"

    async def _delete_team_admin(self, change: Change, ids: Mapping[str, str]) -> None:
        team_id, membership_id = _rid(change).split(":", 1)
        await self.call("DELETE", f"/teams/{team_id}/admins/{membership_id}", allow=(404,))

    async def _set_org_admin(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Create: set the membership's org_admin; delete: unset it, guarded."""
        value = change.action == "create"
        if value:
            membership_id = self._ref(change, "membership", ids)
        else:
            membership_id = _rid(change)
            if not self._read_memberships:  # the guards below need the live admins
                self._remember(await self._read_members(teams=()))
            if membership_id == self._own_membership:
                raise ProviderError(self.name, f"{change.address}: refusing to unset the "
                                               "org admin orgctl signs in as")
            if not self._org_admins - {membership_id}:
                raise ProviderError(self.name, f"{change.address}: refusing to unset the "
                                               "last org admin of the organisation")
        await self.call("PATCH", f"/memberships/{membership_id}/admin_permission",
                        params={"org_admin": "true" if value else "false"})
        if value:
            self._org_admins.add(membership_id)
            return membership_id
        self._org_admins.discard(membership_id)
        return None

    async def _write_membership(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Email through PATCH /users/{id}; everything else (and every create) through the
        memberships CSV, shared with the other memberships applied at the same moment."""
        if change.action == "deactivate":  # a leaver: the same row, in no team
            change = replace(change, action="update",
                             after={**(change.before or {}), "teams": []},
                             fields={"teams": [None, []]})
        after = change.after or {}
        fields = set(change.fields) if change.action == "update" else set(after)
        if change.action == "update" and "email" in fields:
            await self._set_email(_rid(change), str(after["email"]))
            fields.discard("email")
            if not fields:
                return None
        team_ids = [self._ref(change, f"teams.{t}", ids) for t in after.get("teams") or []]
        update = change.action == "update"
        row = _Row(email=str(after["email"]).lower(), first_name=after.get("first_name"),
                   last_name=after.get("last_name"), employee_id=after.get("employee_id"),
                   team_ids=tuple(team_ids), address=change.address,
                   membership_id=_rid(change) if update else None,
                   before=self._members.get(_rid(change)) if update else None)
        membership = await self._upload_queue().submit(row)
        if membership.user_id:
            self._user_ids[membership.id] = membership.user_id
        return membership.id if change.action == "create" else None

    async def _set_email(self, membership_id: str, email: str) -> None:
        user_id = self._user_ids.get(membership_id)
        if user_id is None:
            user_id = str((await self._membership(membership_id, {"user_id": str}))["user_id"])
        answer = await self.call("PATCH", f"/users/{user_id}", json={"email": email})
        if answer is not True:
            raise ProviderError(self.name, f"PATCH /users/{user_id} answered {answer!r}: "
                                           f"Worklete refused the email {email} (is another "
                                           "user using it?)")

    WRITES: ClassVar[Mapping[tuple[str, Action], Write]] = {
        ("team", "create"): _create_team, ("team", "update"): _update_team,
        ("team", "delete"): _delete_team,
        ("membership", "create"): _write_membership, ("membership", "update"): _write_membership,
        ("membership", "deactivate"): _write_membership,
        ("team_admin", "create"): _create_team_admin,
        ("team_admin", "delete"): _delete_team_admin,
        ("org_admin", "create"): _set_org_admin, ("org_admin", "delete"): _set_org_admin,
    }


@dataclass(frozen=True)
class _Row:
    """One membership as the CSV writes it, and what it must read back as. An update names
    its membership and how the plan's read saw it (`before`)."""

    email: str  # lowercased
    first_name: str | None
    last_name: str | None
    employee_id: str | None
    team_ids: tuple[str, ...]
    address: str
    membership_id: str | None = None
    before: _Member | None = None

    def cells(self) -> dict[str, Any]:
        return {"email": self.email, "first_name": self.first_name,
                "last_name": self.last_name, "employee_id": self.employee_id,
                "team_ids": TEAM_ID_SEPARATOR.join(self.team_ids)}

    def find(self, members: Iterable[_Member]) -> _Member | None:
        """This row's membership among `members`: by id (an update), else by email."""
        for m in members:
            if (m.id == self.membership_id if self.membership_id else m.email == self.email):
                return m
        return None

    def differences(self, m: _Member, names: Mapping[str, str] | None = None) -> list[str]:
        """How `m` differs from what this row asked for (only the fields its answers
        carry: one they do not is unknown, not different); teams named from `names`."""
        out: list[str] = []
        wanted = {"first_name": self.first_name, "last_name": self.last_name,
                  "employee_id": self.employee_id}
        for name, value in wanted.items():
            if value and name in m.carried and getattr(m, name) != neutralise(str(value)):
                out.append(f"{name} {getattr(m, name)!r} instead of {neutralise(str(value))!r}")
        if set(m.team_ids) != set(self.team_ids):
            out.append(f"teams {_team_list(m.team_ids, names)} instead of "
                       f"{_team_list(self.team_ids, names)}")
        return out

    def processed(self, m: _Member | None) -> bool:
        """Whether Worklete has processed this row: a new membership shows, or an existing
        one no longer reads as it did before the upload."""
        if m is None:
            return False
        if self.before is None:
            return True
        return _state(m) != _state(self.before)

    def candidate_teams(self) -> set[str]:
        """The teams whose membership this row may change."""
        return set(self.team_ids) | set(self.before.team_ids if self.before else ())


def _state(m: _Member) -> tuple[Any, ...]:
    return (m.first_name, m.last_name, m.employee_id, frozenset(m.team_ids))


@dataclass
class _Batch:
    rows: dict[str, _Row] = field(default_factory=dict)  # by lowercased email
    done: asyncio.Future[dict[str, _Member]] | None = None


class _Uploads:
    """The memberships CSV flow, batched: the memberships applied within
    `upload_batch_window` of each other share one signed URL, one PUT and one wait. Its
    batches are futures of `loop`, the loop it serves.

    The CSV's columns and semantics are assumed (seed 004 names only the file), and a
    server that reads it otherwise could drop data: an upsert that replaces teams from a
    column it does not know strips every member it touches. So the first upload of a run
    carries one row (`_proof_row`: one that uses the columns the others use, with the
    least to lose), and the rest is sent only once that row reads back as intended.
    Otherwise every membership change fails with the reason, and nothing more is uploaded
    this run. A run whose first rows had no teams proves the team column again on the
    first row that has some."""

    def __init__(self, provider: WorkleteProvider, loop: asyncio.AbstractEventLoop):
        self.provider = provider
        self.loop = loop
        self._open: _Batch | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._proving = asyncio.Lock()

    async def submit(self, row: _Row) -> _Member:
        """Send `row` with the next upload; return the membership once Worklete shows it."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(done=self.loop.create_future())
            task = asyncio.create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        batch.rows[row.email] = row
        assert batch.done is not None
        result = await asyncio.shield(batch.done)
        return result[row.email]

    async def _flush(self, batch: _Batch) -> None:
        assert batch.done is not None
        await asyncio.sleep(self.provider.settings.upload_batch_window)
        self._open = None
        try:
            batch.done.set_result(await self._send(dict(batch.rows)))
        except Exception as exc:  # every waiting apply gets the same error
            batch.done.set_exception(exc)

    async def _send(self, rows: dict[str, _Row]) -> dict[str, _Member]:
        provider = self.provider
        found: dict[str, _Member] = {}
        async with self._proving:
            if provider._csv_refused is not None:
                raise ProviderError(provider.name, f"memberships not uploaded: the CSV was "
                                                   f"not applied as intended earlier this "
                                                   f"run: {provider._csv_refused}")
            if provider._csv_proven < _proof_needed(rows.values()):
                proof = _proof_row(rows.values())
                found[proof.email] = await self._prove(proof)
                provider._csv_proven = max(provider._csv_proven, _proof_needed([proof]))
                del rows[proof.email]
        if rows:
            await self._put(rows.values())
            found.update(await self._wait(rows))
        return found

    async def _put(self, rows: Iterable[_Row]) -> None:
        """Upload `rows` as one CSV to a fresh signed URL."""
        provider = self.provider
        org_id = await provider._organization_id()
        path = f"/worklete_admin/organizations/{org_id}/upload_memberships_list_url"
        body = provider.expect_object(f"GET {path}", await provider.call("GET", path),
                                      {"data": dict})
        url = provider.expect_object(f"GET {path}", body["data"], {"url": str})["url"]
        # The signature is a short-lived credential: keep it out of logs and errors.
        register(httpx.URL(url).params.get("signature"))
        csv_text = render_csv(MEMBERSHIP_COLUMNS, [r.cells() for r in rows])
        # A signed URL authenticates itself; a retried PUT of the same object is harmless
        # because the CSV is an upsert by email.
        await provider.call("PUT", url, content=csv_text.encode("utf-8"),
                            headers={"content-type": "text/csv"}, idempotent=True, auth=False)

    async def _members_of(self, rows: Mapping[str, _Row], narrow: bool) -> list[_Member]:
        """The memberships of `rows` as Worklete shows them now, with their teams among
        those the rows may change. `narrow`: ask only for the rows' teams' memberships
        when every row has a team (a row stripped of its teams then does not show)."""
        teams = set().union(*(r.candidate_teams() for r in rows.values()))
        ids = {r.membership_id for r in rows.values() if r.membership_id}
        emails = {r.email for r in rows.values() if not r.membership_id}
        narrowed = teams if narrow and all(r.team_ids for r in rows.values()) else set()
        return await self.provider._read_members(
            narrowed, teams, pick=lambda mid, email: mid in ids or email in emails)

    async def _prove(self, row: _Row) -> _Member:
        """Upload `row` alone and read it back: its membership, when Worklete applied it as
        intended; else an error (and the refusal remembered: nothing more is sent)."""
        provider = self.provider
        await self._put([row])
        deadline = time.monotonic() + provider.settings.upload_timeout
        delay = POLL_FIRST
        while True:
            shown = row.find(await self._members_of({row.email: row}, narrow=False))
            if shown is not None and row.processed(shown):
                wrong = row.differences(shown, provider._team_names)
                if not wrong:
                    return shown
                self._refuse(f"the one row sent first to prove its format, for {row.email} "
                             f"({_was(row, provider._team_names)}), now shows "
                             f"{'; '.join(wrong)}. Worklete does not read the memberships CSV "
                             f"as orgctl writes it (columns {', '.join(MEMBERSHIP_COLUMNS)}, "
                             f"an upsert by email): check {row.email} in Worklete, and the "
                             f"CSV format this Worklete expects")
            if time.monotonic() + delay > deadline:
                self._refuse(f"the one row sent first to prove its format, for {row.email}, "
                             f"did not show as processed after "
                             f"{provider.settings.upload_timeout:g} s; re-run the apply once "
                             f"Worklete has processed the file")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)

    def _refuse(self, why: str) -> NoReturn:
        """Stop uploading memberships this run, saying why."""
        provider = self.provider
        provider._csv_refused = (f"{why}. Nothing else was uploaded, so no other membership "
                                 f"was changed")
        raise ProviderError(provider.name, f"memberships CSV not applied as intended: "
                                           f"{provider._csv_refused}")

    async def _wait(self, rows: dict[str, _Row]) -> dict[str, _Member]:
        """Poll until every row shows as written, or time out."""
        provider = self.provider
        deadline = time.monotonic() + provider.settings.upload_timeout
        delay = POLL_FIRST
        while True:
            members = await self._members_of(rows, narrow=True)
            found: dict[str, _Member] = {}
            for email, row in rows.items():
                shown = row.find(members)
                if shown is not None and not row.differences(shown):
                    found[email] = shown
            if len(found) == len(rows):
                return found
            if time.monotonic() + delay > deadline:
                missing = sorted(set(rows) - set(found))
                raise ProviderError(provider.name, (
                    f"memberships upload not visible after "
                    f"{provider.settings.upload_timeout:g} s: "
                    f"{len(missing)} of {len(rows)} rows still missing or stale "
                    f"({', '.join(missing[:5])}{'...' if len(missing) > 5 else ''}); "
                    "re-run the apply once Worklete has processed the file"))
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)


def _proof_needed(rows: Iterable[_Row]) -> int:
    """How far the CSV must be proven to send `rows`: with teams when one has teams."""
    return PROVEN_WITH_TEAMS if any(r.team_ids for r in rows) else PROVEN_WITHOUT_TEAMS


def _proof_row(rows: Iterable[_Row]) -> _Row:
    """The row to prove the CSV format with. It must use what the others use (teams, when
    any row has some: a row without proves nothing about the team column), and have the
    least to lose if Worklete reads the file otherwise: a new membership holds nothing yet;
    else the membership with the fewest teams."""
    rows = list(rows)
    teams = any(r.team_ids for r in rows)
    return min((r for r in rows if bool(r.team_ids) == teams),
               key=lambda r: (r.before is not None,
                              len(r.before.team_ids) if r.before else 0, r.email))


def _was(row: _Row, names: Mapping[str, str]) -> str:
    """What the membership of `row` was before the upload, for a message."""
    if row.before is None:
        return "a new membership"
    return f"before: teams {_team_list(row.before.team_ids, names)}"


def _team_list(team_ids: Iterable[str], names: Mapping[str, str] | None) -> str:
    """Teams for a message: their names where known, sorted; "(none)" for no team."""
    shown = sorted((names or {}).get(t, t) for t in team_ids)
    return ", ".join(shown) if shown else "(none)"


async def _together(*reads: Awaitable[Any]) -> list[Any]:
    """`asyncio.gather(*reads)`, but the first failure cancels the reads still going and
    waits for them before it is raised: no request is sent for a read that has failed, and
    no read is left behind with an error nobody sees."""
    tasks = [asyncio.ensure_future(r) for r in reads]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _no_email() -> NoReturn:
    raise NotServed(NO_EMAIL)


def _login(user: Mapping[str, Any]) -> tuple[str, str]:
    return (str(user.get("email") or "").lower(), str(user.get("username") or ""))


def _rid(change: Change) -> str:
    if not change.remote_id:
        raise ProviderError(change.provider, f"{change.address}: no Worklete id to "
                                             f"{change.action}")
    return change.remote_id


def _membership_key(m: _Member) -> str:
    """The employee id orgctl writes in the CSV; else the email; else the Worklete id."""
    if m.employee_id:
        return m.employee_id
    return f"{EMAIL}{m.email}" if m.email else f"{REMOTE}{m.id}"


class _TeamsAttrs(dict[tuple[str, ...], list[str]]):
    """A membership's team ids (a tuple) -> its `teams` attribute: the keys of its teams
    (`keys`: team id -> key; a team not among them by its id), sorted. Memberships share
    few sets of teams: each set is sorted once (`__missing__`), and found again by a plain
    dict lookup, without a call (one a membership, twice a plan). Each membership gets a
    list of its own: copy what this gives (`[*teams[ids]]`)."""

    def __init__(self, keys: Mapping[str, str]):
        super().__init__()
        self.team_keys = keys

    def __missing__(self, team_ids: tuple[str, ...]) -> list[str]:
        keys = self.team_keys
        made = self[team_ids] = sorted([keys.get(t, f"{REMOTE}{t}") for t in team_ids])
        return made


def _keyed_team(r: Resource, keys: Mapping[str, str]) -> Resource:
    """Live team `r` under its key in `keys` (team id -> key), its parent's likewise."""
    parent_id = r.server.get("parent_id")
    parent = keys.get(parent_id) if parent_id else None
    return _moved(r, keys[r.remote_id or ""], attrs={"name": r.attrs["name"], "parent": parent},
                  identities=(f"{NAME}{parent or ''}/{r.attrs['name']}",))


RESOURCE_FIELDS = ("kind", "key", "attrs", "identities", "refs", "remote_id", "protected",
                   "source", "server", "unknown")
"""The fields of `Resource` `_moved` copies (tests/providers check it has them all)."""


def _moved(r: Resource, key: str, attrs: dict[str, Any] | None = None,
           identities: tuple[str, ...] | None = None,
           server: dict[str, Any] | None = None) -> Resource:
    """`dataclasses.replace(r, key=key, ...)`, written out: `replace` looks the fields up
    on every call, which cost more than the rest of `match_live` (one per live object).
    The fields are passed in order (`RESOURCE_FIELDS`): keywords cost more again."""
    return Resource(r.kind, key, r.attrs if attrs is None else attrs,
                    r.identities if identities is None else identities, r.refs, r.remote_id,
                    r.protected, r.source, r.server if server is None else server, r.unknown)


def _team_keys(desired: list[Resource], live: list[Resource]) -> dict[str, str]:
    """Live team id -> key: the config key of the desired team it matches, else a
    name-path key. Matching is top-down, by name within the (matched) parent, a current
    name winning over a `previously:` one; then, for what is left, by a name that exactly
    one live team and one desired team carry (a moved team); repeated until stable."""
    names: dict[str, set[str]] = {}
    exact: dict[tuple[str, str], list[str]] = {}
    current: dict[str, str] = {}
    for d in desired:
        prefix = f"{NAME}{d.attrs.get('parent') or ''}/"
        own = {folded(i[len(prefix):]) for i in d.identities if i.startswith(prefix)}
        own.add(folded(str(d.attrs["name"])))
        names[d.key] = own
        current[d.key] = folded(str(d.attrs["name"]))
        for n in own:
            exact.setdefault((d.attrs.get("parent") or "", n), []).append(d.key)
    by_name: dict[str, list[str]] = {}
    for key, own in names.items():
        for n in own:
            by_name.setdefault(n, []).append(key)

    by_id = {r.remote_id: r for r in live}
    order = _top_down(live, by_id)
    live_names = Counter(folded(str(r.attrs["name"])) for r in live)
    matched: dict[str, str] = {}
    claimed: set[str] = set()
    progress = True
    while progress:
        progress = False
        for r in order:
            if r.remote_id in matched:
                continue
            parent_id = r.server.get("parent_id")
            if parent_id and parent_id not in matched:
                continue  # its parent is no config team: nothing to match within
            parent = matched[parent_id] if parent_id else ""
            name = folded(str(r.attrs["name"]))
            free = [k for k in exact.get((parent, name), ()) if k not in claimed]
            if free:
                free.sort(key=lambda k: current[k] != name)
                matched[str(r.remote_id)] = free[0]
                claimed.add(free[0])
        for r in order:
            if r.remote_id in matched:
                continue
            name = folded(str(r.attrs["name"]))
            candidates = by_name.get(name, [])
            if len(candidates) != 1 or candidates[0] in claimed:
                continue
            if sum(live_names[n] for n in names[candidates[0]]) == 1:
                matched[str(r.remote_id)] = candidates[0]
                claimed.add(candidates[0])
                progress = True

    keys: dict[str, str] = {}
    used: set[str] = set()
    path: dict[str, str] = {}
    for r in order:
        rid = str(r.remote_id)
        parent_id = r.server.get("parent_id")
        if rid in matched:
            keys[rid] = path[rid] = matched[rid]
            continue
        base = path.get(parent_id, "") if parent_id else ""
        path[rid] = f"{base}/{r.attrs['name']}"
        key = f"{NAME}{path[rid]}"
        keys[rid] = key if key not in used else f"{REMOTE}{rid}"
        used.add(keys[rid])
    return keys


def _top_down(live: list[Resource], by_id: dict[str | None, Resource]) -> list[Resource]:
    """Teams parents first; a team whose parent is not among them counts as a root."""
    children: dict[str | None, list[Resource]] = {}
    for r in live:
        parent_id = r.server.get("parent_id")
        children.setdefault(parent_id if parent_id in by_id else None, []).append(r)
    order: list[Resource] = []
    seen: set[str | None] = set()
    queue = deque(sorted(children.get(None, []),
                         key=lambda r: (str(r.attrs["name"]), str(r.remote_id))))
    while queue:
        r = queue.popleft()
        if r.remote_id in seen:
            continue
        seen.add(r.remote_id)
        order.append(r)
        queue.extend(sorted(children.get(r.remote_id, []),
                            key=lambda c: (str(c.attrs["name"]), str(c.remote_id))))
    # A parent cycle (never expected) leaves teams unreached: keep them, as roots.
    order.extend(r for r in live if r.remote_id not in seen)
    return order

