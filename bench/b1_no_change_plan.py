"""B1 (issues #4, #8): a no-change plan of 10,000 employees against emulators answering
after 20 ms: requests against the minimum, wall time against the latency lower bound."""

from __future__ import annotations

import gc
import math
import time
from pathlib import Path
from typing import Any

from bench.common import (
    SYSTEMS,
    Figure,
    Result,
    ServerProcess,
    main,
    make_org,
    median,
    orgctl_serve,
    pointed_unthrottled,
    spread,
    unthrottled_serve,
)
from orgctl import commands
from orgctl.engine import plan as engine_plan
from orgctl.model import Org
from orgctl.sandbox.seeding import seed_from_org

EMPLOYEES = 10_000
LATENCY_MS = 20.0
RUNS = 3
TARGET_RATIO = 1.3  # issue #18
CONCURRENCY = 8  # every provider's default max_concurrency (docs/providers/*.md)
STRICT_CAP = 25  # the strict profile's page cap (orgctl.sandbox.core.Profile.named)

METHOD = f"""\
`orgctl sandbox serve --seed live.json --latency {LATENCY_MS:g}` runs in a process of its own,
seeded with `seed_from_org(org)` of the generated {EMPLOYEES:,}-employee org: the live
state a perfect apply leaves, so the plan has no change (`plan.has_changes` is false; the
inactive employees Workelo cannot deactivate stay as `manual` notes). The plan runs in the
benchmark process exactly as `orgctl plan --sandbox` does it (`point_at`, then
`commands.plan`), {RUNS} times; the emulators' request logs (`GET /_sandbox/log`) give the
requests each plan made.

**Minimum requests**, per provider, from the live collection sizes (read from
`GET /_sandbox/state`) and each API's page cap (docs/providers/*.md): every collection
costs `max(1, ceil(n / cap))` pages, plus the authentication request where the API has
one. Workelo: 1 token + 8 collections at 100. HRMS: users, departments, positions at 100.
Workleap: members and teams at 500. Worklete: 1 sign-in + organizations + teams and
memberships at 100 + one `GET /teams/{{id}}/admins` per team (the seed documents no
organisation-wide admin list).

**Latency lower bound**: requests travel {CONCURRENCY} at a time per provider
(`max_concurrency`), providers in parallel, and each waits {LATENCY_MS:g} ms. A provider
needs its authentication round (when it has one), then its collections' pages, where a
first page must come back before the others are known: at least
`max(ceil(pages / {CONCURRENCY}), 2 if any collection has a second page else 1)` rounds.
Worklete adds the organisation round before its lists. The bound is the slowest
provider's rounds × {LATENCY_MS:g} ms; everything above it is CPU (both processes) and
scheduling. The CPU time of the plan process and of the emulator process during the plan
are reported beside it.

**Workelo's documented fallback.** The org-wide `GET /unit_organization_managements` is
an assumption (no seed shows it); a server without it (the strict profile) is read through
the documented `GET /employees/{{id}}/unit_organization_managements`, one request per
employee. That configuration is measured apart: the Workelo emulator alone, strict
profile (pages of {STRICT_CAP}, no paging keys, so list pages are read in turn until a
short one), {LATENCY_MS:g} ms latency, its rate limit lifted on both sides (at the
documented 1,000 requests per hour the read would take {EMPLOYEES / 1000:.0f} hours: see
"Scale" below), one run. Its minimum is a token, every list at the strict cap, one probe
of the assumed route (its 404 is how the fallback is chosen) and each employee's scopes;
its bound, a token round, then the longer of the employees' list pages read in turn and
the per-employee reads {CONCURRENCY} at a time (which can start once the first page has
named employees).
"""


def minimum(system: str, state: dict[str, Any]) -> tuple[int, int, str]:
    """(minimum requests, lower-bound rounds of latency, how it is counted) for one
    provider, from the sizes of its live collections."""
    auth = prelude = per_item = 0  # sign-in; organisation lookup; admin list per team
    if system == "workelo":
        auth = 1
        collections = [(t, len(state[t]), 100) for t in (
            "user_roles", "identification_resources", "level_organizations", "templates",
            "unit_organizations", "employees", "unit_organization_managements", "tracks")]
    elif system == "hrms":
        collections = [(t, len(state[t]), 100) for t in ("users", "departments", "positions")]
    elif system == "workleap":
        collections = [(t, len(state[t]), 500) for t in ("members", "teams")]
    else:
        org_id = next(iter(state["organizations"]))
        teams = sum(1 for t in state["teams"].values() if t["organization_id"] == org_id)
        memberships = sum(1 for m in state["memberships"].values()
                          if m["organization_id"] == org_id)
        auth, prelude, per_item = 1, math.ceil(len(state["organizations"]) / 100), teams
        collections = [("teams", teams, 100), ("memberships", memberships, 100)]
    pages = [max(1, math.ceil(n / cap)) for _, n, cap in collections]
    body = sum(pages) + per_item
    depth = 2 if per_item or any(p > 1 for p in pages) else 1
    rounds = auth + (1 if prelude else 0) + max(math.ceil(body / CONCURRENCY), depth)
    how = " + ".join(
        ([f"{auth} auth"] if auth else []) + ([f"{prelude} organizations"] if prelude else [])
        + [f"⌈{n}/{cap}⌉ {name}" for name, n, cap in collections]
        + ([f"{per_item} team admin lists"] if per_item else []))
    return auth + prelude + body, rounds, how


