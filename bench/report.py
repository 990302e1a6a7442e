"""docs/benchmarks.md from the scenarios' results: the machine, one table of every figure
with its target, then per scenario how it is measured and what it measured."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import import_module
from pathlib import Path
from typing import Any

from bench.common import Result

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
requests a client gets served did not change, because the httpx client, not the server,
was what saturated first on this machine (B0 then: about 2 ms of client CPU per request). A
compiled dependency for every sandbox user does not earn its place for that; the
`sandbox` extra stays as it is.

Since (issue 18, 2026-11-30): B0's client sends through orgctl's own transport and is no
longer what saturates, and the emulators keep list items encoded, so h11 is now the larger
part of a small answer's server CPU (about two thirds of a Worklete admin list's, measured
with a profile of the server). A helper measured httptools again then: admin lists 0.17 ->
0.12 ms, membership pages 0.31 -> 0.26 ms of server CPU. B1's wall did not follow the
emulator's CPU (keeping items encoded lowered it and left B1 where it was), so the
decision stands until a figure that matters moves with it.
"""

DECODERS = """\
## Decision: msgspec for JSON, the standard library's event loop

Measured 2026-11-30 (issue 18), on the machine above:

- **JSON.** `python -m bench.decoders` captures every answer a plan of 100,000 employees
  reads (8,233 answers, 139.5 MB) and decodes them again, the collector paused as during a
  plan, median of 5, CPU with the system time of the memory the objects take: `json`
  0.76-0.82 s, msgspec 0.23 0.47 s, orjson 3.13 0.40 s. orgctl decodes with msgspec
  (`providers/http.py` `_body`): it saves about 0.3 s of a 100,000-person plan (read CPU of
  the four providers alone, interleaved A/B: 4.37 and 4.43 s -> 4.08 and 4.10 s) and makes
  the same objects as `json`, integers of any size included. orjson is a little faster but
  decodes an integer past 64 bits as a float without a word (`-9223372036854775809`
  becomes `-9.223372036854776e+18`), which an id must never become. What msgspec refuses
  and Python reads (NaN, a byte order mark, UTF-16, an escaped lone surrogate, `1e400`)
  goes to `json.loads`, so every answer means what it meant before
  (`tests/providers/test_http_json.py`). An earlier measurement here (20 MB said to be the
  answers of a 30,000-employee plan, which read about 42 MB) had concluded the saving was
  0.15 s and rejected both.
- **Writing JSON.** With msgspec a dependency, two writers use it where the standard
  library's cost showed in B2. The fingerprint's rows (`engine/plan.py`
  `_FAST_CANONICAL`): msgspec writes the same canonical text as `json` for text,
  integers, booleans, null, lists and objects (floats in its own shortest form), so saved
  plans stay valid; fingerprints at 100,000 people 0.68 -> 0.52 s (a scratch replay of
  the four parts, the collector paused). The indented plan JSON (`inert.json_text`):
  `json.dumps(indent=2)` indents in pure Python; written compact by the C encoder and
  indented by `msgspec.json.format` it is the same text, and B2's render went 0.22 ->
  0.12 s. Both fall back to `json` for what msgspec will not write or read (a lone
  surrogate; NaN).
- **Event loop.** uvloop 0.23 as the loop of a read, each provider alone at 30,000 people,
  two runs each, client CPU: workelo 0.22-0.23 -> 0.21 s, hrms 0.41 -> 0.41 s, workleap
  0.26-0.28 -> 0.26-0.27 s, worklete 0.38-0.43 -> 0.38-0.41 s. orgctl's own transport
  (`Http1Transport`) does little per request; the loop is not where a read's CPU goes.
"""

