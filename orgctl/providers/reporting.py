"""The reporting line as teams: what a provider's `reporting_teams:` option derives from the
employees' `manager:`, for the systems whose teams give managers their view of people.

One team per manager who has active direct reports, led by that manager and holding exactly
those reports, nested under the team of the manager's own manager: the chain of `manager:`
becomes a tree of small teams, so a system where a manager sees the subteams of their teams
(Workleap "upper managers can see data from the whole reporting line") shows each manager
their whole line. A derived team's key is the option's prefix and the manager's employee
key, an id that does not change when the manager's name does.

`derive` makes the teams from the people; `recognise` finds, among a system's live teams,
those `derive` would make again, so an import writes `manager:` for them instead of a
hand-written copy. Both are pure and know no system: a provider maps the teams into its
own kinds.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orgctl.errors import ProviderError
from orgctl.model import Org, Team
from orgctl.resources import Finding

__all__ = ["DEFAULT_NAME", "DEFAULT_PREFIX", "DERIVED", "Person", "ReportingTeam",
           "ReportingTeams", "derive", "derived_teams", "option_of", "people_of", "recognise",
           "reporting_findings"]

DERIVED = "manager"
"""`Resource.source` of what is derived from `manager:`: the plan says "(from manager)"."""
DEFAULT_PREFIX = "reports-"
DEFAULT_NAME = "{first_name} {last_name}'s team"
PLACEHOLDERS = ("first_name", "last_name", "key")


@dataclass(frozen=True)
class ReportingTeams:
    """The `reporting_teams:` option of a provider block: `true`, or {prefix, name}.

    prefix: a derived team's key is prefix + the manager's employee key ("reports-E042").
    name: the team's name, from {first_name}, {last_name} and {key} of its manager.
    """

    prefix: str = DEFAULT_PREFIX
    name: str = DEFAULT_NAME

    @classmethod
    def parse(cls, provider: str, raw: Any) -> ReportingTeams | None:
        """The option as written (None or false: off), refused with how to fix it."""
        if raw is None or raw is False:
            return None
        if raw is True:
            return cls()
        if not isinstance(raw, Mapping) or set(raw) - {"prefix", "name"}:
            raise ProviderError(provider, "reporting_teams: write true, or {prefix, name}")
        option = cls(prefix=str(raw.get("prefix", DEFAULT_PREFIX)),
                     name=str(raw.get("name", DEFAULT_NAME)))
        names = [field for _, field, _, _ in string.Formatter().parse(option.name) if field]
        stray = sorted(set(names) - set(PLACEHOLDERS))
        if stray or not option.prefix:
            raise ProviderError(provider, (
                f"reporting_teams.name may use {{{'}, {'.join(PLACEHOLDERS)}}} only (not "
                f"{{{stray[0]}}})" if stray else "reporting_teams.prefix may not be empty"))
        return option

    def key(self, manager: str) -> str:
        return f"{self.prefix}{manager}"

    def manager_of(self, team_key: str) -> str | None:
        """The manager a derived team's key names, None when the key is not one."""
        if not team_key.startswith(self.prefix):
            return None
        return team_key[len(self.prefix):] or None

    def title(self, person: Person, key: str) -> str:
        return self.name.format(first_name=person.first_name, last_name=person.last_name,
                                key=key)


@dataclass(frozen=True)
class Person:
    """What the reporting line needs of an active employee."""

    first_name: str
    last_name: str
    manager: str | None


@dataclass(frozen=True)
class ReportingTeam:
    """One derived team: `manager` leads it, `members` are their direct reports (sorted),
    `parent` is the team of the manager's manager (None at the top of a line)."""

    key: str
    name: str
    manager: str
    members: tuple[str, ...]
    parent: str | None

    def as_team(self) -> Team:
        """This team as the config would write it by hand."""
        return Team(key=self.key, name=self.name, parent=self.parent,
                    managers=(self.manager,), members=self.members)


def derived_teams(org: Org, option: ReportingTeams | None) -> dict[str, ReportingTeam]:
    """The reporting teams of `org` (none when the option is off), but for a key a
    hand-written team has: that one is kept as written."""
    if option is None:
        return {}
    return {key: team for key, team in derive(people_of(org), option).items()
            if key not in org.teams}


