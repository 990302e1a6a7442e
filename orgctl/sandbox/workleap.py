"""The Workleap API provisioning emulator (seed 003): a full-replacement sync of three CSVs.

Documented behaviour (seed 003), implemented faithfully:
- one sync takes `members.csv`, `teams.csv` and `teams-mappings.csv`; a missing file fails it
  ("Always include all 3 CSV files"); files are UTF-8, comma-delimited, double-quote escaped;
- members are identified by `externalMemberId`, with `email` as the fallback identifier;
- members missing from `members.csv` are deactivated if active, deleted if invited/created;
  admins are never deleted or deactivated; teams missing from `teams.csv` are deleted;
- new members are invited when Automatic Invite is on, created otherwise;
- subteams are mapped `externalSubteamId` -> `externalTeamId`; managers gain access to their
  subteams, and upper managers to the whole reporting line (`accessibleTeamIds`);
- a sync over the risk threshold is Paused until approved (-> Success) or rejected
  (-> Rejected); statuses Pending / Paused / Rejected / Success / Warning / Failed; an
  inactive integration fails every sync; the source is always "API Provisioning".

Assumed (the seed shows a PowerShell script, not the HTTP calls it makes):
- the endpoints below, the `workleap-subscription-key` header, JSON bodies, page/pageSize
  pagination capped at 500, the `teams-mappings.csv` columns (`externalTeamId`,
  `externalMemberId`, `externalSubteamId`, `role` = member|manager), `;` between products;
- the risk measure: the larger of (members deactivated or deleted / members not yet
  deactivated) and (teams deleted / existing teams), in percent, compared with the threshold;
- row-level problems (duplicates, unknown references, invalid values) skip the row and make
  the sync a Warning with a report; file-level problems (missing file or column, not UTF-8)
  make it Failed; a deactivated member listed again is reactivated; an empty optional cell
  clears the value, an optional or custom-property column left out of members.csv leaves
  the values alone; a sync submitted while another is Paused fails; `Idempotency-Key`
  makes a retried submission return the first sync instead of queueing a second one.

Routes (all assumed):
    POST /provisioning/syncs              multipart: the three CSVs -> 202 {sync, Pending}
    GET  /provisioning/syncs              sync history, newest first (paginated)
    GET  /provisioning/syncs/{id}         one sync: status, summary, risk, report, reason
    GET  /provisioning/members            members: status, isAdmin, language, products...
    GET  /provisioning/teams              teams: parent, subteams, members, managers
Control plane (the administrator's clicks in Settings > Provisioning > View sync history):
    POST /_sandbox/syncs/{id}/approve | /reject

The strict profile (`Profile.named("strict")`, or drawn). Seed 003 documents no HTTP route
at all: not the submission, not a read, not a status. A strict server that served only
documented routes would serve nothing, and orgctl cannot plan a full-replacement sync
without reading what is there (a plan from an empty read would recreate every member). So
the strict profile keeps what orgctl cannot do without, and chooses differently wherever
the seed leaves a choice:
- kept: `POST /provisioning/syncs` (the push Steps 3-5 describe), `GET /provisioning/
  members` and `GET /provisioning/teams` with their `page` and `pageSize` parameters, and
  `GET /provisioning/syncs/{id}` (the statuses of "Sync statuses");
- not served: the sync history list (the seed shows it in the UI only); `Idempotency-Key`
  is ignored (a header the seed never names), so a resubmission queues a second sync;
- list answers: at most `profile.cap(500)` rows a page (20-50), `profile.size(100)` rows
  when no size is asked, and no `page`/`pageSize`/`total` keys unless the profile keeps
  them (`profile.paging_keys`): only `{"items": [...]}`;
- objects carry only the fields the seed's CSVs and "Effects of missing data" name (ids,
  the members.csv columns, custom properties, status, the admin flag; the teams.csv
  columns and the teams-mappings.csv structure as parentId, managerIds, memberIds); the
  derived `accessibleTeamIds`, `parentExternalTeamId` and `subteamIds` are left out, and a
  sync answers only its id, status, source and report;
- ids are large uneven numbers (`ids: "sparse"`) or uuids (`"uuid"`), not "m-1"; object
  keys come in another order (`profile.shaped`);
- teams-mappings.csv must be built "from the bottom up (subteams first)", as seed 003
  says: a subteam row naming, as its team, a team that an earlier row already made a
  subteam is skipped with an issue (the permissive profile takes the rows in any order).
Options: `reads=False` serves no list route at all (a server with the sync only: orgctl
must stop before planning), `sync_status=False` no `GET /provisioning/syncs/{id}`.

Seed fixture (YAML or JSON), every key optional:

    api_keys: [sandbox-workleap-key]
    integration: {active: true, risk_threshold: 25, auto_invite: true, processing_delay: 0.1}
    members:                      # status: active | invited | created | deactivated
      - {externalMemberId: E1, email: ana@acme.io, firstName: Ana, lastName: Silva,
         languagePreferences: fr, productAssignations: [Officevibe], status: active,
         isAdmin: false, customProperties: {Site: Lyon}}
      - {email: admin@acme.io, firstName: Ad, lastName: Min, isAdmin: true}  # no external id
    teams:
      - {externalTeamId: eng, teamName: Engineering}
    mappings:                     # the teams-mappings.csv rows; `email` may stand in for a
      - {externalTeamId: eng, externalSubteamId: platform}   # member without an external id
      - {externalTeamId: eng, externalMemberId: E1, role: manager}
    syncs:                        # earlier history, shown as is
      - {status: Success}

`risk_threshold: null` disables the pause; `processing_delay` is in seconds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import operator
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from orgctl.sandbox.core import CONTROL_PREFIX, ApiError, Emulator, EncodedItems, JSONResponse

DEFAULT_API_KEY = "sandbox-workleap-key"
API_KEY_HEADER = "workleap-subscription-key"  # assumed: the seed only says "API Key"
SOURCE = "API Provisioning"  # seed 003 "View sync history"
PAGE_CAP = 500  # assumed
DEFAULT_PAGE_SIZE = 100  # assumed
DEFAULT_INTEGRATION: dict[str, Any] = {
    "active": True,
    "risk_threshold": 25.0,  # percent; the seed lets the admin set it, the default is ours
    "auto_invite": True,
    "processing_delay": 0.1,
}

FILES = ("members.csv", "teams.csv", "teams-mappings.csv")
MEMBER_REQUIRED = ("externalMemberId", "email", "firstName", "lastName")
MEMBER_OPTIONAL = ("languagePreferences", "productAssignations")
TEAM_REQUIRED = ("externalTeamId", "teamName")
MAPPING_REQUIRED = ("externalTeamId", "externalMemberId", "externalSubteamId")
MAPPING_OPTIONAL = ("role",)
LANGUAGES = ("en", "fr")
PRODUCTS = ("Officevibe", "Skills", "LMS", "Pingboard", "Onboarding", "Performance",
            "Workleap AI")
PRODUCT_SEPARATOR = ";"
MEMBER_STATUSES = ("active", "invited", "created", "deactivated")
ROLES = ("member", "manager")
OVERFLOW = "\0overflow"  # key of the cells beyond the header; cannot be a column name


Row = tuple[int, dict[str, str]]  # (1-based data row number, cells by column)
NewId = Callable[[str, str], str]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _SyncFailed(Exception):
    """A file-level problem: the sync does not run (status Failed)."""


@dataclass
class _Outcome:
    """What one sync would do, computed without touching the state."""

    members: dict[str, dict[str, Any]]
    teams: dict[str, dict[str, Any]]
    report: list[dict[str, Any]]
    summary: dict[str, int]
    risk: float
    next_member: int
    next_team: int
    removed: dict[str, list[str]] = field(default_factory=dict)


class WorkleapEmulator(Emulator):
    """Workleap's API provisioning as a local HTTP server; see the module docstring."""

    name = "workleap"

    # -- seed ---------------------------------------------------------------------------
    def load_seed(self, seed: dict[str, Any]) -> None:
        self._access_cache: tuple[list[dict[str, Any]], dict[str, list[str]]] | None = None
        self._encoded_members = EncodedItems()  # see _list_members
        self._payloads: dict[str, dict[str, bytes]] = {}
        self._due: dict[str, float] = {}
        integration = {**DEFAULT_INTEGRATION, **(seed.get("integration") or {})}
        self.state = {
            "api_keys": list(seed.get("api_keys") or [DEFAULT_API_KEY]),
            "integration": integration,
            "members": {},
            "teams": {},
            "syncs": {},
            "idempotency": {},
            "next": {"member": 1, "team": 1, "sync": 1},
        }
        for raw in seed.get("members") or []:
            status = raw.get("status", "active")
            if status not in MEMBER_STATUSES:
                raise ValueError(f"seed member {raw!r}: status must be one of {MEMBER_STATUSES}")
            mid = self._new_id("member", "m")
            self.state["members"][mid] = {
                "id": mid,
                "externalMemberId": raw.get("externalMemberId") or None,
                "email": raw["email"],
                "firstName": raw.get("firstName", ""),
                "lastName": raw.get("lastName", ""),
                "languagePreferences": raw.get("languagePreferences") or None,
                "productAssignations": list(raw.get("productAssignations") or []),
                "customProperties": dict(raw.get("customProperties") or {}),
                "status": status,
                "isAdmin": bool(raw.get("isAdmin", False)),
            }
        for raw in seed.get("teams") or []:
            tid = self._new_id("team", "t")
            self.state["teams"][tid] = {
                "id": tid, "externalTeamId": raw["externalTeamId"], "teamName": raw["teamName"],
                "parentId": None, "memberIds": [], "managerIds": [],
            }
        teams_by_ext = {t["externalTeamId"]: t for t in self.state["teams"].values()}
        members = self.state["members"].values()
        by_ext = {m["externalMemberId"]: m for m in members if m["externalMemberId"]}
        by_email = {m["email"].lower(): m for m in members}
        for raw in seed.get("mappings") or []:
            team = teams_by_ext[raw["externalTeamId"]]
            if raw.get("externalSubteamId"):
                teams_by_ext[raw["externalSubteamId"]]["parentId"] = team["id"]
                continue
            member = by_ext.get(raw.get("externalMemberId") or "") \
                or by_email[str(raw.get("email", "")).lower()]
            role = raw.get("role") or "member"
            team["managerIds" if role == "manager" else "memberIds"].append(member["id"])
        for raw in seed.get("syncs") or []:
            sid = self._new_id("sync", "s")
            self.state["syncs"][sid] = {
                "id": sid, "status": raw.get("status", "Success"), "source": SOURCE,
                "submittedAt": raw.get("submittedAt", _now()),
                "completedAt": raw.get("completedAt"), "reason": raw.get("reason"),
                "summary": raw.get("summary") or {}, "risk": raw.get("risk"),
                "report": list(raw.get("report") or []), "wasPaused": False,
            }

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.state["api_keys"][0]}

    def _new_id(self, counter: str, prefix: str) -> str:
        n = self.state["next"][counter]
        self.state["next"][counter] = n + 1
        return self._id(prefix, n)

    def _id(self, prefix: str, n: int) -> str:
        """The id of the `n`th object of a table, as the state keeps it (text): "m-1" in
        the permissive profile, else the digits of a large uneven number ("sparse",
        answered as a number: see `_wire`) or a uuid."""
        if self.profile.ids == "sparse":
            return str(self.new_id(n))
        if self.profile.ids == "uuid":
            return str(uuid.uuid5(uuid.NAMESPACE_URL,
                                  f"workleap/{self.profile.seed}/{prefix}/{n}"))
        return f"{prefix}-{n}"

    def _wire(self, value: str | None) -> str | int | None:
        """An id as answers carry it: a number under "sparse" ids, else the text."""
        if value is not None and self.profile.ids == "sparse":
            return int(value)
        return value

    # -- routes -------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The routes this profile serves (see the module docstring): the strict profile
        has no sync history list; options `reads=False` and `sync_status=False` take away
        the list reads and the status read."""
        routes = [Route("/provisioning/syncs", self._endpoint(self._submit), methods=["POST"])]
        if not self.profile.strict:
            routes.append(Route("/provisioning/syncs", self._endpoint(self._list_syncs),
                                methods=["GET"]))
        if self.options.get("sync_status", True):
            routes.append(Route("/provisioning/syncs/{sync_id}", self._endpoint(self._get_sync),
                                methods=["GET"]))
        if self.options.get("reads", True):
            routes += [
                Route("/provisioning/members", self._endpoint(self._list_members),
                      methods=["GET"]),
                Route("/provisioning/teams", self._endpoint(self._list_teams), methods=["GET"]),
            ]
        return routes + [
            Route(f"{CONTROL_PREFIX}/syncs/{{sync_id}}/approve", self._approve,
                  methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/syncs/{{sync_id}}/reject", self._reject, methods=["POST"]),
        ]

    def _endpoint(self, handler: Any) -> Any:
        """Wrap a handler with the API-key check and the processing of due syncs."""
        async def endpoint(request: Request) -> Response:
            try:
                key = request.headers.get(API_KEY_HEADER)
                if not key or key not in self.state["api_keys"]:
                    raise ApiError(401, {"code": "Unauthorized",
                                         "message": f"missing or invalid {API_KEY_HEADER}"})
                self._process_due()
                return await handler(request)
            except ApiError as err:
                return err.response()
        return endpoint

    # -- syncs --------------------------------------------------------------------------
    async def _submit(self, request: Request) -> Response:
        # Strict: a header the seed never names is not honoured; a resubmission queues.
        idem = None if self.profile.strict else request.headers.get("idempotency-key")
        files: dict[str, bytes] = {}
        async with request.form() as form:
            for name in FILES:
                part = form.get(name)
                if part is None:
                    continue
                files[name] = part.encode() if isinstance(part, str) else await part.read()
        with self.lock:
            if idem and idem in self.state["idempotency"]:
                sid = self.state["idempotency"][idem]
                return JSONResponse(self._sync_answer(self.state["syncs"][sid]), 202)
            sid = self._new_id("sync", "s")
            self.state["syncs"][sid] = {
                "id": sid, "status": "Pending", "source": SOURCE, "submittedAt": _now(),
                "completedAt": None, "reason": None, "summary": {}, "risk": None,
                "report": [], "wasPaused": False,
            }
            if idem:
                self.state["idempotency"][idem] = sid
            self._payloads[sid] = files
            delay = float(self.state["integration"].get("processing_delay") or 0.0)
            self._due[sid] = time.monotonic() + delay
            body = self._sync_answer(self.state["syncs"][sid])
        # Processing is asynchronous, as in Workleap: the answer only says "accepted".
        asyncio.get_running_loop().call_later(delay, self._process_due)
        return JSONResponse(body, 202)

    async def _list_syncs(self, request: Request) -> Response:
        page, size = self._paging(request)
        with self.lock:
            history = list(reversed(self.state["syncs"].values()))
            items = history[(page - 1) * size: page * size]
            return JSONResponse({"items": items, "page": page, "pageSize": size,
                                 "total": len(history)})

    async def _get_sync(self, request: Request) -> Response:
        with self.lock:
            sync = self.state["syncs"].get(request.path_params["sync_id"])
            if sync is None:
                raise ApiError(404, {"code": "NotFound", "message": "no such sync"})
            return JSONResponse(self._sync_answer(sync))

    def _sync_answer(self, sync: dict[str, Any]) -> dict[str, Any]:
        """A sync as the API answers it: everything (permissive), or only what "View sync
        history" and "Sync statuses" show: id, status, source, report (strict)."""
        if not self.profile.strict:
            return dict(sync)
        return self.profile.shaped({"id": self._wire(sync["id"]), "status": sync["status"],
                                    "source": sync["source"],
                                    "report": list(sync["report"])})

    async def _approve(self, request: Request) -> Response:
        return self._decide(request.path_params["sync_id"], approve=True)

    async def _reject(self, request: Request) -> Response:
        return self._decide(request.path_params["sync_id"], approve=False)

    def _decide(self, sid: str, approve: bool) -> Response:
        with self.lock:
            sync = self.state["syncs"].get(sid)
            if sync is None:
                return JSONResponse({"code": "NotFound", "message": "no such sync"}, 404)
            if sync["status"] != "Paused":
                return JSONResponse({"code": "Conflict",
                                     "message": f"sync is {sync['status']}, not Paused"}, 409)
            if approve:
                self._run(sid, force=True)
            else:
                sync.update(status="Rejected", completedAt=_now())
                self._payloads.pop(sid, None)
            return JSONResponse(sync)

    def _process_due(self) -> None:
        """Run every Pending sync whose processing delay has passed, oldest first."""
        with self.lock:
            now = time.monotonic()
            for sid in list(self._due):  # in the order they were submitted
                if self._due[sid] > now:
                    break  # later syncs wait for earlier ones, as a queue would
                del self._due[sid]
                self._run(sid, force=False)

    def _run(self, sid: str, force: bool) -> None:
        sync = self.state["syncs"][sid]
        files = self._payloads.get(sid, {})
        integration = self.state["integration"]
        if not integration.get("active", True):
            self._finish(sid, "Failed", reason="API provisioning integration is not active")
            return
        paused = [s["id"] for s in self.state["syncs"].values()
                  if s["status"] == "Paused" and s["id"] != sid]
        if paused:
            self._finish(sid, "Failed", reason=f"sync {paused[0]} is Paused: approve or reject "
                                               "it before submitting another")
            return
        try:
            outcome = self._compute(files)
        except _SyncFailed as exc:
            self._finish(sid, "Failed", reason=str(exc))
            return
        threshold = integration.get("risk_threshold")
        sync["risk"] = {"removalPercent": round(outcome.risk, 2), "threshold": threshold}
        sync["summary"] = outcome.summary
        if not force and threshold is not None and outcome.risk > float(threshold):
            sync.update(status="Paused", reason=(
                f"risk threshold exceeded: this sync removes {outcome.risk:.1f}% "
                f"(threshold {float(threshold):g}%)"))
            return
        self.state["members"] = outcome.members
        self._encoded_members.clear()  # every member is a new object; some are gone
        self.state["teams"] = outcome.teams
        self.state["next"]["member"] = outcome.next_member
        self.state["next"]["team"] = outcome.next_team
        sync["report"] = outcome.report
        sync["wasPaused"] = force
        self._finish(sid, "Warning" if outcome.report else "Success",
                     reason=f"{len(outcome.report)} rows skipped, see report"
                     if outcome.report else None)

    def _finish(self, sid: str, status: str, reason: str | None) -> None:
        self.state["syncs"][sid].update(status=status, reason=reason, completedAt=_now())
        self._payloads.pop(sid, None)

    # -- the sync itself ----------------------------------------------------------------
    def _compute(self, files: dict[str, bytes]) -> _Outcome:
        missing = [name for name in FILES if name not in files]
        if missing:
            raise _SyncFailed(f"missing file(s): {', '.join(missing)}; all 3 CSV files are "
                              "required")
        member_rows, member_columns = _parse(files, "members.csv", MEMBER_REQUIRED)
        team_rows, _ = _parse(files, "teams.csv", TEAM_REQUIRED)
        mapping_rows, _ = _parse(files, "teams-mappings.csv", MAPPING_REQUIRED)
        custom_columns = [c for c in member_columns
                          if c not in MEMBER_REQUIRED + MEMBER_OPTIONAL]
        report: list[dict[str, Any]] = []
        member_rows = _well_formed(member_rows, "members.csv", report)
        team_rows = _well_formed(team_rows, "teams.csv", report)
        mapping_rows = _well_formed(mapping_rows, "teams-mappings.csv", report)
        summary = dict.fromkeys(
            ("membersCreated", "membersUpdated", "membersReactivated", "membersDeactivated",
             "membersDeleted", "teamsCreated", "teamsUpdated", "teamsDeleted"), 0)
        next_ids = dict(self.state["next"])

        def new_id(counter: str, prefix: str) -> str:
            n = next_ids[counter]
            next_ids[counter] = n + 1
            return self._id(prefix, n)

        members, listed, removed_members, base_members = self._sync_members(
            member_rows, custom_columns, report, summary, new_id)
        teams, removed_teams = self._sync_teams(team_rows, report, summary, new_id)
        self._sync_mappings(mapping_rows, [members[mid] for mid in listed], teams, report)
        risk = max(
            100.0 * len(removed_members) / base_members if base_members else 0.0,
            100.0 * len(removed_teams) / len(self.state["teams"]) if self.state["teams"] else 0.0,
        )
        return _Outcome(members=members, teams=teams, report=report, summary=summary, risk=risk,
                        next_member=next_ids["member"], next_team=next_ids["team"],
                        removed={"members": removed_members, "teams": removed_teams})

    def _sync_members(self, rows: list[Row], custom_columns: list[str],
                      report: list[dict[str, Any]], summary: dict[str, int],
                      new_id: NewId
                      ) -> tuple[dict[str, dict[str, Any]], list[str], list[str], int]:
        """The members after the sync, the ids of those listed in the file, the ids it
        removes, and how many were not deactivated before (the base of the risk measure)."""
        existing: dict[str, dict[str, Any]] = self.state["members"]
        by_ext = {m["externalMemberId"]: mid for mid, m in existing.items()
                  if m["externalMemberId"]}
        by_email = {m["email"].lower(): mid for mid, m in existing.items()}

        # Pass 1: row-level validity and duplicates (first occurrence wins).
        valid: list[Row] = []
        seen_ext: dict[str, int] = {}
        seen_email: dict[str, int] = {}
        for row_no, row in rows:
            ext, email = row.get("externalMemberId", ""), row.get("email", "").lower()
            if not email:
                _issue(report, "members.csv", row_no, "email is required")
                continue
            if ext and ext in seen_ext:
                _issue(report, "members.csv", row_no,
                       f"duplicate externalMemberId {ext!r} (first on row {seen_ext[ext]})")
                continue
            if email in seen_email:
                _issue(report, "members.csv", row_no,
                       f"duplicate email {email!r} (first on row {seen_email[email]})")
                continue
            if ext:
                seen_ext[ext] = row_no
            seen_email[email] = row_no
            valid.append((row_no, row))

        # Pass 2: match by externalMemberId first, then by email for the rest (seed:
        # "Uses email as a fallback identifier if the externalMemberId doesn't match").
        matched: dict[str, tuple[int, dict[str, str]]] = {}
        unmatched: list[Row] = []
        for row_no, row in valid:
            mid = by_ext.get(row.get("externalMemberId", ""))
            if mid is not None:
                matched[mid] = (row_no, row)
            else:
                unmatched.append((row_no, row))
        new_rows: list[Row] = []
        for row_no, row in unmatched:
            mid = by_email.get(row["email"].lower())
            if mid is not None and mid not in matched:
                matched[mid] = (row_no, row)
            elif mid is not None:
                _issue(report, "members.csv", row_no,
                       f"email {row['email']!r} belongs to the member of row {matched[mid][0]}")
            else:
                new_rows.append((row_no, row))

        # Members not in the file: deactivate the active, delete the invited/created, never
        # touch admins (seed 003 "Effects of missing data").
        result: dict[str, dict[str, Any]] = {}
        removed: list[str] = []
        base = 0
        for mid, member in existing.items():
            if member["status"] != "deactivated":
                base += 1
            if mid in matched or member["isAdmin"] or member["status"] == "deactivated":
                result[mid] = dict(member)
                continue
            removed.append(mid)
            if member["status"] == "active":
                result[mid] = {**member, "status": "deactivated"}
                summary["membersDeactivated"] += 1
            else:
                summary["membersDeleted"] += 1

        taken = {m["email"].lower(): mid for mid, m in result.items()
                 if mid not in matched}
        for mid, (row_no, row) in matched.items():
            member = result[mid]
            before = dict(member)
            email = row["email"]
            owner = taken.get(email.lower())
            if owner is not None and owner != mid:
                _issue(report, "members.csv", row_no,
                       f"email {email!r} is used by another member; email not changed")
                email = member["email"]
            taken[email.lower()] = mid
            _fill(member, row, custom_columns, report, row_no)
            member["email"] = email
            if row.get("externalMemberId"):
                member["externalMemberId"] = row["externalMemberId"]
            if member["status"] == "deactivated":
                member["status"] = "active"  # assumed: listing a member again reactivates
                summary["membersReactivated"] += 1
            elif member != before:
                summary["membersUpdated"] += 1
        listed = list(matched)
        status = "invited" if self.state["integration"].get("auto_invite", True) else "created"
        for row_no, row in new_rows:
            if row["email"].lower() in taken:
                _issue(report, "members.csv", row_no,
                       f"email {row['email']!r} is used by another member; row skipped")
                continue
            mid = new_id("member", "m")
            member = {"id": mid, "externalMemberId": row.get("externalMemberId") or None,
                      "email": row["email"], "firstName": "", "lastName": "",
                      "languagePreferences": None, "productAssignations": [],
                      "customProperties": {}, "status": status, "isAdmin": False}
            _fill(member, row, custom_columns, report, row_no)
            taken[row["email"].lower()] = mid
            result[mid] = member
            listed.append(mid)
            summary["membersCreated"] += 1
        return result, listed, removed, base

    def _sync_teams(self, rows: list[Row], report: list[dict[str, Any]],
                    summary: dict[str, int], new_id: NewId
                    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        by_ext = {t["externalTeamId"]: tid for tid, t in self.state["teams"].items()}
        result: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}
        for row_no, row in rows:
            ext, name = row.get("externalTeamId", ""), row.get("teamName", "")
            if not ext or not name:
                _issue(report, "teams.csv", row_no, "externalTeamId and teamName are required")
                continue
            if ext in seen:
                _issue(report, "teams.csv", row_no,
                       f"duplicate externalTeamId {ext!r} (first on row {seen[ext]})")
                continue
            seen[ext] = row_no
            tid = by_ext.get(ext)
            if tid is None:
                tid = new_id("team", "t")
                summary["teamsCreated"] += 1
            elif self.state["teams"][tid]["teamName"] != name:
                summary["teamsUpdated"] += 1
            # Structure and assignments come from teams-mappings.csv alone: full replacement.
            result[tid] = {"id": tid, "externalTeamId": ext, "teamName": name,
                           "parentId": None, "memberIds": [], "managerIds": []}
        removed = [tid for tid in self.state["teams"] if tid not in result]
        summary["teamsDeleted"] = len(removed)
        return result, removed

    def _sync_mappings(self, rows: list[Row], listed: list[dict[str, Any]],
                       teams: dict[str, dict[str, Any]], report: list[dict[str, Any]]) -> None:
        # Seed: map externalTeamId "(from teams.csv)" to externalMemberId "(from members.csv)":
        # a member kept without a row (an admin, a deactivated member) cannot be mapped.
        team_by_ext = {t["externalTeamId"]: t for t in teams.values()}
        member_by_ext = {m["externalMemberId"]: m for m in listed if m["externalMemberId"]}
        assigned: set[tuple[str, str]] = set()
        placed: set[str] = set()  # teams a row has made a subteam, for the strict order
        for row_no, row in rows:
            team = team_by_ext.get(row.get("externalTeamId", ""))
            sub_ext, member_ext = row.get("externalSubteamId", ""), row.get("externalMemberId", "")
            if team is None:
                _issue(report, "teams-mappings.csv", row_no,
                       f"externalTeamId {row.get('externalTeamId', '')!r} is not in teams.csv")
                continue
            if bool(sub_ext) == bool(member_ext):
                _issue(report, "teams-mappings.csv", row_no,
                       "set exactly one of externalMemberId and externalSubteamId")
                continue
            if sub_ext:
                sub = team_by_ext.get(sub_ext)
                if self.profile.strict and row.get("externalTeamId") in placed:
                    _issue(report, "teams-mappings.csv", row_no,
                           f"team {row.get('externalTeamId')!r} was made a subteam in an "
                           f"earlier row: build from the bottom up (subteams first)")
                elif sub is None:
                    _issue(report, "teams-mappings.csv", row_no,
                           f"externalSubteamId {sub_ext!r} is not in teams.csv")
                elif sub["parentId"] is not None:
                    _issue(report, "teams-mappings.csv", row_no,
                           f"team {sub_ext!r} is already a subteam of another team")
                elif _is_ancestor(sub["id"], team, teams):
                    _issue(report, "teams-mappings.csv", row_no,
                           f"mapping {sub_ext!r} under {team['externalTeamId']!r} makes a cycle")
                else:
                    sub["parentId"] = team["id"]
                    placed.add(sub_ext)
                continue
            member = member_by_ext.get(member_ext)
            role = row.get("role") or "member"
            if member is None:
                _issue(report, "teams-mappings.csv", row_no,
                       f"externalMemberId {member_ext!r} is not in members.csv")
            elif role not in ROLES:
                _issue(report, "teams-mappings.csv", row_no,
                       f"role {role!r} is not member or manager")
            elif (team["id"], member["id"]) in assigned:
                _issue(report, "teams-mappings.csv", row_no,
                       f"member {member_ext!r} is mapped to {team['externalTeamId']!r} twice")
            else:
                assigned.add((team["id"], member["id"]))
                team["managerIds" if role == "manager" else "memberIds"].append(member["id"])

    # -- reads --------------------------------------------------------------------------
    async def _list_members(self, request: Request) -> Response:
        page, size = self._paging(request)
        with self.lock:
            members = self.state["members"]
            # Encoding 500 members was most of the CPU of a page: each member's stays
            # encoded until it, or the teams it can see, change.
            access = None if self.profile.strict else self._access()
            item, render = self._encoded_members.item, self._member_json
            items = [item(m["id"], m, None if access is None else access.get(m["id"], []),
                          render)
                     for m in itertools.islice(members.values(), (page - 1) * size,
                                               page * size)]
            return JSONResponse(self._page(items, page, size, len(members)))

    def _member_json(self, member: dict[str, Any], teams: list[Any] | None) -> dict[str, Any]:
        """A member as the list answers it; `teams` the ids of the teams it can see, or
        None under the strict profile (a field the seed never names)."""
        item = {**member, "id": self._wire(member["id"])}
        if teams is not None:
            item["accessibleTeamIds"] = teams
        return self.profile.shaped(item)

    async def _list_teams(self, request: Request) -> Response:
        page, size = self._paging(request)
        with self.lock:
            teams = self.state["teams"]
            children = _children(teams)
            items = []
            for team in itertools.islice(teams.values(), (page - 1) * size, page * size):
                item = {**team, "id": self._wire(team["id"]),
                        "parentId": self._wire(team["parentId"]),
                        "memberIds": [self._wire(i) for i in team["memberIds"]],
                        "managerIds": [self._wire(i) for i in team["managerIds"]]}
                if not self.profile.strict:  # derived, fields the seed never names
                    parent = teams.get(team["parentId"]) if team["parentId"] else None
                    item["parentExternalTeamId"] = parent["externalTeamId"] if parent else None
                    item["subteamIds"] = children.get(team["id"], [])
                items.append(self.profile.shaped(item))
            return JSONResponse(self._page(items, page, size, len(teams)))

    def _page(self, items: list[dict[str, Any]], page: int, size: int,
              total: int) -> dict[str, Any]:
        """A list answer: the items, with the paging keys unless the profile drops them
        (the seed shows no list answer, so none of its keys are documented)."""
        if not self.profile.paging_keys:
            return {"items": items}
        return {"items": items, "page": page, "pageSize": size, "total": total}

    def _paging(self, request: Request) -> tuple[int, int]:
        """The page asked for and its size, capped at this profile's largest page."""
        try:
            page = int(request.query_params.get("page", 1))
            size = int(request.query_params.get("pageSize",
                                                self.profile.size(DEFAULT_PAGE_SIZE)))
        except ValueError:
            raise ApiError(400, {"code": "BadRequest",
                                 "message": "page and pageSize must be integers"}) from None
        if page < 1 or size < 1:
            raise ApiError(400, {"code": "BadRequest",
                                 "message": "page and pageSize start at 1"})
        return page, min(size, self.profile.cap(PAGE_CAP))

    def _access(self) -> dict[str, list[str]]:
        """Member id -> ids of the teams they can see: the teams they manage and every team
        below them (seed: "upper managers can see data from the whole reporting line").

        Every page of the member list needs it and it walks every team, so it is kept
        until the teams change. The emulator never edits a team in place: a sync and a
        reset put new team objects in `state`, so the same objects mean the same teams."""
        teams = list(self.state["teams"].values())
        cached = self._access_cache
        if cached is None or len(cached[0]) != len(teams) or any(
                map(operator.is_not, cached[0], teams)):
            self._access_cache = cached = (teams, self._compute_access())
        return cached[1]

    def _compute_access(self) -> dict[str, list[str]]:
        teams = self.state["teams"]
        children = _children(teams)
        # Oldest team first: ids in number order, uuids (no order of their own) as listed.
        order: Callable[[str], int] = (
            {tid: n for n, tid in enumerate(teams)}.__getitem__
            if self.profile.ids == "uuid" else lambda tid: int(tid.rsplit("-", 1)[-1]))
        access: dict[str, list[str]] = {}
        for tid, team in teams.items():
            if not team["managerIds"]:
                continue
            below, stack = [], [tid]
            while stack:
                current = stack.pop()
                below.append(current)
                stack.extend(children.get(current, []))
            for mid in team["managerIds"]:
                access.setdefault(mid, []).extend(below)
        return {mid: [self._wire(t) for t in sorted(set(ids), key=order)]
                for mid, ids in access.items()}


