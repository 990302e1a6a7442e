"""The HRMS public API (Workbeats, seed 002) as a read-only provider: an audit target whose
disagreements with the config become findings, and the live data an HRMS-sourced org is
built from (`org_from_hrms`).

orgctl never writes to HRMS: `desired()` is empty, every change is unsupported, nothing is
ever removed. Identity is the HRMS `staffId`, which is the config's employee key.

Department and position are documented only on `GET /v1/users/{userId}` (seed 002 Step 3
"Available Endpoints": "includes department, position, work locations"). The list is
first asked for them with a JSON:API `include=` (assumed, one request for everyone); when
its answers do not carry them, the details are read per user, and only for the users
that need them (`HrmsProvider._needing_details`). A department or position no answer
carried is unknown, never "none" (`HrmsUser.unknown`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType, NoneType
from typing import Any, ClassVar
from urllib.parse import quote

from orgctl.errors import ApiError, IncompleteRead, ProviderError, UnexpectedAnswer, short
from orgctl.model import Employee, Org, ProviderConfig, quick_init
from orgctl.providers.base import (
    Capability,
    Fields,
    NotServed,
    Progress,
    Provider,
    Settings,
    SourceSpec,
    folded,
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
USER_DETAILS = "/v1/users/{userId}"
NO_STAFF_ID = NO_KEY  # key prefix of an HRMS user without a staffId (matches no employee)
INCLUDE = {"include": "department,position"}  # ASSUMED JSON:API include on the list
DETAILS = "user details"  # the `assumed` topic: department and position of each user
# The user attributes read (seed 002 Step 2 "Example Response"): an answer must carry
# every one of them, null or not. staffId is the identity, status says who left.
USER_ATTRIBUTES = ("name", "staffId", "email", "status")
PLACEMENT = ("department", "position")  # what only the details document
TEXT = (str, NoneType)
USER_OBJECT: Fields = {"id": (str, int), "attributes": dict, "relationships": (dict, NoneType)}
USER_FIELDS: Fields = {name: TEXT for name in USER_ATTRIBUTES}
RELATIONSHIPS: Fields = {"department": (dict, NoneType), "position": (dict, NoneType)}
EMPTY: Mapping[str, Any] = MappingProxyType({})  # an object an answer leaves out, read as empty
# What a user's answers leave unknown, by whether they carry the department and the
# position: one frozenset per case, shared, rather than one per user.
UNCARRIED = {(department, position): frozenset(
    name for name, carried in zip(PLACEMENT, (department, position), strict=True)
    if not carried) for department in (True, False) for position in (True, False)}


@dataclass(frozen=True, kw_only=True)
class HrmsSettings(Settings):
    """token (write it as ${HRMS_TOKEN}), environment (staging or uat), mode (audit or
    source, default audit); rate_limit (none by default: the seed names none), timeout,
    max_concurrency."""

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
        return cls(token=token, environment=environment, mode=mode,
                   **cls.common(provider, raw))


@quick_init
@dataclass(frozen=True, slots=True)
class HrmsUser:
    """One HRMS user as read, with its department and position resolved to names.

    `unknown` names what no answer carried ("department", "position"): unknown, which is
    not the same as a user without a department (`department_id` None, known)."""

    id: str
    staff_id: str | None
    email: str | None
    name: str | None
    status: str
    department_id: str | None = None
    department: str | None = None
    position_id: str | None = None
    position: str | None = None
    unknown: frozenset[str] = frozenset()


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
    rate_limit, mode ("audit" or "source").
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
                   "the seed shows them on GET /v1/users/{userId} only; a JSON:API include "
                   "on the list is tried first so an audit needs no request per user; "
                   "answers without relationships fall back to the user details"),
        Capability("user details (fallback: department and position)", "GET",
                   USER_DETAILS, "documented",
                   "002 Step 3 \"Available Endpoints\" (\"includes department, position, "
                   "work locations\"; their shape is not shown: JSON:API relationships or "
                   "objects in the attributes); one request per user that the audit "
                   "compares, or that an import or source mode takes from HRMS"),
        Capability("list departments", "GET", "/v1/departments", "documented",
                   "002 Step 3 \"Available Endpoints\"; attribute `name` assumed"),
        Capability("list positions", "GET", "/v1/positions", "documented",
                   "002 Step 3 \"Available Endpoints\"; attribute `title` assumed"),
        Capability("page through every list", "GET", "?page[number]=N&page[size]=100",
                   "assumed", "the seed is silent on pagination and shows no paging keys: "
                   "JSON:API page[number] from 1, page[size] up to 100, meta.total; an "
                   "answer without meta is the whole list"),
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
        # Content-Type on every request, bodiless GETs too: seed 002 "Content-Type Header
        # Required" (a server may refuse a request without it).
        return self.client(StaticHeaders({"Authorization": f"Bearer {self.settings.token}",
                                          "X-Environment": self.settings.environment,
                                          "Content-Type": "application/json"}))

    def explain(self, err: ApiError) -> ProviderError:
        """An HRMS refusal in words that say what to fix. Never includes the token."""
        body = err.body if isinstance(err.body, dict) else {}
        said = short(body.get("message") or err.body, 200)
        what = f"{err.method} {err.path}"
        if err.status == 401:
            text = (f"{what} answered 401 ({said}): the token was refused; check it and "
                    f"that it was created for the {self.settings.environment} environment")
        elif err.status == 403 and _collection_of(err.path) in self.SCOPES:
            text = (f"{what} answered 403 ({said}): the token lacks the "
                    f"{self.SCOPES[_collection_of(err.path)]} scope; add it to the "
                    f"application token in HRMS Company Settings > Integrations")
        elif err.status == 400:
            text = f"{what} answered 400 ({said}): {short(body.get('errors') or err.body)}"
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
        # return_exceptions: let every collection settle, then report the first failure in
        # a fixed order (users, departments, positions).
        results = await asyncio.gather(
            self._users(progress),
            self._collection(DEPARTMENTS, lambda body: _departments_of(
                self._catalogue(DEPARTMENTS, body, "name"))),
            self._collection(POSITIONS, lambda body: _positions_of(
                self._catalogue(POSITIONS, body, "title"))),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        users, departments, positions = results
        self.departments = departments
        self.positions = positions
        self.users = self._named(users, departments, positions)
        return _resources(self.users)

    async def _users(self, progress: Progress | None) -> list[HrmsUser]:
        """Every user with the department and position the audit or the import needs:
        from the list with `include=` when the server serves it, else from the user
        details (`assumed`), read per user that needs them. The list read to find out
        the include is not served is the list the details complete: never read twice."""
        listed: list[HrmsUser] = []

        async def with_include() -> list[HrmsUser]:
            listed.extend(await self._list_users(progress, INCLUDE))
            bare = [u for u in listed if u.unknown]
            if bare:
                raise NotServed(f"GET {USERS}?include=department,position answered "
                                f"{len(bare)} of {len(listed)} users without their "
                                f"department and position")
            return listed

        async def with_details() -> list[HrmsUser]:
            users = listed or await self._list_users(progress, None)
            return await self._with_details(users, progress)

        return await self.assumed(DETAILS, with_include, with_details)

    async def _list_users(self, progress: Progress | None,
                          params: dict[str, Any] | None) -> list[HrmsUser]:
        done = 0

        def users_page(body: Any) -> list[HrmsUser]:
            nonlocal done
            page = self._users_of(body)
            done += len(page)
            if progress:
                progress(done, _total(body))
            return page

        return await self._collection(USERS, users_page, params)

    def _needing_details(self, users: list[HrmsUser]) -> tuple[list[HrmsUser], str]:
        """The users whose details must be read, and what for. Only a user with a staffId
        seen first can be compared or imported (the others are findings only). In
        source mode, or with no config bound (an import; a plan, as long as the engine
        binds the config only after the read), that is every one; in an audit of a bound
        config, only the employees the config has with a unit or job_position set,
        unless they left on both sides (the audit does not compare a leaver's placement:
        `_disagreements`)."""
        first: dict[str, HrmsUser] = {}
        for u in users:
            if u.staff_id and u.staff_id not in first:
                first[u.staff_id] = u
        if self.settings.mode == "source":
            return list(first.values()), "HRMS is the source of"
        if self.org is None:
            return list(first.values()), "with a staffId"
        employees = self.org.employees
        return [u for key, u in first.items()
                if (e := employees.get(key)) is not None and (e.unit or e.job_position)
                and (e.active or u.status == "active")], "the audit compares"

    async def _with_details(self, users: list[HrmsUser],
                            progress: Progress | None) -> list[HrmsUser]:
        """`users` with department and position from `GET /v1/users/{userId}` for those
        that need them; the others keep them unknown."""
        needed, purpose = self._needing_details(users)
        self.note_fallback(DETAILS, f"GET {USER_DETAILS} for each of the {len(needed)} "
                                    f"users {purpose}", len(needed))
        done = 0

        async def detail(user: HrmsUser) -> HrmsUser:
            nonlocal done
            read = await self._detail(user)
            done += 1
            if progress:
                progress(done, len(needed))
            return read

        details = {u.id: u for u in await asyncio.gather(*(detail(u) for u in needed))}
        return [details.get(u.id, u) for u in users]

    async def _detail(self, user: HrmsUser) -> HrmsUser:
        """One user's department and position from its details. A user listed a moment
        ago and gone now (404) fails the read: a partial read is never planned from."""
        try:
            body = await self.http().get(f"{USERS}/{quote(user.id, safe='')}")
        except ApiError as err:
            if err.status != 404:
                raise self.explain(err) from err
            raise IncompleteRead(self.name, f"GET {USER_DETAILS}", (
                f"user {user.id} ({user.staff_id}), listed by GET {USERS}, answered 404: "
                f"it was removed while the users were read (run again), or the server "
                f"does not serve user details")) from None
        return self._placed(user, body)

    def _placed(self, user: HrmsUser, body: Any) -> HrmsUser:
        """`user` with the department and position its details answer carries, in either
        shape a server may choose (the seed shows none): JSON:API `relationships` with
        `included` names, or objects in the attributes (`department: {id, name}`,
        `position: {id, title}`). One the answer does not carry stays unknown; a shape
        neither of those is refused (fail closed)."""
        what = f"GET {USER_DETAILS}"
        text, ident = (str, NoneType), (str, int)
        answer = self.expect_object(what, body, {"data": dict, "included": (list, NoneType)})
        data = self.expect_object(what, answer["data"], {
            "id": ident, "attributes": dict, "relationships": (dict, NoneType)})
        if str(data["id"]) != user.id:
            raise UnexpectedAnswer(self.name, what, f"asked for user {user.id}, answered "
                                                    f"user {data['id']}", body)
        attrs = self.expect_object(what, data["attributes"], {
            "department": (dict, NoneType), "position": (dict, NoneType)})
        relationships = self.expect_object(what, data.get("relationships") or {}, {
            "department": (dict, NoneType), "position": (dict, NoneType)})
        included = self._included(what, answer)
        placed: dict[str, Any] = {}
        unknown = set(PLACEMENT)
        for name, label in (("department", "name"), ("position", "title")):
            if name in relationships:
                ref = _related_id(relationships, name)
                placed[f"{name}_id"] = ref
                placed[name] = included.get((name, ref), {}).get(label)
            elif name in attrs:
                obj = attrs[name]
                if obj is not None:
                    self.expect_object(what, obj, {"id": ident, label: text})
                    if label not in obj:
                        raise UnexpectedAnswer(self.name, what, f"{label} is missing", body)
                placed[f"{name}_id"] = str(obj["id"]) if obj else None
                placed[name] = obj.get(label) if obj else None
            else:
                continue
            unknown.discard(name)
        for name in sorted(unknown):
            self.note(f"unknown:user.{name}",
                      f"{what} answers do not carry the users' {name}: it is not compared")
        return replace(user, unknown=UNCARRIED["department" not in unknown,
                                               "position" not in unknown], **placed)

    def _included(self, what: str, answer: dict[str, Any]) -> dict[tuple[str, str],
                                                                      dict[str, Any]]:
        """A JSON:API answer's `included` objects by (type, id), their shape checked."""
        items = self.expect_items(what, answer.get("included") or [], {
            "type": (str, NoneType), "id": (str, int, NoneType),
            "attributes": (dict, NoneType)})
        attributes = [o.get("attributes") or {} for o in items]
        self.expect_items(what, attributes, {"name": (str, NoneType), "title": (str, NoneType)})
        return {(str(o.get("type")), str(o.get("id"))): attrs
                for o, attrs in zip(items, attributes, strict=True)}

    def _named(self, users: list[HrmsUser], departments: list[HrmsDepartment],
               positions: list[HrmsPosition]) -> list[HrmsUser]:
        """Fill the names an answer left out from the department and position lists. A
        reference to neither list cannot be named: unknown, not "none"."""
        dept = {d.id: d.name for d in departments}
        pos = {p.id: p.title for p in positions}
        out = []
        unnamed = 0
        for u in users:
            if u.department and u.position:
                out.append(u)  # named by its answer, as nearly every user: nothing to fill
                continue
            department = u.department or dept.get(u.department_id or "")
            position = u.position or pos.get(u.position_id or "")
            unknown = u.unknown
            if u.department_id and department is None:
                unknown = unknown | {"department"}
            if u.position_id and position is None:
                unknown = unknown | {"position"}
            unnamed += len(unknown) > len(u.unknown)
            if department != u.department or position != u.position or unknown != u.unknown:
                u = replace(u, department=department, position=position, unknown=unknown)
            out.append(u)
        if unnamed:
            self.note("unnamed", f"{unnamed} users refer to a department or position that "
                                 f"GET {DEPARTMENTS} and GET {POSITIONS} do not list: not "
                                 f"compared")
        return out

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
            return await self.http().collect(path, params, PAGING, page,
                                             ident=lambda row: row.id)

    def _users_of(self, body: Any) -> list[HrmsUser]:
        """One page of the user list, its shape checked first: `data` objects with an id
        and attributes carrying every attribute read (`USER_ATTRIBUTES`, text or null: a
        missing one is a shape orgctl does not know, never "empty"), relationships
        objects when present; `included` objects likewise. Then its users, each with the
        department and position its JSON:API `relationships` and the page's `included`
        objects carry (the ASSUMED include, see the capability table). A relationship
        the answer does not carry is unknown; one carried as `{"data": null}` is "none"."""
        what = f"GET {USERS}"
        page = self.expect_object(what, body, {"data": list, "included": (list, NoneType)})
        data = page["data"]
        if not all(map(_recognised, data)):
            self._check_users(what, data)
        included = self._included(what, page)
        department_names = {ref: attrs.get("name") for (kind, ref), attrs in included.items()
                            if kind == "department"}
        position_names = {ref: attrs.get("title") for (kind, ref), attrs in included.items()
                          if kind == "position"}
        statuses: dict[str | None, str] = {}  # as read -> lower-cased, one string each
        users = []
        for obj in data:
            attrs = obj["attributes"]
            rel = obj.get("relationships") or EMPTY
            department_id = _related_id(rel, "department")
            position_id = _related_id(rel, "position")
            status = attrs["status"]
            if status not in statuses:
                statuses[status] = (status or "").lower()
            users.append(HrmsUser(  # positional, in the order of the fields: a third faster
                str(obj["id"]), attrs["staffId"] or None, attrs["email"], attrs["name"],
                statuses[status], department_id, department_names.get(department_id),
                position_id, position_names.get(position_id),
                UNCARRIED["department" in rel, "position" in rel]))
        return users

    def _check_users(self, what: str, data: list[Any]) -> None:
        """The checks of `_recognised`, one at a time, raising the first that fails with
        the field it names (`expect_object`)."""
        self.expect_items(what, data, USER_OBJECT)
        for obj in data:
            attrs = self.expect_object(what, obj["attributes"], USER_FIELDS)
            missing = [name for name in USER_ATTRIBUTES if name not in attrs]
            if missing:
                raise UnexpectedAnswer(self.name, what, f"{missing[0]} is missing", obj)
            self.expect_object(what, obj.get("relationships") or {}, RELATIONSHIPS)

    def _catalogue(self, path: str, body: Any, label: str) -> dict[str, Any]:
        """One page of departments (`name`) or positions (`title`), its shape checked:
        each object has an id and its label, text or null (seed silent on the label:
        assumed, and refused when absent rather than read as empty)."""
        what = f"GET {path}"
        page = self.expect_object(what, body, {"data": list})
        self.expect_items(what, page["data"], {"id": (str, int), "attributes": dict})
        for obj in page["data"]:
            attrs = self.expect_object(what, obj["attributes"], {label: (str, NoneType)})
            if label not in attrs:
                raise UnexpectedAnswer(self.name, what, f"{label} is missing", obj)
        return page

    # -- audit --------------------------------------------------------------------------
    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Where HRMS and the config disagree (audit mode), and HRMS users that cannot be
        matched at all (both modes). In source mode the config comes from HRMS, so a
        disagreement is a change for the other providers, not a finding."""
        out = []
        matchable = []
        for r in live:
            problem = r.server.get("problem")
            if problem:
                out.append(self._finding(r.key, problem, "warning" if r.server.get(
                    "duplicate_of") else "info"))
            else:
                matchable.append(r)
        if self.settings.mode == "audit":
            out += self._audit(org, matchable)
        return out

    def _audit(self, org: Org, live: list[Resource]) -> list[Finding]:
        by_key = {r.key: r for r in live}
        by_email: dict[str, str] | None = None  # made for the first employee HRMS lacks
        unit_names = {key: unit.name for key, unit in org.units.items()}
        out: list[Finding] = []
        for key in sorted(org.employees):
            employee = org.employees[key]
            user = by_key.get(key)
            if user is None:
                if by_email is None:
                    by_email = {_fold(r.attrs.get("email")): r.key for r in live
                                if r.attrs.get("email")}
                out.append(self._absent(employee, by_email))
            else:
                messages = _disagreements(employee, user, unit_names)
                if messages:
                    out += [self._finding(key, m) for m in messages]
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

def _collection_of(path: str) -> str:
    """The collection a path reads: "/v1/users/42" (a user's details) -> "/v1/users"."""
    return USERS if path.startswith(f"{USERS}/") else path


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


def _recognised(user: Any) -> bool:
    """Whether a listed user has the shape read: an object with `USER_OBJECT`, attributes
    carrying every one of `USER_FIELDS` and relationships (if any) with `RELATIONSHIPS`.
    The checks of `HrmsProvider._check_users`, which names what is wrong, without a call
    per check (a page of 100 users asks 900)."""
    if not isinstance(user, dict):
        return False
    for name, types in _USER_OBJECT:
        if not isinstance(user.get(name), types):
            return False
    attrs = user["attributes"]
    for name, types in _USER_FIELDS:
        if not isinstance(attrs.get(name, _ABSENT), types):
            return False
    relationships = user.get("relationships") or EMPTY
    for name, types in _RELATIONSHIPS:
        if not isinstance(relationships.get(name), types):
            return False
    return True


_USER_OBJECT, _USER_FIELDS, _RELATIONSHIPS = (tuple(fields.items()) for fields in (
    USER_OBJECT, USER_FIELDS, RELATIONSHIPS))
_ABSENT = object()  # of no JSON type: an attribute absent is refused, not read as null


def _related_id(relationships: Mapping[str, Any], name: str) -> str | None:
    data = (relationships.get(name) or EMPTY).get("data")
    return str(data["id"]) if isinstance(data, dict) and data.get("id") else None


def _departments_of(body: Any) -> list[HrmsDepartment]:
    return [HrmsDepartment(str(o["id"]), o["attributes"]["name"] or "") for o in body["data"]]


def _positions_of(body: Any) -> list[HrmsPosition]:
    return [HrmsPosition(str(o["id"]), o["attributes"]["title"] or "") for o in body["data"]]


def _resources(users: list[HrmsUser]) -> list[Resource]:
    """Users as resources keyed by staffId. A user without a staffId, or repeating one
    already seen, cannot be matched to the config: it is keyed by its HRMS id instead and
    carries the problem in `server`, so `findings` can report it. A department or
    position no answer carried is left out of `attrs` and named in `unknown`."""
    seen: dict[str, str] = {}
    out = []
    for u in users:
        first, last = split_name(u.name)
        server: dict[str, Any] = {"department_id": u.department_id,
                                  "position_id": u.position_id}
        attrs = {"name": u.name, "first_name": first, "last_name": last, "email": u.email,
                 "status": u.status, "department": u.department, "position": u.position}
        for name in u.unknown:
            attrs.pop(name, None)
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
        out.append(Resource(kind="user", key=key, attrs=attrs, remote_id=u.id, source="hrms",
                            server=server, unknown=u.unknown))
    return out


# -- auditing --------------------------------------------------------------------------------

def _fold(value: str | None) -> str:
    """Compare names, titles and emails ignoring case, surrounding space and the Unicode
    form (`folded`): HRMS and the config are typed by different people, and emails are
    case-insensitive in practice."""
    return folded((value or "").strip())


def _differ(ours: str, theirs: str | None) -> bool:
    """Whether two values differ once folded (`_fold`); equal text, nearly every pair of
    an audit, is answered without folding either."""
    return ours != theirs and _fold(ours) != _fold(theirs)


def _disagreements(employee: Employee, user: Resource,
                   unit_names: Mapping[str, str]) -> list[str]:
    """What `user` says otherwise than the config's `employee`; `unit_names`: the config's
    unit names by key."""
    key = employee.key
    hrms = user.attrs
    status = hrms.get("status") or "unknown"
    hrms_active = status == "active"
    active = employee.active
    messages = []
    if hrms_active != active:
        messages.append(f"{key} is {status} in HRMS but {employee.status} in the config")
    if not hrms_active and not active:
        # ASSUMED policy: a leaver's department or title at leaving is noise in a review.
        return messages
    # Each value is compared as text first: equal, as nearly always, `_differ` is not asked.
    email = hrms.get("email")
    if employee.email and employee.email != email and _differ(employee.email, email):
        messages.append(f"{key} email is {email or 'empty'} in HRMS but "
                        f"{employee.email} in the config")
    # A department or position no answer carried is unknown: never "no department".
    if employee.unit and "department" not in user.unknown:
        unit_name = unit_names.get(employee.unit, employee.unit)
        department = hrms.get("department")
        if unit_name != department and _differ(unit_name, department):
            there = f"department {department!r}" if department else "no department"
            messages.append(f"{key} has {there} in HRMS but unit {unit_name!r} "
                            f"({employee.unit}) in the config")
    position = hrms.get("position")
    if (employee.job_position and "position" not in user.unknown
            and employee.job_position != position and _differ(employee.job_position, position)):
        there = f"position {position!r}" if position else "no position"
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
    unit, job_position; a field HRMS does not know is left out, not emptied: a department
    or position no answer carried, `HrmsUser.unknown`, included), and `notes`: (staffId
    or "", text) per value that could not be mapped, for the importer to write as
    comments.

    Pure: the same input always gives the same output, in a stable order.
    """
    units = {department_key(d): {"name": d.name, "level": UNIT_LEVEL}
             for d in sorted(departments, key=department_key)}
    unit_of = {d.id: department_key(d) for d in departments}
    title_of = {p.id: p.title for p in positions}
    employees: dict[str, dict[str, Any]] = {}
    notes: list[tuple[str, str]] = []  # (staffId the note is about, or "", text)
    unread = 0
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
        # Unknown because no answer carried it (one carried but unnamed is noted above).
        unread += (("department" in u.unknown and not u.department_id)
                   or ("position" in u.unknown and not u.position_id))
    if unread:
        notes.append(("", f"HRMS answers did not carry the department or position of "
                          f"{unread} users: their unit or job_position is left out"))
    return {"units": units,
            "employees": dict(sorted(employees.items())),
            "notes": notes}
