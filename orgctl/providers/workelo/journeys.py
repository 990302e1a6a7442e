"""The journeys an employee's dates imply in Workelo (issue 15): an onboarding for their
`start_date`, an offboarding for their `leave_date` and, when the provider block's
`lifecycle.crossboarding` is true, a crossboarding for each dated change that moves them to
another unit.

Each implied journey starts on its event's day (its `start_date` in Workelo: the key date
its templates' actions are scheduled around) and is wanted from its lead day (the event
less the provider's lead time for it: `lifecycle.joiners`, `leavers`, `movers`) until
GRACE_DAYS after the event. The lead day is also its invitation date, so it is the same
whichever day the plan is made. Pure functions of an evaluated org (`orgctl.lifecycle`):
the provider turns what they give into resources and matches them to live tracks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from orgctl.model import Dated, Employee

__all__ = ["GRACE_DAYS", "SOURCES", "Implied", "implied", "unit_on", "written_unit"]

# How long after its event an implied journey is still wanted. Long enough that a joiner or
# leaver written into the config late (after the fact, as HR often learns of it) still gets
# their journey; short enough that an old start date never creates an onboarding years
# later (the config of someone hired in 2019 keeps `start_date: 2019-...`). A Workelo
# journey lasts longer than this: past the grace period, an open track with the event's
# mobility and date is left alone (history in progress), never reported as unmanaged.
GRACE_DAYS = 30

# The config field each implied journey comes from, by mobility: its `Resource.source`,
# so a plan shows "(from start_date)".
SOURCES: Mapping[str, str] = {"onboarding": "start_date", "offboarding": "leave_date",
                              "crossboarding": "changes"}
LEADS = {"onboarding": "joiners", "offboarding": "leavers", "crossboarding": "movers"}


@dataclass(frozen=True)
class Implied:
    """One journey an employee's dates imply."""

    employee: str
    mobility: str
    on: date  # the event's day: the track's start_date
    lead_day: date  # wanted from this day on; the invitation date
    unit: str | None  # whose templates it takes: the unit on the day (the new one on a move)

    @property
    def key(self) -> str:
        """The journey key, stable for the event: "onboarding-2026-06-01"."""
        return f"{self.mobility}-{self.on.isoformat()}"

    @property
    def source(self) -> str:
        return SOURCES[self.mobility]

    def wanted(self, day: date) -> bool:
        """Whether the journey is wanted on `day`: from its lead day to the grace's end."""
        return self.lead_day <= day <= self.on + timedelta(days=GRACE_DAYS)

    def wanted_between(self, first: date, last: date) -> bool:
        """Whether the journey is wanted on any day from `first` to `last`."""
        return self.lead_day <= last and first <= self.on + timedelta(days=GRACE_DAYS)


def implied(employee: Employee, as_of: date, leads: Mapping[str, int],
            crossboarding: bool) -> Iterator[Implied]:
    """Every journey `employee` (as evaluated on `as_of`) has dates for, whatever the
    window: `leads` maps "joiners", "leavers", "movers" to days."""

    def lead(mobility: str, on: date) -> date:
        return on - timedelta(days=leads.get(LEADS[mobility], 0))

    if employee.start_date is not None:
        on = employee.start_date
        yield Implied(employee.key, "onboarding", on, lead("onboarding", on),
                      unit_on(employee, on, as_of) or employee.unit)
    if employee.leave_date is not None:
        on = employee.leave_date
        yield Implied(employee.key, "offboarding", on, lead("offboarding", on),
                      unit_on(employee, on, as_of) or employee.unit)
    if crossboarding:
        for change in employee.dated:
            unit = change.values.get("unit")
            if unit is not None and _moves(employee, change, as_of):
                yield Implied(employee.key, "crossboarding", change.on,
                              lead("crossboarding", change.on), unit)


def _moves(employee: Employee, change: Dated, as_of: date) -> bool:
    """Whether `change` puts the employee in another unit than the one they have the day
    before. Unknown (the unit written on the employee, once a later move is due, is no
    longer in the evaluated org): a change that writes a unit is taken as a move."""
    before = unit_on(employee, change.on - timedelta(days=1), as_of)
    return before is None or before != change.values["unit"]


def unit_on(employee: Employee, day: date, as_of: date) -> str | None:
    """The unit `employee` (evaluated on `as_of`) has on `day`; None when the org evaluated
    on `as_of` cannot tell (see `written_unit`)."""
    moves = [d for d in employee.dated if "unit" in d.values and d.on <= day]
    if moves:
        return moves[-1].values["unit"]
    return written_unit(employee, as_of)


def written_unit(employee: Employee, as_of: date) -> str | None:
    """The unit written on the employee, before any dated change: their unit in the org
    evaluated on `as_of` while no dated change of unit is due, else unknown (None)."""
    if any("unit" in d.values and d.on <= as_of for d in employee.dated):
        return None
    return employee.unit
