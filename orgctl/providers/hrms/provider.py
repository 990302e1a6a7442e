"""The HRMS public API (Workbeats, seed 002) as a read-only provider: an audit target whose
disagreements with the config become findings, and the live data an HRMS-sourced org is
built from (`org_from_hrms`).

orgctl never writes to HRMS: `desired()` is empty, every change is unsupported, nothing is
ever removed. Identity is the HRMS `staffId`, which is the config's employee key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import NoneType
from typing import Any, ClassVar

from orgctl.errors import ApiError, ProviderError
from orgctl.model import Employee, Org, ProviderConfig
from orgctl.providers.base import (
    Capability,
    Progress,
    Provider,
    Settings,
    SourceSpec,
    schema_file,
)
from orgctl.providers.hrms.source import SOURCE_SPEC, UNIT_LEVEL
from orgctl.providers.http import Http, Page, Paging, StaticHeaders
from orgctl.providers.importing import NO_KEY
from orgctl.redact import redact
from orgctl.resources import Action, Finding, Resource

ENVIRONMENTS = ("staging", "uat")  # seed 002 "Required Headers"
MODES = ("audit", "source")
# ASSUMED (seed silent on pagination): the largest page the API serves.
PAGE_SIZE = 100  # asked for; paging follows what the server serves
PAGING = Paging("page", PAGE_SIZE, size_param="page[size]", index_param="page[number]",
                first_index=1)
USERS, DEPARTMENTS, POSITIONS = "/v1/users", "/v1/departments", "/v1/positions"
NO_STAFF_ID = NO_KEY  # key prefix of an HRMS user without a staffId (matches no employee)


@dataclass(frozen=True, kw_only=True)
class HrmsSettings(Settings):
    """token (write it as ${HRMS_TOKEN}), environment (staging or uat), mode (audit or
    source, default audit); timeout, max_concurrency."""

    token: str = field(repr=False)
    environment: str
    mode: str = "audit"

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> HrmsSettings:
        token = str(raw.get("token") or "")
        environment = str(raw.get("environment") or "")
        mode = str(raw.get("mode", "audit"))
        if not token:
            raise ProviderError(provider, "setting `token` is required "
                                          "(write it as ${HRMS_TOKEN}, never in the file)")
        if environment not in ENVIRONMENTS:
            raise ProviderError(provider, f"setting `environment` must be one of "
                                          f"{', '.join(ENVIRONMENTS)}, "
                                          f"not {environment or 'empty'!r}")
        if mode not in MODES:
            raise ProviderError(provider, f"setting `mode` must be one of {', '.join(MODES)}, "
                                          f"not {mode!r}")
        return cls(token=token, environment=environment, mode=mode, **cls.common(raw))


@dataclass(frozen=True)
class HrmsUser:
    """One HRMS user as read, with its department and position resolved to names."""

    id: str
    staff_id: str | None
    email: str | None
    name: str | None
    status: str
    department_id: str | None = None
    department: str | None = None
    position_id: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class HrmsDepartment:
    id: str
    name: str


@dataclass(frozen=True)
class HrmsPosition:
    id: str
    title: str


class HrmsProvider(Provider):
    """HRMS as audit (default) or as the source of employees, departments and positions.

    Settings: token, environment (staging or uat), optional timeout, max_concurrency,
    mode ("audit" or "source").
    """

    type: ClassVar[str] = "hrms"
    SCHEMA: ClassVar[dict[str, Any]] = schema_file(__package__)
    READ_ONLY: ClassVar[bool] = True
    SOURCE: ClassVar[SourceSpec | None] = SOURCE_SPEC
    KINDS: ClassVar[tuple[str, ...]] = ("user",)
    IMPORT_SETTINGS: ClassVar[dict[str, str]] = {
        "token": "${HRMS_TOKEN}", "environment": "staging", "mode": "audit"}
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = (
        Capability("list users", "GET", "/v1/users", "documented",
                   "002 Step 3 \"Available Endpoints\"; shape from Step 2 \"Example Response\""),
        Capability("department and position of each listed user", "GET",
                   "/v1/users?include=department,position", "assumed",
                   "the seed shows them on GET /v1/users/{userId} only; JSON:API include "
                   "on the list is assumed so an audit needs no request per user"),
        Capability("list departments", "GET", "/v1/departments", "documented",
                   "002 Step 3 \"Available Endpoints\"; attribute `name` assumed"),
        Capability("list positions", "GET", "/v1/positions", "documented",
                   "002 Step 3 \"Available Endpoints\"; attribute `title` assumed"),
        Capability("page through every list", "GET", "?page[number]=N&page[size]=100",
                   "assumed", "the seed is silent on pagination: JSON:API page[number] "
                   "from 1, page[size] up to 100, meta.total"),
    )
    # Which scope each collection needs (seed 002 Step 1 "Select Required Scopes").
    SCOPES: ClassVar[dict[str, str]] = {
        "/v1/users": "users:read",
        "/v1/departments": "departments:read",
        "/v1/positions": "positions:read",
    }

    SETTINGS: ClassVar[type[Settings]] = HrmsSettings
    settings: HrmsSettings

    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        # The last read, kept for source mode (`source_data`).
        self.users: list[HrmsUser] = []
        self.departments: list[HrmsDepartment] = []
        self.positions: list[HrmsPosition] = []

    # -- plumbing -----------------------------------------------------------------------
    def make_http(self) -> Http:
        return Http(provider=self.name, base_url=self.config.url,
                    auth=StaticHeaders({"Authorization": f"Bearer {self.settings.token}",
                                        "X-Environment": self.settings.environment}),
                    timeout=self.settings.timeout,
                    max_concurrency=self.settings.max_concurrency)

    def explain(self, err: ApiError) -> ProviderError:
        """An HRMS refusal in words that say what to fix. Never includes the token."""
        body = err.body if isinstance(err.body, dict) else {}
        said = body.get("message") or str(err.body)[:200]
        what = f"{err.method} {err.path}"
        if err.status == 401:
            text = (f"{what} answered 401 ({said}): the token was refused; check it and "
                    f"that it was created for the {self.settings.environment} environment")
        elif err.status == 403 and err.path in self.SCOPES:
            text = (f"{what} answered 403 ({said}): the token lacks the "
                    f"{self.SCOPES[err.path]} scope; add it to the application token in HRMS "
                    f"Company Settings > Integrations")
        elif err.status == 400:
            text = f"{what} answered 400 ({said}): {body.get('errors') or err.body}"
        elif err.status == 404:
            text = (f"{what} answered 404 ({said}): is {self.config.url} the API base "
                    f"URL (it ends in /api)?")
        else:
            text = f"{what} answered {err.status}: {said}"
        return ProviderError(self.name, redact(text))

    # -- capabilities -------------------------------------------------------------------
    def removal(self, kind: str) -> Action | None:
        return None  # read-only: an HRMS object is never removed by orgctl

    # -- desired ------------------------------------------------------------------------
    def desired(self, org: Org) -> list[Resource]:
        return []  # orgctl never plans a write to HRMS

    # -- live ---------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Users (with their department and position), departments and positions, the three
        collections concurrently, each at the largest page size."""
        done = 0

        def users_page(body: Any) -> list[HrmsUser]:
            nonlocal done
            page = _users_of(self._page(USERS, body))
            done += len(page)
            if progress:
                progress(done, _total(body))
            return page

        # return_exceptions: let every collection settle, then report the first failure in
        # a fixed order (users, departments, positions).
        results = await asyncio.gather(
            self._collection(USERS, users_page, {"include": "department,position"}),
            self._collection(DEPARTMENTS,
                             lambda body: _departments_of(self._page(DEPARTMENTS, body))),
            self._collection(POSITIONS,
                             lambda body: _positions_of(self._page(POSITIONS, body))),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        users, departments, positions = results
        self.departments = departments
        self.positions = positions
        self.users = _resolve_names(users, departments, positions)
        return _resources(self.users)

    async def _collection(self, path: str, items: Callable[[Any], list[Any]],
                          params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a list. The seed shows no paging: an answer without `meta` is the
        whole list; one with it is paged as the server says (`Http.collect`)."""

        def page(body: Any) -> Page:
            rows = items(body)
            meta = body.get("meta") if isinstance(body, dict) else None
            if not isinstance(meta, dict):
                return Page(rows, paged=False)
            return Page(rows, total=_total(body), limit=_limit(meta))

        with self.explaining():
            return await self.http().collect(path, params, PAGING, page)

    def _page(self, path: str, body: Any) -> dict[str, Any]:
        """One page of a JSON:API list, its shape checked once: `data` objects with an id,
        their attributes and relationships objects (when present) with the fields read
        holding text; `included` objects likewise."""
        what = f"GET {path}"
        page = self.expect_object(what, body, {"data": list, "included": (list, NoneType)})
        self.expect_items(what, page["data"], {
            "id": (str, int), "attributes": (dict, NoneType),
            "relationships": (dict, NoneType)})
        self.expect_items(what, page.get("included") or [], {
            "type": (str, NoneType), "id": (str, int, NoneType),
            "attributes": (dict, NoneType)})
        text = (str, NoneType)
        for obj in page["data"] + (page.get("included") or []):
            self.expect_object(what, obj.get("attributes") or {}, {
                "staffId": text, "email": text, "name": text, "title": text})
            self.expect_object(what, obj.get("relationships") or {}, {
                "department": (dict, NoneType), "position": (dict, NoneType)})
        return page

    # -- audit --------------------------------------------------------------------------
    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Where HRMS and the config disagree (audit mode), and HRMS users that cannot be
        matched at all (both modes). In source mode the config comes from HRMS, so a
        disagreement is a change for the other providers, not a finding."""
        out = [self._finding(r.key, r.server["problem"], "warning" if r.server.get(
            "duplicate_of") else "info") for r in live if r.server.get("problem")]
        if self.settings.mode == "audit":
            out += self._audit(org, [r for r in live if not r.server.get("problem")])
        return out

    def _audit(self, org: Org, live: list[Resource]) -> list[Finding]:
        by_key = {r.key: r for r in live}
        by_email = {_fold(r.attrs.get("email")): r.key for r in live if r.attrs.get("email")}
        out: list[Finding] = []
        for key in sorted(org.employees):
            employee = org.employees[key]
            user = by_key.get(key)
            if user is None:
                out.append(self._absent(employee, by_email))
            else:
                out += [self._finding(key, m) for m in _disagreements(org, employee, user)]
        for key in sorted(by_key.keys() - org.employees.keys()):
            user = by_key[key]
            if user.attrs.get("status") == "active":
                out.append(self._finding(
                    key, f"{key} ({user.attrs.get('name')}) is active in HRMS but absent "
                         f"from the config", "info"))
        return out

    def _absent(self, employee: Employee, by_email: dict[str, str]) -> Finding:
        text = f"{employee.key} is in the config but not in HRMS"
        other = by_email.get(_fold(employee.email))
        if other:
            text += f" (HRMS staffId {other} has the same email {employee.email})"
        # A leaver HRMS no longer lists is expected; an active person missing is not.
        return self._finding(employee.key, text, "warning" if employee.active else "info")

    def _finding(self, key: str, message: str, level: str = "warning") -> Finding:
        return Finding(provider=self.name, kind="user", key=key, message=message,
                       level="info" if level == "info" else "warning")

    # -- source -------------------------------------------------------------------------
    def source_data(self) -> dict[str, Any]:
        """The last read as config-shaped data (see `org_from_hrms`)."""
        return org_from_hrms(self.users, self.departments, self.positions)


# -- reading ---------------------------------------------------------------------------------

def _total(body: Any) -> int | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    total = meta.get("total") if isinstance(meta, dict) else None
    return total if isinstance(total, int) else None


def _limit(meta: dict[str, Any]) -> int | None:
    """The page size the answer says it served (`meta.per_page` or `meta.size`), if any."""
    for name in ("per_page", "size", "page_size", "limit"):
        value = meta.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _users_of(body: Any) -> list[HrmsUser]:
    """One page of users, each with its department and position resolved from the page's
    `included` objects (ASSUMED JSON:API include, see the capability table)."""
    included = {(o.get("type"), o.get("id")): o.get("attributes") or {}
                for o in body.get("included") or []}
    users = []
    for obj in body.get("data") or []:
        attrs = obj.get("attributes") or {}
        rel = obj.get("relationships") or {}
        dept_id = _related_id(rel, "department")
        pos_id = _related_id(rel, "position")
        users.append(HrmsUser(
            id=str(obj["id"]),
            staff_id=attrs.get("staffId") or None,
            email=attrs.get("email"),
            name=attrs.get("name"),
            status=str(attrs.get("status") or "").lower(),
            department_id=dept_id,
            department=included.get(("department", dept_id), {}).get("name"),
            position_id=pos_id,
            position=included.get(("position", pos_id), {}).get("title"),
        ))
    return users


def _related_id(relationships: dict[str, Any], name: str) -> str | None:
    data = (relationships.get(name) or {}).get("data")
    return str(data["id"]) if isinstance(data, dict) and data.get("id") else None


def _departments_of(body: Any) -> list[HrmsDepartment]:
    return [HrmsDepartment(str(o["id"]), (o.get("attributes") or {}).get("name") or "")
            for o in body.get("data") or []]


def _positions_of(body: Any) -> list[HrmsPosition]:
    return [HrmsPosition(str(o["id"]), (o.get("attributes") or {}).get("title") or "")
            for o in body.get("data") or []]


def _resolve_names(users: list[HrmsUser], departments: list[HrmsDepartment],
                   positions: list[HrmsPosition]) -> list[HrmsUser]:
    """Fill names a page's `included` lacked from the department and position lists."""
    dept = {d.id: d.name for d in departments}
    pos = {p.id: p.title for p in positions}
    out = []
    for u in users:
        if (u.department is None and u.department_id in dept) or (
                u.position is None and u.position_id in pos):
            u = replace(u, department=u.department or dept.get(u.department_id or ""),
                        position=u.position or pos.get(u.position_id or ""))
        out.append(u)
    return out


def _resources(users: list[HrmsUser]) -> list[Resource]:
    """Users as resources keyed by staffId. A user without a staffId, or repeating one
    already seen, cannot be matched to the config: it is keyed by its HRMS id instead and
    carries the problem in `server`, so `findings` can report it."""
    seen: dict[str, str] = {}
    out = []
    for u in users:
        first, last = split_name(u.name)
        server: dict[str, Any] = {"department_id": u.department_id,
                                  "position_id": u.position_id}
        key = u.staff_id
        if not key:
            key = f"{NO_STAFF_ID}{u.id}"
            server["problem"] = (f"HRMS user {u.id} ({u.name}) has no staffId and cannot be "
                                 f"matched to the config")
        elif key in seen:
            server["duplicate_of"] = key
            server["problem"] = (f"HRMS users {seen[key]} and {u.id} share staffId {key}; "
                                 f"only {seen[key]} is compared with the config")
            key = f"{NO_STAFF_ID}{u.id}"
        else:
            seen[key] = u.id
        out.append(Resource(
            kind="user", key=key, remote_id=u.id, source="hrms", server=server,
            attrs={"name": u.name, "first_name": first, "last_name": last, "email": u.email,
                   "status": u.status, "department": u.department, "position": u.position},
        ))
    return out


# -- auditing --------------------------------------------------------------------------------

def _fold(value: str | None) -> str:
    """Compare names, titles and emails ignoring case and surrounding space: HRMS and the
    config are typed by different people, and emails are case-insensitive in practice."""
    return (value or "").strip().casefold()


def _disagreements(org: Org, employee: Employee, user: Resource) -> list[str]:
    key = employee.key
    hrms = user.attrs
    status = hrms.get("status") or "unknown"
    hrms_active = status == "active"
    messages = []
    if hrms_active != employee.active:
        messages.append(f"{key} is {status} in HRMS but {employee.status} in the config")
    if not hrms_active and not employee.active:
        # ASSUMED policy: a leaver's department or title at leaving is noise in a review.
        return messages
    if employee.email and _fold(employee.email) != _fold(hrms.get("email")):
        messages.append(f"{key} email is {hrms.get('email') or 'empty'} in HRMS but "
                        f"{employee.email} in the config")
    if employee.unit:
        unit = org.units.get(employee.unit)
        unit_name = unit.name if unit else employee.unit
        if _fold(unit_name) != _fold(hrms.get("department")):
            there = (f"department {hrms['department']!r}" if hrms.get("department")
                     else "no department")
            messages.append(f"{key} has {there} in HRMS but unit {unit_name!r} "
                            f"({employee.unit}) in the config")
    if employee.job_position and _fold(employee.job_position) != _fold(hrms.get("position")):
        there = f"position {hrms['position']!r}" if hrms.get("position") else "no position"
        messages.append(f"{key} has {there} in HRMS but job_position "
                        f"{employee.job_position!r} in the config")
    return messages


# -- HRMS as a source (issue #7) -------------------------------------------------------------

def split_name(name: str | None) -> tuple[str, str]:
    """ASSUMED: HRMS has one `name`; the first word is the first name, the rest the last
    name ("Mary Ann Smith" -> "Mary", "Ann Smith")."""
    parts = (name or "").split(None, 1)
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")


def department_key(department: HrmsDepartment) -> str:
    """The unit key of an HRMS department: its id, stable across renames, so a renamed
    department is an update of the unit's name, never a delete and a create."""
    return department.id


def org_from_hrms(users: Sequence[HrmsUser], departments: Sequence[HrmsDepartment],
                  positions: Sequence[HrmsPosition]) -> dict[str, Any]:
    """HRMS live state as config-shaped data: `units` (one per department, keyed by
    `department_key`), `employees` keyed by staffId (first_name, last_name, email, status,
    unit, job_position; a field HRMS does not know is left out, not emptied), and `notes`:
    (staffId or "", text) per value that could not be mapped, for the importer to write
    as comments.

    Pure: the same input always gives the same output, in a stable order.
    """
    units = {department_key(d): {"name": d.name, "level": UNIT_LEVEL}
             for d in sorted(departments, key=department_key)}
    unit_of = {d.id: department_key(d) for d in departments}
    title_of = {p.id: p.title for p in positions}
    employees: dict[str, dict[str, Any]] = {}
    notes: list[tuple[str, str]] = []  # (staffId the note is about, or "", text)
    for u in users:
        if not u.staff_id:
            notes.append(("", f"HRMS user {u.id} ({u.name}) has no staffId: skipped"))
            continue
        if u.staff_id in employees:
            notes.append(("", f"HRMS user {u.id} repeats staffId {u.staff_id}: skipped"))
            continue
        first, last = split_name(u.name)
        if not last:
            notes.append((u.staff_id, f"name {u.name!r} has no last name to split off"))
        status = "active" if u.status == "active" else "inactive"
        if u.status not in ("active", "inactive"):
            notes.append((u.staff_id,
                          f"HRMS status {u.status or 'empty'!r} read as inactive"))
        employee: dict[str, Any] = {"first_name": first, "last_name": last,
                                    "email": u.email, "status": status}
        if u.department_id:
            if u.department_id in unit_of:
                employee["unit"] = unit_of[u.department_id]
            else:
                notes.append((u.staff_id, f"department {u.department_id} is not in the "
                                          f"department list"))
        title = u.position or title_of.get(u.position_id or "")
        if title:
            employee["job_position"] = title
        elif u.position_id:
            notes.append((u.staff_id,
                          f"position {u.position_id} is not in the position list"))
        employees[u.staff_id] = employee
    return {"units": units,
            "employees": dict(sorted(employees.items())),
            "notes": notes}
