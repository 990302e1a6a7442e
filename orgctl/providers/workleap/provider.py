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
emulator (`orgctl.sandbox.workleap`) implements the same assumptions. Because a sync writes
the whole organisation back, the read must see all of it: a field the sync writes back
must be in every answer (else the plan stops, naming it), a list route that is not there
stops the plan before anything is written, and an optional field the answers do not carry
is unknown: never compared, and its column is left out of members.csv so Workleap keeps
the values orgctl cannot see. docs/providers/workleap.md lists each assumption and how it
is noticed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import NoneType
from typing import Any, ClassVar, NoReturn

from orgctl.errors import (
    ApiError,
    IncompleteRead,
    ProviderError,
    UnexpectedAnswer,
    UnknownOutcome,
    short,
)
from orgctl.model import Org, ProviderConfig
from orgctl.providers.base import (
    NOT_SERVED,
    BatchResult,
    Capability,
    Progress,
    Provider,
    Settings,
    lowered,
    schema_file,
)
from orgctl.providers.csvsafe import FORMULA_PREFIXES, as_read, neutralise, render_csv
from orgctl.providers.http import Http, Page, Paging, StaticHeaders
from orgctl.providers.reporting import (
    DERIVED,
    ReportingTeam,
    ReportingTeams,
    derived_teams,
    reporting_findings,
)
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
# A sync writes every member and team back, so what it must write back is required: a
# field a type allows to be null must still be in the answer (`*_PRESENT`), since leaving
# a column's value out of the sync would change it. Optional columns may be absent: then
# they are unknown (`OPTIONAL_COLUMNS`). A null `isAdmin` or absent one is not known.
MEMBER_FIELDS = {"id": (str, int), "email": str, "externalMemberId": (str, NoneType),
                 "firstName": (str, NoneType), "lastName": (str, NoneType), "status": str,
                 "isAdmin": (bool, NoneType), "languagePreferences": (str, NoneType),
                 "productAssignations": (list, NoneType), "customProperties": (dict, NoneType),
                 "accessibleTeamIds": (list, NoneType)}
MEMBER_PRESENT = ("externalMemberId", "firstName", "lastName")
TEAM_FIELDS = {"id": (str, int), "externalTeamId": (str, int), "teamName": str,
               "parentId": (str, int, NoneType), "managerIds": (list, NoneType),
               "memberIds": (list, NoneType)}
TEAM_PRESENT = ("parentId", "managerIds", "memberIds")
# Seed 003 "Effects of missing data" names active, invited and created members, and the
# deactivated ones a sync leaves behind; another status would be listed blindly.
MEMBER_STATUSES = ("active", "invited", "created", "deactivated")
_MEMBER_STATUSES = frozenset(MEMBER_STATUSES)
_MEMBER_PRESENT = frozenset(MEMBER_PRESENT)
_TEAM_PRESENT = frozenset(TEAM_PRESENT)
_CARRIED: frozenset[str] = frozenset()  # no member column unknown
# members.csv columns seed 003 calls optional, and the attribute each holds.
OPTIONAL_COLUMNS = {"languagePreferences": "language", "productAssignations": "products"}
COLUMN_OF = {"external_id": "externalMemberId", "email": "email", "first_name": "firstName",
             "last_name": "lastName", "language": "languagePreferences",
             "products": "productAssignations"}
TERMINAL = ("Paused", "Rejected", "Success", "Warning", "Failed")
PAUSED = "awaiting approval in Workleap (risk threshold)"
# A submission whose answer is lost is sent again, identical, at most this many times in
# all (see `_submit`), after SUBMIT_BACKOFF seconds, doubling.
SUBMIT_ATTEMPTS = 4
SUBMIT_BACKOFF = 0.2


@dataclass(frozen=True, kw_only=True)
class WorkleapSettings(Settings):
    """api_key (write it as ${WORKLEAP_API_KEY}); poll_interval (seconds between sync
    status reads, default 2), poll_timeout (seconds to wait for a terminal status, default
    900); rate_limit ("60/m", "10/s", or a number per hour; default none: seed 003 names
    no limit); timeout, max_concurrency; reporting_teams (teams derived from `manager:`,
    see `orgctl.providers.reporting`; default off)."""

    api_key: str = field(repr=False)
    poll_interval: float = 2.0
    poll_timeout: float = 900.0
    reporting_teams: ReportingTeams | None = None

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> WorkleapSettings:
        api_key = str(raw.get("api_key") or "")
        if not api_key:
            raise ProviderError(provider, "setting `api_key` is required (write it as "
                                          "${WORKLEAP_API_KEY}, never in the file)")
        return cls(api_key=api_key, poll_interval=float(raw.get("poll_interval", 2.0)),
                   poll_timeout=float(raw.get("poll_timeout", 900.0)),
                   reporting_teams=ReportingTeams.parse(provider,
                                                        raw.get("reporting_teams")),
                   **cls.common(provider, raw))


