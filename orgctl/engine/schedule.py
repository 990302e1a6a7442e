"""A plan of a date: the org evaluated on the plan's day for each system, what comes due on
the days after it, and what each day does to the org's relations.

The plan's own changes are live state against the org on the plan's day (`views`). The
scheduled section is what the plans of the coming days will add: for each day in the
horizon on which something is due (a start, a leave, a dated change, each less every
system's lead time: `lifecycle.events_by_day`), each system's desired state on that day is
diffed against its desired state the day before. Live state is used only to say how the
system removes what goes (a member is deactivated or deleted by its status), so the
section shows what a day changes, and the plan of that day shows it again against live
state, as due. Nothing here knows a system by name: a provider maps an evaluated org like
any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from orgctl import lifecycle
from orgctl.engine.diff import diff
from orgctl.engine.plan import Plan, Scheduled, desired_of, prune_enabled
from orgctl.model import Org
from orgctl.providers.base import Provider
from orgctl.resources import Action, Change, Finding, Resource


class Views:
    """The org on one day for each lead time, evaluated once per lead."""

    def __init__(self, org: Org, day: date | None):
        self.org = org
        self.day = day
        self._views: dict[int | None, Org] = {}

    def of(self, lead: int | None = 0) -> Org:
        """The org on the day for a system `lead` days ahead of joiners (None: everyone
        the config has, joiners included, for naming whom a change concerns)."""
        if self.day is None:
            return self.org
        if lead not in self._views:
            self._views[lead] = lifecycle.evaluate(self.org, self.day, lead)
        return self._views[lead]


def schedule(plan: Plan, views: Views, providers: list[Provider],
             live: dict[str, list[Resource]], horizon: int) -> list[Change]:
    """Fill the plan's date, scheduled section, impacts and orphans; return the scheduled
    changes (for naming their subjects).

    A day's changes are computed on the part of the org its events can touch
    (`lifecycle.Neighbourhood`: the people whose dates fall on it and those around them),
    the day before against the day itself: what does not change is left out on both sides,
    so a horizon costs in proportion to the people with dates in it, not to the org."""
    org, day = views.org, views.day
    assert day is not None
    plan.as_of, plan.horizon = day.isoformat(), horizon
    until = day + timedelta(days=horizon)
    leads = set().union(*(p.leads() for p in providers)) if providers else {0}
    events = lifecycle.events_by_day(org, day, until, leads)
    days = sorted(events)
    # Who changes on the plan's own day, for what it changes in relations (`_impacts`).
    today = lifecycle.events_by_day(org, day - timedelta(days=1), day).get(day, set())
    hood = lifecycle.Neighbourhood(org) if days or today else None
    parts = {on: lifecycle.restricted(org, hood.around(events[on])) for on in days
             } if hood else {}
    around_today = lifecycle.restricted(org, hood.around(today)) if hood and today else None
    evaluated: dict[tuple[date, date, int], Org] = {}  # see _provider_schedule
    for provider in providers:
        if provider.READ_ONLY:
            continue
        plan.scheduled.extend(_provider_schedule(provider, parts, live[provider.name], events,
                                                 evaluated))
    if parts:  # the days' desired states were bound: again to the plan's own day
        for provider in providers:  # for apply's hooks
            provider.bind(views.of(provider.lead_days()))
    plan.impacts = _impacts(views, around_today, parts)
    plan.orphans = lifecycle.orphans(org, day)
    plan.findings.extend(_coming_orphans(parts, {o.describe() for o in plan.orphans}))
    return [s.change for s in plan.scheduled]


def _provider_schedule(provider: Provider, parts: dict[date, Org], live: list[Resource],
                       events: dict[date, set[str]],
                       evaluated: dict[tuple[date, date, int], Org]) -> list[Scheduled]:
    """What each day changes in the provider's desired state: the day before against the
    day, on the part of the org the day's events touch. `evaluated`: each day's part on
    the day before and on the day, by (day of the part, day, lead time): the systems with
    the same lead time share them."""
    if not parts:
        return []  # nothing due in the horizon (an org without dates: always)
    lead = provider.lead_days()
    live_by_key = {(r.kind, r.key): r for r in live}
    out: list[Scheduled] = []

    def evaluate(part: Org, on: date, day: date) -> Org:
        view = evaluated.get((on, day, lead))
        if view is None:
            view = evaluated[on, day, lead] = lifecycle.evaluate(part, day, lead)
        return view

    for on, part in parts.items():
        # The live kinds were checked when the plan's own day was: not again per day.
        before = desired_of(provider, evaluate(part, on, on - timedelta(days=1)))
        view = evaluate(part, on, on)
        after = desired_of(provider, view)
        result = diff(provider.name, after, before, _removal(provider, view, live_by_key))
        why = _why(part, on, provider.leads(), events[on])
        for change in result.changes:
            reason = provider.unsupported(change)
            change.reason = ""  # the diff's "absent from live state" is not why
            if reason:
                change.reason = f"{change.action} needed but {reason}"
                change.action = "manual"
            out.append(Scheduled(on.isoformat(), change, why))
    return out


def _removal(provider: Provider, view: Org, live_by_key: dict[tuple[str, str], Resource]):
    """How the system removes what is desired one day and not the next: as the live
    object it is (its status decides, e.g. deactivate or delete), by the plan's rules."""

    def removal(r: Resource) -> tuple[Action | None, str]:
        current = live_by_key.get((r.kind, r.key), r)
        person = view.employees.get(r.key)
        if person is not None and not person.active:
            return provider.removal_of(current) or "manual", ""
        if not prune_enabled(provider, r.kind):
            return None, ""
        return provider.removal_of(current), ""

    return removal


