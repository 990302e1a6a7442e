"""Workleap API provisioning (seed 003) as a batch provider: members, teams at every level,
and the member/manager mappings that also carry the subteam structure.

Workleap is written only by a full-replacement sync of three CSVs, so a plan's changes are
not sent one by one: `apply_batch` renders the whole organisation as it must be after the
plan (the live state, minus what the plan removes, plus what it creates and updates), submits
it as one sync, and polls the sync to its terminal status. Anything the plan leaves alone is
written back exactly as read, so the sync removes only what the plan says.

Workleap decides itself what "removing a member" means (seed 003 "Effects of missing data"):
an active member is deactivated, an invited or created one is deleted, an admin is never
touched. `removal_of` tells the plan which of these will happen to each live member.

The seed documents behaviour, not HTTP: every endpoint in `CAPABILITIES` is assumed, and the
emulator (`orgctl.sandbox.workleap`) implements the same assumptions.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import NoneType
from typing import Any, ClassVar

from orgctl.errors import ApiError, ProviderError
from orgctl.model import Org, ProviderConfig
from orgctl.providers.base import (
    BatchResult,
    Capability,
    Progress,
    Provider,
    Settings,
    schema_file,
)
from orgctl.providers.csvsafe import FORMULA_PREFIXES, as_read, neutralise, render_csv
from orgctl.providers.http import Http, Page, Paging, StaticHeaders
from orgctl.redact import redact, register
from orgctl.resources import Action, Change, Finding, Outcome, Resource

API_KEY_HEADER = "workleap-subscription-key"  # ASSUMED: the seed only says "API Key"
PAGE_SIZE = 500  # ASSUMED: the largest page the list endpoints serve; paging follows the server
PAGING = Paging("page", PAGE_SIZE, size_param="pageSize", index_param="page", first_index=1)
MEMBERS = "/provisioning/members"
TEAMS = "/provisioning/teams"
SYNCS = "/provisioning/syncs"
MEMBER_COLUMNS = ["externalMemberId", "email", "firstName", "lastName", "languagePreferences",
                  "productAssignations"]
TEAM_COLUMNS = ["externalTeamId", "teamName"]
MAPPING_COLUMNS = ["externalTeamId", "externalMemberId", "externalSubteamId", "role"]
PRODUCT_SEPARATOR = ";"  # ASSUMED: the seed lists products, not how a cell holds several
# What `read` relies on in each listed member and team (ASSUMED shapes, see CAPABILITIES).
MEMBER_FIELDS = {"id": (str, int), "email": (str, NoneType),
                 "externalMemberId": (str, NoneType), "status": (str, NoneType),
                 "productAssignations": (list, NoneType), "customProperties": (dict, NoneType),
                 "accessibleTeamIds": (list, NoneType)}
TEAM_FIELDS = {"id": (str, int), "externalTeamId": (str, int), "parentId": (str, int, NoneType),
               "managerIds": (list, NoneType), "memberIds": (list, NoneType)}
TERMINAL = ("Paused", "Rejected", "Success", "Warning", "Failed")
PAUSED = "awaiting approval in Workleap (risk threshold)"


@dataclass(frozen=True, kw_only=True)
class WorkleapSettings(Settings):
    """api_key (write it as ${WORKLEAP_API_KEY}); poll_interval (seconds between sync
    status reads, default 2), poll_timeout (seconds to wait for a terminal status, default
    900); timeout, max_concurrency."""

    api_key: str = field(repr=False)
    poll_interval: float = 2.0
    poll_timeout: float = 900.0

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> WorkleapSettings:
        api_key = str(raw.get("api_key") or "")
        if not api_key:
            raise ProviderError(provider, "setting `api_key` is required (write it as "
                                          "${WORKLEAP_API_KEY}, never in the file)")
        return cls(api_key=api_key, poll_interval=float(raw.get("poll_interval", 2.0)),
                   poll_timeout=float(raw.get("poll_timeout", 900.0)), **cls.common(raw))


class WorkleapProvider(Provider):
    """Members, teams and mappings through Workleap's CSV sync.

    Settings: api_key; optional timeout, max_concurrency, poll_interval (seconds between
    sync status reads, default 2), poll_timeout (seconds to wait for a terminal status,
    default 900).
    """

    type: ClassVar[str] = "workleap"
    SCHEMA: ClassVar[dict[str, Any]] = schema_file(__package__)
    BATCH: ClassVar[bool] = True
    KINDS: ClassVar[tuple[str, ...]] = ("team", "member", "mapping")
    IMPORT_SETTINGS: ClassVar[dict[str, str]] = {"api_key": "${WORKLEAP_API_KEY}"}
    # A managed team's mappings are exactly the config's; other teams' are left alone
    # (see `removal_of`), so pruning mappings is safe by default.
    PRUNE_DEFAULTS: ClassVar[dict[str, bool]] = {"mapping": True}
    # A member's `deactivated` is the employee's status.
    MODEL_FIELDS: ClassVar[dict[str, str]] = {"deactivated": "status"}
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = (
        Capability("authenticate with the API key", "*", f"header {API_KEY_HEADER}",
                   "assumed", "003 Step 1 \"Create an organization management API Key\"; "
                   "the header name is not in the seed"),
        Capability("sync members, teams and mappings (full replacement)", "POST",
                   f"{SYNCS} (multipart members.csv, teams.csv, teams-mappings.csv)",
                   "assumed", "003 Steps 3-5: the script pushes all 3 CSVs over HTTPS; "
                   "the request shape is not in the seed"),
        Capability("read a sync's status and report", "GET", f"{SYNCS}/{{id}}", "assumed",
                   "003 \"Sync statuses\" (Pending, Paused, Rejected, Success, Warning, "
                   "Failed); the seed shows them in the UI only"),
        Capability("retry a submission without a second sync", "POST",
                   f"{SYNCS} with Idempotency-Key", "assumed",
                   "not in the seed; without it a retried sync re-applies the same full "
                   "state, which changes nothing further"),
        Capability("list members (status, isAdmin, language, products)", "GET",
                   f"{MEMBERS}?page=N&pageSize={PAGE_SIZE}", "assumed",
                   "003 is silent on reading; members.csv fields from 003 Step 4"),
        Capability("list teams (parent, members, managers)", "GET",
                   f"{TEAMS}?page=N&pageSize={PAGE_SIZE}", "assumed",
                   "003 is silent on reading; teams.csv / teams-mappings.csv from 003 Step 4"),
        Capability("member removal: deactivate active, delete invited/created, never admins",
                   "-", "effect of a sync: member absent from members.csv", "documented",
                   "003 \"Effects of missing data\""),
        Capability("team removal", "-", "effect of a sync: team absent from teams.csv",
                   "documented", "003 \"Effects of missing data\""),
        Capability("email as fallback identity", "-",
                   "effect of a sync: externalMemberId unknown, email known", "documented",
                   "003 Step 4 members.csv"),
        Capability("subteams and manager access", "-",
                   "effect of a sync: externalSubteamId -> externalTeamId rows", "documented",
                   "003 Step 4 teams-mappings.csv"),
    )

    SETTINGS: ClassVar[type[Settings]] = WorkleapSettings
    settings: WorkleapSettings

    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        register(self.settings.api_key)  # the header name is not one StaticHeaders knows

    # -- plumbing -----------------------------------------------------------------------
    def make_http(self) -> Http:
        return Http(provider=self.name, base_url=self.config.url,
                    auth=StaticHeaders({API_KEY_HEADER: self.settings.api_key}),
                    timeout=self.settings.timeout,
                    max_concurrency=self.settings.max_concurrency)

    def explain(self, err: ApiError) -> ProviderError:
        """A Workleap refusal in words that say what to fix. Never includes the key."""
        body = err.body if isinstance(err.body, dict) else {}
        said = body.get("message") or str(err.body)[:200]
        what = f"{err.method} {err.path}"
        if err.status in (401, 403):
            text = (f"{what} answered {err.status} ({said}): the API key was refused; create "
                    "an organization management API key in Workleap Settings > API")
        else:
            text = f"{what} answered {err.status}: {said}"
        return ProviderError(self.name, redact(text))

    # -- 1. capabilities ----------------------------------------------------------------
    def removal(self, kind: str) -> Action | None:
        """The usual effect; per live member, `removal_of` is exact."""
        return "deactivate" if kind == "member" else "delete"

    def is_inactive(self, resource: Resource) -> bool:
        return resource.attrs.get("deactivated") is True

    def removal_of(self, resource: Resource) -> Action | None:
        """What Workleap itself will do to this live object once it is left out of a sync.

        Members (seed 003 "Effects of missing data"): active -> "deactivate"; invited or
        created -> "delete"; admins -> None (never removed); already deactivated -> None
        (nothing left to do). Teams -> "delete". Mappings of a team the config describes ->
        "delete"; of any other team -> None: that team's assignments are not the config's.
        """
        if resource.kind == "member":
            if resource.server.get("isAdmin"):
                return None
            status = resource.server.get("status")
            if status == "deactivated":
                return None
            return "delete" if status in ("invited", "created") else "deactivate"
        if resource.kind == "mapping" and self.org is not None:
            return "delete" if resource.attrs.get("team") in self.org.teams else None
        return "delete"

    def unsupported(self, change: Change) -> str | None:
        names = [change.key]
        if change.kind == "mapping":
            values = change.after or change.before or {}
            names = [str(values.get("team", "")), str(values.get("member", ""))]
        bad = [n for n in names if n.startswith(FORMULA_PREFIXES)]
        if bad:
            return (f"key {bad[0]!r} starts with a character that CSV formula neutralisation "
                    f"prefixes with ', so Workleap would store another id; rename the key")
        return None


    # -- 2. desired ---------------------------------------------------------------------
    def desired(self, org: Org) -> list[Resource]:
        """A member per active employee, a team per config team, a mapping per (team,
        employee); free text is neutralised as the CSV will write it, so it reads back
        equal."""
        out: list[Resource] = []
        active = {key: e for key, e in org.employees.items() if e.active}
        for key, e in active.items():
            email = neutralise(e.email.strip().lower())
            attrs: dict[str, Any] = {
                "external_id": key, "email": email,
                "first_name": neutralise(e.first_name), "last_name": neutralise(e.last_name),
                "deactivated": False,
            }
            own = e.settings_for(self.type)
            if own.get("language"):
                attrs["language"] = own["language"]
            if own.get("products"):
                attrs["products"] = sorted(own["products"])
            identities = [f"email:{email}"] + [
                f"email:{p.strip().lower()}" for p in e.previously if "@" in p]
            out.append(Resource(kind="member", key=key, attrs=attrs,
                                identities=tuple(dict.fromkeys(identities)),
                                protected=e.protected))
        for key, t in org.teams.items():
            refs = {"parent": self.address("team", t.parent)} if t.parent else {}
            out.append(Resource(kind="team", key=key, protected=t.protected, refs=refs,
                                attrs={"name": neutralise(t.name), "parent": t.parent}))
        for key, t in org.teams.items():
            # ASSUMED: someone listed as both manager and member of one team is its manager;
            # Workleap holds one role per member and team.
            roles = {m: "member" for m in t.members if m in active}
            roles.update({m: "manager" for m in t.managers if m in active})
            for member, role in roles.items():
                email = neutralise(active[member].email.strip().lower())
                out.append(Resource(
                    kind="mapping", key=f"{key}:{member}",
                    attrs={"team": key, "member": member, "role": role},
                    identities=(f"email:{key}:{email}",),
                    refs={"team": self.address("team", key),
                          "member": self.address("member", member)}))
        return out

    # -- 3. live ------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Members and teams, both collections concurrently at the largest page size;
        mappings come from the teams' member and manager lists."""
        done = 0

        def counted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            nonlocal done
            done += len(items)
            if progress:
                progress(done, None)
            return items

        results = await asyncio.gather(
            self._collection(MEMBERS, MEMBER_FIELDS, counted),
            self._collection(TEAMS, TEAM_FIELDS, counted),
            return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        members, teams = results
        return live_resources(members, teams)

    async def _collection(self, path: str, fields: Mapping[str, Any],
                          counted: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
                          ) -> list[dict[str, Any]]:
        """Every item of a list, each page's shape checked: {items: [...], total}."""
        what = f"GET {path}"

        def page(body: Any) -> Page:
            answer = self.expect_object(what, body, {"items": list, "total": (int, NoneType),
                                                     "pageSize": (int, NoneType)})
            rows = counted(self.expect_items(what, answer["items"], fields))
            if "total" not in answer and "pageSize" not in answer and "page" not in answer:
                return Page(rows, paged=False)
            return Page(rows, total=answer.get("total"), limit=answer.get("pageSize") or None)

        with self.explaining():
            return await self.http().collect(path, None, PAGING, page)

    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Live mappings a sync cannot write back: teams-mappings.csv names members by
        externalMemberId only, so a member without one loses its team unless the config
        claims it by email (which gives it the employee key as externalMemberId)."""
        claimed = {neutralise(e.email.strip().lower()) for e in org.employees.values()
                   if e.active}
        unbound = {r.key for r in live if r.kind == "member"
                   and not r.attrs.get("external_id") and r.attrs.get("email") not in claimed}
        return [
            Finding(self.name, "mapping", r.key,
                    f"member {r.attrs.get('member')} has no externalMemberId, so "
                    f"teams-mappings.csv cannot name it: the next Workleap sync removes it "
                    f"from team {r.attrs.get('team')}")
            for r in live if r.kind == "mapping" and r.attrs.get("member") in unbound
        ]

    # -- 4. apply -----------------------------------------------------------------------
    async def apply_batch(self, changes: list[Change], live: list[Resource],
                          progress: Progress | None = None) -> BatchResult:
        """Render the organisation as the plan leaves it, submit it as one sync, poll it to
        a terminal status, and say per change: applied, failed (why), or pending (Paused:
        an administrator must approve the sync in Workleap)."""
        batch = render_sync(self.name, changes, live)
        outcomes = dict(batch.outcomes)
        todo = [c for c in changes if c.address not in outcomes]
        if not todo:
            return BatchResult(outcomes, "nothing to sync")
        files = {name: (name, text.encode("utf-8"), "text/csv")
                 for name, text in batch.files.items()}
        if progress:
            progress(0, len(todo))
        # The key makes a retried submission return the first sync (assumed); the sync
        # itself is a full replacement, so even a second one changes nothing.
        submitted = await self.call("POST", SYNCS, files=files, idempotent=True,
                                    headers={"Idempotency-Key": uuid.uuid4().hex})
        sync = await self._poll(self._sync_of(submitted, f"POST {SYNCS}"))
        if progress:
            progress(len(todo), len(todo))
        return self._result(sync, todo, outcomes, batch)

    async def _poll(self, sync: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.settings.poll_timeout
        wait = min(0.1, self.settings.poll_interval)
        while sync.get("status") not in TERMINAL and time.monotonic() < deadline:
            # Small syncs finish in moments; large ones are polled at poll_interval.
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.settings.poll_interval)
            path = f"{SYNCS}/{sync['id']}"
            sync = self._sync_of(await self.call("GET", path), f"GET {path}")
        return sync

    def _sync_of(self, body: Any, what: str) -> dict[str, Any]:
        """The sync an answer describes, its shape checked: an id, and the status, reason,
        summary and report `_result` reads."""
        if not isinstance(body, dict) or not body.get("id"):
            raise ProviderError(self.name, f"{what} answered without a sync id")
        sync = self.expect_object(what, body, {
            "id": (str, int), "status": (str, NoneType), "reason": (str, NoneType),
            "summary": (dict, NoneType), "report": (list, NoneType)})
        self.expect_items(what, sync.get("report") or [], {})
        return sync

    def _result(self, sync: dict[str, Any], todo: list[Change], outcomes: dict[str, Outcome],
                batch: RenderedSync) -> BatchResult:
        sid, status = sync.get("id"), sync.get("status")
        reason = sync.get("reason") or ""
        lines = [f"Workleap sync {sid}: {status}" + (f" ({reason})" if reason else "")]
        summary = sync.get("summary") or {}
        if summary:
            counts = ", ".join(f"{k} {v}" for k, v in summary.items() if v)
            lines.append(f"  {counts or 'no changes'}")
        rows_failed: dict[str, str] = {}
        for issue in sync.get("report") or []:
            where = f"{issue.get('file')} row {issue.get('row')}"
            lines.append(f"  {where}: {issue.get('issue')}")
            row = issue.get("row")
            address = batch.rows.get((str(issue.get("file")), row)) \
                if isinstance(row, int) else None
            if address:
                rows_failed.setdefault(address, str(issue.get("issue")))
        lines += [f"  note: {n}" for n in batch.notes]
        for change in todo:
            address = change.address
            if status in ("Success", "Warning"):
                failed = rows_failed.get(address)
                outcomes[address] = (Outcome.of(change, "failed", failed) if failed
                                     else Outcome.of(change, "applied"))
            elif status == "Paused":
                outcomes[address] = Outcome.of(change, "pending",
                                               f"{PAUSED}: sync {sid}, {reason}")
            elif status in ("Rejected", "Failed"):
                why = "the paused sync was rejected in Workleap" if status == "Rejected" \
                    else reason or "the sync did not run"
                outcomes[address] = Outcome.of(change, "failed", f"sync {sid} {status}: {why}")
            else:
                outcomes[address] = Outcome.of(
                    change, "pending", f"sync {sid} still {status} after "
                                       f"{self.settings.poll_timeout:g} s; see View sync "
                                       "history")
        return BatchResult(outcomes, redact("\n".join(lines)))


# -- reading ------------------------------------------------------------------------------

def live_resources(members: Iterable[dict[str, Any]], teams: Iterable[dict[str, Any]]
                   ) -> list[Resource]:
    """Members, teams and mappings as read, in the attribute shapes of `desired()`.

    A member without an externalMemberId is keyed by its email, and every member carries
    its email as an identity, so the plan matches it by fallback as Workleap would.
    """
    out: list[Resource] = []
    key_of: dict[str, str] = {}
    email_of: dict[str, str] = {}
    team_key: dict[str, str] = {str(t["id"]): str(t["externalTeamId"]) for t in teams}
    for m in members:
        email = str(m.get("email") or "").strip().lower()
        ext = m.get("externalMemberId") or None
        key = ext or email
        key_of[str(m["id"])] = key
        email_of[str(m["id"])] = email
        out.append(Resource(
            kind="member", key=key, remote_id=str(m["id"]), identities=(f"email:{email}",),
            attrs={"external_id": ext, "email": email, "first_name": m.get("firstName") or "",
                   "last_name": m.get("lastName") or "",
                   "language": m.get("languagePreferences") or None,
                   "products": sorted(m.get("productAssignations") or []),
                   "deactivated": m.get("status") == "deactivated"},
            server={"status": m.get("status"), "isAdmin": bool(m.get("isAdmin")),
                    "customProperties": dict(m.get("customProperties") or {}),
                    "accessibleTeams": sorted(team_key[t] for t in m.get("accessibleTeamIds")
                                              or [] if t in team_key)}))
    for t in teams:
        key = team_key[str(t["id"])]
        parent = team_key.get(str(t.get("parentId"))) if t.get("parentId") else None
        out.append(Resource(kind="team", key=key, remote_id=str(t["id"]),
                            attrs={"name": t.get("teamName") or "", "parent": parent}))
        mapped: set[str] = set()
        # Managers first: someone listed both ways reads as the manager, as desired() says.
        for role, ids in (("manager", t.get("managerIds") or []),
                          ("member", t.get("memberIds") or [])):
            for mid in ids:
                mid = str(mid)
                if mid not in key_of or mid in mapped:
                    continue
                mapped.add(mid)
                out.append(Resource(
                    kind="mapping", key=f"{key}:{key_of[mid]}",
                    attrs={"team": key, "member": key_of[mid], "role": role},
                    identities=(f"email:{key}:{email_of[mid]}",)))
    return out


# -- rendering a sync -----------------------------------------------------------------------

@dataclass
class _Member:
    external_id: str | None
    attrs: dict[str, Any]
    custom: dict[str, str] = field(default_factory=dict)
    address: str | None = None


@dataclass
class RenderedSync:
    """The three CSVs of one sync, which change each data row carries (file, row) ->
    address, changes that failed before submission, and what the render had to drop."""

    files: dict[str, str]
    rows: dict[tuple[str, int], str]
    outcomes: dict[str, Outcome]
    notes: list[str]


def render_sync(provider: str, changes: list[Change], live: list[Resource]) -> RenderedSync:
    """The full state a sync must carry so that Workleap ends up where the plan says: the
    live members, teams and mappings, with the changes applied on top. A live member left
    deactivated is not listed (listing it would reactivate it); a removed one is not listed
    either, and Workleap deactivates or deletes it. What was read goes back byte for byte
    (`as_read`); only values the changes bring are neutralised."""
    members: dict[str, _Member] = {}
    by_remote: dict[str, str] = {}
    admins: set[str] = set()
    for r in live:
        if r.kind == "member":
            members[r.key] = _Member(as_read(r.attrs.get("external_id")), as_read(r.attrs),
                                     as_read(dict(r.server.get("customProperties") or {})))
            if r.remote_id:
                by_remote[r.remote_id] = r.key
            if r.server.get("isAdmin"):
                admins.add(r.key)
    teams = {as_read(r.key): as_read(r.attrs) for r in live if r.kind == "team"}
    mappings = {as_read(r.key): as_read(r.attrs) for r in live if r.kind == "mapping"}
    team_address: dict[str, str] = {}
    mapping_address: dict[str, str] = {}
    alias: dict[str, str] = {}  # old member key -> new, when a member is bound to its id
    outcomes: dict[str, Outcome] = {}
    notes: list[str] = []

    for c in changes:
        if c.kind == "member":
            old = _live_member_key(c, members, by_remote)
            if c.action in ("create", "update"):
                record = members.pop(old, None) if old else None
                if record is None:
                    record = _Member(None, {})
                record.attrs.update(c.after or {})
                record.external_id = c.key
                record.address = c.address
                members[c.key] = record
                if old and old != c.key:
                    alias[old] = c.key
            elif c.action in ("delete", "deactivate"):
                if old in admins:
                    outcomes[c.address] = Outcome.of(
                        c, "failed", "Workleap never deactivates or deletes an admin "
                                     "(seed 003 \"Effects of missing data\")")
                elif old:
                    members.pop(old)
            else:
                outcomes[c.address] = Outcome.of(
                    c, "failed", f"{c.action} is not something a sync can do")
        elif c.kind in ("team", "mapping"):
            store = teams if c.kind == "team" else mappings
            if c.action in ("create", "update"):
                store[c.key] = {**store.get(c.key, {}), **(c.after or {})}
                (team_address if c.kind == "team" else mapping_address)[c.key] = c.address
            elif c.action == "delete":
                store.pop(c.key, None)
            else:
                outcomes[c.address] = Outcome.of(
                    c, "failed", f"{c.action} is not something a sync can do")
        else:
            outcomes[c.address] = Outcome.of(c, "failed", f"{provider} has no kind {c.kind!r}")

    rows: dict[tuple[str, int], str] = {}
    custom_columns = sorted({name for m in members.values() for name in m.custom})
    member_rows = []
    listed: set[str] = set()
    for key, m in members.items():
        if m.attrs.get("deactivated"):
            continue
        member_rows.append({
            "externalMemberId": m.external_id or "", "email": m.attrs.get("email"),
            "firstName": m.attrs.get("first_name"), "lastName": m.attrs.get("last_name"),
            "languagePreferences": m.attrs.get("language"),
            "productAssignations": PRODUCT_SEPARATOR.join(m.attrs.get("products") or []),
            **{name: m.custom.get(name) for name in custom_columns},
        })
        if m.external_id:
            listed.add(key)
        if m.address:
            rows[("members.csv", len(member_rows))] = m.address

    team_rows = []
    for key, attrs in teams.items():
        team_rows.append({"externalTeamId": key, "teamName": attrs.get("name")})
        if key in team_address:
            rows[("teams.csv", len(team_rows))] = team_address[key]

    # Seed: "Build from the bottom up (subteams first)": deepest subteams first.
    mapping_rows: list[dict[str, Any]] = []
    for key in sorted((k for k, a in teams.items() if a.get("parent")),
                      key=lambda k: -_depth(k, teams)):
        parent = teams[key]["parent"]
        if parent not in teams:
            notes.append(f"team {key}: parent {parent} is not in the sync; synced as a root")
            continue
        mapping_rows.append({"externalTeamId": parent, "externalSubteamId": key})
        if key in team_address:
            rows[("teams-mappings.csv", len(mapping_rows))] = team_address[key]
    for key, attrs in mappings.items():
        team, member = attrs.get("team"), alias.get(attrs.get("member"), attrs.get("member"))
        if team not in teams or member not in listed:
            if key in mapping_address:
                change = next(c for c in changes if c.address == mapping_address[key])
                outcomes[change.address] = Outcome.of(
                    change, "failed", f"team {team} or member {member} is not in this sync "
                    "(teams-mappings.csv can only name listed members with an "
                    "externalMemberId)")
            else:
                notes.append(f"mapping {key} dropped: its team or member is not in the sync")
            continue
        mapping_rows.append({"externalTeamId": team, "externalMemberId": member,
                             "role": attrs.get("role") or "member"})
        if key in mapping_address:
            rows[("teams-mappings.csv", len(mapping_rows))] = mapping_address[key]

    return RenderedSync(
        files={"members.csv": render_csv(MEMBER_COLUMNS + custom_columns, member_rows),
               "teams.csv": render_csv(TEAM_COLUMNS, team_rows),
               "teams-mappings.csv": render_csv(MAPPING_COLUMNS, mapping_rows)},
        rows=rows, outcomes=outcomes, notes=notes)


def _live_member_key(change: Change, members: dict[str, _Member],
                     by_remote: dict[str, str]) -> str | None:
    """The live member a change is about: by remote id (a fallback match keeps the live
    key), then by key, then by the email it had."""
    if change.remote_id and change.remote_id in by_remote:
        key = by_remote[change.remote_id]
        if key in members:
            return key
    if change.key in members:
        return change.key
    email = (change.before or {}).get("email")
    if email:
        for key, m in members.items():
            if m.attrs.get("email") == email:
                return key
    return None


def _depth(key: str, teams: dict[str, dict[str, Any]]) -> int:
    depth, seen = 0, {key}
    parent = teams[key].get("parent")
    while parent in teams and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = teams[parent].get("parent")
    return depth
