"""B3 (issues #5, #8): apply 2,000 Workelo employee creates against an emulator answering
after 20 ms: wall time against the parallelism bound, then against a binding rate limit
(pacing efficiency, 429s)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    Figure,
    Result,
    ServerProcess,
    bench_serve,
    main,
    make_org,
    median,
    spread,
)
from orgctl import commands
from orgctl.engine.apply import apply_changes
from orgctl.model import Org
from orgctl.sandbox.seeding import seed_from_org

CREATES = 2_000
EMPLOYEES = 2_100  # about 3 % are leavers, who are not created
LATENCY_MS = 20.0
PARALLELISM = 8  # `orgctl apply --parallelism` default, and the provider's max_concurrency
UNBOUND = 1_000_000_000
RATE, WINDOW = 200, 1.0  # the binding limit: 200 requests a second (12,000 a minute)
RUNS = 3

METHOD = f"""\
The live state is `seed_from_org` of a generated {EMPLOYEES:,}-employee org with every
Workelo employee (and so their scopes and journeys) taken out; the plan of the Workelo
provider alone then holds one create per active employee, of which the first {CREATES:,}
are applied with `apply_changes` at `--parallelism {PARALLELISM}` (the default), exactly as
`orgctl apply` does after its plan, in the same event loop with the same providers. Each
create is one `POST /employees` (the generated employees carry no custom
identifications). The emulator runs in its own process (`python -m bench.server`, the
sandbox with emulator options) and answers every request after {LATENCY_MS:g} ms; its
state is reset to the seed before each run; requests and 429s are counted in its log.

**Parallelism bound**: with the rate limit out of the way (emulator and provider limits
set to {UNBOUND:,} an hour), {CREATES:,} requests {PARALLELISM} at a time take at least
`ceil({CREATES} / {PARALLELISM}) × {LATENCY_MS:g} ms`.

**Rate-limit bound**: the emulator limits each token to {RATE} requests per
{WINDOW:g} s sliding window (its `rate_limit` / `rate_window` options, {RATE * 60 / WINDOW:,.0f}
a minute) and the provider's `rate_limit` setting says `{RATE}/s`. A sliding window lets
{RATE} through at once and the next {RATE} one window later, so {CREATES:,} requests need
at least `(ceil({CREATES} / {RATE}) − 1) × {WINDOW:g} s` plus the last window's requests at
the parallelism. Pacing efficiency is the achieved request rate over the limit; the apply
starts one window after the plan's reads, so they do not count against it.
"""


def live_seed(org: Org) -> dict[str, Any]:
    seed = seed_from_org(org)["workelo"]
    for table in ("employees", "unit_organization_managements", "tracks"):
        seed[table] = []
    return {"workelo": seed}


async def apply_once(target: Org, config: Path, pause: float,
                     before_apply: Callable[[], None]) -> tuple[float, int]:
    """Plan, keep the first CREATES employee creates, wait `pause`, call `before_apply`,
    apply; return the apply's wall time and how many changes it applied."""
    async with commands.planned(target, config, providers=["workelo"]) as made:
        todo = [c for c in made.plan.changes if c.kind == "employee" and c.action == "create"]
        if len(todo) < CREATES:
            raise RuntimeError(f"only {len(todo)} employee creates planned")
        await asyncio.sleep(pause)
        before_apply()
        start = time.perf_counter()
        result = await apply_changes(todo[:CREATES], made.providers, made.live, made.plan.ids,
                                     PARALLELISM)
        return time.perf_counter() - start, result.count("applied")


def runs(server: ServerProcess, org: Org, seed: dict[str, Any], config: Path,
         provider_limit: str, pause: float) -> list[dict[str, float]]:
    """RUNS applies from the same live state; what each one's apply cost."""
    endpoints = {"workelo": {**server.endpoints["workelo"], "rate_limit": provider_limit}}
    target = commands.point_at(org, {**server.endpoints, **endpoints})
    out = []
    marks: dict[str, int] = {}

    def mark() -> None:  # the log counts from here: the plan's reads are not the apply's
        marks["requests"] = server.requests("workelo")
        marks["throttled"] = server.requests("workelo", 429)

    for _ in range(RUNS):
        server.control.post(f"{server.root('workelo')}/_sandbox/reset", json=seed["workelo"])
        wall, applied = asyncio.run(apply_once(target, config, pause, mark))
        out.append({"wall": wall, "applied": applied,
                    "requests": server.requests("workelo") - marks["requests"],
                    "throttled": server.requests("workelo", 429) - marks["throttled"]})
    return out


