"""The Workelo emulator: the REST API v1.6 of seeds 000 and 001, under `/v1`, in memory.

It owns tokens, the per-token rate limit, `limit`/`offset` pages and the documented 422 body,
and the objects orgctl manages there: level and unit organisations, user roles,
identification resources, employees (+ identifications), unit scopes
(`unit_organization_managements`), templates, journeys (`tracks`, with their forms) and the
activity log. Each behaviour cites its seed section; behaviour the seeds do not show is
marked "assumed" (and listed in docs/providers/workelo.md).

Profiles (`orgctl.sandbox.core.Profile`): the permissive profile serves what the provider
was written beside; the strict one serves only what the seeds document and chooses
otherwise where they are silent (see `WorkeloEmulator`'s docstring for what it drops and
keeps, and why).

Options (keyword arguments): `token_ttl` seconds (default 3600), `rate_limit` requests per
`rate_window` seconds per token (default 1000 per 3600), `clock` (a monotonic-seconds
callable for token expiry and the rate limit, so tests move time instead of sleeping),
`today` (the emulator's date: see `orgctl.sandbox.core.Calendar.of`; default the real date).

Journeys follow the calendar (assumed: the seeds list the statuses, not when they change).
What requests did to a track is its stage: created (draft), started (`PUT /tracks/{id}/
start`), or, from a seed only, closed or cancelled. A started track's status is computed
from its dates on the emulator's today, every time it is answered, so moving the clock
moves it:

    today < invite_at                     scheduled        (the invitation waits)
    invite_at (or none) <= today < start  invitation_sent
    start <= today <= end                 in_progress
    today > end                           closed

where end is end_date, or start_date + DEFAULT_TRACK_DAYS (90 days: seed 001's example
journey, 2026-06-01 to 2026-09-01, lasts about three months) when the track has none. A
future invitation wins over the other rows: the journey begins for the collaborator with it.
Drafts stay draft, and a seeded closed or cancelled track stays so (closed by hand in
Workelo); a seeded invitation_sent, scheduled or in_progress track is a started one, its
status computed like any other. `state["tracks"]` holds each track's status as last
answered (`snapshot()` and `/_sandbox/state` bring them all to today first). Log entries
are stamped on the emulator's today, at the real time of day.

Templates (seed 000 "Templates and models": `GET /templates?mobility=&unit_organization_id=`,
served in both profiles): each has a mobility and optional units. Assumed: a template
without units applies to every unit; one with units applies to those units and every unit
below them (a template for Engineering serves Backend); deleting a unit takes it off its
templates, and a template left with none applies to no unit (it never widens to all).

Seed fixture (YAML or JSON; every key optional, defaults in brackets). Entries refer to each
other by external_id or name, so fixtures are writable by hand; `id` pins a remote id.

    clients: [{client_id, client_secret}]            [sandbox-client / sandbox-secret]
    level_organizations: [Group, {name: Division}]   [Group, Division, Department, Site]
    user_roles: [colleague, {name: manager}]         [colleague, manager, hr, owner]
    identification_resources: [badge]               [badge, payroll_id]
    templates:                                       [Standard onboarding, Engineering
      - {name, mobility, units: [unit ref],          onboarding, Sales onboarding,
         actions: [{name, offset_days}],             Internal mobility, Standard
         forms: [{name, paperworks: [name]}]}        offboarding]
    unit_organizations:                              (parents before children)
      - {external_id, name, level: <level name>, parent: <unit ref>, language}
    employees:
      - {external_id, first_name, last_name, email, job_position, unit: <unit ref>,
         role: <role name, default colleague>, identifications: {<resource name>: value}}
    unit_organization_managements: [{employee: <employee ref>, unit: <unit ref>}]
    tracks:
      - {employee: <employee ref>, mobility, start_date, end_date, status (default draft),
         invite_at, templates: [<template name>], implications: {<role>: <employee ref>}}

A unit ref is an external_id or a name; an employee ref an external_id or an email. A
template's `mobility` is required and `units` (unit refs) optional; a track's `status`
draft, closed or cancelled is kept, and invitation_sent, scheduled or in_progress mark it
started (its status then follows the calendar, as above).
"""

from __future__ import annotations

import math
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from orgctl.sandbox.core import ApiError, Emulator, JSONResponse, SlidingWindowLimiter

PREFIX = "/v1"
DEFAULT_LIMIT = 10  # seed 000 "Step 3: Understand a typical response": limit 10
MAX_LIMIT = 100  # issue #3 and the product brief: the page-size cap
MOBILITIES = ("onboarding", "crossboarding", "offboarding")  # seed 000 "Journeys (Tracks)"
TRACK_STATUSES = ("draft", "invitation_sent", "scheduled", "in_progress", "closed",
                  "cancelled")  # seed 000 "Statuses", seed 001 §4
OPEN_STATUSES = ("draft", "invitation_sent", "scheduled", "in_progress")
STARTED_STATUSES = ("invitation_sent", "scheduled", "in_progress")  # what the clock decides
# What requests (or the seed) did to a track; with the date, it gives the status.
TrackStage = Literal["draft", "started", "closed", "cancelled"]
# How long a track without an end_date lasts (assumed): seed 001 §3's example runs
# 2026-06-01 to 2026-09-01, about three months.
DEFAULT_TRACK_DAYS = 90
# seed 000 "Create a journey": the implications block, one id per involved role.
IMPLICATION_KEYS = ("hr_id", "second_hr_id", "manager_id", "second_manager_id", "buddy_id")
LOG_EVENTS = ("user_creation", "track_creation", "track_start", "form_completion")
FORM_STATUSES = ("opened", "closed", "missing_validation")  # seed 000 "List a journey's forms"
UNIT_REFS = ("external_id", "name", "id")  # how a seed refers to a unit, in priority order
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[a-z]{2}$")

DEFAULT_CLIENTS = [{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}]
DEFAULT_LEVELS = ["Group", "Division", "Department", "Site"]
DEFAULT_ROLES = ["colleague", "manager", "hr", "owner"]  # seed 000 "List employees" filter
# seed 000 "Add custom identifications": BADGE-001; payroll_id as examples/acme uses it.
DEFAULT_IDENTIFICATIONS = ["badge", "payroll_id"]
DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {"name": "Standard onboarding", "mobility": "onboarding",
     "actions": [{"name": "Prepare laptop", "offset_days": -7},
                 {"name": "Welcome meeting", "offset_days": 0},
                 {"name": "First month review", "offset_days": 30}],
     "forms": [{"name": "Informations personnelles",
                "paperworks": ["Adresse personnelle", "IBAN"]}]},
    {"name": "Engineering onboarding", "mobility": "onboarding",
     "actions": [{"name": "Dev environment set-up", "offset_days": 0}]},
    {"name": "Sales onboarding", "mobility": "onboarding",
     "actions": [{"name": "CRM access", "offset_days": 0}]},
    {"name": "Internal mobility", "mobility": "crossboarding",
     "actions": [{"name": "Handover", "offset_days": -5}]},
    {"name": "Standard offboarding", "mobility": "offboarding",
     "actions": [{"name": "Return equipment", "offset_days": 0}],
     "forms": [{"name": "Exit survey", "paperworks": ["Reason for leaving"]}]},
]

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str, errors: list[str],
          headers: dict[str, str] | None = None) -> ApiError:
    """An error in the documented 422 shape (seed 000 "Error handling"). Workelo documents
    that shape only for 422; using it for 401/404/429 too is assumed."""
    return ApiError(status, {"errors": errors, "message": message, "code": status},
                    headers or {})