SCALE = """\
## Scale beyond one tenant (issue #18)

**How a plan's cost grows.** A plan reads every managed collection of every provider in
pages, so its requests grow as `Σ ceil(n / page cap)` (B1 counts them: 833 for 10,000
employees, about 8,300 for 100,000), plus one request per object where a provider falls
back to a documented per-object route (Worklete's team admin lists: one per team; Workelo's
per-employee scope list when the org-wide one is missing: one per live employee). Its CPU
grows about linearly with the objects compared (B5 gives it at 1,000, 10,000 and 100,000
employees). Against a real API a plan is bound by whichever is slowest:

- **latency**: the rounds of 8 concurrent requests per provider times the round trip
  (B1's bound: 77 rounds, 1.5 s at 20 ms for 10,000 employees; Worklete's per-team admin
  lists set it);
- **rate limits**: requests / limit. Workelo allows 1,000 requests an hour per token: a
  10,000-employee read (113 requests) fits in one hour's budget, a 100,000-employee read
  (about 1,070) does not, and orgctl paces itself (`rate_limit`) instead of meeting 429s,
  so it takes a little over an hour; the per-employee scope fallback costs one request per
  employee (5,000 employees: more than 4 hours);
- **CPU**: about 0.11 ms per employee for the whole plan (B2: about 11 s for 100,000,
  load and render included), which is minutes only past a million employees; a provider's
  part of the plan is made while the slower providers still read, so against a real API
  the CPU mostly hides behind the latency (B1).

**How an apply's cost grows.** One request per change (a create, an update, a removal;
Workelo's journeys and scopes are requests of their own), sent 8 at a time (`--parallelism`)
and paced under the rate limit: B3 shows an apply within 5 % of both bounds. At Workelo's
1,000 requests an hour, an apply of 2,000 creates takes about 2 hours (2,000 requests at
1,000/h, less the first hour's window let through at once); the same apply on HRMS,
Workleap or Worklete, which document no such limit, takes seconds at the parallelism bound
(2,000 / 8 × the round trip). A plan says in its fallback notes how long its reads take at
the configured rate; an apply that outlives a CI job's time limit is best split with
`--target` (one unit or team at a time): a re-run plans from live state and does only what
is left.

**Many tenants: one orgctl per tenant, as a CI matrix.** orgctl plans one organisation
against the systems of one config; it keeps no state between runs but the plan file. An
operator with many tenants keeps one config directory per tenant (its providers block
naming that tenant's credentials as `${ENV}` secrets) and runs one job per tenant:

```yaml
# .github/workflows/orgctl.yml
jobs:
  plan:
    strategy:
      fail-fast: false          # one tenant's refusal does not stop the others
      max-parallel: 8
      matrix:
        tenant: [acme, globex, initech]
    runs-on: ubuntu-latest
    env:
      WORKELO_CLIENT_ID: ${{ secrets[format('{0}_WORKELO_CLIENT_ID', matrix.tenant)] }}
      WORKELO_CLIENT_SECRET: ${{ secrets[format('{0}_WORKELO_CLIENT_SECRET', matrix.tenant)] }}
    steps:
      - uses: actions/checkout@v4
      - run: pip install orgctl
      - run: orgctl plan tenants/${{ matrix.tenant }} --out plan-${{ matrix.tenant }}.json
```

Tenants share nothing: their rate limits are per token, so the jobs do not slow each other,
and the matrix's parallelism is bounded by the CI runners, not by orgctl. A tenant's job
costs what one plan costs (above); the whole matrix costs the slowest tenant's plan in
wall time and the sum of them in runner minutes. Applies run per tenant too (`orgctl apply
plan-TENANT.json`, refused if the tenant's live state moved since its plan), so one
tenant's failure or safety refusal never blocks another's.
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
                 before: dict[str, str], after: dict[str, str], total: float,
                 merge: bool = False) -> None:
    """Write the page. With `merge`, `results` holds only some scenarios: the others' rows,
    sections and machine line are kept from the page as it is."""
    from bench.__main__ import SCENARIOS

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fresh = [sid for sid, *_ in results]
    old = _sections(path.read_text()) if merge and path.exists() else None
    kept = [sid for sid, *_ in SCENARIOS if sid not in fresh] if old else []
    machine_rows = [
        f"| {now} | {before['nproc']} | {before['cpu']} | {before['memory']} | "
        f"{before['python']} | {before['os']} | {before['load']} → {after['load']} | "
        f"{total / 60:.1f} min | {', '.join(fresh)} |"]
    if old:
        for line in old["machine"]:
            cells = line.strip().strip("|").split("|")
            cells = [c.strip() for c in cells[:8]]
            shown = [sid for sid in kept if sid in _cell_ids(line, old["runs"])]
            if shown:
                machine_rows.append("| " + " | ".join(cells + [", ".join(shown)]) + " |")
    out = [
        "# Benchmarks",
        "",
        "How close orgctl gets to the limits the APIs allow, at scale, against the sandbox "
        "emulators. Regenerate this page with `python -m bench` (some scenarios only: "
        "`python -m bench B1 B2 --merge` replaces their figures and keeps the others'); "
        "every figure below is the one that command measured. "
        "Benchmarks live in `bench/`, never in the test suite, and assert nothing.",
        "",
        "## Machine",
        "",
        "| measured | cores (nproc) | CPU | memory | Python | OS | load average (1, 5, 15 min)"
        " before → after | whole run | scenarios on this page from this run |",
        "|---|---|---|---|---|---|---|---|---|",
        *machine_rows,
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
    rows: dict[str, list[str]] = {}
    sections: dict[str, list[str]] = {}
    for sid, module, title, result, took, error in results:
        rows[sid] = [f"| {f.scenario} | {f.name} | {f.target} | {f.value} | "
                     f"{MARKS[f.met]} | {f.note} |" for f in result.figures]
        if error:
            rows[sid].append(f"| {sid} | (scenario did not finish) | | {error} | **missed** | |")
        method = getattr(import_module(module), "METHOD", "").strip()
        sections[sid] = ["", f"## {sid}: {title}", "", "**How it is measured.** " + method, "",
                         f"**Measured** (`python -m {module}`, {took:.0f} s):", ""]
        sections[sid] += result.detail or [f"Did not finish: {error}"]
    for sid in kept:
        assert old is not None
        rows[sid] = old["rows"].get(sid, [])
        sections[sid] = old["sections"].get(sid, [])
    order = [sid for sid, *_ in SCENARIOS if sid in rows]
    missed: list[str] = []
    for sid in order:
        out += rows[sid]
        for line in rows[sid]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 5 and cells[4] == "**missed**":
                missed.append(f"{cells[0]} {cells[1]} ({cells[3]}, target {cells[2]})"
                              if cells[1] != "(scenario did not finish)"
                              else f"{cells[0]} did not finish")
    out += ["", "Missed targets: " + ("none." if not missed else "; ".join(missed) + ". "
            "Each scenario's section says how the figure is measured, and its notes show "
            "where the time or CPU goes.")]
    for sid in order:
        out += sections[sid]
    out += ["", SCALE, "", HTTPTOOLS.format(date="2026-11-22", table=HTTPTOOLS_TABLE), "",
            DECODERS]
    path.write_text("\n".join(out).rstrip() + "\n")


def _cell_ids(line: str, runs: int) -> list[str]:
    """The scenarios a machine line of the page stands for: its last cell when it has
    one, else (a page written by a full run) every scenario."""
    from bench.__main__ import SCENARIOS

    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 9 and cells[8]:
        return [c.strip() for c in cells[8].split(",")]
    return [sid for sid, *_ in SCENARIOS]


def _sections(text: str) -> dict[str, Any]:
    """The parts of a page `write_report` wrote: machine lines, result rows and sections by
    scenario."""
    from bench.__main__ import SCENARIOS

    ids = [sid for sid, *_ in SCENARIOS]
    lines = text.splitlines()
    machine: list[str] = []
    rows: dict[str, list[str]] = {}
    sections: dict[str, list[str]] = {}
    part, current = "", ""
    for line in lines:
        if line.startswith("## "):
            part = line[3:].split(":", 1)[0]
            current = part if part in ids else ""
            if current:
                sections[current] = ["", line]
            continue
        if part == "Machine" and line.startswith("| 2"):
            machine.append(line)
        elif part == "Results" and line.startswith("| "):
            sid = line[2:].split(" |", 1)[0]
            if sid in ids:
                rows.setdefault(sid, []).append(line)
        elif current:
            sections[current].append(line)
    for sid in sections:
        while sections[sid] and not sections[sid][-1].strip():
            sections[sid].pop()
    return {"machine": machine, "rows": rows, "sections": sections, "runs": len(machine)}