def _plan(org: Org, config: Path, read_ends: dict[str, float] | None = None,
          providers: tuple[str, ...] = ()) -> tuple[bool, int]:
    """Plan as `orgctl plan` does; `read_ends`, when given, gets the seconds from the start
    of the reads to the end of each provider's."""
    original = engine_plan.read_live

    async def timed(providers: Any, progress: Any = None, each: Any = None) -> Any:
        start = time.perf_counter()

        def ended(provider: Any, resources: Any) -> None:
            if read_ends is not None:
                read_ends[provider.name] = time.perf_counter() - start
            if each is not None:
                each(provider, resources)

        return await original(providers, progress, ended)

    engine_plan.read_live = timed  # as `read_and_plan` calls it
    try:
        plan = commands.plan(config, org=org, providers=providers).plan
    finally:
        engine_plan.read_live = original
    return plan.has_changes, sum(1 for c in plan.changes if c.action == "manual")


def run(workdir: Path) -> Result:
    org = make_org(EMPLOYEES, workdir / "org")
    seed = seed_from_org(org)
    server: ServerProcess
    with orgctl_serve(workdir, seed, latency_ms=LATENCY_MS) as server:
        del seed
        target = commands.point_at(org, server.endpoints)
        states = {s: server.state(s) for s in SYSTEMS}
        mins = {s: minimum(s, states[s]) for s in SYSTEMS}
        del states
        walls: list[float] = []
        cpus: list[float] = []
        server_cpus: list[float] = []
        counts: dict[str, list[int]] = {s: [] for s in SYSTEMS}
        read_ends: list[dict[str, float]] = []
        changed, manual = False, 0
        for _ in range(RUNS):
            gc.collect()
            before = {s: server.requests(s) for s in SYSTEMS}
            server_cpu = server.cpu_seconds()
            cpu, start = time.process_time(), time.perf_counter()
            ends: dict[str, float] = {}
            changed, manual = _plan(target, workdir / "org", ends)
            walls.append(time.perf_counter() - start)
            read_ends.append(ends)
            cpus.append(time.process_time() - cpu)
            server_cpus.append(server.cpu_seconds() - server_cpu)
            for s in SYSTEMS:
                counts[s].append(server.requests(s) - before[s])

        # The slowest provider (most latency rounds) planned alone: what its own requests
        # cost above the bound, without the other systems sharing either process.
        slowest = max(SYSTEMS, key=lambda s: mins[s][1])
        alone: list[float] = []  # the end of its read, from the start of the reads
        for _ in range(RUNS):
            gc.collect()
            ends = {}
            _plan(target, workdir / "org", ends, providers=(slowest,))
            alone.append(ends[slowest])

    fallback = _workelo_fallback(workdir, seed_from_org(org)["workelo"], org)
    made = {s: int(median([float(n) for n in counts[s]])) for s in SYSTEMS}
    least = sum(m[0] for m in mins.values())
    total = sum(made.values())
    bound_rounds = max(m[1] for m in mins.values())
    bound = bound_rounds * LATENCY_MS / 1000
    wall = median(walls)
    result = Result()
    result.figures += [
        Figure("B1", f"no-change plan, {EMPLOYEES:,} employees: requests / minimum",
               "1.00", f"{total / least:.2f} ({total:,} / {least:,})", total == least,
               "per provider: " + ", ".join(f"{s} {made[s]}/{mins[s][0]}" for s in SYSTEMS)),
        Figure("B1", f"no-change plan, {EMPLOYEES:,} employees, {LATENCY_MS:g} ms latency: "
               "wall time / latency lower bound", f"≤ {TARGET_RATIO:g}",
               f"{wall / bound:.2f} ({wall:.2f} s / {bound:.2f} s)",
               wall / bound <= TARGET_RATIO,
               f"plan process CPU {median(cpus):.2f} s, "
               f"{median(cpus) / total * 1000:.2f} ms per answer; emulator process CPU "
               f"{median(server_cpus):.2f} s"),
    ]
    result.detail += [
        f"Changes planned: {'some (unexpected!)' if changed else 'none'}; "
        f"{manual} `manual` notes (leavers Workelo cannot deactivate).",
        "",
        "| provider | requests made | minimum | how the minimum is counted | latency rounds |",
        "|---|---|---|---|---|",
    ]
    for s in SYSTEMS:
        result.detail.append(f"| {s} | {made[s]} | {mins[s][0]} | {mins[s][2]} | "
                             f"{mins[s][1]} |")
    ended = median([ends[slowest] for ends in read_ends])
    own = (median(alone) - bound) / bound_rounds * 1000
    result.detail += [
        "",
        f"Wall time {spread(walls)} s against a bound of {bound_rounds} rounds × "
        f"{LATENCY_MS:g} ms = {bound:.2f} s. CPU of the plan process {spread(cpus)} s; "
        f"of the emulator process {spread(server_cpus)} s. " + _what_limits(
            median(cpus) / bound, total),
        "",
        f"Where the wall goes above the bound: {slowest}, the slowest system, planned alone, "
        f"is read in {spread(alone)} s ({median(alone) / bound:.2f} × the bound): each of its "
        f"{bound_rounds} rounds takes {own:.1f} ms more than the latency, its requests' own "
        f"handling in the emulator process and the plan process (they go out together, 8 at "
        f"a time, and are answered one after the other). In the whole plan its read ends at "
        f"{ended:.2f} s (median): the other systems' reads and parts, sharing both "
        f"processes meanwhile, add {ended - median(alone):+.2f} s; what the plan does after "
        f"that read (its part, the plan's assembly and checks) takes the last "
        f"{wall - ended:.2f} s.",
    ]
    result.figures += fallback
    return result


