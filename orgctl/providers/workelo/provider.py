"""Workelo (REST API v1.6, seeds 000 and 001) as a provider: unit organisations, employees
with their role and custom identifications, unit scopes, and journeys (tracks).

Identity: a unit's and an employee's key is their Workelo `external_id`; a live object
without one is keyed "id:<remote id>" and matched by fallback identities (a unit by name
within its parent, an employee by email; `match_live` then writes every reference to it as
the config key); `external_id` is also an attribute, so the plan shows the one update that
stamps the key onto such an object and the next plan matches by key.
A scope is "<employee key>:<unit key>"; a journey "<employee key>.<journey key>" and, since
Workelo stores no journey key, also the identity "journey:<employee key>/<mobility>": the
plan matches journeys among open tracks by person and mobility, closed and cancelled tracks
being history (`match_live`). On an org evaluated on a date, the journeys the employees'
dates imply are wanted too (an onboarding, an offboarding, crossboardings: see
`orgctl.providers.workelo.journeys`), their templates read by mobility and unit.

Reads use the list endpoints at their largest page (100 asked; paging follows what the
server serves), pages concurrently: a no-change plan costs one token plus ceil(n/page)
requests per collection. Writes follow the seeds' user stories; where a seed is silent the
capability table says "assumed", and the provider notices when an assumption fails:

- the org-wide scope list is assumed; a server without it (404...) is read the documented
  way, per employee, once per run, with the cost in the plan (`_scopes`);
- fields the answers may not carry (an employee's identifications, job position, unit or
  role; a unit's parent or language; a journey's templates, end date, implications or
  invitation date) are unknown when absent: never drift, written at create only
  (`Provider.unknown_fields`);
- the unit update and delete routes are assumed (the seeds show none): a server without
  them fails that change, saying so, rather than counting it done;
- the fields that identify an object (ids, external_id, a journey's employee) must be
  there: an answer without them stops the plan before anything is written.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import NoneType
from typing import Any, ClassVar

from orgctl.config.build import UnitRoles
from orgctl.errors import ApiError, ProviderError, UnexpectedAnswer, UnknownOutcome, short
from orgctl.lifecycle import at
from orgctl.model import IMPLICATIONS, Employee, Journey, Org, ProviderConfig
from orgctl.providers.base import (
    Capability,
    Fields,
    Progress,
    Provider,
    Settings,
    Write,
    schema_file,
)
from orgctl.providers.http import ClientCredentials, Http, Page, Paging
from orgctl.providers.importing import NO_KEY
from orgctl.providers.workelo.journeys import SOURCES, Implied, implied
from orgctl.resources import NOTHING, Action, Change, Resource

PAGE_SIZE = 100  # asked for; the seed names no cap, and paging follows what the server serves
PAGING = Paging("offset", PAGE_SIZE, size_param="limit", index_param="offset")
DEFAULT_RATE_LIMIT = "1000/h"  # seed 000 "API architecture": 1000 requests per hour per token
CLOSED_STATUSES = ("closed", "cancelled")  # seed 000 "Statuses": journeys orgctl never changes
FOLLOW_UP_ATTEMPTS = 3  # a follow-up write (identification, start) whose outcome is unknown

# What reading relies on in each listed object (answers' shapes: see CAPABILITIES).
NAMED_FIELDS: Fields = {"id": int, "name": str}  # roles, identifications, levels, templates
UNIT_FIELDS: Fields = {"id": int, "name": str, "level_organization_id": int,
                       "external_id": (str, NoneType), "parent_id": (int, NoneType),
                       "language": (str, NoneType)}
EMPLOYEE_FIELDS: Fields = {"id": int, "first_name": str, "last_name": str, "email": str,
                           "external_id": (str, NoneType), "job_position": (str, NoneType),
                           "unit_organization": (dict, NoneType),
                           "identifications": (list, NoneType)}
IDENTIFICATION_FIELDS: Fields = {"identification_resource_id": int, "value": str}
SCOPE_FIELDS: Fields = {"id": int, "unit_organization_id": int}  # one employee's scopes
ALL_SCOPES_FIELDS: Fields = {**SCOPE_FIELDS, "employee_id": int}  # the assumed org-wide list
TRACK_FIELDS: Fields = {"id": int, "status": str, "mobility": str, "start_date": str,
                        "employee_id": (int, NoneType), "employee": (dict, NoneType),
                        "implications": (dict, NoneType), "template_ids": (list, NoneType),
                        "end_date": (str, NoneType), "invite_at": (str, NoneType)}
# Answer field -> attribute, for the fields an answer may leave out: unknown then, never
# drift. The seeds show units' and journeys' fields in create bodies only, and an example
# employee answer without identifications or job_position (seed 000 "Step 3").
UNIT_OPTIONAL = {"parent_id": "parent", "language": "language"}
EMPLOYEE_OPTIONAL = {"identifications": "identifications", "job_position": "job_position",
                     "unit_organization": "unit", "role": "role"}
TRACK_OPTIONAL = {"template_ids": "templates", "implications": "implications",
                  "end_date": "end_date"}


class _Shared(dict[str, str]):
    """Strings that many desired resources hold, each made once by `make` from its key
    (a unit's key, a role's name) on first use, then shared: 100,000 employees hold a few
    hundred unit addresses and lower-cased roles, not 200,000 copies made one by one."""

    def __init__(self, make: Callable[[str], str]):
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> str:
        made = self[key] = self.make(key)
        return made


def _implication_field(role: str) -> str:
    # seed 000 "Create a journey": implications {hr_id, second_hr_id, manager_id, ...}
    return f"{role}_id"


def _track_employee_id(track: Mapping[str, Any]) -> int | None:
    """The id of a track's employee: its employee_id, or the id in its employee block (the
    block of seed 000 "Create a journey"); None when it carries neither."""
    for found in (track.get("employee_id"), (track.get("employee") or {}).get("id")):
        if isinstance(found, int) and not isinstance(found, bool):
            return found
    return None


def _dated(emp: Employee) -> bool:
    """Whether `emp` has a date that may imply a journey (`implied`): most people have
    none, and are skipped without asking."""
    return emp.start_date is not None or emp.leave_date is not None or bool(emp.dated)


def _journey_owner(journey: Resource) -> str:
    """The key of a live journey's employee, from its identity "journey:<employee>/<mobility>"
    (its own key may be "id:<track id>")."""
    return journey.identities[0].removeprefix("journey:").rpartition("/")[0]


@dataclass(frozen=True, kw_only=True)
class WorkeloSettings(Settings):
    """client_id, client_secret (write them as ${ENV}); rate_limit ("1000/h" default, or
    an int per hour); timeout (seconds, default 30: seed 000 "Timeout: minimum 30 seconds
    recommended"), max_concurrency (default 8); crossboarding (`lifecycle.crossboarding`:
    a dated move to another unit gets a crossboarding journey; default false). The lead
    times of `lifecycle:` are read by `Provider.lead_days`."""

    client_id: str
    client_secret: str = field(repr=False)
    crossboarding: bool = False
    DEFAULT_RATE_LIMIT: ClassVar[str | None] = DEFAULT_RATE_LIMIT

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> WorkeloSettings:
        client_id = str(raw.get("client_id") or "")
        client_secret = str(raw.get("client_secret") or "")
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if not value:
                raise ProviderError(provider, f"setting `{name}` is required (create it in "
                                              f"Workelo under Account > Advanced > API and "
                                              f"write it as ${{ENV_VAR}})")
        lifecycle = raw.get("lifecycle") or {}
        crossboarding = lifecycle.get("crossboarding", False)
        if not isinstance(crossboarding, bool):
            raise ProviderError(provider, f"setting `lifecycle.crossboarding` must be true or "
                                          f"false, not {crossboarding!r}")
        return cls(client_id=client_id, client_secret=client_secret,
                   crossboarding=crossboarding, **cls.common(provider, raw))


class WorkeloProvider(Provider):
    """Workelo. Settings: client_id, client_secret (write them as ${ENV}), optional timeout
    (seconds, default 30: seed 000 "Timeout: minimum 30 seconds recommended"),
    max_concurrency (default 8), rate_limit ("1000/h" default, or an int per hour)."""

    # Operations the seeds do not show at all (removing an identification, deactivating or
    # deleting an employee, changing a journey's templates or mobility, cancelling a
    # journey) are not capabilities: unsupported() plans them as manual, with the reason.
    type: ClassVar[str] = "workelo"
    SCHEMA: ClassVar[dict[str, Any]] = schema_file(__package__)
    KINDS: ClassVar[tuple[str, ...]] = ("unit", "employee", "scope", "journey")
    IMPORT_SETTINGS: ClassVar[dict[str, str]] = {
        "client_id": "${WORKELO_CLIENT_ID}", "client_secret": "${WORKELO_CLIENT_SECRET}"}
    # A scope exists only as part of a managed employee: one absent from the config goes.
    PRUNE_DEFAULTS: ClassVar[dict[str, bool]] = {"scope": True}
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = (
        Capability("get a token", "POST", "/tokens", "documented",
                   "000 \"Authentication / Get a token\" (multipart, expires_in 3600)"),
        Capability("list user roles", "GET", "/user_roles", "documented", "001 §1"),
        Capability("list identification resources", "GET", "/identification_resources",
                   "documented", "001 §1"),
        Capability("list level organisations", "GET", "/level_organizations", "documented",
                   "000 \"Understand the hierarchy\""),
        Capability("list templates", "GET", "/templates", "documented",
                   "000 \"Templates and models\""),
        Capability("list the templates of a mobility and unit (journeys the dates imply)",
                   "GET", "/templates?mobility=&unit_organization_id=", "documented",
                   "000 \"Templates and models\", 001 §3 \"Prerequisites\"; one request per "
                   "(mobility, unit) an implied journey needs, at read or, for a unit not in "
                   "Workelo yet, before the journey's POST"),
        Capability("list unit organisations", "GET", "/unit_organizations", "documented",
                   "000 \"Understand the hierarchy\"; external_id, parent_id, language in "
                   "answers assumed (the seed shows them in the create body only)"),
        Capability("create a unit", "POST", "/unit_organizations", "documented",
                   "000 \"Create an organization\""),
        Capability("rename or move a unit", "PUT", "/unit_organizations/{id}", "assumed",
                   "no unit update in the seeds"),
        Capability("delete a unit", "DELETE", "/unit_organizations/{id}", "assumed",
                   "no unit delete in the seeds"),
        Capability("list employees", "GET", "/employees", "documented",
                   "000 \"List employees\"; external_id and job_position in answers assumed "
                   "(the create body's; an answer without external_id stops the plan); "
                   "identifications assumed: absent, they are unknown (set at create only)"),
        Capability("find an employee by external_id", "GET", "/employees?external_id=",
                   "documented", "000 \"Search an employee by external_id\""),
        Capability("get an employee (to confirm an identification after an unknown "
                   "outcome)", "GET", "/employees/{id}", "documented",
                   "001 §1 \"View / Update the employee\""),
        Capability("create an employee", "POST", "/employees", "documented",
                   "000 \"Create an employee\""),
        Capability("update an employee", "PUT", "/employees/{id}", "documented",
                   "001 §1 \"View / Update the employee\"; body = create fields (assumed)"),
        Capability("set an identification", "POST", "/employees/{id}/identifications",
                   "documented", "000 \"Add custom identifications\"; a second POST for the "
                   "same resource replaces the value (assumed)"),
        Capability("list all unit scopes", "GET", "/unit_organization_managements", "assumed",
                   "the seeds list scopes per employee only (001 §2); one paged list keeps a "
                   "plan at ceil(n/page) requests; answered 400/404/405/501: falls back to "
                   "the next row, once per run"),
        Capability("list an employee's scopes", "GET",
                   "/employees/{id}/unit_organization_managements", "documented",
                   "001 §2 \"Manage an employee's scopes\"; the fallback reads every live "
                   "employee's, one request each (the plan notes the count and the time at "
                   "the rate limit)"),
        Capability("grant a unit scope", "POST", "/employees/{id}/unit_organization_managements",
                   "documented", "000 \"Grant access to a unit\""),
        Capability("revoke a unit scope", "DELETE", "/unit_organization_managements/{id}",
                   "documented", "000 \"Revoke access\""),
        Capability("list journeys", "GET", "/tracks", "documented",
                   "001 §4 \"List and filter journeys\"; the employee (employee_id or "
                   "employee.id: without either the plan stops) and the create body's fields "
                   "in answers assumed; template_ids, implications, end_date, invite_at "
                   "absent: unknown (set at create only)"),
        Capability("create a journey (draft)", "POST", "/tracks", "documented",
                   "000 \"Create a journey\", 001 §3; an employee block naming an existing "
                   "external_id attaches the journey to that employee (assumed)"),
        Capability("get a journey (to confirm a start after an unknown outcome)", "GET",
                   "/tracks/{id}", "documented", "001 §4 \"View journey details\""),
        Capability("start a journey / send the invitation", "PUT", "/tracks/{id}/start",
                   "documented", "000 \"Send the journey invitation\", 001 §3 (invite_at)"),
        Capability("move dates, change implications", "PUT", "/tracks/{id}", "documented",
                   "001 §4 \"Update a journey\" (apply_on_actions); only the roles that "
                   "change are sent, as in its partial example"),
    )

    SETTINGS: ClassVar[type[Settings]] = WorkeloSettings
    # seed 001 §3 reads a journey's manager and HR from `GET /employees?role=manager` and
    # `?role=hr`: those roles hold the relations. The seeds do not say whether an HR user
    # or the owner may also manage; orgctl assumes the ladder colleague < manager < hr <
    # owner (so HR may manage HR staff, as in examples/acme).
    ROLE_HOLDERS: ClassVar[Mapping[str, frozenset[str]]] = {
        "manager": frozenset({"manager", "hr", "owner"}),
        "second_manager": frozenset({"manager", "hr", "owner"}),
        "hr": frozenset({"hr", "owner"}),
        "second_hr": frozenset({"hr", "owner"}),
    }
    # Days before the event Workelo acts on it (the provider block's `lifecycle:` overrides
    # them). Workelo is where a journey is prepared: the joiner's employee and onboarding
    # exist, and the invitation is scheduled, two weeks before the first day, so HR,
    # manager and buddy have their tasks in time (seed 000: a template's resources are
    # scheduled relative to a key date, some before it); likewise a leaver's offboarding and
    # a mover's crossboarding. Two weeks is a common notice for both, and is a default only.
    LEAD_DAYS: ClassVar[dict[str, int]] = {"joiners": 14, "leavers": 14, "movers": 14}
    settings: WorkeloSettings

    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        # Reference data (names <-> ids), filled by read() or on first need by apply().
        self._catalog: dict[str, dict[int, str]] | None = None
        self._closed_tracks: dict[str, str] = {}  # remote id -> status, from read()
        self._live_people: set[str] = set()  # keys and "email:" identities, from read()
        # Template names by (mobility, unit key), for the journeys the dates imply: resolved
        # by read() for the units Workelo has (`_resolve_templates`).
        self._unit_templates: dict[tuple[str, str], tuple[str, ...]] = {}

    # -- plumbing -----------------------------------------------------------------------
    def make_http(self) -> Http:
        """A client with its own token and pacer: the rate limit is per token."""
        return self.client(ClientCredentials("/tokens", self.settings.client_id,
                                             self.settings.client_secret))

    def explain(self, err: ApiError) -> ProviderError:
        """A refusal in words that say what to fix; never a credential."""
        body = err.body if isinstance(err.body, dict) else {}
        said = short("; ".join(str(e) for e in body.get("errors") or []) or err.body, 200)
        what = f"{err.method} {err.path}"
        if err.status == 401:
            return ProviderError(self.name, f"{what} answered 401 ({said}): the "
                                            f"client_id/client_secret were refused or the "
                                            f"token expired; check the credentials")
        if err.status == 404 and err.path.startswith("/tokens"):
            return ProviderError(self.name, f"POST /tokens answered 404: is {self.config.url} "
                                            f"the API base URL (it ends in /v1)?")
        if err.status in (404, 405) and err.method == "PUT" \
                and err.path.startswith("/unit_organizations/"):
            return ProviderError(self.name, f"{what} answered {err.status} ({said}): the unit "
                                            f"is gone, or this Workelo has no unit update "
                                            f"(assumed: the seeds show none); rename or move "
                                            f"the unit in Workelo")
        return ProviderError(self.name, f"{what} answered {err.status}: {said}")

    async def _list(self, path: str, fields: Fields, params: dict[str, Any] | None = None,
                    pages: Counter[str] | None = None,
                    each: Callable[[list[dict[str, Any]]], list[Resource]] | None = None,
                    ) -> list[Any]:
        """Every item of a list endpoint, each page's shape checked once: {data: [objects
        with `fields`], pagination: {total, limit, offset}} (seed 000 "Understand a typical
        response"). Paging follows the server: the limit it echoes, the total it announces;
        an answer without `pagination` is the whole list. `pages` counts the pages read.
        `each` makes the resources kept of each page's items once checked, instead of the
        items (told apart by remote id, as items are by id): no answer outlives its page."""
        what = f"GET {path}"

        def page(body: Any) -> Page:
            if pages is not None:
                pages[what] += 1
            answer = self.expect_object(what, body, {"data": list,
                                                     "pagination": (dict, NoneType)})
            info = answer.get("pagination")
            if info is not None:
                self.expect_object(what, info, {"total": (int, NoneType),
                                                "limit": (int, NoneType)})
            rows = self.expect_items(what, answer["data"], fields)
            if each is not None:
                rows = each(rows)
            if info is None:
                return Page(rows, paged=False)
            return Page(rows, total=info.get("total"), limit=info.get("limit") or None)

        with self.explaining():
            return await self.http().collect(path, params, PAGING, page,
                                             ident=_remote_id if each is not None else None)

    # -- capabilities -------------------------------------------------------------------
    def _person(self, key: str) -> Employee | None:
        """The desired employee `key` of this run (see `bind`), for journey blocks."""
        return self.org.employees.get(key) if self.org is not None else None

    def removal(self, kind: str) -> Action | None:
        # Employees: no documented delete or deactivation. Journeys: no documented cancel.
        return {"unit": "delete", "scope": "delete"}.get(kind)

    def is_inactive(self, resource: Resource) -> bool:
        # An employee with an offboarding journey is read as inactive (see read()).
        return resource.attrs.get("status") == "inactive"

    def unsupported(self, change: Change) -> str | None:
        fields = {name.split(".", 1)[0] for name in change.fields}
        after = change.after or {}
        if change.kind == "employee":
            emp = self._person(change.key)
            if change.action == "create" and emp is not None and not emp.active:
                # Only a leaver by date has no status to keep the diff from creating them.
                return (f"{change.key} has left ({emp.status_from}) and is absent from "
                        f"Workelo: orgctl does not create a leaver")
            if change.action in ("deactivate", "delete") or "status" in fields:
                return ("Workelo documents no way to deactivate or delete an employee (seed "
                        "000 \"Employee management\"): offboard them with an offboarding "
                        "journey and deactivate them in Workelo by hand")
            before = (change.before or {}).get("identifications") or {}
            dropped = sorted(set(before) - set(after.get("identifications") or {}))
            if "identifications" in fields and dropped:
                return (f"Workelo documents no way to remove an identification "
                        f"({', '.join(dropped)}): remove it in Workelo or add it to the config")
        if change.kind == "scope" and change.action == "update":
            return "a scope has no fields to update"
        if change.kind == "journey":
            reason = self._journey_unsupported(change, fields)
            if reason:
                return reason
        return self._unknown_names(change)

    def _journey_unsupported(self, change: Change, fields: set[str]) -> str | None:
        if change.action in ("delete", "deactivate"):
            return "Workelo documents no way to cancel a journey: cancel it in Workelo"
        if change.action == "create" and change.source in SOURCES.values() \
                and (change.after or {}).get("templates") == []:
            return self._no_template(change)
        if change.action == "create":
            # The employee block would create an employee Workelo does not know (seed 001
            # §3): wrong for someone the config says has left, whom orgctl never creates.
            key = change.refs.get("employee", "").rsplit(".", 1)[-1]
            emp = self._person(key)
            if (emp is not None and not emp.active and key not in self._live_people
                    and f"email:{emp.email.lower()}" not in self._live_people):
                return (f"{key} is inactive in the config and absent from Workelo, so it is "
                        f"not created; a journey would create it")
        if change.action != "update":
            return None
        status = self._closed_tracks.get(change.remote_id or "")
        if status:
            return f"the journey is {status} in Workelo; a {status} journey is not changed"
        before = change.before or {}
        if "mobility" in fields or "templates" in fields:
            return ("Workelo documents no way to change a journey's mobility or templates "
                    "after creation (seed 001 §4 updates dates and stakeholders only)")
        if "started" in fields and not (change.after or {}).get("started"):
            return "a started journey cannot be put back to draft"
        if "invite_at" in fields and before.get("started"):
            return ("the invitation date of a started journey cannot be changed (seed 001 "
                    "§3 sets it at start only)")
        return None

    def _no_template(self, change: Change) -> str:
        """Why a journey the dates imply cannot be created: Workelo has no template for its
        mobility in its unit (or the employee has no unit to choose templates by)."""
        mobility = (change.after or {}).get("mobility")
        unit = change.refs.get("unit", "").rpartition(".")[2]
        if not unit:
            return (f"the employee has no unit, so no {mobility} template can be chosen by "
                    f"unit: give them a unit, or write the journey by hand with its templates")
        return (f"Workelo has no {mobility} template for unit {unit} (GET /templates?"
                f"mobility={mobility}&unit_organization_id=… lists none): create one in "
                f"Workelo, or write the journey by hand with its templates")

    def _unknown_names(self, change: Change) -> str | None:
        """Names the config uses that Workelo does not know: orgctl does not create levels,
        roles, identification resources or templates, so the API would answer 422."""
        catalog = self._catalog
        after = change.after or {}
        if catalog is None or change.action not in ("create", "update"):
            return None
        missing = []
        if change.kind == "unit" and "level" in after and \
                after["level"] not in catalog["levels"].values():
            missing.append(f"level {after['level']!r}")
        if change.kind == "employee":
            if "role" in after and after["role"] not in catalog["roles"].values():
                known = ", ".join(sorted(catalog["roles"].values())) or "none"
                missing.append(f"role {after['role']!r} (its roles, GET /user_roles: {known})")
            missing += [f"identification {name!r}" for name in after.get("identifications") or {}
                        if name not in catalog["identifications"].values()]
        if change.kind == "journey":
            missing += [f"template {name!r}" for name in after.get("templates") or []
                        if name not in catalog["templates"].values()]
        if missing:
            return (f"Workelo has no {', '.join(missing)}: create it in Workelo first "
                    f"(orgctl does not manage them)")
        return None


    # -- desired ------------------------------------------------------------------------
    def desired(self, org: Org) -> list[Resource]:
        """Units, employees, scopes, the journeys the config writes and, on an org evaluated
        on a date, the journeys the employees' dates imply (`_implied_journeys`)."""
        out: list[Resource] = []
        roles = UnitRoles(org) if org.as_of is not None else None
        for unit in org.units.values():
            # external_id is the key, repeated as an attribute so that a live unit matched
            # by name (it has none) gets it stamped by an update the plan shows.
            attrs: dict[str, Any] = {"external_id": unit.key, "name": unit.name,
                                     "level": unit.level.lower(), "parent": unit.parent}
            if unit.language:
                attrs["language"] = unit.language
            parent = unit.parent or ""
            out.append(Resource(
                kind="unit", key=unit.key, attrs=attrs,
                identities=tuple(f"name:{parent}/{n}" for n in (unit.name, *unit.previously)),
                refs={"parent": self.address("unit", unit.parent)} if unit.parent else {},
                protected=unit.protected))
        employee_at, unit_at = f"{self.name}.employee.", f"{self.name}.unit."
        units, lowered = _Shared(lambda key: unit_at + key), _Shared(str.lower)
        for emp in org.employees.values():
            journeys = [self._desired_journey(emp, journey) for journey in emp.journeys
                        ] if emp.journeys else []
            if roles is not None and _dated(emp):
                journeys += self._implied_journeys(org, emp, roles)
            # A leaver by date while their offboarding is wanted: the journey is how
            # Workelo records leaving, so the employee says nothing of a status (and the
            # day they leave changes nothing here, in the plan or the scheduled section).
            offboarded = emp.leave_date is not None and any(
                j.attrs["mobility"] == "offboarding" for j in journeys)
            out.append(self._desired_employee(emp, offboarded, units, lowered))
            for unit_key in emp.unit_scopes:
                out.append(Resource(
                    kind="scope", key=f"{emp.key}:{unit_key}",
                    attrs={"employee": emp.key, "unit": unit_key},
                    refs={"employee": employee_at + emp.key, "unit": units[unit_key]}))
            if journeys:
                out += journeys
        return out

    def implied(self, org: Org, emp: Employee) -> list[Implied]:
        """Every journey `emp`'s dates imply here, under this block's lead times and
        crossboarding policy, whatever the window (`org` is evaluated on a date)."""
        assert org.as_of is not None
        if not _dated(emp):
            return []  # most people: no date, nothing implied (and no lead times to look up)
        leads = {event: self.lead_days(event) for event in ("joiners", "leavers", "movers")}
        return list(implied(emp, org.as_of, leads, self.settings.crossboarding))

    def _implied_journeys(self, org: Org, emp: Employee, roles: UnitRoles) -> list[Resource]:
        """The journeys `emp`'s dates imply that are wanted on `org.as_of` (see
        `journeys`), but for one the config writes by hand with the same mobility and start
        date: that one wins. Each is started with its lead day as invitation date; its
        implications are the person's relations (after the move, for a crossboarding); its
        templates those Workelo gives the mobility and unit (read by `read()`; unread for a
        unit Workelo does not have yet: chosen before the POST, `_templates_at_create`)."""
        assert org.as_of is not None
        dues = self.implied(org, emp)
        if not dues:
            return []
        written = {(j.mobility, j.start_date) for j in emp.journeys}
        out = []
        for due in dues:
            if not due.wanted(org.as_of) or (due.mobility, due.on) in written:
                continue
            person = emp
            if due.mobility == "crossboarding" and due.on > org.as_of:
                person = at(emp, due.on, roles)  # the relations the move gives
            templates = self._unit_templates.get((due.mobility, due.unit)) if due.unit else ()
            journey = Journey(due.key, emp.key, due.mobility, due.on, templates=templates or (),
                              invite_at=due.lead_day, start=True)
            resource = replace(self._desired_journey(person, journey), source=due.source)
            if templates is None:
                del resource.attrs["templates"]
            if due.unit:
                resource.refs["unit"] = self.address("unit", due.unit)
            out.append(resource)
        return out

    def _is_live(self, emp: Employee) -> bool:
        """Whether this run's read found `emp` in Workelo (by key or email)."""
        return (emp.key in self._live_people
                or f"email:{emp.email.lower()}" in self._live_people)

    def _desired_employee(self, emp: Employee, offboarded: bool, units: Mapping[str, str],
                          lowered: Mapping[str, str]) -> Resource:
        """`units`: unit addresses by key, `lowered`: roles lower-cased (`desired` shares
        them between its employees)."""
        attrs: dict[str, Any] = {"external_id": emp.key, "first_name": emp.first_name,
                                 "last_name": emp.last_name, "email": emp.email,
                                 "role": lowered[emp.role]}
        if emp.job_position:
            attrs["job_position"] = emp.job_position
        elif "job_position" in emp.cleared:
            attrs["job_position"] = None  # `job_position: null`: cleared in Workelo
        if emp.unit:
            attrs["unit"] = emp.unit
        if emp.identifications:
            attrs["identifications"] = dict(emp.identifications)
        if not emp.active and (not offboarded or not self._is_live(emp)):
            # Workelo cannot deactivate: the plan shows this as manual (see unsupported()),
            # unless Workelo shows them offboarded (see read() and match_live()). A leaver
            # Workelo does not have keeps the status, so nothing creates them.
            attrs["status"] = emp.status
        return Resource(
            kind="employee", key=emp.key, attrs=attrs,
            identities=tuple(f"email:{e.lower()}" for e in (emp.email, *emp.previously))
            if emp.previously else (f"email:{emp.email.lower()}",),
            refs={"unit": units[emp.unit]} if emp.unit else NOTHING,
            protected=emp.protected)

    def _desired_journey(self, emp: Employee, journey: Journey) -> Resource:
        implications: dict[str, str | None] = {}
        for role in IMPLICATIONS:
            if role in journey.implications:
                who = journey.implications[role]  # None: cleared for this journey
            elif role in emp.cleared:
                who = None  # `buddy: null` on the employee: cleared on their journeys
            else:
                who = emp.relation(role)
                if not who:
                    continue  # unset: Workelo's, never compared
            implications[role] = who
        attrs: dict[str, Any] = {
            "mobility": journey.mobility, "start_date": journey.start_date.isoformat(),
            "templates": sorted(journey.templates), "implications": implications}
        if journey.end_date:
            attrs["end_date"] = journey.end_date.isoformat()
        elif "end_date" in journey.cleared:
            attrs["end_date"] = None
        if journey.start:
            attrs["started"] = True
            if journey.invite_at:
                attrs["invite_at"] = journey.invite_at.isoformat()
        refs = {"employee": self.address("employee", emp.key)}
        refs.update({role: self.address("employee", who)
                     for role, who in implications.items() if who})
        return Resource(kind="journey", key=journey.address_key, attrs=attrs,
                        identities=(f"journey:{emp.key}/{journey.mobility}",), refs=refs)

    def match_live(self, desired: list[Resource], live: list[Resource]) -> list[Resource]:
        """`live` as the diff should see it. Every reference to a unit or employee that has
        no external_id (keyed "id:<remote id>") is written as the config key it matches by
        a fallback identity: child units' parents, employees' units, scopes, journeys and
        their implications; stamping the key, or a rename declared with `previously:`, is
        then one update of that object, not a change of everything that refers to it. A
        journey's implications keep only the roles its config names: a role the config
        leaves unset (a buddy chosen in Workelo) is Workelo's, never drift. Pure: returns
        new resources."""
        keys = _fallback_keys(desired, live)
        if keys:
            live = [_rekeyed(r, keys) for r in live]
        return self._journeys_matched(desired, live)

    def _journeys_matched(self, desired: list[Resource], live: list[Resource]
                          ) -> list[Resource]:
        """Live journeys keyed as the desired journeys they match, by person and mobility.

        Workelo stores no journey key, so a desired journey is matched, in this order, to
        an open track of the same person, mobility and start date; to a closed or
        cancelled one of the same (the journey happened: it is that track, equal, no
        change); to another open track of the person and mobility (its start date moved:
        an update). Closed and cancelled tracks are history: never diffed, never shown. An
        open track nothing matches is left out too when its mobility and start date are
        those of a journey the person's dates imply (before or after the window it is
        wanted in: orgctl's own journey, in progress); otherwise it stays, unmanaged.
        Implied journeys compare neither templates nor invitation date once the track
        exists (both are set at create only), and implications only the roles the config
        names (`_with_roles`). An employee with a desired offboarding that is not history
        reads inactive: the journey is how Workelo records leaving, so once it exists, or
        this plan creates it, nothing more is needed."""
        wanted = [d for d in desired if d.kind == "journey"]
        tracks = [r for r in live if r.kind == "journey"]
        if not wanted and not tracks:
            return live

        def whose(r: Resource) -> tuple[str, str]:
            return _journey_owner(r), r.attrs["mobility"]

        open_tracks: dict[tuple[str, str], list[Resource]] = {}
        history: dict[tuple[str, str, str], Resource] = {}
        for r in sorted(tracks, key=lambda t: t.attrs["start_date"]):
            if r.server.get("status") in CLOSED_STATUSES:
                history.setdefault((*whose(r), r.attrs["start_date"]), r)
            else:
                open_tracks.setdefault(whose(r), []).append(r)
        matched: dict[str, Resource] = {}  # desired key -> the live journey as the diff sees it
        taken: set[str] = set()  # remote ids of the open tracks matched

        def claim(d: Resource, r: Resource) -> None:
            taken.add(str(r.remote_id))
            unknown = r.unknown | ({"templates", "invite_at"} if d.source in SOURCES.values()
                                   else frozenset())
            matched[d.key] = replace(r, key=d.key, unknown=unknown)

        for d in wanted:  # the same start date, open
            r = next((r for r in open_tracks.get(whose(d), ()) if r.remote_id not in taken
                      and r.attrs["start_date"] == d.attrs["start_date"]), None)
            if r is not None:
                claim(d, r)
        for d in wanted:  # the same start date, history: the journey happened
            r = history.get((*whose(d), d.attrs["start_date"]))
            if d.key not in matched and r is not None:
                matched[d.key] = replace(r, key=d.key, attrs=dict(d.attrs), unknown=frozenset())
        for d in sorted(wanted, key=lambda w: w.attrs["start_date"]):  # a moved start date
            r = next((r for r in open_tracks.get(whose(d), ()) if r.remote_id not in taken),
                     None)
            if d.key not in matched and r is not None:
                claim(d, r)

        own = self._implied_events()
        wanted_keys = {d.key for d in wanted}
        kept = []
        for r in tracks:
            if r.remote_id in taken or r.server.get("status") in CLOSED_STATUSES \
                    or (*whose(r), r.attrs["start_date"]) in own:
                continue
            kept.append(replace(r, key=f"{NO_KEY}{r.remote_id}") if r.key in wanted_keys
                        else r)
        leaving = {_journey_owner(d) for d in wanted if d.attrs["mobility"] == "offboarding"
                   and matched.get(d.key, d).server.get("status") not in CLOSED_STATUSES}
        others = [replace(r, attrs={**r.attrs, "status": "inactive"})
                  if r.kind == "employee" and r.key in leaving else r
                  for r in live if r.kind != "journey"]
        named = _named_roles(wanted)
        return others + [_with_roles(r, named) for r in (*matched.values(), *kept)]

    def _implied_events(self) -> set[tuple[str, str, str]]:
        """(employee, mobility, start date) of every journey the bound org's dates imply."""
        org = self.org
        if org is None or org.as_of is None:
            return set()
        return {(i.employee, i.mobility, i.on.isoformat())
                for emp in filter(_dated, org.employees.values()) for i in self.implied(org, emp)}

    # -- live ---------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        """Every collection through its list endpoint at 100 per page, all collections and
        their pages concurrently (employees once the units and identification resources
        that name theirs are in), scopes as `_scopes` says; the fields that identify
        objects checked before anything else; normalised into the shapes desired()
        produces."""
        done = 0

        async def counted(rows_read: Awaitable[list[Any]]) -> list[Any]:
            nonlocal done
            rows = await rows_read
            done += len(rows)
            if progress:
                progress(done, None)
            return rows

        async def units() -> list[dict[str, Any]]:
            rows = await counted(self._list("/unit_organizations", UNIT_FIELDS))
            self._check_keyed("GET /unit_organizations", rows)
            return rows

        idents_read = asyncio.ensure_future(counted(self._list("/identification_resources",
                                                               NAMED_FIELDS)))
        units_read = asyncio.ensure_future(units())

        async def employees() -> tuple[list[Resource], dict[int, str]]:
            # Normalised page by page, each answer dropped once read (kept to the end, the
            # answers of 100,000 employees held some 70 MB besides their resources): after
            # the units and identification resources, which name their unit and
            # identifications.
            unit_key = _unit_keys(await units_read)
            names = _names(await idents_read)
            roles: dict[str, str] = {}  # each role as answered -> lower-cased, one string each
            # Each employee's key by Workelo id; of a row listed twice, the first, which is
            # the one `Http.collect` keeps.
            keys: dict[int, str] = {}

            def page(rows: list[dict[str, Any]]) -> list[Resource]:
                # Checked as soon as read: the scopes may need a request per employee.
                self._check_keyed("GET /employees", rows)
                self.expect_items("GET /employees", [i for e in rows
                                                     for i in e.get("identifications") or ()],
                                  IDENTIFICATION_FIELDS)
                made = [self._employee(e, unit_key, names, roles) for e in rows]
                for e, r in zip(rows, made, strict=True):
                    keys.setdefault(e["id"], r.key)
                return made

            return await counted(self._list("/employees", EMPLOYEE_FIELDS, each=page)), keys

        employees_read = asyncio.ensure_future(employees())
        results = await asyncio.gather(
            counted(self._list("/user_roles", NAMED_FIELDS)), idents_read,
            counted(self._list("/level_organizations", NAMED_FIELDS)),
            counted(self._list("/templates", NAMED_FIELDS)), units_read,
            counted(self._list("/tracks", TRACK_FIELDS)), employees_read,
            counted(self._scopes(employees_read)), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        roles, idents, levels, templates, units, tracks, (people, emp_key), scopes = results
        self._check_tracks(tracks)
        self._catalog = _catalog(roles, idents, levels, templates)
        resources = self._normalise(units, people, emp_key, scopes, tracks)
        await self._resolve_templates({key: remote for remote, key in _unit_keys(units).items()})
        if progress:
            progress(len(resources), len(resources))
        return resources

    async def _resolve_templates(self, unit_ids: Mapping[str, int]) -> None:
        """The templates of each (mobility, unit) that a journey the bound org's dates imply
        needs, today or later (seed 001 §3: `GET /templates?mobility=&unit_organization_id=`),
        one request each, concurrently: at most three per unit, and only for people with
        dates, joiners not due here yet included (`Org.joiners`), so the scheduled section
        shows their onboarding with its templates. A unit Workelo does not have yet is
        resolved before the journey's POST instead. Nothing without a bound org evaluated
        on a date (an import)."""
        org = self.org
        if org is None or org.as_of is None:
            return
        people = filter(_dated, [*org.employees.values(), *org.joiners.values()])
        needed = sorted({(i.mobility, i.unit) for emp in people
                         for i in self.implied(org, emp)
                         if i.unit in unit_ids and i.wanted_between(org.as_of, date.max)})
        found = await asyncio.gather(*(self._templates_of(mobility, unit_ids[unit])
                                       for mobility, unit in needed))
        self._unit_templates = dict(zip(needed, found, strict=True))

    async def _templates_of(self, mobility: str, unit_id: int) -> tuple[str, ...]:
        """The names of the templates Workelo gives `mobility` in the unit `unit_id`."""
        rows = await self._list("/templates", NAMED_FIELDS,
                                {"mobility": mobility, "unit_organization_id": unit_id})
        return tuple(sorted(str(t["name"]) for t in rows))

    async def _scopes(self, employees_read: Awaitable[tuple[list[Resource], dict[int, str]]]
                      ) -> list[dict[str, Any]]:
        """Every unit scope, with its employee_id.

        The org-wide `GET /unit_organization_managements` is assumed (seed 001 §2 lists
        scopes per employee only): one paged list, ceil(n/page) requests. Where the server
        does not serve it, the documented route is read for every live employee, one
        request each, and the plan says so with the time that takes at the rate limit.
        Every live employee, not only those the config lists: a scope absent from the
        config is removed (`PRUNE_DEFAULTS`) whoever holds it, so a scope of someone the
        config left out must be seen, as the org-wide list sees it; and live state is read
        before the config is bound (and without one by `orgctl import`)."""

        async def everyone() -> list[dict[str, Any]]:
            return await self._list("/unit_organization_managements", ALL_SCOPES_FIELDS)

        async def per_employee() -> list[dict[str, Any]]:
            _, employees = await employees_read  # their keys by id
            pages: Counter[str] = Counter()

            async def held_by(emp_id: int) -> list[dict[str, Any]]:
                rows = await self._list(f"/employees/{emp_id}/unit_organization_managements",
                                        SCOPE_FIELDS, pages=pages)
                return [{**row, "employee_id": emp_id} for row in rows]

            results = await asyncio.gather(*(held_by(emp_id) for emp_id in employees),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            self.note_fallback(
                "scopes", f"GET /employees/{{id}}/unit_organization_managements for each of "
                          f"the {len(employees)} employees", sum(pages.values()))
            return [row for rows in results for row in rows]

        return await self.assumed("scopes", everyone, per_employee)

    def _check_keyed(self, what: str, rows: list[dict[str, Any]]) -> None:
        """Fail closed on units or employees answered without the `external_id` field, their
        key: null is a value (an object with no key yet, matched by its fallback identity),
        but absent, every object would look unkeyed and be rewritten on every run. Raised
        before anything is planned, so nothing is written from such an answer."""
        for row in rows:
            if "external_id" not in row:
                raise UnexpectedAnswer(self.name, what, "external_id is missing", row)

    def _check_tracks(self, tracks: list[dict[str, Any]]) -> None:
        """Fail closed on a track that does not say whose journey it is (read as anyone's,
        its journey would be created again or changed on someone else's behalf)."""
        for t in tracks:
            if _track_employee_id(t) is None:
                raise UnexpectedAnswer(self.name, "GET /tracks", "employee_id is missing, and "
                                                                 "no employee block with an id",
                                       t)

    def _normalise(self, units: list[dict[str, Any]], people: list[Resource],
                   emp_key: dict[int, str], scopes: list[dict[str, Any]],
                   tracks: list[dict[str, Any]]) -> list[Resource]:
        """Units, the employees (read as resources: `_employee`), scopes and journeys as
        resources; `emp_key`: each employee's key by its Workelo id."""
        catalog = self._catalog
        assert catalog is not None
        unit_key = _unit_keys(units)
        out: list[Resource] = []
        for u in units:
            parent = unit_key.get(u.get("parent_id")) if u.get("parent_id") else None
            attrs: dict[str, Any] = {"external_id": u.get("external_id"), "name": u["name"],
                                     "level": catalog["levels"].get(u["level_organization_id"],
                                                                    "").lower(),
                                     "parent": parent}
            if u.get("language"):
                attrs["language"] = u["language"]
            unknown = self.unknown_fields("GET /unit_organizations", "unit", u, UNIT_OPTIONAL)
            out.append(Resource(kind="unit", key=unit_key[u["id"]], attrs=attrs,
                                identities=(f"name:{parent or ''}/{u['name']}",),
                                remote_id=str(u["id"]), unknown=unknown))
        out += people
        # The email identities added in place: a union of two sets would build a third
        # and insert every one of their 200,000 entries again.
        self._live_people = {r.key for r in people}
        self._live_people.update([r.identities[0] for r in people])
        for s in scopes:
            employee = emp_key.get(s["employee_id"])
            unit = unit_key.get(s["unit_organization_id"])
            if employee is None or unit is None:
                continue  # refers to an object the lists did not show (changed mid-read)
            out.append(Resource(kind="scope", key=f"{employee}:{unit}",
                                attrs={"employee": employee, "unit": unit},
                                remote_id=str(s["id"])))
        journeys = self._normalise_tracks(tracks, emp_key)
        offboarded = _offboarded(journeys)
        if offboarded:
            for r in people:
                if r.key in offboarded:
                    r.attrs["status"] = "inactive"
        return out + journeys

    def _employee(self, e: dict[str, Any], unit_key: Mapping[int, str],
                  identification_names: Mapping[int, str], roles: dict[str, str]) -> Resource:
        """One listed employee as a resource: `unit_key` names units by id,
        `identification_names` identification resources; `roles` keeps one lower-cased
        string per role (filled as met)."""
        unit = e.get("unit_organization")
        role = str(e.get("role") or "")
        if role not in roles:
            roles[role] = role.lower()
        attrs = {"external_id": e.get("external_id"),
                 "first_name": e["first_name"], "last_name": e["last_name"],
                 "email": e["email"], "role": roles[role],
                 "unit": unit_key.get(unit.get("id")) if unit else None,
                 # Workelo documents no employee status: leaving is recorded as an
                 # offboarding journey, so that is what makes someone inactive here.
                 "status": "active"}
        unknown = self.unknown_fields("GET /employees", "employee", e, EMPLOYEE_OPTIONAL)
        if "identifications" not in unknown:
            held = e["identifications"]
            attrs["identifications"] = {
                identification_names.get(i["identification_resource_id"],
                                         str(i["identification_resource_id"])):
                i["value"] for i in held} if held else {}
        if e.get("job_position"):
            attrs["job_position"] = e["job_position"]
        return Resource(kind="employee", key=e.get("external_id") or f"{NO_KEY}{e['id']}",
                        attrs=attrs, identities=(f"email:{e['email'].lower()}",),
                        remote_id=str(e["id"]), unknown=unknown)

    def _normalise_tracks(self, tracks: list[dict[str, Any]],
                          emp_key: dict[int, str]) -> list[Resource]:
        """Open journeys first, so that the key "<employee>.<mobility>" goes to the open
        one; a closed or cancelled journey is read (for import, and so that the config's
        journey of its date is that one: `match_live`) but never diffed or changed."""
        catalog = self._catalog
        assert catalog is not None
        self._closed_tracks = {}
        taken: set[str] = set()
        out = []
        ordered = sorted(tracks, key=lambda t: (t["status"] in CLOSED_STATUSES, -t["id"]))
        for t in ordered:
            emp_id = _track_employee_id(t)
            employee = emp_key.get(emp_id, f"{NO_KEY}{emp_id}")
            key = f"{employee}.{t['mobility']}"
            if key in taken:
                key = f"{NO_KEY}{t['id']}"
            taken.add(key)
            started = t["status"] != "draft"
            # A draft has no invitation date (PUT /tracks/{id}/start sets it, seed 000), so
            # only a started track's absent invite_at is unknown.
            optional = {**TRACK_OPTIONAL, "invite_at": "invite_at"} if started \
                else TRACK_OPTIONAL
            unknown = self.unknown_fields("GET /tracks", "journey", t, optional)
            attrs: dict[str, Any] = {"mobility": t["mobility"], "start_date": t["start_date"],
                                     "started": started}
            if "templates" not in unknown:
                attrs["templates"] = sorted(catalog["templates"].get(i, str(i))
                                            for i in t.get("template_ids") or [])
            if "implications" not in unknown:
                attrs["implications"] = {
                    role: emp_key.get(who, f"{NO_KEY}{who}") for role in IMPLICATIONS
                    if (who := (t.get("implications") or {}).get(_implication_field(role)))
                    is not None}
            if t.get("end_date"):
                attrs["end_date"] = t["end_date"]
            if t.get("invite_at"):
                attrs["invite_at"] = t["invite_at"]
            if t["status"] in CLOSED_STATUSES:
                self._closed_tracks[str(t["id"])] = t["status"]
            out.append(Resource(kind="journey", key=key, attrs=attrs,
                                identities=(f"journey:{employee}/{t['mobility']}",),
                                remote_id=str(t["id"]), server={"status": t["status"]},
                                unknown=unknown))
        return out

    async def _ensure_catalog(self) -> dict[str, dict[int, str]]:
        if self._catalog is None:
            roles, idents, levels, templates = await asyncio.gather(
                self._list("/user_roles", NAMED_FIELDS),
                self._list("/identification_resources", NAMED_FIELDS),
                self._list("/level_organizations", NAMED_FIELDS),
                self._list("/templates", NAMED_FIELDS))
            self._catalog = _catalog(roles, idents, levels, templates)
        return self._catalog

    async def _id_of(self, table: str, name: str) -> int:
        catalog = await self._ensure_catalog()
        for rid, known in catalog[table].items():
            if known == name:
                return rid
        raise ProviderError(self.name, f"Workelo has no {table[:-1]} {name!r}; create it in "
                                       f"Workelo first")

    # -- apply --------------------------------------------------------------------------
    async def apply(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Refuse what `unsupported` refuses (the catalogue may have changed since the
        plan), else make the change through `WRITES`."""
        reason = self.unsupported(change)
        if reason:
            raise ProviderError(self.name, f"{change.address}: {reason}")
        return await super().apply(change, ids)

    def _ref(self, change: Change, name: str, ids: Mapping[str, str]) -> int:
        address = change.refs.get(name)
        if address is None or address not in ids:
            raise ProviderError(self.name, f"{change.address}: {address or name} has no "
                                           f"Workelo id yet; it must be applied first")
        return int(ids[address])

    async def _create(self, change: Change, ids: Mapping[str, str], path: str,
                      body: dict[str, Any]) -> int:
        """POST a create; when its outcome is unknown, look the object up before anything
        else, so the follow-up writes go to the object that was made, never a second one."""
        try:
            created = await self.call("POST", path, json=body)
        except UnknownOutcome as lost:
            try:
                found = await self.lookup(change, ids)
            except ProviderError as failed:
                # Still unknown: the engine looks again and, if it cannot tell either,
                # ends the change `unknown` rather than send the create twice.
                raise UnknownOutcome(self.name, f"{lost}; lookup failed: {failed}") from None
            if found is None:
                raise  # not made: the engine tries again
            return int(found)
        return int(self.expect_object(f"POST {path}", created, {"id": int})["id"])

    # units: seed 000 "Create an organization"; update and delete assumed
    def _unit_body(self, change: Change, ids: Mapping[str, str],
                   level_id: int) -> dict[str, Any]:
        after = change.after or {}
        body: dict[str, Any] = {"external_id": change.key, "name": after["name"],
                                "level_organization_id": level_id,
                                "parent_id": self._ref(change, "parent", ids)
                                if after.get("parent") else None}
        if "language" in after:
            body["language"] = after["language"]
        return body

    async def _create_unit(self, change: Change, ids: Mapping[str, str]) -> str:
        level = await self._id_of("levels", (change.after or {})["level"])
        return str(await self._create(change, ids, "/unit_organizations",
                                      self._unit_body(change, ids, level)))

    async def _update_unit(self, change: Change, ids: Mapping[str, str]) -> str | None:
        level = await self._id_of("levels", (change.after or {})["level"])
        await self.call("PUT", f"/unit_organizations/{change.remote_id}",
                         json=self._unit_body(change, ids, level))
        return change.remote_id

    async def _delete_unit(self, change: Change, ids: Mapping[str, str]) -> None:
        """DELETE /unit_organizations/{id}, an assumed route. A 404 is what a retried delete
        that had committed gets, and also what a server without the route answers: then
        the unit is looked for, and one still listed fails the change instead of being
        counted as removed (and planned for removal again on every run)."""
        path = f"/unit_organizations/{change.remote_id}"
        with self.explaining():
            answer = await self.http().request("DELETE", path, allow=(404, 405))
        if answer.status_code in (404, 405) and any(
                str(u["id"]) == change.remote_id
                for u in await self._list("/unit_organizations", UNIT_FIELDS)):
            raise ProviderError(self.name, f"DELETE {path} answered {answer.status_code} and "
                                           f"the unit is still listed: this Workelo has no "
                                           f"unit delete (assumed: the seeds show none); "
                                           f"remove the unit in Workelo")

    async def _delete(self, path: str) -> None:
        # Already gone (a retried DELETE that had committed) is what we wanted.
        await self.call("DELETE", path, allow=(404,))

    # employees: seed 000 "Create an employee", "Add custom identifications"; 001 §1
    async def _employee_body(self, change: Change, ids: Mapping[str, str]) -> dict[str, Any]:
        after = change.after or {}
        body: dict[str, Any] = {"external_id": change.key, "first_name": after["first_name"],
                                "last_name": after["last_name"], "email": after["email"],
                                "user_role_id": await self._id_of("roles", after["role"])}
        if "job_position" in after:
            body["job_position"] = after["job_position"]
        if after.get("unit"):
            body["unit_organization_id"] = self._ref(change, "unit", ids)
        return body

    async def _create_employee(self, change: Change, ids: Mapping[str, str]) -> str:
        emp_id = await self._create(change, ids, "/employees",
                                    await self._employee_body(change, ids))
        await self._follow_up(change, emp_id, self._set_identifications(
            emp_id, (change.after or {}).get("identifications") or {}, {}))
        return str(emp_id)

    async def _follow_up(self, change: Change, remote_id: int, step: Awaitable[None]) -> None:
        """A write that completes a create (identifications, start). If its outcome stays
        unknown, the change fails: raised as unknown, the engine would find the created
        object, call the create done, and the follow-up would be lost. A re-run finishes."""
        try:
            await step
        except UnknownOutcome as err:
            raise ProviderError(self.name, f"{change.address}: created (id {remote_id}), "
                                           f"but not completed: {err}; re-run apply to "
                                           f"finish it") from None

    async def _update_employee(self, change: Change, ids: Mapping[str, str]) -> str | None:
        fields = {name.split(".", 1)[0] for name in change.fields}
        emp_id = int(change.remote_id or 0)
        if fields - {"identifications"}:
            await self.call("PUT", f"/employees/{emp_id}",
                             json=await self._employee_body(change, ids))
        await self._set_identifications(
            emp_id, (change.after or {}).get("identifications") or {},
            (change.before or {}).get("identifications") or {})
        return change.remote_id

    async def _set_identifications(self, emp_id: int, wanted: dict[str, str],
                                   have: dict[str, str]) -> None:
        """POST each new or changed identification. The POST is not idempotent by the
        book, so an unknown outcome is checked against the employee before a retry."""
        for name, value in sorted(wanted.items()):
            if have.get(name) == value:
                continue
            resource_id = await self._id_of("identifications", name)
            body = {"identification_resource_id": resource_id, "value": value}
            for attempt in range(1, FOLLOW_UP_ATTEMPTS + 1):
                try:
                    await self.call("POST", f"/employees/{emp_id}/identifications", json=body)
                    break
                except UnknownOutcome:
                    what = f"GET /employees/{emp_id}"
                    current = self.expect_object(
                        what, await self.call("GET", f"/employees/{emp_id}"),
                        {"identifications": (list, NoneType)})
                    held = self.expect_items(what, current.get("identifications") or [],
                                             IDENTIFICATION_FIELDS)
                    if any(i["identification_resource_id"] == resource_id
                           and i["value"] == value for i in held):
                        break
                    if attempt == FOLLOW_UP_ATTEMPTS:
                        raise

    # scopes: seed 000 "Grant access to a unit" / "Revoke access"
    async def _create_scope(self, change: Change, ids: Mapping[str, str]) -> str:
        emp_id = self._ref(change, "employee", ids)
        body = {"unit_organization_id": self._ref(change, "unit", ids)}
        return str(await self._create(
            change, ids, f"/employees/{emp_id}/unit_organization_managements", body))

    async def _delete_scope(self, change: Change, ids: Mapping[str, str]) -> None:
        await self._delete(f"/unit_organization_managements/{change.remote_id}")

    # journeys: seed 000 "Create a journey", "Send the journey invitation"; 001 §3, §4
    async def _create_journey(self, change: Change, ids: Mapping[str, str]) -> str:
        after = change.after or {}
        employee_key = change.refs["employee"].rsplit(".", 1)[-1]
        template_ids = ([await self._id_of("templates", n) for n in after["templates"]]
                        if "templates" in after else await self._templates_at_create(change, ids))
        body: dict[str, Any] = {
            "mobility": after["mobility"], "start_date": after["start_date"],
            "employee": self._employee_block(employee_key, ids),
            "implications": self._implications(
                change, ids, after.get("implications") or {}),
            "template_ids": template_ids,
        }
        if after.get("end_date"):
            body["end_date"] = after["end_date"]
        track_id = await self._create(change, ids, "/tracks", body)
        if after.get("started"):
            await self._follow_up(change, track_id, self._start(track_id, after.get("invite_at")))
        return str(track_id)

    async def _templates_at_create(self, change: Change, ids: Mapping[str, str]) -> list[int]:
        """The templates of a journey the dates imply whose unit Workelo did not have when
        the plan was made (created earlier in this apply): asked now, by mobility and unit
        (seed 001 §3). None is a refusal, as the plan would have said had it known."""
        mobility = (change.after or {})["mobility"]
        rows = await self._list("/templates", NAMED_FIELDS, {
            "mobility": mobility, "unit_organization_id": self._ref(change, "unit", ids)})
        if not rows:
            raise ProviderError(self.name, f"{change.address}: {self._no_template(change)}")
        return sorted(t["id"] for t in rows)

    def _employee_block(self, key: str, ids: Mapping[str, str]) -> dict[str, Any]:
        """The journey's employee block (seed 000 "Create a journey"): the external_id of
        the employee created or matched before, which Workelo resolves to that employee
        (assumed), with the config's details in case it needs them."""
        block: dict[str, Any] = {"external_id": key}
        emp = self._person(key)
        if emp is not None:
            block.update(first_name=emp.first_name, last_name=emp.last_name, email=emp.email)
            if emp.job_position:
                block["job_position"] = emp.job_position
            unit_id = ids.get(self.address("unit", emp.unit)) if emp.unit else None
            if unit_id:
                block["unit_organization_id"] = int(unit_id)
        return block

    def _implications(self, change: Change, ids: Mapping[str, str],
                      roles: Iterable[str]) -> dict[str, int | None]:
        """The implications block for `roles` only, as seed 001's examples write it (a
        create names the roles it sets, an update the ones it changes): a role left out is
        kept as Workelo has it, so a buddy chosen in Workelo is never cleared. A role the
        config sets to null is sent as null: cleared (assumed, see CAPABILITIES)."""
        wanted = (change.after or {}).get("implications") or {}
        out: dict[str, int | None] = {}
        for role in IMPLICATIONS:
            if role not in roles:
                continue
            if role in wanted and wanted[role] is None:
                if change.action != "create":  # nothing to clear on a new journey
                    out[_implication_field(role)] = None
                continue
            out[_implication_field(role)] = self._ref(change, role, ids)
        return out

    async def _start(self, track_id: int, invite_at: str | None) -> None:
        """PUT /tracks/{id}/start. A PUT is retried after an unknown outcome; if the first
        try had started the journey, the retry's refusal only confirms it."""
        body = {"invite_at": invite_at} if invite_at else {}
        try:
            await self.http().put(f"/tracks/{track_id}/start", json=body)
        except ApiError as err:
            track = self.expect_object(f"GET /tracks/{track_id}",
                                       await self.call("GET", f"/tracks/{track_id}"),
                                       {"status": str})
            if err.status != 422 or track["status"] == "draft":
                raise self.explain(err) from err

    async def _update_journey(self, change: Change, ids: Mapping[str, str]) -> str | None:
        fields = {name.split(".", 1)[0] for name in change.fields}
        after = change.after or {}
        track_id = int(change.remote_id or 0)
        body: dict[str, Any] = {}
        if fields & {"start_date", "end_date"}:
            body.update(start_date=after["start_date"], apply_on_actions=True)
            if "end_date" in after:
                body["end_date"] = after["end_date"]
        if "implications" in fields:
            # "implications.manager" when a role changed; "implications" when the whole
            # block did (match_live leaves only roles the config names, so every one is set).
            changed: set[str] = set()
            for name in change.fields:
                head, _, role = name.partition(".")
                if head == "implications":
                    changed |= {role} if role else set(after.get("implications") or {})
            body["implications"] = self._implications(change, ids, changed)
        if body:
            await self.call("PUT", f"/tracks/{track_id}", json=body)
        if "started" in fields and after.get("started"):
            await self._start(track_id, after.get("invite_at"))
        return change.remote_id

    WRITES: ClassVar[Mapping[tuple[str, Action], Write]] = {
        ("unit", "create"): _create_unit, ("unit", "update"): _update_unit,
        ("unit", "delete"): _delete_unit,
        ("employee", "create"): _create_employee, ("employee", "update"): _update_employee,
        ("scope", "create"): _create_scope, ("scope", "delete"): _delete_scope,
        ("journey", "create"): _create_journey, ("journey", "update"): _update_journey,
    }

    # -- lookup -------------------------------------------------------------------------
    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """The remote id of what `change` creates, if it exists: by external_id for units
        and employees, by unit within the employee's scopes, by employee, mobility and start
        date among open journeys."""
        after = change.after or {}
        if change.kind == "employee":
            found = await self.call("GET", "/employees", params={"external_id": change.key})
            page = self.expect_object("GET /employees", found, {"data": list})
            rows = self.expect_items("GET /employees", page["data"], {"id": int})
            return str(rows[0]["id"]) if rows else None
        if change.kind == "unit":
            # Filtered by level (documented) and scanned: the seeds show no external_id filter.
            level = await self._id_of("levels", after["level"])
            rows = await self._list("/unit_organizations", UNIT_FIELDS,
                                    {"level_organization_id": level})
            return next((str(u["id"]) for u in rows if u.get("external_id") == change.key),
                        None)
        if change.kind == "scope":
            emp_id = self._ref(change, "employee", ids)
            unit_id = self._ref(change, "unit", ids)
            rows = await self._list(f"/employees/{emp_id}/unit_organization_managements",
                                    SCOPE_FIELDS)
            return next((str(s["id"]) for s in rows if s["unit_organization_id"] == unit_id),
                        None)
        if change.kind == "journey":
            emp_id = self._ref(change, "employee", ids)
            rows = await self._list("/tracks", TRACK_FIELDS)
            return next((str(t["id"]) for t in rows
                         if (t.get("employee_id") or (t.get("employee") or {}).get("id"))
                         == emp_id and t["mobility"] == after["mobility"]
                         and t["start_date"] == after["start_date"]
                         and t["status"] not in CLOSED_STATUSES), None)
        return None


def _offboarded(journeys: list[Resource]) -> set[str]:
    """The employees Workelo shows as gone: whose latest onboarding or offboarding (by
    start date, not cancelled) is an offboarding. A cancelled offboarding is someone who
    did not leave after all; a rehire's newer onboarding puts them back (their old
    offboarding, closed, is history)."""
    latest: dict[str, tuple[str, bool]] = {}
    for j in journeys:
        if j.server["status"] == "cancelled" or j.attrs["mobility"] == "crossboarding":
            continue
        owner = _journey_owner(j)
        mark = (j.attrs["start_date"], j.attrs["mobility"] == "offboarding")
        latest[owner] = max(latest.get(owner, mark), mark)
    return {owner for owner, (_, offboarding) in latest.items() if offboarding}


def _catalog(roles: list[Any], idents: list[Any], levels: list[Any],
             templates: list[Any]) -> dict[str, dict[int, str]]:
    """Reference data by id. Roles and levels are compared lower-cased: the config writes
    `division`, Workelo shows `Division`."""
    return {
        "roles": {r["id"]: str(r["name"]).lower() for r in roles},
        "identifications": _names(idents),
        "levels": {lv["id"]: str(lv["name"]).lower() for lv in levels},
        "templates": _names(templates),
    }


def _names(rows: list[dict[str, Any]]) -> dict[int, str]:
    """The names of listed identification resources or templates, by id."""
    return {row["id"]: str(row["name"]) for row in rows}


def _unit_keys(units: list[dict[str, Any]]) -> dict[int, str]:
    """Each listed unit's key, by id: its external_id, else "id:<id>"."""
    return {u["id"]: u.get("external_id") or f"{NO_KEY}{u['id']}" for u in units}


def _remote_id(resource: Resource) -> str | None:
    return resource.remote_id


def _fallback_keys(desired: list[Resource], live: list[Resource]) -> dict[tuple[str, str], str]:
    """(kind, live key) -> config key, for the live units and employees without an
    external_id that a desired one without a keyed live twin matches by identity, first
    identity first as in the diff. Units top-down: a unit's name identity holds its parent's
    key, known once the parent is matched."""
    unkeyed = [r for r in live if r.key.startswith(NO_KEY) and r.kind in ("unit", "employee")]
    if not unkeyed:
        return {}  # every live unit and employee has its key: the usual case
    live_keys = {(r.kind, r.key) for r in live}
    wanted = [d for d in desired
              if d.kind in ("unit", "employee") and (d.kind, d.key) not in live_keys]
    keys: dict[tuple[str, str], str] = {}
    claimed: set[tuple[str, str]] = set()
    progress = bool(wanted and unkeyed)
    while progress:
        progress = False
        index: dict[tuple[str, str], str] = {}
        for r in unkeyed:
            if (r.kind, r.key) in keys:
                continue
            if r.kind == "unit":
                parent = r.attrs.get("parent")
                parent = keys.get(("unit", parent), parent) if parent else ""
                identities: tuple[str, ...] = (f"name:{parent}/{r.attrs['name']}",)
            else:
                identities = r.identities
            for identity in identities:
                index.setdefault((r.kind, identity), r.key)
        for d in wanted:
            if (d.kind, d.key) in claimed:
                continue
            for identity in d.identities:
                found = index.get((d.kind, identity))
                if found is not None and (d.kind, found) not in keys:
                    keys[(d.kind, found)] = d.key
                    claimed.add((d.kind, d.key))
                    progress = True
                    break
    return keys


def _rekeyed(r: Resource, keys: Mapping[tuple[str, str], str]) -> Resource:
    """`r` with its references to unkeyed units and employees written as the config keys
    `keys` matched them to (see `_fallback_keys`)."""

    def unit(key: Any) -> Any:
        return keys.get(("unit", key), key)

    def employee(key: Any) -> Any:
        return keys.get(("employee", key), key)

    if r.kind == "unit":
        parent = unit(r.attrs.get("parent"))
        return replace(r, attrs={**r.attrs, "parent": parent},
                       identities=(f"name:{parent or ''}/{r.attrs['name']}",))
    if r.kind == "employee":
        return replace(r, attrs={**r.attrs, "unit": unit(r.attrs.get("unit"))})
    if r.kind == "scope":
        emp, unit_key = employee(r.attrs["employee"]), unit(r.attrs["unit"])
        return replace(r, key=f"{emp}:{unit_key}", attrs={"employee": emp, "unit": unit_key})
    if r.kind == "journey":
        owner, _, mobility = r.identities[0].removeprefix("journey:").rpartition("/")
        emp = employee(owner)
        key = f"{emp}.{mobility}" if r.key == f"{owner}.{mobility}" else r.key
        attrs = dict(r.attrs)
        if "implications" in attrs:
            attrs["implications"] = {role: employee(who)
                                     for role, who in attrs["implications"].items()}
        return replace(r, key=key, identities=(f"journey:{emp}/{mobility}",), attrs=attrs)
    return r


def _named_roles(desired: Iterable[Resource]) -> dict[str, frozenset[str]]:
    """The implication roles each desired journey names, by its key and by its identity
    (how the diff matches a live journey to it)."""
    named: dict[str, frozenset[str]] = {}
    for d in desired:
        if d.kind == "journey":
            roles = frozenset(d.attrs.get("implications") or ())
            named[d.key] = roles
            for identity in d.identities:
                named.setdefault(identity, roles)
    return named


def _with_roles(r: Resource, named: Mapping[str, frozenset[str]]) -> Resource:
    """A live journey with only the implications the config names for it (all of them
    when the config has no such journey: nothing is compared then)."""
    implications = r.attrs.get("implications")
    roles = named.get(r.key, named.get(r.identities[0]))
    if roles is None or implications is None:
        return r
    # Every named role, None where Workelo has none: `buddy: null` then matches a journey
    # without a buddy, and clears one that has.
    kept = {role: implications.get(role) for role in IMPLICATIONS if role in roles}
    if kept == implications:
        return r
    return replace(r, attrs={**r.attrs, "implications": kept})