def reporting_findings(provider: str, org: Org, option: ReportingTeams | None,
                       live_teams: Iterable[str], relations: str) -> list[Finding]:
    """What the option derives, said in every plan, even one with no changes: how many
    teams, under which keys, with how many `relations` (a system's word for the manager
    and member links); a hand-written team holding a derived key (kept as written); a live
    derived team whose manager has no active report left (removed only under
    `prune.teams`, like any team the config no longer has). `live_teams`, the keys of the
    live teams, is not read when the option is off (a generator over the live state costs
    nothing then)."""
    if option is None:
        return []
    derived = derived_teams(org, option)
    linked = sum(len(team.members) + 1 for team in derived.values())
    out = [Finding(provider, "team", f"{option.prefix}*", (
        f"{len(derived)} teams derived from manager: (reporting_teams), one per manager "
        f"with direct reports, nested along the reporting line; {linked} {relations}"),
        level="info")]
    out += [Finding(provider, "team", key, (
        f"written by hand with the key reporting_teams derives for "
        f"{option.manager_of(key)}: kept as written, not derived; rename it or change "
        f"reporting_teams.prefix"), level="warning")
        for key in sorted(org.teams) if option.manager_of(key) in org.employees]
    out += [Finding(provider, "team", key, (
        f"derived from manager: while {option.manager_of(key)} led active direct reports; "
        f"none is left, so it is removed only under prune.teams: true"), level="info")
        for key in sorted(live_teams) if key not in derived and key not in org.teams
        and option.manager_of(key) in org.employees]
    return out


def option_of(org: Org, system: str) -> ReportingTeams | None:
    """The option of the org's first provider block of type `system`, for code that has
    the org but no provider (a sandbox seed)."""
    block = next((p for p in org.providers.values() if p.type == system), None)
    return ReportingTeams.parse(block.name, block.settings.get("reporting_teams")) \
        if block is not None else None


def people_of(org: Org) -> dict[str, Person]:
    """The active employees, as the reporting line sees them (leavers report to no one
    and lead no team)."""
    return {key: Person(e.first_name, e.last_name, e.manager)
            for key, e in org.employees.items() if e.active}


def derive(people: Mapping[str, Person], option: ReportingTeams) -> dict[str, ReportingTeam]:
    """The reporting teams of `people`, by key, parents before children.

    A manager outside `people` (inactive, unknown) leads no team: their reports are in
    none. Siblings whose names would be equal (two managers called alike under one parent)
    get their manager's key after the name, so a system that tells teams apart by name
    within a parent still can."""
    reports: dict[str, list[str]] = {}
    boss_of: dict[str, str] = {}
    for key, person in people.items():
        if person.manager and person.manager != key and person.manager in people:
            reports.setdefault(person.manager, []).append(key)
            boss_of[key] = person.manager
    teams = {}
    for manager in _top_down(reports, boss_of):
        boss = boss_of.get(manager)
        teams[option.key(manager)] = ReportingTeam(
            key=option.key(manager), name=option.title(people[manager], manager),
            manager=manager, members=tuple(sorted(reports[manager])),
            parent=option.key(boss) if boss is not None else None)
    return _distinct_names(teams)


def _top_down(reports: Mapping[str, list[str]], boss_of: Mapping[str, str]) -> list[str]:
    """The managers, each after their own manager (by key among equals). A reporting cycle
    (which `validate` refuses) leaves its managers out rather than loop."""
    order: list[str] = []
    stack = sorted((m for m in reports if m not in boss_of), reverse=True)
    while stack:
        manager = stack.pop()
        order.append(manager)
        stack.extend(sorted((r for r in reports[manager] if r in reports), reverse=True))
    return order


def _distinct_names(teams: dict[str, ReportingTeam]) -> dict[str, ReportingTeam]:
    seen: dict[tuple[str | None, str], int] = {}
    for team in teams.values():
        seen[(team.parent, team.name)] = seen.get((team.parent, team.name), 0) + 1
    return {key: team if seen[(team.parent, team.name)] == 1 else
            ReportingTeam(key, f"{team.name} ({team.manager})", team.manager, team.members,
                          team.parent)
            for key, team in teams.items()}


def recognise(live: Mapping[str, ReportingTeam], people: Mapping[str, Person],
              option: ReportingTeams) -> dict[str, str]:
    """Of a system's live teams (in config keys; a live team's `members` are its member
    mappings), those `derive` would make again once each member's `manager:` is the
    manager of the team they are in: {employee key: manager key} for their members.

    A candidate has a derived key naming its one manager; the line they draw is derived
    again and compared, team by team (name, parent, manager, members); a team that differs
    is not derived, which may make its subteams differ in turn, until what is left is
    exactly what `derive` gives. `people`: the live members as employees (their own
    `manager` is ignored)."""
    candidates = {key: team for key, team in live.items()
                  if option.manager_of(key) == team.manager and team.members}
    while True:
        boss_of: dict[str, str] = {}
        twice: set[str] = set()
        for team in candidates.values():
            for member in team.members:
                twice.update([member] if member in boss_of else [])
                boss_of[member] = team.manager
        line = {key: Person(p.first_name, p.last_name,
                            None if key in twice else boss_of.get(key))
                for key, p in people.items()}
        again = derive(line, option)
        differ = {key for key, team in candidates.items() if again.get(key) != team}
        if not differ:
            return {m: b for m, b in boss_of.items() if m not in twice}
        candidates = {key: team for key, team in candidates.items()
                      if key not in differ and not set(team.members) & twice}
