"""Worklete (seed 004, Swagger 1.0.0): teams with parents, team admins, memberships (created
through the memberships CSV uploaded to a signed URL), the org-admin permission, user email.

Identity. Worklete teams carry no external id, so a live team is matched by name within its
parent, top-down (a rename declared with `previously:` is an update), and, when a name is
carried by exactly one live team and one config team, by that name alone (so a move is an
update too). `read()` cannot do that matching: the engine reads before it asks for the
desired side. `match_live(desired, live)` does it, and rewrites the live team keys, the
`parent` and `teams` attributes and the team-admin keys into config keys; the engine calls
it between `desired()` and the diff. Memberships are keyed by their `employee_id` (the
config's employee key, written by orgctl's CSV) with the email as fallback identity.

Every request shape the seed collapses to `{ }` is an assumption: see CAPABILITIES, the
ASSUMED comments, and docs/providers/worklete.md.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import NoneType
from typing import Any, ClassVar

import httpx

from orgctl.errors import ProviderError
from orgctl.model import Employee, Org, ProviderConfig
from orgctl.providers.base import (
    Capability,
    Fields,
    Progress,
    Provider,
    Settings,
    Write,
    schema_file,
)
from orgctl.providers.csvsafe import FORMULA_PREFIXES, neutralise, render_csv
from orgctl.providers.http import Http, Pacer, Page, Paging, SignInHeaders
from orgctl.providers.importing import NO_KEY
from orgctl.redact import register
from orgctl.resources import Action, Change, Resource

SIGN_IN = "/auth/sign_in"
AUTH_HEADERS = ("access-token", "client", "uid")
# Documented: `page` from 0 and `size` on the team list. ASSUMED: 100 is the largest size
# served (and the same scheme on the organization and membership lists).
PAGE_SIZE = 100
PAGING = Paging("page", PAGE_SIZE, size_param="size", index_param="page", first_index=0)
# ASSUMED: the memberships CSV (the seed names only the file): one row per membership,
# upserted by email; `team_ids` replaces the membership's teams.
MEMBERSHIP_COLUMNS = ("email", "first_name", "last_name", "employee_id", "team_ids")
TEAM_ID_SEPARATOR = ";"
UPLOAD_BATCH_WINDOW = 0.2  # seconds a membership waits for others to share its upload
UPLOAD_TIMEOUT = 300.0  # seconds to wait for an uploaded CSV to show up in the API
POLL_FIRST, POLL_MAX = 0.2, 5.0

NAME = "name:"  # identity and fallback key prefix of a team matched by name within parent
EMAIL = "email:"  # identity prefix of a membership (and fallback key without employee_id)
REMOTE = NO_KEY  # key of a live object that has neither (a second team of the same name)

# What reading relies on in each listed object (answers' shapes: see CAPABILITIES).
ORGANIZATION_FIELDS: Fields = {"id": str, "name": (str, NoneType)}
TEAM_FIELDS: Fields = {"id": str, "name": str, "parent_id": (str, NoneType)}
MEMBERSHIP_FIELDS: Fields = {"id": str, "user": (dict, NoneType),
                             "employee_id": (str, int, NoneType), "user_id": (str, NoneType),
                             "team_ids": (list, NoneType), "org_admin": (bool, NoneType)}
ADMIN_FIELDS: Fields = {"membership_id": str}


@dataclass(frozen=True, kw_only=True)
class WorkleteSettings(Settings):
    """username, password (write it as ${WORKLETE_PASSWORD}), organization (name or id);
    rate_limit (none by default), upload_timeout, upload_batch_window (seconds);
    timeout, max_concurrency."""

    username: str
    password: str = field(repr=False)
    organization: str
    rate_limit: str | int | None = None
    upload_timeout: float = UPLOAD_TIMEOUT
    upload_batch_window: float = UPLOAD_BATCH_WINDOW

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> WorkleteSettings:
        for name in ("username", "password", "organization"):
            if raw.get(name) in (None, ""):
                hint = " (write it as ${WORKLETE_PASSWORD}, never in the file)" \
                    if name == "password" else ""
                raise ProviderError(provider, f"setting `{name}` is required{hint}")
        common = cls.common(raw)
        rate_limit = raw.get("rate_limit")
        try:
            Pacer.parse(rate_limit)
        except ValueError as exc:
            raise ProviderError(provider, str(exc)) from None
        return cls(username=str(raw["username"]), password=str(raw["password"]),
                   organization=str(raw["organization"]), rate_limit=rate_limit,
                   upload_timeout=float(raw.get("upload_timeout", UPLOAD_TIMEOUT)),
                   upload_batch_window=float(raw.get("upload_batch_window",
                                                     UPLOAD_BATCH_WINDOW)),
                   **common)


class WorkleteProvider(Provider):
    """Worklete through its token-auth API. Settings: username, password, organization
    (name or id), optional timeout, max_concurrency, rate_limit, upload_timeout,
    upload_batch_window."""

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
                   "004 auth \"Sign in a user\"; access-token, client, uid on every call"),
        Capability("find the organization", "GET", "/organizations", "documented",
                   "004 organizations \"List all organizations\" {data, meta}"),
        Capability("list teams", "GET", "/organizations/{organization_id}/teams", "documented",
                   "004 teams \"List teams\"; parent_id on each team assumed (it is on the "
                   "team of the my_teams sample)"),
        Capability("read every list at 100 a page", "GET", "?page=N&size=100", "assumed",
                   "004 gives page (from 0) and size (default 25) on the team list only; the "
                   "cap of 100, meta.total, and the same scheme on /organizations and "
                   "/worklete_admin/memberships are assumed"),
        Capability("create a team with its parent", "POST",
                   "/worklete_admin/organizations/{organization_id}/teams", "documented",
                   "004 worklete admins \"Create a team\"; body {data: {name, parent_id}} "
                   "assumed (WorkleteAdminOrgTeam is collapsed)"),
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
                   "no organisation-wide list); item field membership_id assumed"),
        Capability("make a team admin", "POST", "/teams/{team_id}/admins", "documented",
                   "004 teams \"Make a membership a team admin\" {team_id, membership_id}"),
        Capability("revoke a team admin", "DELETE", "/teams/{team_id}/admins/{admin_id}",
                   "documented", "004 teams \"Revoke team admin access\"; admin_id is "
                   "\"a unique identifier for a membership\": the membership id is sent"),
        Capability("list memberships", "GET", "/worklete_admin/memberships?organization_id=",
                   "documented", "004 worklete admins \"Retrieve a list of memberships\" "
                   "(organization_id, team_id, id filters); the membership fields (user.email, "
                   "employee_id, team_ids, org_admin, names) are assumed"),
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
                   "by email; orgctl polls the membership list until the rows show"),
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
        self._user_ids: dict[str, str] = {}  # membership id -> user id
        self._org_admins: set[str] = set()  # membership ids with org_admin
        self._own_membership: str | None = None  # the signed-in user's, never un-admined
        self._live_employee_ids: set[str] = set()  # employee ids of live memberships
        self._read_memberships = False

    # -- plumbing -------------------------------------------------------------------------
    def make_http(self) -> Http:
        settings = self.settings
        return Http(provider=self.name, base_url=self.config.url,
                    auth=SignInHeaders(SIGN_IN, {"username": settings.username,
                                                 "password": settings.password,
                                                 "provider": "username"},
                                       header_names=AUTH_HEADERS),
                    timeout=settings.timeout, max_concurrency=settings.max_concurrency,
                    pacer=Pacer.parse(settings.rate_limit))

    def _upload_queue(self) -> _Uploads:
        """The memberships upload queue of the running loop: its batches are futures of
        that loop, as the client is a client of it."""
        loop = asyncio.get_running_loop()
        if self._uploads is None or self._uploads.loop is not loop:
            self._uploads = _Uploads(self, loop)
        return self._uploads

    async def _organization_id(self) -> str:
        if self._org_id is None:
            orgs = await self._pages("/organizations", {}, ORGANIZATION_FIELDS)
            organization = self.settings.organization
            wanted = organization.casefold()
            found = [o for o in orgs if o["id"] == organization] or [
                o for o in orgs if str(o.get("name") or "").casefold() == wanted]
            if len(found) != 1:
                names = ", ".join(sorted(str(o.get("name")) for o in orgs)) or "none"
                what = "matches several organizations" if found else "is not an organization"
                raise ProviderError(self.name, f"organization {organization!r} {what} "
                                               f"this account can see (visible: {names})")
            self._org_id = str(found[0]["id"])
        return self._org_id

    async def _pages(self, path: str, params: dict[str, Any],
                     fields: Fields) -> list[dict[str, Any]]:
        """Every item of a list, each page's shape checked once: {data: [objects with
        `fields`], meta: {total}}. Paging follows the server (`Http.collect`): an answer
        without `meta` is the whole list."""
        what = f"GET {path}"

        def page(body: Any) -> Page:
            answer = self.expect_object(what, body, {"data": list, "meta": (dict, NoneType)})
            meta = answer.get("meta")
            rows = self.expect_items(what, answer["data"], fields)
            if meta is None:
                return Page(rows, paged=False)
            self.expect_object(what, meta, {"total": (int, NoneType)})
            return Page(rows, total=meta.get("total"))

        with self.explaining():
            return await self.http().collect(path, params, PAGING, page)

    async def _teams(self) -> list[dict[str, Any]]:
        return await self._pages(f"/organizations/{await self._organization_id()}/teams", {},
                                 TEAM_FIELDS)

    async def _memberships(self, team_ids: set[str] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"organization_id": await self._organization_id()}
        if team_ids:
            params["team_id"] = ",".join(sorted(team_ids))
        return await self._pages("/worklete_admin/memberships", params, MEMBERSHIP_FIELDS)

    async def _admins(self, team_id: str) -> list[dict[str, Any]]:
        """A team's admins: {data: [{membership_id}]}."""
        path = f"/teams/{team_id}/admins"
        page = self.expect_object(f"GET {path}", await self.call("GET", path), {"data": list})
        return self.expect_items(f"GET {path}", page["data"], ADMIN_FIELDS)

    async def _membership(self, membership_id: str, fields: Fields) -> dict[str, Any]:
        """One membership ({data: {...}}) with `fields`."""
        path = f"/memberships/{membership_id}"
        page = self.expect_object(f"GET {path}", await self.call("GET", path), {"data": dict})
        return self.expect_object(f"GET {path}", page["data"], fields)

    # -- capabilities ---------------------------------------------------------------------
    def removal(self, kind: str) -> Action | None:
        # No documented endpoint removes a membership; org_admin "delete" unsets the flag.
        return None if kind == "membership" else "delete"

    def removal_of(self, resource: Resource) -> Action | None:
        """As `removal`, but the admins of a team the config does not manage stay: pruning
        team admins must not reach into teams orgctl leaves alone."""
        if resource.kind == "team_admin" and resource.key.startswith((NAME, REMOTE)):
            return None
        return self.removal(resource.kind)

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
    def desired(self, org: Org) -> list[Resource]:
        out: list[Resource] = []
        for team in sorted(org.teams.values(), key=lambda t: t.key):
            parent = team.parent or ""
            out.append(Resource(
                kind="team", key=team.key,
                attrs={"name": team.name, "parent": team.parent},
                identities=tuple(f"{NAME}{parent}/{n}"
                                 for n in dict.fromkeys((team.name, *team.previously))),
                refs={"parent": self.address("team", team.parent)} if team.parent else {},
                protected=team.protected,
            ))

        active = {k: e for k, e in org.employees.items() if e.active}
        member_of: dict[str, set[str]] = {}
        wanted: set[str] = {k for k, e in active.items() if self.wants_org_admin(e)}
        for team in org.teams.values():
            for key in team.members:
                member_of.setdefault(key, set()).add(team.key)
            wanted.update(team.members, team.managers)
        # Someone taken out of their last team keeps the membership orgctl wrote (Worklete
        # removes none), so it stays desired, with no teams: the removal is an update.
        wanted.update(self._live_employee_ids)
        for key in sorted(wanted & set(active)):
            e = active[key]
            teams = sorted(member_of.get(key, ()))
            out.append(Resource(
                kind="membership", key=key,
                # Names go through the CSV, which neutralises formula characters: compare
                # with what Worklete will hold.
                attrs={"email": e.email.lower(), "first_name": neutralise(e.first_name),
                       "last_name": neutralise(e.last_name), "employee_id": key,
                       "teams": teams},
                identities=tuple(f"{EMAIL}{m.lower()}"
                                 for m in dict.fromkeys((e.email, *e.previously))),
                refs={f"teams.{t}": self.address("team", t) for t in teams},
                protected=e.protected,
            ))
        for team in sorted(org.teams.values(), key=lambda t: t.key):
            for key in team.managers:
                if key not in active:
                    continue
                out.append(Resource(
                    kind="team_admin", key=f"{team.key}:{key}",
                    identities=(f"{team.key}:{EMAIL}{active[key].email.lower()}",),
                    refs={"team": self.address("team", team.key),
                          "membership": self.address("membership", key)},
                ))
        for key in sorted(k for k, e in active.items() if self.wants_org_admin(e)):
            out.append(Resource(
                kind="org_admin", key=key,
                identities=(f"{EMAIL}{active[key].email.lower()}",),
                refs={"membership": self.address("membership", key)},
            ))
        return out

    @classmethod
    def wants_org_admin(cls, employee: Employee) -> bool:
        """Whether the config makes this employee an organisation admin."""
        return bool(employee.settings_for(cls.type).get("org_admin", False))

    # -- live -----------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Teams and memberships (concurrently, pages of 100), then each team's admins (one
        request per team: the seed has no organisation-wide admin list). Team keys are
        name paths until `match_live` turns them into config keys."""
        await self._organization_id()
        teams, memberships = await asyncio.gather(self._teams(), self._memberships())
        done = 2
        total = 2 + len(teams)
        if progress:
            progress(done, total)

        async def admins_of(team: dict[str, Any]) -> list[dict[str, Any]]:
            nonlocal done
            admins = await self._admins(team["id"])
            done += 1
            if progress:
                progress(done, total)
            return admins

        admins = await asyncio.gather(*(admins_of(t) for t in teams))
        self._remember(memberships)
        live = _live_resources(teams, memberships, dict(zip((t["id"] for t in teams), admins,
                                                            strict=True)))
        return self.match_live([], live)

    def _remember(self, memberships: list[dict[str, Any]]) -> None:
        self._read_memberships = True
        self._user_ids = {m["id"]: str(m.get("user_id")) for m in memberships}
        self._org_admins = {m["id"] for m in memberships if m.get("org_admin")}
        self._live_employee_ids = {str(m["employee_id"]) for m in memberships
                                   if m.get("employee_id")}
        me = self.settings.username.casefold()
        self._own_membership = next(
            (m["id"] for m in memberships
             if me in (str((m.get("user") or {}).get("username") or "").casefold(),
                       str((m.get("user") or {}).get("email") or "").casefold())), None)

    def match_live(self, desired: list[Resource], live: list[Resource]) -> list[Resource]:
        """`live` with its teams matched to the desired teams (see the module docstring) and
        every team reference written as the matched config key; an unmatched team keeps a
        name-path key ("name:eng/Old", "name:/Legacy"). Pure: returns new resources."""
        teams = [r for r in live if r.kind == "team"]
        keys = _team_keys([d for d in desired if d.kind == "team"], teams)
        out: list[Resource] = []
        for r in live:
            if r.kind == "team":
                parent_id = r.server.get("parent_id")
                parent = keys.get(parent_id) if parent_id else None
                out.append(replace(r, key=keys[r.remote_id or ""],
                                   attrs={"name": r.attrs["name"], "parent": parent},
                                   identities=(f"{NAME}{parent or ''}/{r.attrs['name']}",)))
            elif r.kind == "membership":
                team_keys = sorted(keys.get(t, f"{REMOTE}{t}") for t in r.server["team_ids"])
                out.append(replace(r, attrs={**r.attrs, "teams": team_keys}))
            elif r.kind == "team_admin":
                team = keys.get(r.server["team_id"], f"{REMOTE}{r.server['team_id']}")
                out.append(replace(r, key=f"{team}:{r.server['membership_key']}",
                                   identities=(f"{team}:{EMAIL}{r.server['email']}",)))
            else:
                out.append(r)
        return out

    # -- apply ----------------------------------------------------------------------------
    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Find what an unknown-outcome create may have made, so it is never made twice."""
        after = change.after or {}
        if change.kind == "team":
            parent_id = self._ref(change, "parent", ids) if after.get("parent") else None
            for team in await self._teams():
                if team.get("name") == after.get("name") and team.get("parent_id") == parent_id:
                    return str(team["id"])
            return None
        if change.kind == "membership":
            email = str(after.get("email", "")).lower()
            for m in await self._memberships():
                if str((m.get("user") or {}).get("email") or "").lower() == email:
                    return str(m["id"])
            return None
        if change.kind == "team_admin":
            team_id = self._ref(change, "team", ids)
            membership_id = self._ref(change, "membership", ids)
            if any(a["membership_id"] == membership_id for a in await self._admins(team_id)):
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
                self._remember(await self._memberships())
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
        after = change.after or {}
        fields = set(change.fields) if change.action == "update" else set(after)
        if change.action == "update" and "email" in fields:
            await self._set_email(_rid(change), str(after["email"]))
            fields.discard("email")
            if not fields:
                return None
        team_ids = [self._ref(change, f"teams.{t}", ids) for t in after.get("teams") or []]
        row = {"email": after["email"], "first_name": after.get("first_name"),
               "last_name": after.get("last_name"), "employee_id": after.get("employee_id"),
               "team_ids": TEAM_ID_SEPARATOR.join(team_ids)}
        membership = await self._upload_queue().submit(row)
        self._user_ids[membership["id"]] = str(membership.get("user_id"))
        return str(membership["id"]) if change.action == "create" else None

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
        ("team_admin", "create"): _create_team_admin,
        ("team_admin", "delete"): _delete_team_admin,
        ("org_admin", "create"): _set_org_admin, ("org_admin", "delete"): _set_org_admin,
    }


