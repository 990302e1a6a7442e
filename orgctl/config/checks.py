"""Semantic checks: what the schema cannot see because it needs the whole organisation.

Dangling references, self-references, who may hold a role (active, with a role that may
hold it, a buddy who is not the manager), cycles (with the whole cycle path), duplicate
emails, and journey rules. Each check points at the value at fault. References are
checked against every declared key, including objects the schema rejected, so one
mistake is reported once, where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from orgctl.config.sources import SourceMap
from orgctl.config.yamlload import Path, dotted
from orgctl.errors import ConfigIssue
from orgctl.model import IMPLICATIONS, UNIT_ROLES, Org

Declared = Mapping[str, set[str]]
"""Section name -> every key written in it."""


def check(org: Org, sources: SourceMap, declared: Declared,
          unchecked: Collection[str] = ()) -> list[ConfigIssue]:
    """Every semantic problem of `org`, in no particular order. A reference into an
    `unchecked` section is not reported as unknown (a source not read yet may hold it)."""
    checker = _Checker(sources, declared, unchecked)
    checker.references(org)
    checker.roles(org)
    checker.cycles(org)
    checker.emails(org)
    checker.journeys(org)
    checker.dates(org)
    return checker.issues


class _Checker:
    def __init__(self, sources: SourceMap, declared: Declared, unchecked: Collection[str]):
        self.sources = sources
        self.declared = declared
        self.unchecked = frozenset(unchecked)
        self.issues: list[ConfigIssue] = []
        self._holders: list[tuple[str, Mapping[str, frozenset[str]]]] | None = None
        self._seen: set[ConfigIssue] = set()

    def add(self, path: Path, message: str) -> None:
        issue = ConfigIssue(self.sources.value(path), dotted(path), message)
        if issue not in self._seen:  # one unit's role, inherited by many: reported once
            self._seen.add(issue)
            self.issues.append(issue)

    def ref(self, path: Path, section: str, key: str | None, owner: str) -> None:
        """`key` (written at `path` by object `owner` of `section`) must name an object
        of `section`, and not `owner` itself."""
        if key is None:
            return
        noun = section[:-1]
        if key not in self.declared.get(section, ()):
            if section in self.unchecked:
                return
            self.add(path, f"unknown {noun} '{key}'")
        elif key == owner and path[0] == section:
            self.add(path, f"{owner} cannot be its own {path[-1]}")

    # -- references ---------------------------------------------------------------------
    def references(self, org: Org) -> None:
        # `ref` reports; the loops below call it only for a reference that is not
        # plainly fine (set, declared, not the owner): 100,000 people hold half a million.
        units = self.declared.get("units", ())
        people = self.declared.get("employees", ())
        ref = self.ref
        for key, unit in org.units.items():
            ref(("units", key, "parent"), "units", unit.parent, key)
            for role in UNIT_ROLES:
                ref(("units", key, role), "employees", getattr(unit, role), key)
        for key, team in org.teams.items():
            base = ("teams", key)
            ref(base + ("unit",), "units", team.unit, key)
            ref(base + ("parent",), "teams", team.parent, key)
            for field in ("managers", "members"):
                for i, member in enumerate(getattr(team, field)):
                    if member not in people:
                        ref(base + (field, i), "employees", member, key)
        for key, employee in org.employees.items():
            base = ("employees", key)
            if employee.unit is not None and employee.unit not in units:
                ref(base + ("unit",), "units", employee.unit, key)
            for role in IMPLICATIONS:
                who = getattr(employee, role)
                if who is not None and (who == key or who not in people):
                    ref(base + (role,), "employees", who, key)
            for i, scope in enumerate(employee.unit_scopes):
                if scope not in units:
                    ref(base + ("unit_scopes", i), "units", scope, key)
            for j, journey in enumerate(employee.journeys):
                for role, who in journey.implications.items():
                    ref(base + ("journeys", j, "implications", role), "employees", who, key)
            for dated in employee.dated:
                at = base + ("changes", dated.index)
                ref(at + ("unit",), "units", dated.values.get("unit"), key)
                for role in IMPLICATIONS:
                    ref(at + (role,), "employees", dated.values.get(role), key)
                for i, scope in enumerate(dated.values.get("unit_scopes") or ()):
                    ref(at + ("unit_scopes", i), "units", scope, key)

    # -- who may hold a role -------------------------------------------------------------
    def roles(self, org: Org) -> None:
        """A manager, HR or buddy relation must point at someone who can hold it: active,
        with a role that may hold it where a configured system says which roles may
        (`Provider.ROLE_HOLDERS`), and a buddy is not the manager."""
        people = org.employees
        systems = self.role_holders(org)
        rules = {role: [allowed for _, holders in systems if (allowed := holders.get(role))]
                 for role in IMPLICATIONS}
        fine: dict[tuple[str, str], bool] = {}  # (relation, holder's role) -> allowed
        for key, employee in people.items():
            if employee.status != "active":
                continue  # a leaver's relations are history
            for role in IMPLICATIONS:
                who = getattr(employee, role)
                holder = people.get(who) if who else None
                if holder is None or who == key:
                    continue  # unknown or self: reported by references()
                if holder.status == "active":  # the common case: decided once per role
                    ok = fine.get((role, holder.role))
                    if ok is None:
                        lower = holder.role.lower()
                        ok = fine[(role, holder.role)] = all(lower in allowed
                                                             for allowed in rules[role])
                    if ok:
                        continue
                # An inherited relation is written on the unit: point there.
                path = (("units", employee.inherited[role], role)
                        if role in employee.inherited else ("employees", key, role))
                if not holder.active and not self.sources.written(("employees", who,
                                                                   "status")):
                    # A leaver a source of truth reports is not a config mistake: the
                    # config cannot be fixed before the plan that deactivates them.
                    continue
                whose = (f"unit {path[1]}" if path[0] == "units" else key)
                if not holder.active:
                    self.add(path, f"{role} {who} is inactive "
                                   f"({self.sources.value(('employees', who, 'status'))}): "
                                   f"give {whose} an active {role}")
                    continue
                for system, holders in systems:
                    allowed = holders.get(role)
                    if allowed and holder.role.lower() not in allowed:
                        self.add(path, f"{who} cannot be {whose}'s {role} in {system}: their "
                                       f"role is '{holder.role}', and a {role} needs one of "
                                       f"{', '.join(sorted(allowed))}")
            if employee.buddy and employee.buddy == employee.manager:
                self.add(("employees", key, "buddy"),
                         f"buddy {employee.buddy} is also {key}'s manager: a buddy is a peer")

    def role_holders(self, org: Org) -> list[tuple[str, Mapping[str, frozenset[str]]]]:
        """(provider name, relation -> roles that may hold it) of each configured provider
        whose system gives roles that rule (`Provider.ROLE_HOLDERS`)."""
        if self._holders is None:
            from orgctl.providers import TYPES, provider_class

            self._holders = [
                (name, holders) for name, config in sorted(org.providers.items())
                if config.type in TYPES
                and (holders := provider_class(config.type).ROLE_HOLDERS)]
        return self._holders

    # -- cycles -------------------------------------------------------------------------
    def cycles(self, org: Org) -> None:
        self._cycles("units", "parent", "unit parent cycle",
                     {k: u.parent for k, u in org.units.items()})
        self._cycles("teams", "parent", "team parent cycle",
                     {k: t.parent for k, t in org.teams.items()})
        self._cycles("employees", "manager", "manager cycle",
                     {k: e.manager for k, e in org.employees.items()})

    def _cycles(self, section: str, field: str, what: str,
                parent: Mapping[str, str | None]) -> None:
        """Report each cycle of the `parent` function once (self-loops are reported as
        self-references), at the member written first, the path starting there."""
        state: dict[str, int] = {}  # 1: on the current walk, 2: done
        for start in parent:
            walk: list[str] = []
            node: str | None = start
            while node is not None and node in parent and node not in state:
                state[node] = 1
                walk.append(node)
                node = parent[node]
            if node is not None and state.get(node) == 1:
                cycle = walk[walk.index(node):]
                if len(cycle) > 1:
                    self._report_cycle(section, field, what, cycle)
            for seen in walk:
                state[seen] = 2

    def _report_cycle(self, section: str, field: str, what: str, cycle: list[str]) -> None:
        def where(key: str) -> object:
            return self.sources.value((section, key, field))
        first = min(range(len(cycle)), key=lambda i: where(cycle[i]))  # type: ignore[arg-type]
        ordered = cycle[first:] + cycle[:first]
        self.add((section, ordered[0], field), f"{what}: {' -> '.join(ordered + ordered[:1])}")

    # -- emails -------------------------------------------------------------------------
    def emails(self, org: Org) -> None:
        """An email used twice is reported at each use but the one written first. Only
        the emails used twice are ordered by where they are written: locating all of
        them would cost a lookup per person for nothing."""
        first_of: dict[str, str] = {}  # email -> the first key using it
        by_email: dict[str, list[str]] = {}  # email used twice -> every key using it
        for key, employee in org.employees.items():
            email = employee.email.casefold()
            first = first_of.setdefault(email, key)
            if first != key:
                by_email.setdefault(email, [first]).append(key)
        for keys in by_email.values():
            first, *others = sorted(keys, key=self._location_of("employees", "email"))
            where = self.sources.value(("employees", first, "email"))
            for key in others:
                self.add(("employees", key, "email"),
                         f"email '{org.employees[key].email}' is also used by {first} "
                         f"({where})")

    def _location_of(self, section: str, field: str) -> Callable[[str], object]:
        return lambda key: self.sources.value((section, key, field))

    # -- journeys -----------------------------------------------------------------------
    def journeys(self, org: Org) -> None:
        for key, employee in org.employees.items():
            if not employee.journeys:
                continue
            first_at: dict[str, int] = {}
            for j, journey in enumerate(employee.journeys):
                base = ("employees", key, "journeys", j)
                if journey.end_date is not None and journey.end_date < journey.start_date:
                    self.add(base + ("end_date",),
                             f"end date {journey.end_date} is before start date "
                             f"{journey.start_date}")
                if not employee.active and journey.mobility != "offboarding":
                    self.add(base + ("mobility",),
                             f"{journey.mobility} journey for an inactive employee (only "
                             "offboarding is allowed; set status: active or remove it)")
                if journey.key in first_at:
                    first = self.sources.key(("employees", key, "journeys",
                                              first_at[journey.key]))
                    written = self.sources.written(base + ("key",))
                    self.add(base + ("key",) if written else base,
                             f"journey key '{journey.key}' is used twice (first at {first}): "
                             "give each journey its own `key:`")
                else:
                    first_at[journey.key] = j

    # -- dates --------------------------------------------------------------------------
    def dates(self, org: Org) -> None:
        """A leave date after the start date; one dated change per day."""
        for key, employee in org.employees.items():
            base = ("employees", key)
            if (employee.start_date and employee.leave_date
                    and employee.leave_date <= employee.start_date):
                self.add(base + ("leave_date",),
                         f"leave date {employee.leave_date} is not after start date "
                         f"{employee.start_date}")
            if len(employee.dated) < 2:
                continue
            days = [d.on for d in employee.dated]
            for on in sorted({d for d in days if days.count(d) > 1}):
                self.add(base + ("changes",),
                         f"two changes on {on}: write one change per day")
