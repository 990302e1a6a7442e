"""The HRMS public API (Workbeats, seed 002) as a local emulator: read-only users,
departments and positions behind a Bearer application token, scopes and `X-Environment`.

Routes live under `/api/v1/...` so a provider's base URL is `http://127.0.0.1:PORT/api`,
as the seed's is `https://dev.workbeats.app/api`.

Documented by the seed (section "Step 3 - Understand the API Structure" and "Step 4 -
Handle Errors"): the four GET endpoints, the `{data: [{id, type, attributes}]}` list shape
with user attributes staffId, email, name, preferred_name, phone, status; the scopes
users:read, departments:read, positions:read; the two headers; the 400 / 401 / 403 / 404
bodies.

The permissive profile (the default) serves what orgctl was written beside. Assumed,
because the seed is silent (each marked ASSUMED where it is implemented):
- pagination: JSON:API style `page[number]` (from 1) and `page[size]` (default 25,
  larger sizes clamped to 100), `meta: {total, page, size}`, `links: {self, next, prev}`;
- `include=department,position,work_locations` on the user list, answered the way the
  detail endpoint answers: JSON:API `relationships` on each user plus a top-level
  `included` array. It needs only users:read, like the detail endpoint;
- department attributes `{name}`, position attributes `{title}`, work location
  attributes `{name}`;
- the order of checks: a missing or unknown token is 401 before anything else; then a
  missing or invalid `X-Environment` is 400 with the documented field-error shape; a
  token used in another environment than its own is 401; a missing scope is 403.
- `Content-Type` is not enforced on GET requests (they have no body).

Both profiles keep department attributes `{name}` and position attributes `{title}`
(the seed names neither) and the order of checks above.

The strict profile (`Profile.strict`) serves only what the seed documents and chooses
otherwise wherever it is silent:
- a list answer is the whole list, `{"data": [...]}` with no paging keys (the seed's
  example shows none and the endpoint "List all users"); page parameters and `include=`
  are not documented, so they are ignored as a real server ignores an unknown query
  parameter (no 400 either). When the profile has `paging_keys`, the answer also says
  `meta: {total}` (a server that counts, still the whole list);
- a user in a list carries only the documented attributes (staffId, email, name,
  preferred_name, phone, status): no relationships, no department or position;
- `GET /v1/users/{userId}` "includes department, position, work locations": the seed
  shows no shape for them. Strict CHOOSES to embed them in the user's attributes,
  `department: {id, name}` or null, `position: {id, title}` or null, `work_locations:
  [{id, name}]`, where the permissive profile answers JSON:API `relationships` plus
  `included`; a reader must accept what the server chose;
- ids the fixture leaves out are the profile's (large uneven numbers written as text,
  or uuids), never `user_001`; keys come in the profile's order (`Profile.shaped`);
- `Content-Type: application/json` is required, as the seed says ("Content-Type Header
  Required"): without it (or with another media type) the answer is 400 in the seed's
  own validation shape, `{"message": "Validation failed", "errors": {"Content-Type":
  [...]}}`, the shape it documents for a missing required parameter. It is checked
  after the token and `X-Environment`, before the scope.

Seed fixture format (YAML or JSON; every key optional):

    tokens:                      # default: one token "sandbox-hrms-token", all scopes, staging
      - token: sandbox-hrms-token
        scopes: [users:read, departments:read, positions:read]
        environment: staging     # staging or uat
    departments:
      - {id: dept_001, name: Engineering}      # id defaults to dept_NNN
    positions:
      - {id: pos_001, title: Software Engineer} # id defaults to pos_NNN
    users:
      - id: user_001             # defaults to user_NNN
        staffId: S0001
        email: john.doe@company.com
        name: John Doe
        preferred_name: John     # optional
        phone: "+60123456789"    # optional
        status: active           # active (default) or inactive
        department: dept_001     # a department id or name, optional
        position: Software Engineer  # a position id or title, optional
        work_locations: [Kuala Lumpur]  # names, created on first use
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from orgctl.sandbox.core import ApiError, Emulator, JSONResponse

SCOPES = ("users:read", "departments:read", "positions:read")
ENVIRONMENTS = ("staging", "uat")
DEFAULT_TOKEN = "sandbox-hrms-token"

# ASSUMED (seed silent on pagination): JSON:API-style page parameters and limits.
PAGE_NUMBER = "page[number]"
PAGE_SIZE = "page[size]"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# ASSUMED (seed silent): what `include=` accepts on the user list, and the JSON:API type
# of each related object.
INCLUDABLE = {"department": "department", "position": "position",
              "work_locations": "work_location"}

UNAUTHENTICATED = {"message": "Unauthenticated"}
FORBIDDEN = {"message": "Insufficient permissions for this resource"}
NOT_FOUND = {"message": "Resource not found"}

Handler = Callable[[Request], Awaitable[Response]]


DOCUMENTED_ATTRIBUTES = ("staffId", "email", "name", "preferred_name", "phone", "status")
JSON = "application/json"


def _validation_failed(field: str, message: str) -> ApiError:
    return ApiError(400, {"message": "Validation failed", "errors": {field: [message]}})


class HrmsEmulator(Emulator):
    """The HRMS public API, read-only, seeded from a fixture (see the module docstring)."""

    name = "hrms"

    # -- seed ---------------------------------------------------------------------------
    def load_seed(self, seed: dict[str, Any]) -> None:
        tokens = seed.get("tokens") or [
            {"token": DEFAULT_TOKEN, "scopes": list(SCOPES), "environment": "staging"}
        ]
        state_tokens: dict[str, dict[str, Any]] = {}
        for t in tokens:
            env = t.get("environment", "staging")
            if env not in ENVIRONMENTS:
                raise ValueError(f"hrms seed: token environment {env!r} is not one of "
                                 f"{', '.join(ENVIRONMENTS)}")
            unknown = set(t.get("scopes", ())) - set(SCOPES)
            if unknown:
                raise ValueError(f"hrms seed: unknown scopes {sorted(unknown)}; "
                                 f"known: {', '.join(SCOPES)}")
            state_tokens[str(t["token"])] = {
                "scopes": sorted(t.get("scopes", SCOPES)), "environment": env,
            }

        new_id = self._id_maker()
        departments = [
            {"id": str(d.get("id") or new_id("dept", i)), "name": d["name"]}
            for i, d in enumerate(seed.get("departments") or [], 1)
        ]
        positions = [
            {"id": str(p.get("id") or new_id("pos", i)), "title": p["title"]}
            for i, p in enumerate(seed.get("positions") or [], 1)
        ]
        dept_ref = _reference_index(departments, "name")
        pos_ref = _reference_index(positions, "title")
        locations: list[dict[str, str]] = []
        location_ref: dict[str, str] = {}

        users = []
        for i, u in enumerate(seed.get("users") or [], 1):
            uid = str(u.get("id") or new_id("user", i))
            who = u.get("staffId") or uid
            wl_ids = []
            for wl in u.get("work_locations") or []:
                name = wl["name"] if isinstance(wl, dict) else str(wl)
                if name not in location_ref:
                    location_ref[name] = new_id("wl", len(locations) + 1)
                    locations.append({"id": location_ref[name], "name": name})
                wl_ids.append(location_ref[name])
            users.append({
                "id": uid,
                "staffId": u.get("staffId"),
                "email": u.get("email"),
                "name": u.get("name"),
                "preferred_name": u.get("preferred_name"),
                "phone": u.get("phone"),
                "status": u.get("status", "active"),
                "department": _resolve(dept_ref, u.get("department"), "department", who),
                "position": _resolve(pos_ref, u.get("position"), "position", who),
                "work_locations": wl_ids,
            })
        ids = [u["id"] for u in users]
        if len(set(ids)) != len(ids):
            raise ValueError("hrms seed: user ids must be unique")

        # Lists, not dicts: pages are slices, O(page) per request even at 100k users.
        self.state = {
            "tokens": state_tokens,
            "departments": departments,
            "positions": positions,
            "work_locations": locations,
            "users": users,
        }

    def _id_maker(self) -> Callable[[str, int], str]:
        """How ids the fixture leaves out are made: `user_001` (permissive), or under a
        strict profile its "sparse" numbers (as text: the seed's ids are text) or uuids."""
        ids = self.profile.ids
        rng = random.Random(self.profile.seed)

        def make(prefix: str, number: int) -> str:
            if not self.profile.strict or ids == "int":
                return f"{prefix}_{number:03d}"
            if ids == "uuid":
                return str(uuid.UUID(int=rng.getrandbits(128), version=4))
            return str(self.new_id(number))

        return make

    def credentials(self) -> dict[str, str]:
        tokens = self.state["tokens"]
        full = [t for t, v in tokens.items() if set(v["scopes"]) == set(SCOPES)]
        token = (full or list(tokens))[0]
        return {"token": token, "environment": tokens[token]["environment"]}

    # -- routes -------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v1/users", self._guard("users:read", self.list_users)),
            Route("/api/v1/users/{user_id}", self._guard("users:read", self.get_user)),
            Route("/api/v1/departments",
                  self._guard("departments:read", self.list_departments)),
            Route("/api/v1/positions", self._guard("positions:read", self.list_positions)),
            # Unknown paths answer with the seed's 404 body rather than Starlette's text.
            Route("/api/{path:path}", self._unknown,
                  methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    def _guard(self, scope: str, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                self._authorize(request, scope)
                return await handler(request)
            except ApiError as err:
                return err.response()

        return endpoint

    def _authorize(self, request: Request, scope: str) -> None:
        """Seed "Step 4 - Handle Errors". The order of the checks is ASSUMED."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            grant = self.state["tokens"].get(token.strip())
        if scheme.lower() != "bearer" or grant is None:
            raise ApiError(401, UNAUTHENTICATED)
        env = request.headers.get("x-environment")
        if not env:
            raise _validation_failed("X-Environment", "The X-Environment header is required.")
        if env not in ENVIRONMENTS:
            raise _validation_failed(
                "X-Environment",
                f"The selected X-Environment is invalid; use one of {', '.join(ENVIRONMENTS)}.")
        if env != grant["environment"]:
            # ASSUMED: a token exists only in the environment it was created in.
            raise ApiError(401, UNAUTHENTICATED)
        if self.profile.strict:
            # Seed "Content-Type Header Required"; the answer's shape is strict's choice
            # (see the module docstring).
            media = request.headers.get("content-type", "").partition(";")[0].strip()
            if media.lower() != JSON:
                raise _validation_failed(
                    "Content-Type", f"The Content-Type header must be {JSON}.")
        if scope not in grant["scopes"]:
            raise ApiError(403, FORBIDDEN)

    async def _unknown(self, request: Request) -> Response:
        known = any(isinstance(r, Route) and r.path != "/api/{path:path}"
                    and r.matches(request.scope)[0] != Match.NONE for r in self._routes)
        if known:
            # ASSUMED: the API is read-only; other methods on its paths are 405.
            return JSONResponse({"message": "Method not allowed"}, 405, headers={"Allow": "GET"})
        return JSONResponse(NOT_FOUND, 404)

    # -- handlers -----------------------------------------------------------------------
    async def list_users(self, request: Request) -> Response:
        if self.profile.strict:
            with self.lock:
                return self._whole_list([self._documented_user(u)
                                         for u in self.state["users"]])
        include = _include(request)
        number, size = _page(request)
        with self.lock:
            users = self.state["users"]
            total = len(users)
            rows = users[(number - 1) * size: number * size]
            body = _page_body(request, [self._user(u, include) for u in rows],
                              total, number, size)
            if include:
                body["included"] = self._included(rows, include)
        return JSONResponse(body)

    async def get_user(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]
        # The seed: the detail "includes department, position, work locations".
        include = tuple(INCLUDABLE)
        with self.lock:
            user = next((u for u in self.state["users"] if u["id"] == user_id), None)
            if user is None:
                raise ApiError(404, NOT_FOUND)
            if self.profile.strict:
                return JSONResponse({"data": self._detailed_user(user)})
            body = {"data": self._user(user, include),
                    "included": self._included([user], include)}
        return JSONResponse(body)

    async def list_departments(self, request: Request) -> Response:
        return self._list_page(request, "departments", _department)

    async def list_positions(self, request: Request) -> Response:
        return self._list_page(request, "positions", _position)

    def _list_page(self, request: Request, collection: str,
                   render: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        """One page of a plain collection, in the assumed JSON:API-style paging (the
        whole collection under the strict profile)."""
        if self.profile.strict:
            with self.lock:
                return self._whole_list([self.profile.shaped(render(item))
                                         for item in self.state[collection]])
        number, size = _page(request)
        with self.lock:
            items = self.state[collection]
            rows = [render(item) for item in items[(number - 1) * size: number * size]]
            body = _page_body(request, rows, len(items), number, size)
        return JSONResponse(body)

    def _whole_list(self, data: list[dict[str, Any]]) -> Response:
        """A strict list answer: every row, no paging keys unless the profile has them
        (then only a count: the rows are still all there)."""
        body: dict[str, Any] = {"data": data}
        if self.profile.paging_keys:
            body["meta"] = {"total": len(data)}
        return JSONResponse(self.profile.shaped(body))

    # -- representations ----------------------------------------------------------------
    def _documented_user(self, u: dict[str, Any]) -> dict[str, Any]:
        """A user as the seed's "Example Response" shows one, in the profile's key order."""
        shaped = self.profile.shaped
        return shaped({"id": u["id"], "type": "user",
                       "attributes": shaped({k: u[k] for k in DOCUMENTED_ATTRIBUTES})})

    def _detailed_user(self, u: dict[str, Any]) -> dict[str, Any]:
        """The strict detail: the documented attributes plus department, position and
        work locations embedded (strict's choice where the seed shows no shape)."""
        shaped = self.profile.shaped
        departments = {d["id"]: d for d in self.state["departments"]}
        positions = {p["id"]: p for p in self.state["positions"]}
        locations = {w["id"]: w for w in self.state["work_locations"]}
        dept = departments.get(u["department"]) if u["department"] else None
        pos = positions.get(u["position"]) if u["position"] else None
        attributes = {k: u[k] for k in DOCUMENTED_ATTRIBUTES} | {
            "department": shaped({"id": dept["id"], "name": dept["name"]}) if dept else None,
            "position": shaped({"id": pos["id"], "title": pos["title"]}) if pos else None,
            "work_locations": [shaped({"id": w, "name": locations[w]["name"]})
                               for w in u["work_locations"]],
        }
        return shaped({"id": u["id"], "type": "user", "attributes": shaped(attributes)})

    def _user(self, u: dict[str, Any], include: tuple[str, ...]) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": u["id"],
            "type": "user",
            "attributes": {"staffId": u["staffId"], "email": u["email"], "name": u["name"],
                           "preferred_name": u["preferred_name"], "phone": u["phone"],
                           "status": u["status"]},
        }
        if include:
            rel: dict[str, Any] = {}
            for name in include:
                kind = INCLUDABLE[name]
                if name == "work_locations":
                    rel[name] = {"data": [{"type": kind, "id": i} for i in u[name]]}
                else:
                    rel[name] = {"data": {"type": kind, "id": u[name]} if u[name] else None}
            obj["relationships"] = rel
        return obj

    def _included(self, users: list[dict[str, Any]],
                  include: tuple[str, ...]) -> list[dict[str, Any]]:
        """The related objects of `users`, each once, in first-referenced order."""
        render = {
            "department": (self.state["departments"], _department),
            "position": (self.state["positions"], _position),
            "work_locations": (self.state["work_locations"], _work_location),
        }
        out: list[dict[str, Any]] = []
        for name in include:
            items, to_json = render[name]
            wanted: dict[str, None] = {}
            for u in users:
                for ref in (u[name] if name == "work_locations" else [u[name]]):
                    if ref:
                        wanted[ref] = None
            if wanted:
                by_id = {i["id"]: i for i in items}
                out.extend(to_json(by_id[ref]) for ref in wanted if ref in by_id)
        return out


def _department(d: dict[str, Any]) -> dict[str, Any]:
    return {"id": d["id"], "type": "department", "attributes": {"name": d["name"]}}


def _position(p: dict[str, Any]) -> dict[str, Any]:
    return {"id": p["id"], "type": "position", "attributes": {"title": p["title"]}}


def _work_location(w: dict[str, Any]) -> dict[str, Any]:
    return {"id": w["id"], "type": "work_location", "attributes": {"name": w["name"]}}


def _reference_index(items: list[dict[str, Any]], label: str) -> dict[str, str]:
    """Fixture references may name an object by id or by its label (name, title)."""
    index = {str(i[label]): i["id"] for i in items}
    index.update({i["id"]: i["id"] for i in items})
    return index


def _resolve(index: dict[str, str], ref: Any, what: str, who: str) -> str | None:
    if ref in (None, ""):
        return None
    if str(ref) not in index:
        raise ValueError(f"hrms seed: user {who} refers to unknown {what} {ref!r}")
    return index[str(ref)]


def _include(request: Request) -> tuple[str, ...]:
    """ASSUMED: `include` is a comma-separated list of INCLUDABLE names."""
    raw = request.query_params.get("include", "")
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    bad = [n for n in names if n not in INCLUDABLE]
    if bad:
        raise _validation_failed(
            "include", f"The include value {bad[0]!r} is not supported; "
                       f"use {', '.join(INCLUDABLE)}.")
    return names


def _page(request: Request) -> tuple[int, int]:
    """ASSUMED pagination: page[number] from 1, page[size] default 25, clamped to 100."""
    params = request.query_params
    number = _positive_int(params.get(PAGE_NUMBER, "1"), PAGE_NUMBER)
    size = _positive_int(params.get(PAGE_SIZE, str(DEFAULT_PAGE_SIZE)), PAGE_SIZE)
    return number, min(size, MAX_PAGE_SIZE)


def _positive_int(raw: str, field: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise _validation_failed(field, f"The {field} must be an integer of at least 1.")
    return value


def _page_body(request: Request, data: list[dict[str, Any]], total: int,
               number: int, size: int) -> dict[str, Any]:
    last = max((total + size - 1) // size, 1)
    # `URL.include_query_params` for each link, with the query parsed once, not per link.
    url = request.url
    params = parse_qsl(url.query, keep_blank_values=True)

    def link(n: int) -> str:
        query = MultiDict(params)
        query.update({PAGE_NUMBER: str(n), PAGE_SIZE: str(size)})
        return str(url.replace(query=urlencode(query.multi_items())))

    return {
        "data": data,
        "meta": {"total": total, "page": number, "size": size},
        "links": {
            "self": link(number),
            "next": link(number + 1) if number < last else None,
            "prev": link(number - 1) if number > 1 else None,
        },
    }