def invalid(errors: list[str]) -> ApiError:
    return error(422, "unprocessable_entity", errors)


def not_found(what: str) -> ApiError:
    return error(404, "not_found", [f"{what} not found"])  # body shape assumed


def _parse_date(value: Any, field: str, errors: list[str]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.append(f"{field} must be a date (YYYY-MM-DD)")
        return None


def track_status(stage: TrackStage, start: date, end: date | None, invite_at: date | None,
                 today: date) -> str:
    """A track's status on `today` (see the module docstring). `stage`: draft, started,
    closed or cancelled; only a started track's status depends on the date."""
    if stage != "started":
        return stage
    if invite_at is not None and today < invite_at:
        return "scheduled"
    if today < start:
        return "invitation_sent"
    last_day = end if end is not None else start + timedelta(days=DEFAULT_TRACK_DAYS)
    return "in_progress" if today <= last_day else "closed"


def _parse_instant(value: str, field: str, end_of_day: bool) -> datetime:
    """A `from`/`to` log filter: seed 000 shows ISO instants, seed 001 plain dates; a plain
    `to` date covers that whole day (assumed)."""
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
            return day + timedelta(days=1) - timedelta(microseconds=1) if end_of_day else day
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
    except ValueError:
        raise invalid([f"{field} must be an ISO 8601 date or date-time"]) from None


class WorkeloEmulator(Emulator):
    """Workelo API v1.6 (seeds 000, 001) as a real HTTP server; see the module docstring.

    The strict profile (`self.profile.strict`) serves what the seeds show and no more:

    - Routes: not the org-wide `GET /unit_organization_managements` (no seed shows it; 404
      as for any unknown path): scopes are listed per employee only (seed 001 §2). The
      unit update and delete stay: the seeds show no way at all to rename or remove a unit,
      so there is no documented way to fall back to, and the provider's capability table
      marks them assumed (a server without them fails that one change, by its answer).
    - Query parameters: only the documented ones are honoured; `GET /tracks?employee_id=`
      is ignored (the whole list answers), as an unknown parameter usually is.
    - Employee answers: seed 000 "Step 3" shows id, names, email, role and
      unit_organization {id, name}. Added are `external_id` and `job_position`, which the
      create body carries (an echo of what was created; without external_id no employee
      could be matched to its key); `identifications` are dropped: they are written
      through their own route and no answer shows them.
    - Track answers: the create body's fields (mobility, start_date, end_date, the
      employee block with its id, implications) with id and status (seed 000 "Statuses");
      only the roles that are set, as seed 001 §3 writes them. Dropped: `employee_id` (no
      seed shows it beside the block), `template_ids` (seed 000 "Use templates at creation
      time": templates are applied in the background as resources, not kept on the
      journey) and `invite_at` (only the start body carries it).
    - Scope answers: `id` (the management_id of seed 000 "Revoke access") and
      `unit_organization_id` (the grant body); the employee is the route's. Template
      answers: id, name, mobility (the filter shows it), not the unit ids.
    - Paging keeps the seed's `pagination {total, limit, offset}` block (seed 000 "Step 3"
      shows it; `profile.paging_keys` concerns answers whose seed shows none), with the
      profile's cap and default size; ids are large and uneven (`new_id`); answers' keys
      come in the profile's order.
    """

    name = "workelo"

    # -- setup --------------------------------------------------------------------------
    def load_seed(self, seed: dict[str, Any]) -> None:
        opts = self.options
        self.token_ttl = int(opts.get("token_ttl", 3600))  # seed 000 "Authentication"
        self.now: Callable[[], float] = opts.get("clock") or time.monotonic
        self.today: Callable[[], date] = self.calendar.today
        # seed 000 "API architecture": 1000 requests per hour per token.
        self.limiter = SlidingWindowLimiter(int(opts.get("rate_limit", 1000)),
                                            float(opts.get("rate_window", 3600.0)))
        # Credentials and tokens live outside `state`, which /_sandbox/state publishes.
        self._clients = {c["client_id"]: c["client_secret"]
                         for c in seed.get("clients") or DEFAULT_CLIENTS}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._next: dict[str, int] = {}
        self._emp_by_external: dict[str, int] = {}
        self._emp_by_email: dict[str, int] = {}
        self._unit_index: dict[str, dict[Any, int]] = {attr: {} for attr in UNIT_REFS}
        self.state = {name: {} for name in (
            "level_organizations", "unit_organizations", "user_roles",
            "identification_resources", "templates", "employees",
            "unit_organization_managements", "tracks", "forms", "paperworks")}
        self.state["logs"] = []
        for name in seed.get("level_organizations") or DEFAULT_LEVELS:
            self._insert("level_organizations", self._named(name))
        for name in seed.get("user_roles") or DEFAULT_ROLES:
            self._insert("user_roles", self._named(name))
        for name in seed.get("identification_resources") or DEFAULT_IDENTIFICATIONS:
            self._insert("identification_resources", self._named(name))
        for unit in seed.get("unit_organizations") or []:
            self._seed_unit(unit)
        for tpl in seed.get("templates") or DEFAULT_TEMPLATES:
            self._seed_template(tpl)
        for emp in seed.get("employees") or []:
            self._seed_employee(emp)
        for scope in seed.get("unit_organization_managements") or []:
            self._insert("unit_organization_managements", {
                "id": scope.get("id"), "employee_id": self._employee_ref(scope["employee"]),
                "unit_organization_id": self._unit_ref(scope["unit"])})
        for track in seed.get("tracks") or []:
            self._seed_track(track)

    @staticmethod
    def _named(entry: str | dict[str, Any]) -> dict[str, Any]:
        return {"id": None, "name": entry} if isinstance(entry, str) else {
            "id": entry.get("id"), "name": entry["name"]}

    def _insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Store `row`, giving it the table's next id unless the seed pinned one: 1, 2, 3...
        or, under a strict profile, large uneven ones (`new_id`), never one taken."""
        rows = self.state[table]
        number = self._next.get(table, 1)
        if row.get("id") is None:
            while self.new_id(number) in rows:
                number += 1
            row["id"] = self.new_id(number)
            number += 1
        elif self.profile.ids == "int":
            number = max(number, row["id"] + 1)
        self._next[table] = number
        rows[row["id"]] = row
        return row

    def _by_name(self, table: str, name: str) -> dict[str, Any]:
        for row in self.state[table].values():
            if row["name"] == name:
                return row
        raise ValueError(f"workelo seed: no {table} named {name!r}")

    def _unit_ref(self, ref: str | int) -> int:
        for attr in UNIT_REFS:
            found = self._unit_index[attr].get(ref)
            if found is not None:
                return found
        raise ValueError(f"workelo seed: no unit organisation {ref!r} (external_id or name)")

    def _employee_ref(self, ref: str | int) -> int:
        found = self._emp_by_external.get(str(ref)) or self._emp_by_email.get(str(ref).lower())
        if found is None and ref in self.state["employees"]:
            found = ref
        if found is None:
            raise ValueError(f"workelo seed: no employee {ref!r} (external_id or email)")
        return int(found)

    def _seed_unit(self, unit: dict[str, Any]) -> None:
        row = self._insert("unit_organizations", {
            "id": unit.get("id"), "external_id": unit.get("external_id"), "name": unit["name"],
            "level_organization_id": self._by_name("level_organizations",
                                                   unit.get("level", "Department"))["id"],
            "parent_id": self._unit_ref(unit["parent"]) if unit.get("parent") else None,
            "language": unit.get("language"),
        })
        # Seed references resolve through an index (the first unit by external_id, then by
        # name, then by id): a scan of every unit per employee made seeding 100,000
        # employees take 14 s.
        for attr in UNIT_REFS:
            self._unit_index[attr].setdefault(row[attr], row["id"])

    def _seed_template(self, tpl: dict[str, Any]) -> None:
        if tpl.get("mobility") not in MOBILITIES:
            raise ValueError(f"workelo seed: template {tpl.get('name')!r} needs a mobility, "
                             f"one of {', '.join(MOBILITIES)}")
        units = [self._unit_ref(u) for u in tpl.get("units") or []]
        self._insert("templates", {
            "id": tpl.get("id"), "name": tpl["name"], "mobility": tpl["mobility"],
            "every_unit": not units, "unit_organization_ids": units,
            "actions": list(tpl.get("actions") or []), "forms": list(tpl.get("forms") or []),
        })

    def _seed_employee(self, emp: dict[str, Any]) -> None:
        idents = {self._by_name("identification_resources", name)["id"]: str(value)
                  for name, value in (emp.get("identifications") or {}).items()}
        row = self._insert("employees", {
            "id": emp.get("id"), "external_id": emp.get("external_id"),
            "first_name": emp["first_name"], "last_name": emp["last_name"],
            "email": emp["email"], "job_position": emp.get("job_position"),
            "unit_organization_id": self._unit_ref(emp["unit"]) if emp.get("unit") else None,
            "user_role_id": self._by_name("user_roles", emp.get("role", "colleague"))["id"],
            "identifications": idents,
        })
        self._index_employee(row)

    def _seed_track(self, track: dict[str, Any]) -> None:
        employee_id = self._employee_ref(track["employee"])
        implications = dict.fromkeys(IMPLICATION_KEYS)
        for role, ref in (track.get("implications") or {}).items():
            implications[f"{role.removesuffix('_id')}_id"] = self._employee_ref(ref)
        template_ids = [self._by_name("templates", name)["id"]
                        for name in track.get("templates") or []]
        status = track.get("status", "draft")
        if status not in TRACK_STATUSES:
            raise ValueError(f"workelo seed: track status {status!r} is not one of "
                             f"{', '.join(TRACK_STATUSES)}")
        self._new_track(
            track.get("id"), track["mobility"], date.fromisoformat(str(track["start_date"])),
            str(track["end_date"]) if track.get("end_date") else None, employee_id,
            implications, template_ids,
            stage="started" if status in STARTED_STATUSES else status,
            invite_at=str(track["invite_at"]) if track.get("invite_at") else None, log=False)

    def _index_employee(self, row: dict[str, Any]) -> None:
        if row["external_id"]:
            self._emp_by_external[row["external_id"]] = row["id"]
        self._emp_by_email[row["email"].lower()] = row["id"]

    def credentials(self) -> dict[str, str]:
        client_id, client_secret = next(iter(self._clients.items()))
        return {"client_id": client_id, "client_secret": client_secret}

    def snapshot(self) -> dict[str, Any]:
        """The state, every track's status brought to the emulator's today first."""
        with self.lock:
            for row in self.state["tracks"].values():
                self._status(row)
            return super().snapshot()

    # -- routing ------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        def r(path: str, handler: Handler, method: str, auth: bool = True) -> Route:
            return Route(PREFIX + path, self._endpoint(handler, auth, method == "GET"),
                         methods=[method])

        return [
            r("/tokens", self.create_token, "POST", auth=False),
            r("/user_roles", self.list_user_roles, "GET"),
            r("/identification_resources", self.list_identification_resources, "GET"),
            r("/level_organizations", self.list_level_organizations, "GET"),
            r("/unit_organizations", self.list_units, "GET"),
            r("/unit_organizations", self.create_unit, "POST"),
            r("/unit_organizations/{id}", self.update_unit, "PUT"),
            r("/unit_organizations/{id}", self.delete_unit, "DELETE"),
            r("/employees", self.list_employees, "GET"),
            r("/employees", self.create_employee, "POST"),
            r("/employees/{id}", self.get_employee, "GET"),
            r("/employees/{id}", self.update_employee, "PUT"),
            r("/employees/{id}/identifications", self.add_identification, "POST"),
            r("/employees/{id}/unit_organization_managements", self.list_employee_scopes,
              "GET"),
            r("/employees/{id}/unit_organization_managements", self.create_scope, "POST"),
            *([] if self.profile.strict else [
                r("/unit_organization_managements", self.list_scopes, "GET")]),
            r("/unit_organization_managements/{id}", self.delete_scope, "DELETE"),
            r("/templates", self.list_templates, "GET"),
            r("/tracks", self.list_tracks, "GET"),
            r("/tracks", self.create_track, "POST"),
            r("/tracks/{id}", self.get_track, "GET"),
            r("/tracks/{id}", self.update_track, "PUT"),
            r("/tracks/{id}/start", self.start_track, "PUT"),
            r("/tracks/{id}/forms", self.list_forms, "GET"),
            r("/forms/{id}", self.get_form, "GET"),
            r("/paperworks/{id}", self.update_paperwork, "PUT"),
            r("/logs", self.list_logs, "GET"),
            r("/logs/{uuid}", self.get_log, "GET"),
        ]

    def _endpoint(self, handler: Handler, auth: bool, read: bool) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                if auth:
                    self._authorize(request)
                if read:
                    # GET handlers never suspend, so holding the lock across one keeps its
                    # filtering and rendering consistent against readers in other threads.
                    with self.lock:
                        return await handler(request)
                return await handler(request)
            except ApiError as exc:
                return exc.response()
        return endpoint

    def _authorize(self, request: Request) -> None:
        """seed 000 "Use the token": a bearer token on every request, valid for 1 hour;
        401 for a missing, unknown or expired one (body assumed). Then the rate limit:
        seed 000 "API architecture", 1000 requests per hour per token; past it, 429 with
        Retry-After (body and header assumed: the seed states only the limit)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            entry = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if entry is None:
                raise error(401, "unauthorized", ["Invalid or missing access token"])
            if self.now() >= entry[1]:
                raise error(401, "unauthorized", ["Access token expired"])
            wait = self.limiter.hit(token, now=self.now())
        if wait:
            raise error(429, "too_many_requests", [
                f"Rate limit exceeded: {self.limiter.limit} requests per "
                f"{self.limiter.window:g} seconds per token"],
                headers={"Retry-After": str(math.ceil(wait))})

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        """The JSON object body; a malformed one is a 422 (assumed: the seed shows no 400)."""
        try:
            body = await request.json()
        except ValueError:
            raise invalid(["Request body must be JSON"]) from None
        if not isinstance(body, dict):
            raise invalid(["Request body must be a JSON object"])
        return body

    @staticmethod
    def _pid(request: Request) -> int:
        """The {id} of the path. Routes take it as a plain segment (not `{id:int}`) so the
        request log names them as the seeds do; a non-numeric id is simply not found."""
        try:
            return int(request.path_params["id"])
        except ValueError:
            raise not_found("Resource") from None

    @staticmethod
    def _int(request: Request, name: str, default: int | None = None,
             minimum: int = 0) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid([f"{name} must be an integer"]) from None
        if value < minimum:
            raise invalid([f"{name} must be at least {minimum}"])  # assumed
        return value

    def _page(self, request: Request, rows: list[dict[str, Any]],
              render: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        """seed 000 "Limits and performance" and "Step 3": `limit`/`offset`, a
        `pagination {total, limit, offset}` block, 10 items by default. Pages above the cap
        (100; the profile's) are clamped to it and the clamped limit is echoed (assumed:
        the seed gives no cap)."""
        limit = min(self._int(request, "limit", self.profile.size(DEFAULT_LIMIT), minimum=1),
                    self.profile.cap(MAX_LIMIT))
        offset = self._int(request, "offset", 0)
        with self.lock:
            data = [self.profile.shaped(render(row)) for row in rows[offset:offset + limit]]
        return self._answer({"data": data, "pagination": self.profile.shaped({
            "total": len(rows), "limit": limit, "offset": offset})})

    def _answer(self, body: dict[str, Any], status: int = 200) -> Response:
        """A JSON answer, its keys in the profile's order."""
        return JSONResponse(self.profile.shaped(body), status)

    def _rows(self, table: str) -> list[dict[str, Any]]:
        # Callers hold self.lock from filtering to rendering, so a row cannot vanish between.
        return list(self.state[table].values())

    def _get(self, table: str, row_id: int, what: str) -> dict[str, Any]:
        row = self.state[table].get(row_id)
        if row is None:
            raise not_found(what)
        return row

    def _log(self, event: str, resource_type: str, resource_id: int,
             data: dict[str, Any]) -> None:
        """seed 000 "Tracking and logs": events recorded as they happen (entry shape assumed),
        on the emulator's today at the real time of day."""
        now = datetime.now(timezone.utc)
        at = datetime.combine(self.today(), now.timetz())
        self.state["logs"].append({
            "uuid": str(uuid.uuid4()), "event": event,
            "created_at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "resource_type": resource_type, "resource_id": resource_id, "data": data,
        })

    # -- auth ---------------------------------------------------------------------------
    async def create_token(self, request: Request) -> Response:
        """seed 000 "Get a token": multipart client_id/client_secret → bearer token with
        expires_in. A non-multipart body is a 422, wrong credentials a 401 (both assumed)."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise invalid(["Content-Type must be multipart/form-data"])
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        with self.lock:
            expected = self._clients.get(str(client_id))
            # Compared as bytes: compare_digest refuses non-ASCII text (a 500 before).
            if not client_secret or expected is None or not secrets.compare_digest(
                    str(client_secret).encode(), expected.encode()):
                raise error(401, "unauthorized", ["Invalid client credentials"])
            token = secrets.token_urlsafe(32)
            self._tokens[token] = (str(client_id), self.now() + self.token_ttl)
        return self._answer({"access_token": token, "token_type": "Bearer",
                             "expires_in": self.token_ttl})

    # -- reference data (seed 001 §1, §2) -----------------------------------------------
    async def list_user_roles(self, request: Request) -> Response:
        """seed 001 §1 "GET /user_roles" (paged like every list: assumed)."""
        return self._page(request, self._rows("user_roles"), dict)

    async def list_identification_resources(self, request: Request) -> Response:
        """seed 001 §1 "GET /identification_resources"."""
        return self._page(request, self._rows("identification_resources"), dict)

    async def list_level_organizations(self, request: Request) -> Response:
        """seed 000 "Understand the hierarchy", seed 001 §2."""
        return self._page(request, self._rows("level_organizations"), dict)

    # -- unit organisations -------------------------------------------------------------
    def _render_unit(self, row: dict[str, Any]) -> dict[str, Any]:
        # Shape assumed: the seed shows only the create body; answers echo it with the id.
        return dict(row)

    async def list_units(self, request: Request) -> Response:
        """seed 000 "Understand the hierarchy": GET /unit_organizations?level_organization_id."""
        level = self._int(request, "level_organization_id")
        rows = [u for u in self._rows("unit_organizations")
                if level is None or u["level_organization_id"] == level]
        return self._page(request, rows, self._render_unit)

    def _validate_unit(self, body: dict[str, Any], current: dict[str, Any] | None,
                       ) -> dict[str, Any]:
        """The fields of seed 000 "Create an organization", checked; 422 with every error."""
        errors: list[str] = []
        merged = {**(current or {}), **{k: body[k] for k in (
            "external_id", "name", "level_organization_id", "parent_id", "language")
            if k in body}}
        if not isinstance(merged.get("name"), str) or not merged["name"].strip():
            errors.append("Name can't be blank")
        if merged.get("level_organization_id") not in self.state["level_organizations"]:
            errors.append("Level organization not found")
        parent = merged.get("parent_id")
        if parent is not None:
            if parent not in self.state["unit_organizations"]:
                errors.append("Parent unit organization not found")
            elif current is not None and self._is_descendant(parent, current["id"]):
                errors.append("Parent unit organization would create a cycle")  # assumed
        external_id = merged.get("external_id")
        if external_id is not None:
            for unit in self.state["unit_organizations"].values():
                if unit["external_id"] == external_id and unit is not current:
                    errors.append("External id has already been taken")
                    break
        language = merged.get("language")
        if language is not None and not (isinstance(language, str)
                                         and LANGUAGE.match(language)):
            errors.append("Language must be a two-letter code")  # assumed (seed shows fr, en)
        if errors:
            raise invalid(errors)
        return merged

    def _is_descendant(self, unit_id: int, ancestor_id: int) -> bool:
        units = self.state["unit_organizations"]
        seen: set[int] = set()
        while unit_id is not None and unit_id not in seen:
            if unit_id == ancestor_id:
                return True
            seen.add(unit_id)
            unit_id = units[unit_id]["parent_id"]
        return False

    async def create_unit(self, request: Request) -> Response:
        """seed 000 "Create an organization": POST /unit_organizations → 201."""
        body = await self._json(request)
        with self.lock:
            merged = self._validate_unit(body, None)
            row = self._insert("unit_organizations", {
                "id": None, "external_id": merged.get("external_id"), "name": merged["name"],
                "level_organization_id": merged["level_organization_id"],
                "parent_id": merged.get("parent_id"), "language": merged.get("language")})
            return self._answer(self._render_unit(row), 201)

    async def update_unit(self, request: Request) -> Response:
        """Assumed endpoint (the seeds show no unit update): PUT /unit_organizations/{id}
        with any create field; absent fields keep their value."""
        body = await self._json(request)
        with self.lock:
            unit = self._get("unit_organizations", self._pid(request),
                             "Unit organization")
            unit.update(self._validate_unit(body, unit))
            return self._answer(self._render_unit(unit))

    async def delete_unit(self, request: Request) -> Response:
        """Assumed endpoint (the seeds show no unit delete): DELETE
        /unit_organizations/{id} → 204; 422 while child units or employees remain; its
        scopes go with it and templates stop referring to it."""
        unit_id = self._pid(request)
        with self.lock:
            self._get("unit_organizations", unit_id, "Unit organization")
            errors = []
            if any(u["parent_id"] == unit_id for u in self.state["unit_organizations"].values()):
                errors.append("Unit organization still has child units")
            if any(e["unit_organization_id"] == unit_id
                   for e in self.state["employees"].values()):
                errors.append("Unit organization still has employees")
            if errors:
                raise invalid(errors)
            del self.state["unit_organizations"][unit_id]
            scopes = self.state["unit_organization_managements"]
            for scope_id in [s["id"] for s in scopes.values()
                             if s["unit_organization_id"] == unit_id]:
                del scopes[scope_id]
            for tpl in self.state["templates"].values():
                if unit_id in tpl["unit_organization_ids"]:
                    tpl["unit_organization_ids"].remove(unit_id)  # every_unit stays False
        return Response(status_code=204)

    # -- employees ----------------------------------------------------------------------
    def _render_employee(self, row: dict[str, Any]) -> dict[str, Any]:
        """seed 000 "Step 3": id, names, email, role name, unit_organization {id, name}.
        external_id and job_position are added (the create body's), and, but for the
        strict profile, identifications (assumed), so a plan needs no request per
        employee."""
        unit = self.state["unit_organizations"].get(row["unit_organization_id"])
        body = {
            "id": row["id"], "external_id": row["external_id"],
            "first_name": row["first_name"], "last_name": row["last_name"],
            "email": row["email"], "job_position": row["job_position"],
            "role": self.state["user_roles"][row["user_role_id"]]["name"],
            "unit_organization": {"id": unit["id"], "name": unit["name"]} if unit else None,
        }
        if not self.profile.strict:
            body["identifications"] = [
                {"identification_resource_id": rid, "value": value}
                for rid, value in sorted(row["identifications"].items())]
        return body

    async def list_employees(self, request: Request) -> Response:
        """seed 000 "List employees": filters `role` and `unit_organization_ids`
        (comma-separated); "Search an employee by external_id": `external_id`."""
        params = request.query_params
        role = params.get("role")
        unit_ids: set[int] | None = None
        if params.get("unit_organization_ids"):
            try:
                unit_ids = {int(p) for p in params["unit_organization_ids"].split(",") if p}
            except ValueError:
                raise invalid(["unit_organization_ids must be comma-separated ids"]) from None
        with self.lock:
            role_id = None
            if role is not None:
                role_id = next((r["id"] for r in self.state["user_roles"].values()
                                if r["name"] == role), None)
                if role_id is None:
                    raise invalid([f"Unknown role {role}"])  # assumed
            if params.get("external_id") is not None:
                found = self._emp_by_external.get(params["external_id"])
                rows = [self.state["employees"][found]] if found is not None else []
            else:
                rows = list(self.state["employees"].values())
            if role_id is not None or unit_ids is not None:
                rows = [e for e in rows
                        if (role_id is None or e["user_role_id"] == role_id)
                        and (unit_ids is None or e["unit_organization_id"] in unit_ids)]
        return self._page(request, rows, self._render_employee)

    def _validate_employee(self, body: dict[str, Any], current: dict[str, Any] | None,
                           ) -> dict[str, Any]:
        """The fields of seed 000 "Create an employee", checked; every error in one 422
        (seed 000 "Error handling" shows "Invalid email format", "Unit organization not
        found"). Email uniqueness and a colleague default role are assumed."""
        errors: list[str] = []
        fields = ("first_name", "last_name", "email", "job_position", "external_id",
                  "unit_organization_id", "user_role_id")
        merged = {**(current or {}), **{k: body[k] for k in fields if k in body}}
        for name, label in (("first_name", "First name"), ("last_name", "Last name")):
            if not isinstance(merged.get(name), str) or not merged[name].strip():
                errors.append(f"{label} can't be blank")
        email = merged.get("email")
        if not isinstance(email, str) or not EMAIL.match(email):
            errors.append("Invalid email format")
        elif self._emp_by_email.get(email.lower(), None) not in (None, (current or {}).get("id")):
            errors.append("Email has already been taken")
        external_id = merged.get("external_id")
        if external_id is not None and self._emp_by_external.get(str(external_id)) not in (
                None, (current or {}).get("id")):
            errors.append("External id has already been taken")
        unit = merged.get("unit_organization_id")
        if unit is not None and unit not in self.state["unit_organizations"]:
            errors.append("Unit organization not found")
        if current is None and merged.get("user_role_id") is None:
            merged["user_role_id"] = next(r["id"] for r in self.state["user_roles"].values()
                                          if r["name"] == "colleague")
        if merged.get("user_role_id") not in self.state["user_roles"]:
            errors.append("User role not found")
        if errors:
            raise invalid(errors)
        return merged

    def _new_employee(self, body: dict[str, Any]) -> dict[str, Any]:
        merged = self._validate_employee(body, None)
        row = self._insert("employees", {
            "id": None, "external_id": merged.get("external_id"),
            "first_name": merged["first_name"], "last_name": merged["last_name"],
            "email": merged["email"], "job_position": merged.get("job_position"),
            "unit_organization_id": merged.get("unit_organization_id"),
            "user_role_id": merged["user_role_id"], "identifications": {}})
        self._index_employee(row)
        self._log("user_creation", "Employee", row["id"], {"external_id": row["external_id"]})
        return row

    async def create_employee(self, request: Request) -> Response:
        """seed 000 "Create an employee": POST /employees → 201; logs user_creation."""
        body = await self._json(request)
        with self.lock:
            return self._answer(self._render_employee(self._new_employee(body)), 201)

    async def get_employee(self, request: Request) -> Response:
        """seed 001 §1 "View / Update the employee": GET /employees/{id}."""
        with self.lock:
            row = self._get("employees", self._pid(request), "Employee")
            return self._answer(self._render_employee(row))

    async def update_employee(self, request: Request) -> Response:
        """seed 001 §1 "View / Update the employee": PUT /employees/{id}. The body is
        assumed to take the create fields; absent fields keep their value."""
        body = await self._json(request)
        with self.lock:
            row = self._get("employees", self._pid(request), "Employee")
            merged = self._validate_employee(body, row)
            self._emp_by_email.pop(row["email"].lower(), None)
            if row["external_id"]:
                self._emp_by_external.pop(row["external_id"], None)
            row.update(merged)
            self._index_employee(row)
            return self._answer(self._render_employee(row))

    async def add_identification(self, request: Request) -> Response:
        """seed 000 "Add custom identifications": POST /employees/{id}/identifications
        {identification_resource_id, value} → 201. A second value for the same resource
        replaces the first (assumed: one value per resource and employee)."""
        body = await self._json(request)
        with self.lock:
            row = self._get("employees", self._pid(request), "Employee")
            errors = []
            resource_id = body.get("identification_resource_id")
            if resource_id not in self.state["identification_resources"]:
                errors.append("Identification resource not found")
            value = body.get("value")
            if not isinstance(value, str) or not value:
                errors.append("Value can't be blank")
            if errors:
                raise invalid(errors)
            row["identifications"][resource_id] = value
            return self._answer({"employee_id": row["id"],
                                 "identification_resource_id": resource_id, "value": value}, 201)

    # -- unit scopes (unit_organization_managements) ------------------------------------
    def _render_scope(self, row: dict[str, Any]) -> dict[str, Any]:
        """The grant body's unit_organization_id and the management id (seed 000 "Revoke
        access"); the employee and unit blocks are assumed, not served when strict."""
        if self.profile.strict:
            return {"id": row["id"], "unit_organization_id": row["unit_organization_id"]}
        unit = self.state["unit_organizations"][row["unit_organization_id"]]
        return {"id": row["id"], "employee_id": row["employee_id"],
                "unit_organization_id": unit["id"],
                "unit_organization": {"id": unit["id"], "name": unit["name"]}}

    async def list_employee_scopes(self, request: Request) -> Response:
        """seed 001 §2 "Manage an employee's scopes": GET
        /employees/{id}/unit_organization_managements."""
        employee_id = self._pid(request)
        with self.lock:
            self._get("employees", employee_id, "Employee")
        rows = [s for s in self._rows("unit_organization_managements")
                if s["employee_id"] == employee_id]
        return self._page(request, rows, self._render_scope)

    async def list_scopes(self, request: Request) -> Response:
        """Assumed endpoint: GET /unit_organization_managements, every scope with its
        employee_id, paged, filters employee_id and unit_organization_id; so a plan reads
        all scopes in ceil(n/100) requests instead of one per employee."""
        employee = self._int(request, "employee_id")
        unit = self._int(request, "unit_organization_id")
        rows = [s for s in self._rows("unit_organization_managements")
                if (employee is None or s["employee_id"] == employee)
                and (unit is None or s["unit_organization_id"] == unit)]
        return self._page(request, rows, self._render_scope)

    async def create_scope(self, request: Request) -> Response:
        """seed 000 "Grant access to a unit": POST
        /employees/{id}/unit_organization_managements {unit_organization_id} → 201. Granting
        the same unit twice is a 422 (assumed)."""
        employee_id = self._pid(request)
        body = await self._json(request)
        with self.lock:
            self._get("employees", employee_id, "Employee")
            unit = body.get("unit_organization_id")
            if unit not in self.state["unit_organizations"]:
                raise invalid(["Unit organization not found"])
            if any(s["employee_id"] == employee_id and s["unit_organization_id"] == unit
                   for s in self.state["unit_organization_managements"].values()):
                raise invalid(["Unit organization management already exists"])
            row = self._insert("unit_organization_managements", {
                "id": None, "employee_id": employee_id, "unit_organization_id": unit})
            return self._answer(self._render_scope(row), 201)

    async def delete_scope(self, request: Request) -> Response:
        """seed 000 "Revoke access": DELETE /unit_organization_managements/{id} (204 and
        404 for an unknown id are assumed)."""
        with self.lock:
            self._get("unit_organization_managements", self._pid(request),
                      "Unit organization management")
            del self.state["unit_organization_managements"][self._pid(request)]
        return Response(status_code=204)

    # -- templates ----------------------------------------------------------------------
    def _render_template(self, row: dict[str, Any]) -> dict[str, Any]:
        body = {"id": row["id"], "name": row["name"], "mobility": row["mobility"]}
        if not self.profile.strict:  # assumed: the seed filters by unit, shows no field
            body["unit_organization_ids"] = list(row["unit_organization_ids"])
        return body

    async def list_templates(self, request: Request) -> Response:
        """seed 000 "Templates and models" / seed 001 §3: GET /templates?mobility=
        &unit_organization_id=, in both profiles. Assumed: a template without units
        applies to every unit, one with units to those and the units below them; an unknown
        unit id is served the every-unit templates."""
        mobility = request.query_params.get("mobility")
        if mobility is not None and mobility not in MOBILITIES:
            raise invalid([f"mobility must be one of {', '.join(MOBILITIES)}"])  # assumed
        unit = self._int(request, "unit_organization_id")
        lineage = None if unit is None else self._lineage(unit)
        rows = [t for t in self._rows("templates")
                if (mobility is None or t["mobility"] == mobility)
                and (lineage is None or t["every_unit"]
                     or not lineage.isdisjoint(t["unit_organization_ids"]))]
        return self._page(request, rows, self._render_template)

    def _lineage(self, unit_id: int) -> set[int]:
        """`unit_id` and the units above it (none if it does not exist)."""
        units = self.state["unit_organizations"]
        found: set[int] = set()
        while unit_id in units and unit_id not in found:
            found.add(unit_id)
            unit_id = units[unit_id]["parent_id"]
        return found

    # -- tracks (journeys) --------------------------------------------------------------
    def _render_track(self, row: dict[str, Any], detail: bool = False) -> dict[str, Any]:
        """The create fields of seed 000 "Create a journey" plus id and status. employee
        (id, external_id, names, email), implications and template_ids in list answers are
        assumed; detail adds the metrics of seed 001 §4 (their names assumed). Strict:
        see the class docstring."""
        emp = self.state["employees"][row["employee_id"]]
        body = {
            "id": row["id"], "mobility": row["mobility"], "status": self._status(row),
            "start_date": row["start_date"], "end_date": row["end_date"],
            "invite_at": row["invite_at"], "employee_id": emp["id"],
            "employee": {"id": emp["id"], "external_id": emp["external_id"],
                         "first_name": emp["first_name"], "last_name": emp["last_name"],
                         "email": emp["email"]},
            "implications": dict(row["implications"]),
            "template_ids": list(row["template_ids"]),
        }
        if self.profile.strict:
            for name in ("employee_id", "template_ids", "invite_at"):
                del body[name]
            body["implications"] = {k: v for k, v in row["implications"].items()
                                    if v is not None}
        if detail:
            actions = row["actions"]
            done = sum(1 for a in actions if a["status"] == "done")
            today = self.today().isoformat()
            available = sum(1 for a in actions if a["due_date"] <= today)
            late = any(a["due_date"] < today and a["status"] != "done" for a in actions)
            body["metrics"] = {
                "health": ("not_started" if body["status"] == "draft"
                           else "late" if late else "on_track"),
                "progression": round(100 * done / len(actions)) if actions else 0,
                "action_availability_rate": round(100 * available / len(actions))
                if actions else 0,
                "completed_actions_count": done,
            }
            body["actions"] = [dict(a) for a in actions]
        return body

    async def list_tracks(self, request: Request) -> Response:
        """seed 001 §4 "List and filter journeys": GET /tracks?status=. The employee_id
        filter is assumed (ignored when strict)."""
        status = request.query_params.get("status")
        if status is not None and status not in TRACK_STATUSES:
            raise invalid([f"status must be one of {', '.join(TRACK_STATUSES)}"])  # assumed
        employee = None if self.profile.strict else self._int(request, "employee_id")
        rows = [t for t in self._rows("tracks")
                if (status is None or self._status(t) == status)
                and (employee is None or t["employee_id"] == employee)]
        return self._page(request, rows, self._render_track)

    def _status(self, row: dict[str, Any]) -> str:
        """The track's status on the emulator's today (`track_status`), also kept on the row
        so `state` shows what was last answered."""
        row["status"] = track_status(
            row["stage"], date.fromisoformat(row["start_date"]),
            date.fromisoformat(row["end_date"]) if row["end_date"] else None,
            date.fromisoformat(row["invite_at"]) if row["invite_at"] else None, self.today())
        return row["status"]

    async def get_track(self, request: Request) -> Response:
        """seed 001 §4 "View journey details (with live metrics)": health, progression,
        action availability rate, number of completed actions."""
        with self.lock:
            row = self._get("tracks", self._pid(request), "Track")
            return self._answer(self._render_track(row, detail=True))

    def _check_implications(self, value: Any, errors: list[str]) -> dict[str, int | None]:
        """seed 000 "Create a journey": implications {hr_id, second_hr_id, manager_id,
        second_manager_id, buddy_id}, each an employee id (null clears it: assumed)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            errors.append("implications must be an object")
            return {}
        checked: dict[str, int | None] = {}
        for key, employee_id in value.items():
            if key not in IMPLICATION_KEYS:
                errors.append(f"Unknown implication {key}")
            elif employee_id is not None and employee_id not in self.state["employees"]:
                errors.append(f"Employee not found for {key}")
            else:
                checked[key] = employee_id
        return checked

    def _track_employee(self, block: Any, errors: list[str]) -> int | None:
        """The `employee` block of seed 000 "Create a journey". Decided (assumed): a block
        whose `id`, `external_id` or email names an existing employee attaches the journey
        to that employee and its other fields are ignored (use PUT /employees to change
        them); otherwise a new employee is created from the block (user_creation logged)."""
        if not isinstance(block, dict):
            errors.append("Employee can't be blank")
            return None
        employees = self.state["employees"]
        if block.get("id") is not None:
            if block["id"] in employees:
                return block["id"]
            errors.append("Employee not found")
            return None
        if block.get("external_id") is not None and str(
                block["external_id"]) in self._emp_by_external:
            return self._emp_by_external[str(block["external_id"])]
        if isinstance(block.get("email"), str) and block["email"].lower() in self._emp_by_email:
            return self._emp_by_email[block["email"].lower()]
        try:
            return self._new_employee(block)["id"]
        except ApiError as exc:
            errors.extend(f"Employee: {e}" for e in exc.body["errors"])
            return None

    async def create_track(self, request: Request) -> Response:
        """seed 000 "Create a journey" / seed 001 §3: POST /tracks → 201, status draft,
        logs track_creation. Templates are applied at creation (seed 000 "Use templates at
        creation time"); a template of another mobility is a 422 (assumed)."""
        body = await self._json(request)
        with self.lock:
            errors: list[str] = []
            mobility = body.get("mobility")
            if mobility not in MOBILITIES:
                errors.append(f"mobility must be one of {', '.join(MOBILITIES)}")
            start = _parse_date(body.get("start_date"), "start_date", errors)
            if body.get("start_date") is None:
                errors.append("start_date can't be blank")
            end = _parse_date(body.get("end_date"), "end_date", errors)
            if start and end and end < start:
                errors.append("end_date must be on or after start_date")  # assumed
            implications = dict.fromkeys(IMPLICATION_KEYS)
            implications.update(self._check_implications(body.get("implications"), errors))
            template_ids = body.get("template_ids") or []
            for tid in template_ids:
                tpl = self.state["templates"].get(tid)
                if tpl is None:
                    errors.append(f"Template {tid} not found")
                elif mobility in MOBILITIES and tpl["mobility"] != mobility:
                    errors.append(f"Template {tid} is not a {mobility} template")
            if errors:
                raise invalid(errors)
            employee_id = self._track_employee(body.get("employee"), errors)
            if errors or employee_id is None:
                raise invalid(errors)
            row = self._new_track(None, mobility, start, end.isoformat() if end else None,
                                  employee_id, implications, list(template_ids))
            return self._answer(self._render_track(row), 201)

    def _new_track(self, track_id: int | None, mobility: str, start: date, end: str | None,
                   employee_id: int, implications: dict[str, int | None],
                   template_ids: list[int], stage: TrackStage = "draft",
                   invite_at: str | None = None, log: bool = True) -> dict[str, Any]:
        """A track with its templates' actions (due relative to start_date: assumed) and
        forms instantiated. `stage`: see the module docstring."""
        row = self._insert("tracks", {
            "id": track_id, "mobility": mobility, "stage": stage, "status": stage,
            "start_date": start.isoformat(), "end_date": end, "invite_at": invite_at,
            "employee_id": employee_id, "implications": implications,
            "template_ids": template_ids, "actions": []})
        self._status(row)
        for tid in template_ids:
            tpl = self.state["templates"][tid]
            for action in tpl["actions"]:
                due = start + timedelta(days=int(action.get("offset_days", 0)))
                row["actions"].append({"name": action["name"], "template_id": tid,
                                       "due_date": due.isoformat(), "status": "todo"})
            for form in tpl["forms"]:
                form_row = self._insert("forms", {"id": None, "track_id": row["id"],
                                                  "name": form["name"], "status": "opened"})
                for name in form.get("paperworks") or []:
                    self._insert("paperworks", {"id": None, "form_id": form_row["id"],
                                                "paperwork_resource_name": name,
                                                "value": None, "paperwork_files": []})
        if log:
            self._log("track_creation", "Track", row["id"],
                      {"employee_id": employee_id, "mobility": mobility})
        return row

    async def update_track(self, request: Request) -> Response:
        """seed 001 §4 "Update a journey (dates, stakeholders)": PUT /tracks/{id} with
        start_date, end_date, implications and `apply_on_actions` (true shifts the actions
        by the start_date move). Other fields are ignored; closed or cancelled tracks
        refuse with 422 (both assumed)."""
        body = await self._json(request)
        with self.lock:
            row = self._get("tracks", self._pid(request), "Track")
            if self._status(row) not in OPEN_STATUSES:
                raise invalid([f"Track is {row['status']}"])
            errors: list[str] = []
            start = (_parse_date(body["start_date"], "start_date", errors)
                     if body.get("start_date") is not None
                     else date.fromisoformat(row["start_date"]))
            end = (_parse_date(body["end_date"], "end_date", errors) if "end_date" in body
                   else (date.fromisoformat(row["end_date"]) if row["end_date"] else None))
            if start and end and end < start:
                errors.append("end_date must be on or after start_date")
            implications = self._check_implications(body.get("implications"), errors)
            apply_on_actions = body.get("apply_on_actions", False)
            if not isinstance(apply_on_actions, bool):
                errors.append("apply_on_actions must be a boolean")
            if errors:
                raise invalid(errors)
            old_start = date.fromisoformat(row["start_date"])
            if apply_on_actions and start != old_start:
                for action in row["actions"]:
                    due = date.fromisoformat(action["due_date"]) + (start - old_start)
                    action["due_date"] = due.isoformat()
            row["start_date"] = start.isoformat()
            row["end_date"] = end.isoformat() if end else None
            row["implications"].update(implications)
            return self._answer(self._render_track(row, detail=True))

    async def start_track(self, request: Request) -> Response:
        """seed 000 "Send the journey invitation" / seed 001 §3: PUT /tracks/{id}/start
        with an optional invite_at. The track is started: scheduled while invite_at is in
        the future, then invitation_sent, in_progress and closed as the date passes (the
        module docstring); logs track_start. Starting a non-draft track is a 422
        (assumed)."""
        body = await self._json(request) if await request.body() else {}
        with self.lock:
            row = self._get("tracks", self._pid(request), "Track")
            errors: list[str] = []
            invite_at = _parse_date(body.get("invite_at"), "invite_at", errors)
            if row["stage"] != "draft":
                errors.append(f"Track is already {self._status(row)}")
            if errors:
                raise invalid(errors)
            row["stage"] = "started"
            row["invite_at"] = invite_at.isoformat() if invite_at else None
            self._status(row)
            self._log("track_start", "Track", row["id"],
                      {"status": row["status"], "invite_at": row["invite_at"]})
            return self._answer(self._render_track(row))

    # -- forms (enough to produce form_completion) --------------------------------------
    def _render_form(self, row: dict[str, Any], detail: bool = False) -> dict[str, Any]:
        body = {"id": row["id"], "name": row["name"], "status": row["status"]}
        if detail:  # seed 000 "View details and submitted data"
            body["paperworks"] = [
                {k: p[k] for k in ("id", "paperwork_resource_name", "value", "paperwork_files")}
                for p in self.state["paperworks"].values() if p["form_id"] == row["id"]]
        return body

    async def list_forms(self, request: Request) -> Response:
        """seed 000 "List a journey's forms", seed 001 §5 (status filter)."""
        track_id = self._pid(request)
        status = request.query_params.get("status")
        if status is not None and status not in FORM_STATUSES:
            raise invalid([f"status must be one of {', '.join(FORM_STATUSES)}"])  # assumed
        with self.lock:
            self._get("tracks", track_id, "Track")
        rows = [f for f in self._rows("forms")
                if f["track_id"] == track_id and (status is None or f["status"] == status)]
        return self._page(request, rows, self._render_form)

    async def get_form(self, request: Request) -> Response:
        """seed 000 "View details and submitted data": GET /forms/{id} with paperworks."""
        with self.lock:
            row = self._get("forms", self._pid(request), "Form")
            return self._answer(self._render_form(row, detail=True))

    async def update_paperwork(self, request: Request) -> Response:
        """seed 000 "Update a piece of information": PUT /paperworks/{id} {value}. When
        every paperwork of a form has a value the form closes and form_completion is logged
        (assumed: the emulator has no HR validation step, so never missing_validation)."""
        body = await self._json(request)
        with self.lock:
            row = self._get("paperworks", self._pid(request), "Paperwork")
            if "value" not in body:
                raise invalid(["Value can't be blank"])
            row["value"] = body["value"]
            form = self.state["forms"][row["form_id"]]
            siblings = [p for p in self.state["paperworks"].values()
                        if p["form_id"] == form["id"]]
            if form["status"] == "opened" and all(p["value"] not in (None, "")
                                                  for p in siblings):
                form["status"] = "closed"
                self._log("form_completion", "Form", form["id"],
                          {"track_id": form["track_id"], "name": form["name"]})
            return self._answer({k: row[k] for k in (
                "id", "paperwork_resource_name", "value", "paperwork_files")})

    # -- logs ---------------------------------------------------------------------------
    async def list_logs(self, request: Request) -> Response:
        """seed 000 "Tracking and logs", seed 001 §8: GET /logs?event=&from=&to=."""
        params = request.query_params
        event = params.get("event")
        if event is not None and event not in LOG_EVENTS:
            raise invalid([f"event must be one of {', '.join(LOG_EVENTS)}"])  # assumed
        start = _parse_instant(params["from"], "from", False) if params.get("from") else None
        end = _parse_instant(params["to"], "to", True) if params.get("to") else None
        with self.lock:
            rows = []
            for entry in self.state["logs"]:
                at = datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00"))
                if ((event is None or entry["event"] == event)
                        and (start is None or at >= start) and (end is None or at <= end)):
                    rows.append(entry)
        return self._page(request, rows, dict)

    async def get_log(self, request: Request) -> Response:
        """seed 001 §8: GET /logs/{uuid}."""
        with self.lock:
            for entry in self.state["logs"]:
                if entry["uuid"] == request.path_params["uuid"]:
                    return self._answer(dict(entry))
        raise not_found("Log")