def run(workdir: Path) -> Result:
    org = make_org(EMPLOYEES, workdir / "org")
    seed = live_seed(org)
    config = workdir / "org"
    faults = f"latency={LATENCY_MS:g}"
    with bench_serve(workdir, seed, faults, {"workelo": {"rate_limit": UNBOUND}}) as server:
        free = runs(server, org, seed, config, f"{UNBOUND}/h", pause=0.0)
    with bench_serve(workdir, seed, faults,
                     {"workelo": {"rate_limit": RATE, "rate_window": WINDOW}}) as server:
        paced = runs(server, org, seed, config, f"{RATE}/s", pause=WINDOW)

    latency = LATENCY_MS / 1000
    parallel_bound = math.ceil(CREATES / PARALLELISM) * latency
    windows = math.ceil(CREATES / RATE)
    last = CREATES - (windows - 1) * RATE
    rate_bound = (windows - 1) * WINDOW + math.ceil(last / PARALLELISM) * latency
    free_wall = median([r["wall"] for r in free])
    paced_wall = median([r["wall"] for r in paced])
    paced_rate = median([r["requests"] / r["wall"] for r in paced])
    limit = RATE / WINDOW
    throttled = int(max(r["throttled"] for r in paced))
    result = Result()
    result.figures += [
        Figure("B3", f"apply {CREATES:,} creates, {LATENCY_MS:g} ms latency, parallelism "
               f"{PARALLELISM}: wall time / parallelism bound", "close to 1",
               f"{free_wall / parallel_bound:.2f} ({free_wall:.2f} s / "
               f"{parallel_bound:.2f} s)", None,
               f"{median([r['requests'] / r['wall'] for r in free]):.0f} requests/s"),
        Figure("B3", f"same under a binding limit of {RATE}/{WINDOW:g} s: wall time / "
               "rate-limit bound", "close to 1",
               f"{paced_wall / rate_bound:.2f} ({paced_wall:.2f} s / {rate_bound:.2f} s)",
               None),
        Figure("B3", "pacing efficiency: achieved request rate / rate limit", "close to 1",
               f"{paced_rate / limit:.2f} ({paced_rate:.0f}/s of {limit:.0f}/s)", None,
               "above 1 is possible: a sliding window lets the first window through at once"),
        Figure("B3", "429s received while paced", "0", str(throttled), throttled == 0,
               f"largest of {RUNS} runs"),
    ]
    result.detail += [
        "| run | limit | wall (median, min–max) | requests | applied | 429s |",
        "|---|---|---|---|---|---|",
        f"| parallelism only | none | {spread([r['wall'] for r in free])} s | "
        f"{median([r['requests'] for r in free]):.0f} | "
        f"{median([r['applied'] for r in free]):.0f} | "
        f"{max(r['throttled'] for r in free):.0f} |",
        f"| paced | {RATE}/{WINDOW:g} s | {spread([r['wall'] for r in paced])} s | "
        f"{median([r['requests'] for r in paced]):.0f} | "
        f"{median([r['applied'] for r in paced]):.0f} | {throttled} |",
        "",
        f"Bounds: parallelism ⌈{CREATES}/{PARALLELISM}⌉ × {LATENCY_MS:g} ms = "
        f"{parallel_bound:.2f} s; rate limit ({windows} − 1) × {WINDOW:g} s + "
        f"⌈{last}/{PARALLELISM}⌉ × {LATENCY_MS:g} ms = {rate_bound:.2f} s.",
    ]
    return result


if __name__ == "__main__":
    main(run)