@dataclass
class _Batch:
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lowercased email
    done: asyncio.Future[dict[str, dict[str, Any]]] | None = None


class _Uploads:
    """The memberships CSV flow, batched: the memberships applied within
    `upload_batch_window` of each other share one signed URL, one PUT and one wait. Its
    batches are futures of `loop`, the loop it serves."""

    def __init__(self, provider: WorkleteProvider, loop: asyncio.AbstractEventLoop):
        self.provider = provider
        self.loop = loop
        self._open: _Batch | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, row: dict[str, Any]) -> dict[str, Any]:
        """Send `row` with the next upload; return the membership once Worklete shows it."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(done=self.loop.create_future())
            task = asyncio.create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        email = str(row["email"]).lower()
        batch.rows[email] = row
        assert batch.done is not None
        result = await asyncio.shield(batch.done)
        return result[email]

    async def _flush(self, batch: _Batch) -> None:
        assert batch.done is not None
        await asyncio.sleep(self.provider.settings.upload_batch_window)
        self._open = None
        try:
            batch.done.set_result(await self._upload(batch))
        except Exception as exc:  # every waiting apply gets the same error
            batch.done.set_exception(exc)

    async def _upload(self, batch: _Batch) -> dict[str, dict[str, Any]]:
        provider = self.provider
        org_id = await provider._organization_id()
        body = await provider.call(
            "GET", f"/worklete_admin/organizations/{org_id}/upload_memberships_list_url")
        data = body.get("data") if isinstance(body, dict) else None
        url = data.get("url") if isinstance(data, dict) else None
        if not url or not isinstance(url, str):
            raise ProviderError(provider.name, "the upload URL answer carried no data.url")
        # The signature is a short-lived credential: keep it out of logs and errors.
        register(httpx.URL(url).params.get("signature"))
        csv_text = render_csv(MEMBERSHIP_COLUMNS, list(batch.rows.values()))
        # A signed URL authenticates itself; a retried PUT of the same object is harmless
        # because the CSV is an upsert by email.
        await provider.call("PUT", url, content=csv_text.encode("utf-8"),
                            headers={"content-type": "text/csv"}, idempotent=True, auth=False)
        return await self._wait(batch)

    async def _wait(self, batch: _Batch) -> dict[str, dict[str, Any]]:
        """Poll the membership list until every row shows as written, or time out."""
        provider = self.provider
        team_ids = [set(filter(None, r["team_ids"].split(TEAM_ID_SEPARATOR)))
                    for r in batch.rows.values()]
        # Narrow each poll to the batch's teams when every row has one.
        narrow = set().union(*team_ids) if all(team_ids) else None
        deadline = time.monotonic() + provider.settings.upload_timeout
        delay = POLL_FIRST
        while True:
            listed = {str((m.get("user") or {}).get("email") or "").lower(): m
                      for m in await provider._memberships(narrow)}
            found = {e: listed[e] for e, row in batch.rows.items()
                     if e in listed and _shows(listed[e], row)}
            if len(found) == len(batch.rows):
                return found
            if time.monotonic() + delay > deadline:
                missing = sorted(set(batch.rows) - set(found))
                raise ProviderError(provider.name, (
                    f"memberships upload not visible after "
                    f"{provider.settings.upload_timeout:g} s: "
                    f"{len(missing)} of {len(batch.rows)} rows still missing or stale "
                    f"({', '.join(missing[:5])}{'...' if len(missing) > 5 else ''}); "
                    "re-run the apply once Worklete has processed the file"))
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)


def _shows(membership: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether a listed membership carries what the CSV row asked for."""
    wanted_teams = set(filter(None, row["team_ids"].split(TEAM_ID_SEPARATOR)))
    return (set(membership.get("team_ids") or ()) == wanted_teams
            and all(membership.get(k) == neutralise(str(row[k]))
                    for k in ("first_name", "last_name", "employee_id") if row.get(k)))


