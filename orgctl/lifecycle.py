"""People change on dates: the org as it is on one day, and what changes on the days after.

The config writes dates once: an employee's `start_date` and `leave_date`, and `changes:`
that take effect on a day (a move of unit, manager or job). A plan is of a date (`--as-of`,
default today in the config's `lifecycle.timezone`), and `evaluate` gives the org on that
day:

- a dated change applies from its day on (relations a unit gives are inherited again from
  the new unit);
- from `leave_date` on, the person is inactive: every system removes what it removes for a
  leaver, on that day, not a day early or late;
- before `start_date`, less the system's lead time (`lead`, from the provider's
  `lifecycle.joiners`), the person is not in the org yet: they are listed in
  `Org.pending` with the day they are due, and every reference to them (a team's members,
  someone's buddy) waits for them too.

`events_by_day` lists the days within a horizon on which the org changes, so the plan can
show what is scheduled (`engine.plan`), and `orphans` finds the active people a plan would
leave with a departed or not-yet-started manager, HR, administrative owner or buddy
(`engine.safety` refuses such a plan). The module knows no system: a provider gets an
evaluated org and maps it as it maps any other.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from operator import attrgetter
from zoneinfo import ZoneInfo

from orgctl.config.build import CLEARABLE, UnitRoles
from orgctl.errors import OrgctlError
from orgctl.model import IMPLICATIONS, UNIT_ROLES, Employee, Journey, Org, Team, Unit

RELATION_NAMES = {"manager": "manager", "hr": "HR", "second_hr": "administrative owner",
                  "second_manager": "second manager", "buddy": "buddy"}


TODAY_VARIABLE = "ORGCTL_TODAY"
"""An environment variable naming the day to take as today (YYYY-MM-DD): a run that must
not depend on the calendar (a test suite, a rehearsal). `--as-of` wins over it."""


def today(org: Org, now: datetime | None = None) -> date:
    """Today in the config's time zone (`lifecycle.timezone`, default UTC), unless
    $ORGCTL_TODAY names the day."""
    pinned = os.environ.get(TODAY_VARIABLE)
    if pinned and now is None:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise OrgctlError(f"${TODAY_VARIABLE}={pinned!r} is not a date: write "
                              f"YYYY-MM-DD") from None
    moment = now or datetime.now(timezone.utc)
    return moment.astimezone(ZoneInfo(org.lifecycle.timezone)).date()


def has_dates(org: Org) -> bool:
    """Whether anything in the org depends on the date."""
    return any(e.start_date or e.leave_date or e.dated for e in org.employees.values())


def at(employee: Employee, day: date, roles: UnitRoles) -> Employee:
    """`employee` as they are on `day`: dated changes due applied, inactive from their
    leave date. Itself when nothing about them depends on the day."""
    due = [d for d in employee.dated if d.on <= day]
    left = employee.leave_date is not None and employee.leave_date <= day
    if not due and not left:
        return employee
    person = employee
    if due:
        person = UnitRoles.uninherited(employee)
        values: dict[str, object] = {}
        for dated in due:
            values.update(dated.values)
        cleared = set(person.cleared)
        fields: dict[str, object] = {}
        for name, value in values.items():
            if value is None:
                if name in CLEARABLE:
                    cleared.add(name)
                fields[name] = {"identifications": {}, "unit_scopes": ()}.get(name)
            else:
                cleared.discard(name)
                fields[name] = value
        email = fields.get("email")
        if isinstance(email, str) and email.lower() != employee.email.lower():
            # The old address is how the systems still know them until the update.
            fields["previously"] = (employee.email, *employee.previously)
        person = roles.inherit(dataclasses.replace(person, **fields,  # type: ignore[arg-type]
                                                   cleared=frozenset(cleared)))
    if left and person.active:
        person = dataclasses.replace(
            person, status="inactive",
            status_from=f"{employee.status_from} (leave_date {employee.leave_date})")
    return person


def evaluate(org: Org, day: date, lead: int | None = 0) -> Org:
    """The org on `day`, for a system that gets joiners `lead` days before they start
    (None: every joiner is there, for naming whom a change concerns)."""
    if not has_dates(org):  # the same org on every day: no copy of 100,000 people
        return Org(units=org.units, teams=org.teams, employees=org.employees,
                   providers=org.providers, lifecycle=org.lifecycle, as_of=day)
    roles = UnitRoles(org)
    ahead = timedelta(days=lead or 0)
    pending: dict[str, date] = {}
    joiners: dict[str, Employee] = {}
    employees: dict[str, Employee] = {}
    for key, employee in org.employees.items():
        if (lead is not None and employee.start_date is not None
                and employee.start_date - ahead > day):
            pending[key] = employee.start_date - ahead
            joiners[key] = at(employee, employee.start_date, roles)
            continue
        employees[key] = at(employee, day, roles)
    units, teams = org.units, org.teams
    if pending:
        units = {k: _unit_without(u, pending) for k, u in units.items()}
        teams = {k: _team_without(t, pending) for k, t in teams.items()}
        employees = {k: _employee_without(e, pending) for k, e in employees.items()}
    return Org(units=units, teams=teams, employees=employees, providers=org.providers,
               lifecycle=org.lifecycle, as_of=day, pending=pending, joiners=joiners)


_UNIT_HOLDERS = attrgetter(*UNIT_ROLES)
_HOLDERS = attrgetter(*IMPLICATIONS)  # `Employee.relation` of each, at once


def _unit_without(unit: Unit, gone: dict[str, date]) -> Unit:
    if gone.keys().isdisjoint(_UNIT_HOLDERS(unit)):
        return unit  # nearly always: asked at C speed, a unit at a time of every part
    drop = {role: None for role in UNIT_ROLES if getattr(unit, role) in gone}
    return dataclasses.replace(unit, **drop)


def _team_without(team: Team, gone: dict[str, date]) -> Team:
    if gone.keys().isdisjoint(team.managers) and gone.keys().isdisjoint(team.members):
        return team
    return dataclasses.replace(team, managers=tuple(k for k in team.managers if k not in gone),
                               members=tuple(k for k in team.members if k not in gone))


def _employee_without(employee: Employee, gone: dict[str, date]) -> Employee:
    drop = {} if gone.keys().isdisjoint(_HOLDERS(employee)) else {
        role: None for role in IMPLICATIONS if employee.relation(role) in gone}
    journeys = employee.journeys
    if journeys and any(who in gone for j in journeys for who in j.implications.values()):
        journeys = tuple(_journey_without(j, gone) for j in journeys)
    if not drop and journeys is employee.journeys:
        return employee
    return dataclasses.replace(employee, **drop, journeys=journeys)  # type: ignore[arg-type]


def _journey_without(journey: Journey, gone: dict[str, date]) -> Journey:
    kept = {role: who for role, who in journey.implications.items() if who not in gone}
    return dataclasses.replace(journey, implications=kept)


def events_by_day(org: Org, after: date, until: date,
                  leads: Iterable[int] = (0,)) -> dict[date, set[str]]:
    """The days in (after, until] on which the org, seen by a system with any of the
    `leads`, can change (starts, leaves and dated changes, each less every lead), each
    with the employees whose dates fall on it."""
    shifts = [timedelta(days=n) for n in sorted({0, *leads})]
    days: dict[date, set[str]] = {}
    for key, employee in org.employees.items():
        if not (employee.dated or employee.start_date or employee.leave_date):
            continue  # most people: nothing dated (their two lists cost 0.017 s at 100,000)
        events = [d.on for d in employee.dated]
        events += [e for e in (employee.start_date, employee.leave_date) if e is not None]
        for event in events:
            for shift in shifts:
                if after < event - shift <= until:
                    days.setdefault(event - shift, set()).add(key)
    return days


class Neighbourhood:
    """Whose desired state in a system a change to some employees can touch, so that what a
    day changes can be computed on those people alone (engine.schedule), not the whole org.

    Around an employee: who they point at (manager, HR, buddy..., in any of their dated
    values) and who points at them, the managers above them (a reporting team nests under
    its manager's), the reports of their direct managers (whose teams gain or lose them),
    their own reports and their reports' reports (the teams nesting under theirs), and the
    holders of every unit's roles (inherited by whoever moves into the unit). Built once
    per org; over-including costs time only, never correctness, which
    tests/engine/test_schedule_parts.py checks against the whole org."""

    def __init__(self, org: Org):
        self.org = org
        self.points_at: dict[str, set[str]] = {}
        self.pointed_by: dict[str, set[str]] = {}
        self.reports: dict[str, set[str]] = {}
        manager_at = IMPLICATIONS.index("manager")
        for key, employee in org.employees.items():
            # Their relations as set (a key or None), at C speed; then those their dated
            # changes and journeys set, which few people have.
            own = _HOLDERS(employee)
            held = set(own)
            managers = [own[manager_at]]
            if employee.dated or employee.journeys:
                values = [*(d.values for d in employee.dated),
                          *(j.implications for j in employee.journeys)]
                held.update(v.get(role) for v in values for role in IMPLICATIONS)
                managers += [v.get("manager") for v in values]
            held = {who for who in held if isinstance(who, str) and who != key}
            self.points_at[key] = held
            for who in held:
                self.pointed_by.setdefault(who, set()).add(key)
            for manager in managers:
                if isinstance(manager, str):
                    self.reports.setdefault(manager, set()).add(key)
        self.unit_roles = {who for u in org.units.values() for who in _UNIT_HOLDERS(u) if who}

    def around(self, keys: Iterable[str]) -> set[str]:
        found = set(keys)
        people = set(found)
        for key in found:
            # Whom they point at, and who points at them (a buddy who joins).
            people |= self.points_at.get(key, set()) | self.pointed_by.get(key, set())
            # Their managers up the chain (reporting teams nest along it); the reports of
            # their direct managers (a team that loses or gains them); their reports, and
            # their reports' reports (the teams that nest under theirs).
            people |= self._managers_of(key)
            for manager in self._direct_managers(key):
                people |= self.reports.get(manager, set())
            for report in self.reports.get(key, ()):
                people.add(report)
                people |= self.reports.get(report, set())
        people |= self.unit_roles  # inherited by whoever moves into their unit
        return {k for k in people if k in self.org.employees}

    def _direct_managers(self, key: str) -> set[str]:
        employee = self.org.employees.get(key)
        if employee is None:
            return set()
        return {m for m in (employee.manager, *(d.values.get("manager")
                                                for d in employee.dated))
                if isinstance(m, str)}

    def _managers_of(self, key: str) -> set[str]:
        """Every manager above `key`, in any of the dated values, up the chain."""
        seen: set[str] = set()
        todo = [key]
        while todo:
            employee = self.org.employees.get(todo.pop())
            if employee is None:
                continue
            managers = {employee.manager, *(d.values.get("manager") for d in employee.dated)}
            for manager in managers:
                if isinstance(manager, str) and manager not in seen:
                    seen.add(manager)
                    todo.append(manager)
        return seen


def restricted(org: Org, keep: set[str]) -> Org:
    """`org` with only the employees in `keep`, the teams they are in (with only them) and
    those teams' parents, units as they are: the part of the org a day's change is computed
    on (see `Neighbourhood`)."""
    teams: dict[str, Team] = {}
    for key, team in org.teams.items():
        people = [m for m in (*team.managers, *team.members) if m in keep]
        if people:
            teams[key] = dataclasses.replace(
                team, managers=tuple(m for m in team.managers if m in keep),
                members=tuple(m for m in team.members if m in keep))
    for key in list(teams):
        parent = org.teams[key].parent
        while parent and parent in org.teams and parent not in teams:
            teams[parent] = dataclasses.replace(org.teams[parent], managers=(), members=())
            parent = org.teams[parent].parent
    return Org(units=org.units, teams=teams,
               employees={k: org.employees[k] for k in keep if k in org.employees},
               providers=org.providers, lifecycle=org.lifecycle)


# -- no one left behind ----------------------------------------------------------------------

@dataclass(frozen=True)
class Orphan:
    """An active person whose `role` (a relation, or an open journey's implication) is
    held by someone who is not there on the day: left, inactive, or not started yet."""

    employee: str
    role: str
    holder: str
    why: str  # "left on 2026-12-14", "is inactive", "starts on 2027-01-04"
    journey: str | None = None  # the journey's key, for an implication

    @property
    def relation(self) -> str:
        name = RELATION_NAMES.get(self.role, self.role)
        return f"{name} on journey {self.journey}" if self.journey else name

    def describe(self) -> str:
        return f"{self.employee}: {self.relation} {self.holder} {self.why}"


def orphans(org: Org, day: date) -> list[Orphan]:
    """Every active person on `day` left with a relation to someone who is not active on
    that day, in the org as the config dates it (a reassignment written as a dated change
    on or before the day is what counts)."""
    people = org.employees
    if has_dates(org):
        roles = UnitRoles(org)
        people = {k: at(e, day, roles) for k, e in org.employees.items()}

    def absent(key: str) -> str | None:
        original = org.employees[key]
        person = people[key]
        if original.start_date is not None and original.start_date > day:
            return f"starts on {original.start_date}"
        if original.leave_date is not None and original.leave_date <= day:
            return f"left on {original.leave_date}"
        if not person.active:
            return f"is inactive ({person.status_from})"
        return None

    # Who is away is asked once per person, not once per relation held (300,000 of them
    # at 100,000 people); `Employee.relation` for every role at once.
    gone = {key: why for key in people if (why := absent(key)) is not None}
    holders = _HOLDERS
    found: list[Orphan] = []
    away = gone.keys()
    for key, person in people.items():
        if key in gone:
            continue
        held = holders(person)
        if not away.isdisjoint(held):  # at C speed: nearly everyone's holders are here
            for role, holder in zip(IMPLICATIONS, held, strict=True):
                if holder != key and (why := gone.get(holder)):
                    found.append(Orphan(key, role, holder, why))
        if not person.journeys:
            continue
        for journey in _open_journeys(person, day):
            for role, holder in sorted(journey.implications.items()):
                if holder != key and (why := gone.get(holder)):
                    found.append(Orphan(key, role, holder, why, journey.key))
    found.sort(key=attrgetter("employee"))  # stable: each person's in the order found
    return found


def _open_journeys(person: Employee, day: date) -> Iterator[Journey]:
    for journey in person.journeys:
        if journey.end_date is None or journey.end_date >= day:
            yield journey


# -- what a day changes, for a reviewer ----------------------------------------------------

@dataclass
class Impact:
    """What the org's relations look like after a day's changes, against the day before:
    who changes manager, which units lose their HR contact, who gains or loses admin
    rights (a team's manager, unit scopes, a role other than colleague)."""

    day: date
    manager_changes: list[str] = dataclasses.field(default_factory=list)
    units_losing_hr: list[str] = dataclasses.field(default_factory=list)
    admin_gained: list[str] = dataclasses.field(default_factory=list)
    admin_lost: list[str] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.manager_changes or self.units_losing_hr or self.admin_gained
                    or self.admin_lost)

    def to_json(self) -> dict[str, object]:
        return {"on": self.day.isoformat(), "manager_changes": self.manager_changes,
                "units_losing_hr": self.units_losing_hr, "admin_gained": self.admin_gained,
                "admin_lost": self.admin_lost}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Impact:
        return cls(day=date.fromisoformat(str(data["on"])),
                   manager_changes=list(data.get("manager_changes") or []),  # type: ignore[call-overload]
                   units_losing_hr=list(data.get("units_losing_hr") or []),  # type: ignore[call-overload]
                   admin_gained=list(data.get("admin_gained") or []),  # type: ignore[call-overload]
                   admin_lost=list(data.get("admin_lost") or []))  # type: ignore[call-overload]


def impact(before: Org, after: Org) -> Impact:
    """What changes in relations from `before` to `after` (two evaluations of one org)."""
    assert after.as_of is not None
    result = Impact(after.as_of)
    for key, person in sorted(after.employees.items()):
        old = before.employees.get(key)
        if person.active and old is not None and old.active and old.manager != person.manager:
            result.manager_changes.append(key)
    for key, unit in sorted(after.units.items()):
        had = before.units[key].hr if key in before.units else None
        if had and _active(before, had) and not (unit.hr and _active(after, unit.hr)):
            result.units_losing_hr.append(key)
    rights_before, rights_after = _admins(before), _admins(after)
    result.admin_gained = sorted(k for k in rights_after if k not in rights_before)
    result.admin_lost = sorted(k for k in rights_before if k not in rights_after)
    return result


def _active(org: Org, key: str) -> bool:
    person = org.employees.get(key)
    return person is not None and person.active


def _admins(org: Org) -> set[str]:
    """Active people with rights over others: a team's managers, unit scopes, a role."""
    held = {k for t in org.teams.values() for k in t.managers}
    held |= {k for k, e in org.employees.items()
             if e.unit_scopes or e.role.lower() not in ("colleague", "")}
    return {k for k in held if _active(org, k)}
