"""B2 (issues #4, #8): plan 100,000 employees with 1 % drift, sandbox in-process, no
latency: CPU seconds, peak memory, and where the time goes."""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import re
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT, Figure, Result, drift, main
from bench.generate import generate, write
from orgctl import commands
from orgctl.config import load
from orgctl.render import render_json, render_text
from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import seed_from_org

EMPLOYEES = int(os.environ.get("BENCH_B2_EMPLOYEES", 100_000))
DRIFT = 0.01
UNLIMITED = 1_000_000_000  # Workelo's 1000 requests/hour would make this an hour-long read
TOP = 12

METHOD = f"""\
The config of a generated {EMPLOYEES:,}-employee org is written as YAML files, then one
process does what `orgctl plan --sandbox` does (`commands.plan`, timed at each step), phase by
phase: **load** (`config.load`:
YAML, schema, model, checks), **read** (`read_live`: every provider's list requests, HTTP
and JSON decoding, normalisation into resources), **diff** (`make_plan`: policies,
matching, field changes, dependencies, fingerprints, checksum) and **render** (the text
plan and the JSON plan file). The four emulators run in a thread of the same process
(`Sandbox`), without latency, seeded with `seed_from_org(org)` where
{DRIFT:.0%} of the employees drifted (a job title in Workelo, a language in Workleap, a last
name in Worklete, a position in HRMS). Workelo's rate limit is lifted on both sides
(emulator option `rate_limit`, provider setting `rate_limit`): at the documented
1,000 requests per hour, the {EMPLOYEES:,}-employee read alone (about 1,070 requests) would
need more than an hour.

CPU is the plan thread's own CPU time (`time.thread_time`), so the emulators' CPU in their
thread is not counted (it is shown apart). Peak memory is the process's peak resident set
(`ru_maxrss`), with the resident set just before the read (org loaded, emulators seeded)
beside it. The plan then runs a second time under cProfile (main thread only) for the top
functions. Read them with two cautions: cProfile charges every Python-level call, so it
inflates code made of many small calls (the HTTP client stack) against C code such as
JSON decoding (httpcore's `import sniffio` on every request failed, walking sys.path, until
sniffio became a dependency: about 0.35 ms of a request's 1.4 ms of client CPU); and in one
process a socket call's time includes waiting for the emulator thread to let go of the
interpreter lock.
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(workdir: Path) -> Result:
    config = workdir / "org"
    write(generate(EMPLOYEES), config)
    phases: dict[str, tuple[float, float]] = {}  # name -> (wall, plan thread CPU)

    def phase(name: str, fn: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        value = fn()
        phases[name] = (time.perf_counter() - wall, time.thread_time() - cpu)
        return value

    @contextmanager
    def timing(module: Any, name: str, label: str) -> Iterator[None]:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if asyncio.iscoroutinefunction(original):
                async def call() -> Any:
                    wall, cpu = time.perf_counter(), time.thread_time()
                    value = await original(*args, **kwargs)
                    phases[label] = (time.perf_counter() - wall, time.thread_time() - cpu)
                    return value
                return call()
            return phase(label, lambda: original(*args, **kwargs))

        setattr(module, name, timed)
        try:
            yield
        finally:
            setattr(module, name, original)

    org = phase("load", lambda: load(config, resolve_env=False))
    seed = drift(seed_from_org(org), DRIFT)
    box = Sandbox(seed, options={"workelo": {"rate_limit": UNLIMITED}}).start()
    del seed
    try:
        endpoints = box.endpoints()
        endpoints["workelo"]["rate_limit"] = f"{UNLIMITED}/h"
        target = commands.point_at(org, endpoints)
        before_read = rss_mb()
        server_cpu = time.process_time() - time.thread_time()

        def plan_once() -> tuple[Any, dict[str, Any]]:
            # The plan as the CLI runs it; its two steps timed where `plan_org` calls them.
            with timing(commands, "read_live", "read"), timing(commands, "make_plan", "diff"):
                made = commands.plan(config, org=target)
            phase("render", lambda: (render_text(made.plan), render_json(made.plan)))
            return made.plan, made.live

        plan, live = plan_once()
        server_cpu = time.process_time() - time.thread_time() - server_cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        requests = {name: emu.log.count() for name, emu in box.emulators.items()}
        measured = dict(phases)
        del plan, live

        profile = cProfile.Profile()
        profile.enable()
        plan_once()
        profile.disable()
    finally:
        box.stop()

    cpu = sum(c for _, c in measured.values())
    wall = sum(w for w, _ in measured.values())
    result = Result()
    result.figures += [
        Figure("B2", f"plan of {EMPLOYEES:,} employees, {DRIFT:.0%} drift, in-process: "
               "CPU seconds (load + read + diff + render)", "seconds, not minutes (< 60 s)",
               f"{cpu:.1f} s", cpu < 60,
               f"wall {wall:.1f} s; emulators' CPU in their thread {server_cpu:.1f} s"),
        Figure("B2", f"plan of {EMPLOYEES:,} employees: peak memory", "(reported)",
               f"{peak:,.0f} MB", None,
               f"{before_read:,.0f} MB resident before the read (org loaded, "
               "emulators seeded)"),
    ]
    result.detail += [
        "Requests served: " + ", ".join(f"{k} {v:,}" for k, v in requests.items()) + ".",
        "",
        "| phase | wall | plan thread CPU |",
        "|---|---|---|",
    ]
    for name, (w, c) in measured.items():
        result.detail.append(f"| {name} | {w:.1f} s | {c:.1f} s ({c / cpu:.0%}) |")
    areas = by_area(profile)
    total = sum(areas.values()) or 1.0
    result.detail += ["", "Own time by area (cProfile, second plan, main thread): " + ", ".join(
        f"{area} {t / total:.0%}" for area, t in areas.items()) + "."]
    result.detail += ["", f"Top {TOP} functions by own time (cProfile, second plan, main "
                      "thread only, read + diff + render):", "", "```"]
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(TOP)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    result.detail += [_short(line) for line in lines[start:start + TOP + 1]]
    result.detail.append("```")
    return result


AREAS = (  # where a function's file lives -> what it is doing
    ("orgctl/render", "render"),  # first: orgctl/render/json.py is ours, not the stdlib's
    ("httpx", "HTTP client"), ("httpcore", "HTTP client"), ("h11", "HTTP client"),
    ("anyio", "HTTP client"), ("asyncio", "event loop and sockets"),
    ("selectors", "event loop and sockets"), ("socket", "event loop and sockets"),
    ("json", "JSON encode/decode"), ("orgctl/providers", "providers: normalise, desired"),
    ("orgctl/engine", "engine: diff, plan, fingerprint"),
    ("importlib", "imports"),
    ("deepdiff", "engine: diff, plan, fingerprint"),
    ("posix.stat", "imports"),
    ("socket", "event loop and sockets"), ("poll", "event loop and sockets"),
)


def by_area(profile: cProfile.Profile) -> dict[str, float]:
    """Own time summed per area of the code."""
    areas: dict[str, float] = {}
    for (file, _, name), (_, _, own, _, _) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        where = file if file != "~" else name
        area = next((a for key, a in AREAS if key in where), "other")
        areas[area] = areas.get(area, 0.0) + own
    return dict(sorted(areas.items(), key=lambda kv: -kv[1]))


def _short(line: str) -> str:
    """Paths cut to what a reader recognises (`httpx/_client.py`, `orgctl/engine/diff.py`)."""
    line = line.replace(f"{ROOT}/", "")
    return re.sub(r"\S*/(site-packages|lib/python3\.\d+)/", "", line)


if __name__ == "__main__":
    main(run)
