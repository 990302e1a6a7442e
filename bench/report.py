"""docs/benchmarks.md from the scenarios' results: the machine, one table of every figure
with its target, then per scenario how it is measured and what it measured."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path

from bench.common import Figure, Result

MARKS = {True: "met", False: "**missed**", None: "–"}

HTTPTOOLS = """\
## Decision: no `httptools` in the `sandbox` extra

uvicorn parses HTTP with h11 (pure Python) unless `httptools` is installed. Measured once
with `python -m bench.http_parser` (the B0 client against `python -m bench.server` forced
to each parser; httptools installed outside the project's environment and put on the
server's `PYTHONPATH`), on the machine above, {date}:

{table}

httptools takes a tenth of a millisecond or so off a small response's server CPU and
nothing measurable off a full page, where building and encoding the JSON dominates; and the
requests a client gets served do not change, because the httpx client, not the server,
is what saturates first on this machine (B0: about 2 ms of client CPU per request). A
compiled dependency for every sandbox user does not earn its place for that; the
`sandbox` extra stays as it is.
"""

HTTPTOOLS_TABLE = """\
| list, page size | server CPU per request, h11 | with httptools |
|---|---|---|
| workelo employees, 100 | 0.79 / 0.88 ms | 0.82 / 0.77 ms |
| workelo employees, 10 | 0.47 / 0.52 ms | 0.38 / 0.32 ms |
| hrms users, 100 | 1.33 / 1.39 ms | 1.46 / 1.70 ms |
| hrms users, 25 | 0.80 / 0.83 ms | 0.71 / 0.92 ms |
| workleap members, 500 | 1.98 / 2.08 ms | 2.21 / 2.01 ms |
| workleap members, 100 | 0.98 / 0.78 ms | 0.64 / 0.66 ms |
| worklete memberships, 100 | 0.97 / 1.02 ms | 0.82 / 0.92 ms |
| worklete memberships, 25 | 0.81 / 0.72 ms | 0.61 / 0.62 ms |

(two rounds each, 800 requests per cell; the machine was shared with other test runs.)"""


def write_report(path: Path, results: list[tuple[str, str, str, Result, float, str]],
                 before: dict[str, str], after: dict[str, str], total: float) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        "How close orgctl gets to the limits the APIs allow, at scale, against the sandbox "
        "emulators. Regenerate this page with `python -m bench` (one scenario: "
        "`python -m bench B1`); every figure below is the one that command measured. "
        "Benchmarks live in `bench/`, never in the test suite, and assert nothing.",
        "",
        "## Machine",
        "",
        "| measured | cores (nproc) | CPU | memory | Python | OS | load average (1, 5, 15 min)"
        " before → after | whole run |",
        "|---|---|---|---|---|---|---|---|",
        f"| {now} | {before['nproc']} | {before['cpu']} | {before['memory']} | "
        f"{before['python']} | {before['os']} | {before['load']} → {after['load']} | "
        f"{total / 60:.1f} min |",
        "",
        "The machine is shared with other engineers' test runs: figures are medians of "
        "several runs where a scenario repeats, and a loaded machine shows in the load "
        "average above.",
        "",
        "## Results",
        "",
        "| | figure | target | measured | | notes |",
        "|---|---|---|---|---|---|",
    ]
    for sid, _, _, result, _, error in results:
        for f in result.figures:
            out.append(f"| {f.scenario} | {f.name} | {f.target} | {f.value} | "
                       f"{MARKS[f.met]} | {f.note} |")
        if error:
            out.append(f"| {sid} | (scenario did not finish) | | {error} | **missed** | |")
    missed = [f for *_, result, _, _ in results for f in result.figures if f.met is False]
    missed += [sid for sid, *_, error in results if error]
    out += ["", "Missed targets: " + ("none." if not missed else "; ".join(
        f"{f.scenario} {f.name} ({f.value}, target {f.target})" if isinstance(f, Figure)
        else f"{f} did not finish" for f in missed) + ". Each scenario's section says how "
        "the figure is measured, and its notes show where the time or CPU goes.")]
    for sid, module, title, result, took, error in results:
        method = getattr(import_module(module), "METHOD", "").strip()
        out += ["", f"## {sid}: {title}", "", "**How it is measured.** " + method, "",
                f"**Measured** (`python -m {module}`, {took:.0f} s):", ""]
        out += result.detail or [f"Did not finish: {error}"]
    out += ["", HTTPTOOLS.format(date="2026-11-22", table=HTTPTOOLS_TABLE)]
    path.write_text("\n".join(out).rstrip() + "\n")