def _rid(change: Change) -> str:
    if not change.remote_id:
        raise ProviderError(change.provider, f"{change.address}: no Worklete id to "
                                             f"{change.action}")
    return change.remote_id


def _membership_key(m: dict[str, Any]) -> str:
    """The employee id orgctl writes in the CSV; else the email; else the Worklete id."""
    email = str((m.get("user") or {}).get("email") or "").lower()
    if m.get("employee_id"):
        return str(m["employee_id"])
    return f"{EMAIL}{email}" if email else f"{REMOTE}{m['id']}"


def _live_resources(teams: list[dict[str, Any]], memberships: list[dict[str, Any]],
                    admins: dict[str, list[dict[str, Any]]]) -> list[Resource]:
    """The live state as read, before `match_live` (team keys are provisional)."""
    out: list[Resource] = []
    for t in teams:
        out.append(Resource(kind="team", key=f"{REMOTE}{t['id']}",
                            attrs={"name": t.get("name"), "parent": None},
                            remote_id=str(t["id"]),
                            server={"parent_id": t.get("parent_id")}))
    by_id: dict[str, dict[str, Any]] = {}
    for m in memberships:
        by_id[m["id"]] = m
        key = _membership_key(m)
        email = str((m.get("user") or {}).get("email") or "").lower()
        out.append(Resource(
            kind="membership", key=key,
            attrs={"email": email or None, "first_name": m.get("first_name"),
                   "last_name": m.get("last_name"), "employee_id": m.get("employee_id"),
                   "teams": []},
            identities=(f"{EMAIL}{email}",) if email else (),
            remote_id=str(m["id"]),
            server={"team_ids": list(m.get("team_ids") or []), "user_id": m.get("user_id")}))
        if m.get("org_admin"):
            out.append(Resource(kind="org_admin", key=key,
                                identities=(f"{EMAIL}{email}",) if email else (),
                                remote_id=str(m["id"])))
    for team_id, items in admins.items():
        seen: set[str] = set()
        for a in items:
            membership_id = str(a.get("membership_id"))
            if membership_id in seen:
                continue  # a duplicate record is the same admin: one resource, one revoke
            seen.add(membership_id)
            m = by_id.get(membership_id)
            key = _membership_key(m) if m else f"{REMOTE}{membership_id}"
            email = str((m.get("user") or {}).get("email") or "").lower() if m else ""
            out.append(Resource(kind="team_admin", key=f"{REMOTE}{team_id}:{key}",
                                remote_id=f"{team_id}:{membership_id}",
                                server={"team_id": team_id, "membership_key": key,
                                        "email": email}))
    return out


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
        own = {i[len(prefix):].casefold() for i in d.identities if i.startswith(prefix)}
        own.add(str(d.attrs["name"]).casefold())
        names[d.key] = own
        current[d.key] = str(d.attrs["name"]).casefold()
        for n in own:
            exact.setdefault((d.attrs.get("parent") or "", n), []).append(d.key)
    by_name: dict[str, list[str]] = {}
    for key, own in names.items():
        for n in own:
            by_name.setdefault(n, []).append(key)

    by_id = {r.remote_id: r for r in live}
    order = _top_down(live, by_id)
    live_names = Counter(str(r.attrs["name"]).casefold() for r in live)
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
            name = str(r.attrs["name"]).casefold()
            free = [k for k in exact.get((parent, name), ()) if k not in claimed]
            if free:
                free.sort(key=lambda k: current[k] != name)
                matched[str(r.remote_id)] = free[0]
                claimed.add(free[0])
        for r in order:
            if r.remote_id in matched:
                continue
            name = str(r.attrs["name"]).casefold()
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