# -- helpers ----------------------------------------------------------------------------

def _children(teams: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for tid, team in teams.items():
        if team["parentId"]:
            children.setdefault(team["parentId"], []).append(tid)
    return children


def _is_ancestor(candidate: str, team: dict[str, Any], teams: dict[str, dict[str, Any]]) -> bool:
    """Whether `candidate` is `team` or above it: mapping it below `team` would loop."""
    current: dict[str, Any] | None = team
    while current is not None:
        if current["id"] == candidate:
            return True
        current = teams.get(current["parentId"]) if current["parentId"] else None
    return False


def _parse(files: dict[str, bytes], name: str, required: tuple[str, ...]
           ) -> tuple[list[Row], list[str]]:
    """Rows of one CSV as (1-based data row number, stripped values), and its columns."""
    try:
        text = files[name].decode("utf-8-sig")  # a BOM, as Excel writes it, is still UTF-8
    except UnicodeDecodeError as exc:
        raise _SyncFailed(f"{name} is not UTF-8 encoded (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"',
                        doublequote=True, strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise _SyncFailed(f"{name} lacks column(s) {', '.join(missing)} (expected "
                              "comma-delimited UTF-8 with a header row)")
        rows = []
        for row_no, values in enumerate(reader, 1):
            if not any(v.strip() for v in values):
                continue
            # Short rows leave trailing optional cells empty; extra cells are kept as
            # overflow so the caller can report the row rather than guess its columns.
            cells = {h: v.strip() for h, v in zip(header, values, strict=False)}
            if len(values) > len(header):
                cells[OVERFLOW] = ",".join(values[len(header):])
            rows.append((row_no, cells))
    except csv.Error as exc:
        raise _SyncFailed(f"{name} is not valid CSV: {exc}") from None
    return rows, header


def _well_formed(rows: list[Row], name: str,
                 report: list[dict[str, Any]]) -> list[Row]:
    """The rows whose values fit the header; the others are reported and skipped."""
    kept = []
    for row_no, row in rows:
        if OVERFLOW in row:
            _issue(report, name, row_no, "more values than the header has columns (an "
                                         "unquoted comma?)")
        else:
            kept.append((row_no, row))
    return kept


def _issue(report: list[dict[str, Any]], file: str, row: int, issue: str) -> None:
    report.append({"file": file, "row": row, "issue": issue})


def _fill(member: dict[str, Any], row: dict[str, str], custom_columns: list[str],
          report: list[dict[str, Any]], row_no: int) -> None:
    """Copy a members.csv row onto a member; invalid optional values are reported and the
    member keeps its previous value."""
    member["firstName"] = row.get("firstName", "")
    member["lastName"] = row.get("lastName", "")
    if "languagePreferences" in row:
        language = row["languagePreferences"]
        if language and language not in LANGUAGES:
            _issue(report, "members.csv", row_no,
                   f"languagePreferences {language!r} is not one of {', '.join(LANGUAGES)}")
        else:
            member["languagePreferences"] = language or None
    if "productAssignations" in row:
        products = [p.strip() for p in row["productAssignations"].split(PRODUCT_SEPARATOR)
                    if p.strip()]
        unknown = [p for p in products if p not in PRODUCTS]
        if unknown:
            _issue(report, "members.csv", row_no,
                   f"unknown product(s) {', '.join(unknown)}; products not changed")
        else:
            member["productAssignations"] = products
    if custom_columns:
        custom = dict(member["customProperties"])
        for column in custom_columns:
            if row.get(column):
                custom[column] = row[column]
            else:
                custom.pop(column, None)
        member["customProperties"] = custom