def _workelo_fallback(workdir: Path, seed: dict[str, Any], org: Org) -> list[Figure]:
    """The no-change plan of Workelo alone on a strict server: scopes read per employee."""
    server = unthrottled_serve(workdir, {"workelo": seed}, faults=f"latency={LATENCY_MS:g}",
                               options={"workelo": {"profile": "strict"}})
    try:
        target = pointed_unthrottled(org, server)
        state = server.state("workelo")
        least, rounds = _strict_workelo_minimum(state)
        before = server.requests("workelo")
        cpu, start = time.process_time(), time.perf_counter()
        plan = commands.plan(Path(workdir / "org"), org=target, providers=["workelo"]).plan
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        made = server.requests("workelo") - before
    finally:
        server.stop()
    bound = rounds * LATENCY_MS / 1000
    read = next((f.message for f in plan.findings if f.code == "read"), "")
    return [
        Figure("B1", f"no-change plan, Workelo's per-employee scope fallback (strict "
                     f"server), {EMPLOYEES:,} employees: requests / minimum", "1.00",
               f"{made / least:.2f} ({made:,} / {least:,})", made == least,
               f"the plan says: {read}" if read else ""),
        Figure("B1", f"same, {LATENCY_MS:g} ms latency: wall time / latency lower bound",
               f"≤ {TARGET_RATIO:g}", f"{wall / bound:.2f} ({wall:.1f} s / {bound:.1f} s)",
               wall / bound <= TARGET_RATIO, f"plan process CPU {cpu:.1f} s, "
               f"{cpu / max(made, 1) * 1000:.2f} ms per answer; {rounds:,} rounds"),
    ]


def _strict_workelo_minimum(state: dict[str, Any]) -> tuple[int, int]:
    """(fewest requests, latency rounds) to read a strict Workelo: a token, each list at
    the strict cap, one probe of the assumed org-wide scope route, each employee's scopes
    (their pages at the cap); the bound's rounds: the token, then the employees' pages in
    turn, beside them each employee's scopes 8 at a time from the first page on."""
    def pages(n: int) -> int:
        return max(1, math.ceil(n / STRICT_CAP))

    lists = ("user_roles", "identification_resources", "level_organizations", "templates",
             "unit_organizations", "employees", "tracks")
    held: dict[Any, int] = {}
    for scope in state["unit_organization_managements"].values():
        held[scope["employee_id"]] = held.get(scope["employee_id"], 0) + 1
    per_employee = sum(pages(held.get(e, 0)) for e in state["employees"])
    least = 1 + sum(pages(len(state[name])) for name in lists) + 1 + per_employee
    # The employees' list has no paging keys here: its pages come one after the other
    # (a short page ends it; a full last one needs one more, empty, page to be sure).
    employee_pages = len(state["employees"]) // STRICT_CAP + 1
    # Each employee's scopes can be read once a page has named them: after the token and
    # the first page, 8 at a time, beside the pages still coming.
    rounds = 1 + max(employee_pages, 1 + math.ceil(per_employee / CONCURRENCY))
    return least, rounds


def _what_limits(cpu_share: float, answers: int) -> str:
    """What the plan process's CPU, as a share of the latency bound, says about the wall."""
    if cpu_share >= 1:
        return (f"The plan process's CPU alone is {cpu_share:.2f} × the bound: one event loop "
                f"decodes and normalises {answers:,} answers while the requests wait on it, "
                "so the plan is CPU-bound before it is latency-bound (B2 shows where that "
                "CPU goes).")
    return (f"The plan process's CPU is {cpu_share:.2f} × the bound: no longer what limits "
            f"the wall alone. What is above the bound is that CPU and the emulators' spent "
            f"between rounds: each of the slowest provider's rounds waits for its {answers:,} "
            "answers' share of the one event loop, and the diff runs after the last read.")


if __name__ == "__main__":
    main(run)