class WorkleapProvider(Provider):
    """Members, teams and mappings through Workleap's CSV sync.

    Settings: api_key; optional timeout, max_concurrency, poll_interval (seconds between
    sync status reads, default 2), poll_timeout (seconds to wait for a terminal status,
    default 900), rate_limit (requests paced client-side; default none), reporting_teams
    (a team per manager from `manager:`, nested along the reporting line: seed 003 "Smaller
    teams led by one Direct Manager" in "the whole reporting line they manage").
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
                   "Failed); the seed shows them in the UI only. Fallback: none over the "
                   "API; a server without the route (404/405/501) leaves the changes "
                   "`unknown` (the next plan shows what the sync did), no extra request"),
        Capability("resubmit a sync whose answer was lost", "POST",
                   f"{SYNCS} again: the same files and Idempotency-Key", "assumed",
                   "the key is not in the seed; a server that ignores it runs the same "
                   "files again, which changes nothing further (003 Step 5: each sync "
                   "replaces the previous one; members and teams are matched by their "
                   f"external ids); {SUBMIT_ATTEMPTS} submissions at most, then `unknown`"),
        Capability("list members (status, isAdmin, language, products)", "GET",
                   f"{MEMBERS}?page=N&pageSize={PAGE_SIZE}", "assumed",
                   "003 is silent on reading; members.csv fields from 003 Step 4. No "
                   "fallback: 404/405/501 stops the plan before anything is written; pages "
                   "follow the server (no total needed: read to a short or empty page)"),
        Capability("list teams (parent, members, managers)", "GET",
                   f"{TEAMS}?page=N&pageSize={PAGE_SIZE}", "assumed",
                   "003 is silent on reading; teams.csv / teams-mappings.csv from 003 Step "
                   "4. No fallback, as for members"),
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
        # Member attributes the last read could not see (optional columns the answers do
        # not carry): a sync cannot write them without clearing everyone's, so `desired`
        # leaves them out and the plan promises nothing it will not write.
        self.unread: frozenset[str] = frozenset()
        self.live_members: dict[str, Resource] = {}  # by key, as the last read found them
        # The teams `reporting_teams` derives for the bound org: their mappings are the
        # config's, as a hand-written team's are (`removal_of`).
        self.derived: dict[str, ReportingTeam] = {}
        self._unknown_sets: dict[frozenset[str], frozenset[str]] = {}  # see _unknown_columns
        self._written_of: _Written | None = None  # see _written

    # -- plumbing -----------------------------------------------------------------------
    def make_http(self) -> Http:
        return self.client(StaticHeaders({API_KEY_HEADER: self.settings.api_key}))

    def explain(self, err: ApiError) -> ProviderError:
        """A Workleap refusal in words that say what to fix. Never includes the key."""
        body = err.body if isinstance(err.body, dict) else {}
        said = short(body.get("message") or err.body, 200)
        what = f"{err.method} {err.path}"
        if err.status in (401, 403):
            text = (f"{what} answered {err.status} ({said}): the API key was refused; create "
                    "an organization management API key in Workleap Settings > API")
        elif err.method == "GET" and err.path in (MEMBERS, TEAMS) and err.status in NOT_SERVED:
            # The list reads are assumed (seed 003 shows none) and have no documented
            # stand-in: a plan from an empty read would create every member again.
            text = (f"{what} answered {err.status} ({said}): this Workleap does not serve "
                    f"the list orgctl reads the live {err.path.rsplit('/', 1)[-1]} from "
                    "(seed 003 documents no read; orgctl assumes it). A sync replaces the "
                    "whole organisation, so nothing can be planned without it: nothing was "
                    "planned or written")
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
        "delete"; of any other team -> None (that team's assignments are not the config's),
        unless the next sync cannot name the member (`_named_by_sync`): then Workleap drops
        the mapping whatever the config says, and the plan shows it as a delete.
        """
        if resource.kind == "member":
            if resource.server.get("isAdmin"):
                return None
            status = resource.server.get("status")
            if status == "deactivated":
                return None
            return "delete" if status in ("invited", "created") else "deactivate"
        if resource.kind == "mapping" and self.org is not None:
            if resource.attrs.get("team") in self.org.teams or \
                    resource.attrs.get("team") in self.derived:
                return "delete"
            return None if self._named_by_sync(str(resource.attrs.get("member")), self.org) \
                else "delete"
        return "delete"

    def _named_by_sync(self, member: str, org: Org) -> bool:
        """Whether the next sync lists this live member with an externalMemberId, which
        teams-mappings.csv needs to name it: an employee the config has active (by key or
        by email: the sync binds it to the key); otherwise a live member with an external
        id, not deactivated, and not removed by this plan (`prune.members`)."""
        employee = org.employees.get(member)
        if employee is not None:
            return employee.active
        live = self.live_members.get(member)
        if live is None:
            return True  # not read this run (a plan applied later): as the plan said
        if live.attrs.get("email") in self._written(org).claimed:
            return True
        if live.attrs.get("deactivated") or not live.attrs.get("external_id"):
            return False
        prune = self.option("prune") or {}
        pruned = prune if isinstance(prune, bool) else bool(
            prune.get("members", prune.get("member", False)))
        return not pruned or self.removal_of(live) is None

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
    def bind(self, org: Org) -> None:
        super().bind(org)
        self.derived = self.derived_teams(org)
        self._written_of = None

    def _written(self, org: Org) -> _Written:
        """The active employees of `org` as a sync writes them, made once for the org
        bound: `desired`, `findings` and `removal_of` (for each live mapping of a team
        the config does not have) all ask, and each asking walked everyone."""
        written = self._written_of
        if written is None or written.org is not org:
            emails = {key: neutralise(lowered(e.email.strip()))
                      for key, e in org.employees.items() if e.active}
            written = self._written_of = _Written(org, emails, frozenset(emails.values()))
        return written

    def derived_teams(self, org: Org) -> dict[str, ReportingTeam]:
        """The reporting teams `reporting_teams` derives from `manager:` (none when it is
        off), but for a key a hand-written team has: that one is kept as written, and
        `findings` says so."""
        return derived_teams(org, self.settings.reporting_teams)

    def desired(self, org: Org) -> list[Resource]:
        """A member per active employee, a team per config team and per reporting team
        (`derived_teams`, source "manager"), a mapping per (team, employee); free text is
        neutralised as the CSV will write it, so it reads back equal."""
        out: list[Resource] = []
        emails = self._written(org).emails  # the active employees: whom mappings may name
        employees = org.employees
        system = self.type
        language, products = "language" not in self.unread, "products" not in self.unread
        for key, email in emails.items():
            e = employees[key]
            attrs: dict[str, Any] = {
                "external_id": key, "email": email,
                "first_name": neutralise(e.first_name), "last_name": neutralise(e.last_name),
                "deactivated": False,
            }
            own = e.settings_for(system)
            if own:
                if language and (value := own.get("language")):
                    attrs["language"] = value
                if products and (value := own.get("products")):
                    attrs["products"] = sorted(value)
            identities: tuple[str, ...] = (f"email:{email}",)
            if e.previously:
                identities = tuple(dict.fromkeys([*identities, *(
                    f"email:{p.strip().lower()}" for p in e.previously if "@" in p)]))
            out.append(Resource("member", key, attrs, identities, protected=e.protected))
        for key, t in org.teams.items():
            out.append(self._team(key, t.name, t.parent, protected=t.protected))
        # `bind` derived them for this org already: deriving costs a walk of everyone.
        derived = self.derived if org is self.org else self.derived_teams(org)
        for key, d in derived.items():
            out.append(self._team(key, d.name, d.parent, source=DERIVED))
        for key, t in org.teams.items():
            # ASSUMED: someone listed as both manager and member of one team is its manager;
            # Workleap holds one role per member and team.
            roles = {m: "member" for m in t.members if m in emails}
            roles.update({m: "manager" for m in t.managers if m in emails})
            out += self._mappings(key, roles.items(), "yaml", emails)
        for key, d in derived.items():
            out += self._mappings(key, [(d.manager, "manager"),
                                        *((m, "member") for m in d.members)], DERIVED, emails)
        return out

    def _mappings(self, team: str, roles: Iterable[tuple[str, str]], source: str,
                  emails: Mapping[str, str]) -> list[Resource]:
        """The mappings of `team`: one per (employee key, role) of `roles`, for the active
        employees of `desired`, their emails already neutralised. What every mapping of the
        team shares (its reference, its key's and identities' prefixes) is made once."""
        team_ref, member_at, key_at, identity_at = (
            self.address("team", team), f"{self.name}.member.", f"{team}:", f"email:{team}:")
        return [Resource("mapping", key_at + key, {"team": team, "member": key, "role": role},
                         (identity_at + emails[key],), source=source,
                         refs={"team": team_ref, "member": member_at + key})
                for key, role in roles]

    def _team(self, key: str, name: str, parent: str | None, protected: bool = False,
              source: str = "yaml") -> Resource:
        refs = {"parent": self.address("team", parent)} if parent else {}
        return Resource(kind="team", key=key, protected=protected, refs=refs, source=source,
                        attrs={"name": neutralise(name), "parent": parent})

    # -- 3. live ------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Members and teams, both collections concurrently at the largest page size;
        mappings come from the teams' member and manager lists. Every answer is checked
        before anything is planned (`_member_rows`, `_team_rows`, `check_references`)."""
        done = 0
        self._unknown_sets = {}  # this read's, for `unread`

        def counted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            nonlocal done
            done += len(items)
            if progress:
                progress(done, None)
            return items

        results = await asyncio.gather(
            self._collection(MEMBERS, self._member_rows, counted),
            self._collection(TEAMS, self._team_rows, counted),
            return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        members, teams = results
        if any(m.get("isAdmin") is None for m in members):  # absent or null
            self.note("unknown:member.isAdmin", (
                f"GET {MEMBERS} answers do not say of every member whether it is an admin: "
                "Workleap never removes an admin (seed 003 \"Effects of missing data\"), so "
                "a removal planned for one of them will not happen"))
        live = live_resources(members, teams, self._unknown_columns)
        # Checked as resources, their emails folded once: nothing is returned unchecked.
        people = live[:len(members)]  # one per member row, first (`live_resources`)
        check_references(self.name, people, teams)
        # Every member's `unknown` is one of these sets (or empty): no walk of the members.
        self.unread = frozenset().union(*self._unknown_sets)
        self.live_members = {r.key: r for r in people}
        return live

    def _unknown_columns(self, row: dict[str, Any]) -> frozenset[str]:
        """The optional members.csv columns this member's answer does not carry (unknown,
        not empty), as attributes; noted once each, in Workleap's terms: the column is
        left out of members.csv, so Workleap keeps the values orgctl cannot see (assumed)."""
        if OPTIONAL_COLUMNS.keys() <= row.keys():
            return _CARRIED  # the usual member: every column there
        for name, attr in OPTIONAL_COLUMNS.items():
            topic = f"unknown:member.{attr}"
            if name not in row and topic not in self.notes:  # once per run, not per member
                # Set before `unknown_fields`, whose note (written when created) a sync
                # cannot keep: a column is in members.csv for every member or for none.
                self.note(topic, (
                    f"GET {MEMBERS} answers do not carry the members' {attr} ({name}): it "
                    f"is never compared, and {name} is left out of members.csv so that a "
                    "sync does not clear the values orgctl cannot see; set it in Workleap"))
        unknown = self.unknown_fields(f"GET {MEMBERS}", "member", row, OPTIONAL_COLUMNS)
        # One set per combination, not one per member: a server that does not carry a
        # column leaves it out of every answer.
        return self._unknown_sets.setdefault(unknown, unknown)

    def _member_rows(self, what: str, items: Any) -> list[dict[str, Any]]:
        """Members a sync can write back: identified (an email; the external id present,
        maybe null), every column it must write present, a status it knows."""
        rows = self.expect_items(what, items, MEMBER_FIELDS)
        for row in rows:
            if not _MEMBER_PRESENT <= row.keys():
                self._present(what, row, MEMBER_PRESENT)
            if not row["email"].strip():
                raise UnexpectedAnswer(self.name, what, "email is empty", row)
            if row["status"] not in _MEMBER_STATUSES:
                raise UnexpectedAnswer(self.name, what, (
                    f"status {row['status']!r} is not one of {', '.join(MEMBER_STATUSES)}: "
                    "orgctl cannot tell what a sync would do to that member"), row)
        return rows

    def _team_rows(self, what: str, items: Any) -> list[dict[str, Any]]:
        """Teams a sync can write back: an externalTeamId, a name, and the structure
        (parentId, managerIds, memberIds) present, null or not."""
        rows = self.expect_items(what, items, TEAM_FIELDS)
        for row in rows:
            if not _TEAM_PRESENT <= row.keys():
                self._present(what, row, TEAM_PRESENT)
            if not str(row["externalTeamId"]).strip():
                raise UnexpectedAnswer(self.name, what, "externalTeamId is empty", row)
        return rows

    def _present(self, what: str, row: dict[str, Any], names: Iterable[str]) -> None:
        for name in names:
            if name not in row:
                raise UnexpectedAnswer(self.name, what, (
                    f"{name} is missing (a sync writes every object back, so orgctl must "
                    "read it)"), row)

    async def _collection(self, path: str,
                          rows: Callable[[str, Any], list[dict[str, Any]]],
                          counted: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
                          ) -> list[dict[str, Any]]:
        """Every item of a list, each page's shape checked: {items: [...]}, with the
        paging keys (page, pageSize, total) when the server gives them. orgctl asked for
        a page, so an answer without them is a page too: `collect` reads on until a
        short or empty one (seed 003 shows no list answer, so no key of it is known)."""
        what = f"GET {path}"

        def page(body: Any) -> Page:
            answer = self.expect_object(what, body, {"items": list, "total": (int, NoneType),
                                                     "pageSize": (int, NoneType)})
            return Page(counted(rows(what, answer["items"])), total=answer.get("total"),
                        limit=answer.get("pageSize") or None)

        with self.explaining():
            return await self.http().collect(path, None, PAGING, page)

    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Live mappings a sync cannot write back (`_unwritable`), and which teams are
        derived from `manager:` (`reporting_findings`)."""
        return self._unwritable(org, live) + reporting_findings(
            self.name, org, self.settings.reporting_teams,
            (r.key for r in live if r.kind == "team"), "mappings")

    def _unwritable(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Live mappings a sync cannot write back: teams-mappings.csv names members by
        externalMemberId only, so a member without one loses its team unless the config
        claims it by email (which gives it the employee key as externalMemberId); and it
        names only members members.csv lists, so a deactivated member (never listed:
        listing reactivates) loses its teams unless the config has it active again."""
        written = self._written(org)
        active = written.emails
        why: dict[str, str] = {}
        # The usual member is one the config has active by key: left out in one filter.
        others = [r for r in live if r.kind == "member" and r.key not in active]
        for r in others:
            attrs = r.attrs
            if attrs.get("deactivated"):
                reason = "is deactivated, so members.csv cannot list it"
            elif not attrs.get("external_id"):
                reason = "has no externalMemberId, so teams-mappings.csv cannot name it"
            else:
                continue
            if attrs.get("email") not in written.claimed:
                why[r.key] = reason
        if not why:
            return []
        return [
            Finding(self.name, "mapping", r.key,
                    f"member {r.attrs.get('member')} {why[r.attrs['member']]}: the next "
                    f"Workleap sync removes it from team {r.attrs.get('team')}")
            for r in live if r.kind == "mapping" and r.attrs.get("member") in why
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
        submitted, lost = await self._submit(files)
        if submitted is None:
            return self._unknown(todo, outcomes, batch, (
                f"the answer to POST {SYNCS} was lost {lost} times: Workleap may have "
                "accepted the sync"))
        try:
            sync = await self._poll(self._sync_of(submitted, f"POST {SYNCS}"))
        except ProviderError as exc:
            # Accepted (or maybe accepted): it runs whether or not orgctl can see it.
            return self._unknown(todo, outcomes, batch, (
                f"the sync was submitted but its status could not be read ({exc})"))
        if progress:
            progress(len(todo), len(todo))
        return self._result(sync, todo, outcomes, batch, lost)

    async def _submit(self, files: dict[str, Any]) -> tuple[Any, int]:
        """POST the sync: (the answer, how many answers were lost before it), or (None,
        SUBMIT_ATTEMPTS) when every answer was lost.

        A POST whose answer is lost (a 5xx, a dropped connection) may have been accepted.
        It is sent again, but not blindly: the same files under the same Idempotency-Key.
        A server that honours the key (assumed) answers with the first sync; one that does
        not runs the same three files a second time, and since a sync is a full replacement
        matching members by externalMemberId (email as fallback) and teams by
        externalTeamId (seed 003 Steps 4-5), the second changes nothing the first did not:
        no object is made twice. What a resubmission cannot settle (the first one Paused
        by the risk threshold, making the second fail) `_result` reports as unknown."""
        key = uuid.uuid4().hex
        lost = 0
        while True:
            try:
                answer = await self.call("POST", SYNCS, files=files, idempotent=False,
                                         headers={"Idempotency-Key": key})
                return answer, lost
            except UnknownOutcome:
                lost += 1
                if lost >= SUBMIT_ATTEMPTS:
                    return None, lost
                await asyncio.sleep(min(SUBMIT_BACKOFF * 2 ** lost, 5.0))

    def _unknown(self, todo: list[Change], outcomes: dict[str, Outcome],
                 batch: RenderedSync, why: str) -> BatchResult:
        """Every change `unknown`: orgctl cannot tell what Workleap did. Nothing is sent
        again; the next plan reads what the sync changed."""
        detail = redact(f"{why}: see Settings > Provisioning > View sync history; the next "
                        "plan shows what it changed")
        for change in todo:
            outcomes[change.address] = Outcome.of(change, "unknown", detail)
        return BatchResult(outcomes, "\n".join([detail, *(f"  note: {n}" for n in batch.notes)]))

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
                batch: RenderedSync, lost: int = 0) -> BatchResult:
        """Per change, what the sync's terminal status means for it. `lost`: answers lost
        before this sync's: an earlier submission may exist, so a sync that did not run
        leaves the changes unknown rather than failed."""
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
                if lost:
                    outcomes[address] = Outcome.of(change, "unknown", (
                        f"sync {sid} {status}: {why}; an earlier submission's answer was "
                        "lost, so it may have run or be awaiting approval: see View sync "
                        "history; the next plan shows what it changed"))
                else:
                    outcomes[address] = Outcome.of(change, "failed",
                                                   f"sync {sid} {status}: {why}")
            else:
                outcomes[address] = Outcome.of(
                    change, "pending", f"sync {sid} still {status} after "
                                       f"{self.settings.poll_timeout:g} s; see View sync "
                                       "history")
        return BatchResult(outcomes, redact("\n".join(lines)))


# -- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Written:
    """The active employees of `org` as a sync writes them: their emails by employee key
    (neutralised, lower-cased), and the set of those emails: a live member with one of
    them is claimed by the config, which binds it to the employee key."""

    org: Org
    emails: dict[str, str]
    claimed: frozenset[str]


def check_references(provider: str, members: list[Resource],
                     teams: list[dict[str, Any]]) -> None:
    """Fail closed on lists a sync could not write back as they are: two members (as
    `live_resources` makes them) or two teams with one identity (a sync names them by it,
    so one would be lost), or a team whose parent, managers or members are not in the
    lists (they changed while read, or the read was partial: planning from it would drop
    those links)."""
    # Counted first, in comprehensions: the usual lists name no member twice, and only
    # when the counts say one does are they walked again, to name the first pair.
    member_ids = {m.remote_id for m in members}
    exts = [ext for m in members if (ext := m.attrs["external_id"])]
    emails = {m.attrs["email"] for m in members}
    if len(set(exts)) < len(exts) or len(emails) < len(members):
        _members_named_twice(provider, members)
    team_with: dict[str, str] = {}
    for t in teams:
        value = str(t["externalTeamId"])
        if value in team_with:
            raise UnexpectedAnswer(provider, f"GET {TEAMS}", (
                f"teams {team_with[value]} and {t['id']} both have externalTeamId {value!r}: "
                "a sync names teams by it"))
        team_with[value] = str(t["id"])
    team_ids = set(team_with.values())
    for t in teams:
        parent, managers, listed = t["parentId"], t["managerIds"] or (), t["memberIds"] or ()
        if (parent is None or str(parent) in team_ids) and member_ids.issuperset(
                map(str, managers)) and member_ids.issuperset(map(str, listed)):
            continue  # the usual team: every id it names was read
        stray = [f"parent {parent}"] if (
            parent is not None and str(parent) not in team_ids) else []
        stray += [f"{role} {i}" for role, ids in (("manager", managers), ("member", listed))
                  for i in ids if str(i) not in member_ids]
        raise IncompleteRead(provider, f"GET {TEAMS}", (
            f"team {t['externalTeamId']} names {', '.join(stray[:3])}, not in the "
            f"lists read (GET {MEMBERS}, GET {TEAMS}): they changed while they were "
            "read, or were read in part; run again"))


def _members_named_twice(provider: str, members: list[Resource]) -> None:
    """Fail on the first member whose externalMemberId or email (lower-cased) an earlier
    member has."""
    def twice(name: str, value: str, first: str, second: str) -> NoReturn:
        raise UnexpectedAnswer(provider, f"GET {MEMBERS}", (
            f"members {first} and {second} both have {name} {value!r}: a sync names "
            "members by it, so one of them would be lost"))

    by_ext: dict[str | None, str] = {}
    by_email: dict[str, str] = {}
    for m in members:
        mid, ext, email = str(m.remote_id), m.attrs["external_id"], m.attrs["email"]
        if ext and ext in by_ext:
            twice("externalMemberId", ext, by_ext[ext], mid)
        if email and email in by_email:
            twice("email", email, by_email[email], mid)
        by_ext[ext] = by_email[email] = mid


def live_resources(members: Iterable[dict[str, Any]], teams: Iterable[dict[str, Any]],
                   unknown: Callable[[dict[str, Any]], frozenset[str]] | None = None
                   ) -> list[Resource]:
    """Members, teams and mappings as read, in the attribute shapes of `desired()`;
    `unknown(row)`: the attributes a member's answer does not carry, asked only of a row
    without every optional column (`OPTIONAL_COLUMNS`).

    A member without an externalMemberId is keyed by its email, and every member carries
    its email as an identity, so the plan matches it by fallback as Workleap would. The
    email and products as read (case, order) are kept in `server` for the sync to write
    back; the attributes compare them lower-cased and sorted. The members come first, one
    per row in the order read, then each team followed by its mappings.
    """
    out: list[Resource] = []
    team_key: dict[str, str] = {str(t["id"]): str(t["externalTeamId"]) for t in teams}
    member_of: dict[str, Resource] = {}  # by remote id, for the mappings
    optional = OPTIONAL_COLUMNS.keys()
    for m in members:
        get = m.get
        read_email = get("email")
        email = lowered(str(read_email or "").strip())
        ext = get("externalMemberId") or None
        status = get("status")
        products = get("productAssignations") or []
        custom = get("customProperties")
        accessible = get("accessibleTeamIds")
        remote_id = str(m["id"])
        # The answer's own list and dict go into `server` uncopied: nothing else holds them.
        member = member_of[remote_id] = Resource(
            "member", ext or email,
            {"external_id": ext, "email": email, "first_name": get("firstName") or "",
             "last_name": get("lastName") or "", "language": get("languagePreferences") or None,
             "products": sorted(products), "deactivated": status == "deactivated"},
            (f"email:{email}",), remote_id=remote_id,
            server={"status": status, "isAdmin": get("isAdmin"),
                    "customProperties": {} if custom is None else custom,
                    "accessibleTeams": sorted([team_key[t] for t in map(str, accessible)
                                               if t in team_key]) if accessible else [],
                    "email": read_email, "productAssignations": products},
            # The usual member carries every optional column: nothing to ask `unknown`.
            unknown=_CARRIED if unknown is None or optional <= m.keys() else unknown(m))
        out.append(member)
    for t in teams:
        remote_id = str(t["id"])
        key = team_key[remote_id]
        parent = team_key.get(str(t.get("parentId"))) if t.get("parentId") else None
        out.append(Resource("team", key, {"name": t.get("teamName") or "", "parent": parent},
                            remote_id=remote_id))
        # Managers first: someone listed both ways reads as the manager, as desired() says.
        roles = dict.fromkeys(map(str, t.get("managerIds") or ()), "manager")
        for mid in map(str, t.get("memberIds") or ()):
            roles.setdefault(mid, "member")
        key_at, identity_at = f"{key}:", f"email:{key}:"  # shared by the team's mappings
        out += [Resource("mapping", key_at + member.key,
                         {"team": key, "member": member.key, "role": role},
                         (identity_at + member.attrs["email"],))
                for mid, role in roles.items() if (member := member_of.get(mid)) is not None]
    return out


# -- rendering a sync -----------------------------------------------------------------------

@dataclass
class _Member:
    """One members.csv row in the making: its cells by column (as read, or as a change
    sets them), its custom properties, whether it stays listed."""

    cells: dict[str, Any]
    custom: dict[str, str] = field(default_factory=dict)
    deactivated: bool = False
    address: str | None = None


@dataclass
class RenderedSync:
    """The three CSVs of one sync, which change each data row carries (file, row) ->
    address, changes that failed before submission, and what the render had to drop."""

    files: dict[str, str]
    rows: dict[tuple[str, int], str]
    outcomes: dict[str, Outcome]
    notes: list[str]


def _cells(values: Mapping[str, Any]) -> dict[str, Any]:
    """members.csv cells for member attributes (only those given)."""
    cells = {COLUMN_OF[a]: v for a, v in values.items() if a in COLUMN_OF}
    if "productAssignations" in cells:
        cells["productAssignations"] = PRODUCT_SEPARATOR.join(cells["productAssignations"]
                                                               or [])
    return cells


def _set_by(change: Change) -> dict[str, Any]:
    """What a create or update writes: a create all its attributes, an update only those
    the plan shows changing (`fields`), so a value the plan calls equal goes back as read
    (an email's case, the order of products)."""
    if change.action == "create":
        return dict(change.after or {})
    return {name: new for name, (_, new) in (change.fields or {}).items()}


def render_sync(provider: str, changes: list[Change], live: list[Resource]) -> RenderedSync:
    """The full state a sync must carry so that Workleap ends up where the plan says: the
    live members, teams and mappings, with the changes applied on top. A live member left
    deactivated is not listed (listing it would reactivate it); a removed one is not listed
    either, and Workleap deactivates or deletes it. What was read goes back byte for byte
    (`as_read`); only values the changes bring are neutralised. An optional column some
    member's answer did not carry (`Resource.unknown`) is left out of members.csv, so
    Workleap keeps the values orgctl could not see."""
    members: dict[str, _Member] = {}
    by_remote: dict[str, str] = {}
    admins: set[str] = set()
    unread: set[str] = set()
    for r in live:
        if r.kind == "member":
            read = {**r.attrs, "email": r.server.get("email") or r.attrs.get("email"),
                    "products": r.server.get("productAssignations", r.attrs.get("products"))}
            members[r.key] = _Member(as_read(_cells(read)),
                                     as_read(dict(r.server.get("customProperties") or {})),
                                     bool(r.attrs.get("deactivated")))
            unread |= {COLUMN_OF[a] for a in r.unknown if a in COLUMN_OF}
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
                    record = _Member({})
                values = _set_by(c)
                record.cells.update(_cells(values))
                record.cells["externalMemberId"] = c.key
                record.deactivated = bool(values.get("deactivated", record.deactivated))
                record.address = c.address
                members[c.key] = record
                if old and old != c.key:
                    alias[old] = c.key
                left_out = sorted(unread & set(_cells(values)))
                if left_out:
                    notes.append(f"member {c.key}: {', '.join(left_out)} not written (the "
                                 "column is left out: the answers do not carry it)")
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
                # A mapping matched by email is live under another key: start from `after`.
                store[c.key] = {**(c.after or {}), **store.get(c.key, {}), **_set_by(c)}
                (team_address if c.kind == "team" else mapping_address)[c.key] = c.address
            elif c.action == "delete":
                store.pop(c.key, None)
            else:
                outcomes[c.address] = Outcome.of(
                    c, "failed", f"{c.action} is not something a sync can do")
        else:
            outcomes[c.address] = Outcome.of(c, "failed", f"{provider} has no kind {c.kind!r}")

    rows: dict[tuple[str, int], str] = {}
    columns = [c for c in MEMBER_COLUMNS if c not in unread]
    custom_columns = sorted({name for m in members.values() for name in m.custom})
    member_rows = []
    listed: set[str] = set()
    for key, m in members.items():
        if m.deactivated:
            continue
        member_rows.append({**{c: m.cells.get(c) for c in columns},
                            **{name: m.custom.get(name) for name in custom_columns}})
        if m.cells.get("externalMemberId"):
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
    # One row per (team, member): a live mapping of a member now bound to its key names
    # the same pair as the change that binds it, and the change's row is the one written.
    owner: dict[tuple[Any, Any], str] = {}
    for key, attrs in mappings.items():
        pair = (attrs.get("team"), alias.get(attrs.get("member"), attrs.get("member")))
        if pair not in owner or key in mapping_address:
            owner[pair] = key
    for key, attrs in mappings.items():
        team, member = attrs.get("team"), alias.get(attrs.get("member"), attrs.get("member"))
        if owner[(team, member)] != key:
            continue
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
        files={"members.csv": render_csv(columns + custom_columns, member_rows),
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
            if str(m.cells.get("email") or "").strip().lower() == email:
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