def _why(org: Org, on: date, leads: set[int], keys: Iterable[str]) -> str:
    """What is due on `on` for a system with these lead times, in words: each start,
    leave or dated change of the people `keys` on that day, or that many days after it."""
    events = []
    for key in sorted(keys):
        employee = org.employees[key]
        dated = [(d.on, f"changes {', '.join(sorted(d.values))}") for d in employee.dated]
        for day, what in [(employee.start_date, "starts"), (employee.leave_date, "leaves"),
                          *((d, w) for d, w in dated)]:
            if day is None:
                continue
            for lead in sorted({0, *leads}):
                if day - timedelta(days=lead) == on:
                    ahead = f" ({lead} days ahead)" if lead else ""
                    events.append(f"{key} {what} on {day}{ahead}")
    return "; ".join(events)


def _impacts(views: Views, today: Org | None, parts: dict[date, Org]
             ) -> list[lifecycle.Impact]:
    """What the plan's day and each scheduled day change in relations (days that change
    nothing in them are left out), each on the part of the org its events touch: `today`
    for the plan's day (None: no event falls on it), `parts` for the days after."""
    day = views.day
    assert day is not None
    days = [] if today is None else [(lifecycle.evaluate(today, day - timedelta(days=1), None),
                                      lifecycle.evaluate(today, day, None))]
    days += [(lifecycle.evaluate(part, on - timedelta(days=1), None),
              lifecycle.evaluate(part, on, None)) for on, part in parts.items()]
    return [found for before, after in days if (found := lifecycle.impact(before, after))]


def _coming_orphans(parts: dict[date, Org], now: set[str]) -> list[Finding]:
    """A warning, ahead of time, for each person a coming day leaves without a manager,
    HR, administrative owner or buddy: the plan of that day will be refused."""
    findings, seen = [], set(now)
    for on, part in parts.items():
        for orphan in lifecycle.orphans(part, on):
            text = orphan.describe()
            if text in seen:
                continue
            seen.add(text)
            findings.append(Finding(
                "config", "employee", orphan.employee,
                f"on {on}, {text}: reassign before then, or the plan of that day is "
                f"refused", level="warning", code="orphan"))
    return findings
