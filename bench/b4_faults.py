"""B4 (issues #5, #8): apply a whole org from empty into all four systems while the
emulators inject faults; duplicates counted inside the emulators, and the requests the
faults cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import SYSTEMS, Figure, Result, bench_serve, main, make_org, median
from orgctl import commands
from orgctl.model import Org

EMPLOYEES = 300
FAULTS = "5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02"
FAULT_SEEDS = (1, 2, 3)
MAX_ROUNDS = 4
UNBOUND = 1_000_000_000
OPTIONS = {"workelo": {"rate_limit": UNBOUND}, "worklete": {"upload_delay": 0.2}}

METHOD = f"""\
A generated {EMPLOYEES}-employee org is applied from empty live state to all four
emulators (HRMS is read only: it is audited, never written), exactly as `orgctl apply
--auto-approve --force` does it (`commands.apply`): plan, apply every change, and, when
something failed, run again (a re-run plans from live state and does only what is left),
up to {MAX_ROUNDS} rounds, until a plan shows no change. Once without faults, then
{len(FAULT_SEEDS)} times with `{FAULTS}` (fault seeds {", ".join(map(str, FAULT_SEEDS))}):
10 % of requests answered 503, 5 % 429 with `Retry-After: 1`, 2 % connections dropped
mid-answer, and 2 % committed then answered 500 or dropped. The emulators run in their own
process with Workelo's rate limit lifted and Worklete's upload processing at 0.2 s.

**Duplicates** are counted in the emulators' state (`GET /_sandbox/state`), by each
system's identity: Workelo employees by external id and by email, units by external id,
scopes by (employee, unit), journeys by (employee, mobility, start date); Workleap members
by externalMemberId and by email, teams by externalTeamId; Worklete teams by (parent,
name), users by email, memberships by (user, organisation), team admins by (team,
membership). **Extra requests** are every request the emulators answered during the
whole job (all rounds, faulted ones included) with faults over without.
"""


def duplicates(states: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Per identity, how many objects exist beyond the first."""
    def extra(keys: Iterable[Any]) -> int:
        return sum(n - 1 for k, n in Counter(keys).items() if k is not None and n > 1)

    wl, wp, wt = states["workelo"], states["workleap"], states["worklete"]
    return {
        "workelo employees (external id)": extra(
            e["external_id"] for e in wl["employees"].values()),
        "workelo employees (email)": extra(
            e["email"].lower() for e in wl["employees"].values()),
        "workelo units": extra(u["external_id"] for u in wl["unit_organizations"].values()),
        "workelo scopes": extra((s["employee_id"], s["unit_organization_id"])
                                for s in wl["unit_organization_managements"].values()),
        "workelo journeys": extra((t.get("employee_id"), t.get("mobility"),
                                   t.get("start_date")) for t in wl["tracks"].values()),
        "workleap members (id)": extra(m.get("externalMemberId")
                                       for m in wp["members"].values()),
        "workleap members (email)": extra((m.get("email") or "").lower() or None
                                          for m in wp["members"].values()),
        "workleap teams": extra(t.get("externalTeamId") for t in wp["teams"].values()),
        "worklete teams": extra((t["organization_id"], t["parent_id"], t["name"])
                                for t in wt["teams"].values()),
        "worklete users": extra((u.get("email") or "").lower() or None
                                for u in wt["users"].values()),
        "worklete memberships": extra((m["user_id"], m["organization_id"])
                                      for m in wt["memberships"].values()),
        "worklete team admins": extra((a["team_id"], a["membership_id"])
                                      for a in wt["team_admins"].values()),
    }


def converge(target: Org, config: Path) -> tuple[int, int, bool]:
    """Apply until a plan is empty; (apply rounds, changes applied, converged)."""
    applied = 0
    for rounds in range(MAX_ROUNDS):
        report = commands.apply(config, org=target, force=True)
        if report.result is None:
            return rounds, applied, True
        applied += report.result.count("applied")
    return MAX_ROUNDS, applied, not commands.plan(config, org=target, force=True).plan.has_changes


def job(workdir: Path, org: Org, faults: str) -> dict[str, Any]:
    with bench_serve(workdir, None, faults, OPTIONS) as server:
        endpoints = {**server.endpoints}
        endpoints["workelo"] = {**endpoints["workelo"], "rate_limit": f"{UNBOUND}/h"}
        target = commands.point_at(org, endpoints)
        rounds, applied, converged = converge(target, workdir / "org")
        requests = sum(server.requests(s) for s in SYSTEMS)
        faulted = sum(c["count"] for s in SYSTEMS for c in server.log(s)["counters"]
                      if c["status"] in (429, 500, 503, 599))
        dups = duplicates({s: server.state(s) for s in ("workelo", "workleap", "worklete")})
    return {"rounds": rounds, "applied": applied, "converged": converged,
            "requests": requests, "faulted": faulted, "duplicates": dups}


def run(workdir: Path) -> Result:
    org = make_org(EMPLOYEES, workdir / "org")
    clean = job(workdir, org, "")
    faulty = [job(workdir, org, f"{FAULTS},seed={seed}") for seed in FAULT_SEEDS]
    dups = max(sum(f["duplicates"].values()) for f in faulty + [clean])
    ratio = median([f["requests"] / clean["requests"] for f in faulty])
    converged = all(f["converged"] for f in faulty + [clean])
    result = Result()
    result.figures += [
        Figure("B4", f"apply of {EMPLOYEES} employees from empty under faults: duplicate "
               "objects in the emulators", "0", str(dups), dups == 0,
               f"{len(FAULT_SEEDS)} fault seeds; every run converged: "
               f"{'yes' if converged else 'NO'}"),
        Figure("B4", "requests with faults / requests without", "(reported)",
               f"{ratio:.2f}", None,
               f"{clean['requests']:,} requests without faults; median of "
               f"{len(FAULT_SEEDS)} seeds"),
    ]
    result.detail += [
        "| run | apply rounds | changes applied | requests | answered with a fault | "
        "duplicates | converged |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in [("no faults", clean)] + [(f"faults, seed {s}", f)
                                              for s, f in zip(FAULT_SEEDS, faulty, strict=True)]:
        result.detail.append(
            f"| {name} | {r['rounds']} | {r['applied']} | {r['requests']:,} | "
            f"{r['faulted']:,} | {sum(r['duplicates'].values())} | "
            f"{'yes' if r['converged'] else 'no'} |")
    found = {k: v for f in faulty for k, v in f["duplicates"].items() if v}
    if found:
        result.detail += ["", "Duplicates found: " + ", ".join(f"{k}: {v}"
                                                             for k, v in found.items())]
    return result


if __name__ == "__main__":
    main(run)
