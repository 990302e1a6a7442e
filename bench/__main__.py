"""`python -m bench`: run every benchmark scenario and write docs/benchmarks.md.

    python -m bench                  # all scenarios, then docs/benchmarks.md
    python -m bench B1 B3            # some of them, printed only: the page keeps every figure
    python -m bench B1 B3 --merge    # some of them, replacing only their figures on the page
    python -m bench --no-write       # print the table, leave the docs alone
    python -m bench --help           # this text

Each scenario runs in a fresh interpreter (`python -m bench.<module> OUT.json`), so no
scenario's heap, threads or garbage collector state weighs on the next, and peak memory
is one scenario's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Figure, Result, machine
from bench.report import write_report

# id, module, title, time limit (s)
SCENARIOS = [
    ("B0", "bench.b0_emulators", "Emulator throughput (issue #3)", 240),
    ("B0'", "bench.bench_config", "Config load and validation (issue #2)", 120),
    ("B1", "bench.b1_no_change_plan", "No-change plan, 10,000 employees (issues #4, #8)", 180),
    ("B2", "bench.b2_large_plan", "Plan of 100,000 employees (issues #4, #8)", 420),
    ("B3", "bench.b3_apply_creates", "Apply of 2,000 creates (issues #5, #8)", 180),
    ("B4", "bench.b4_faults", "Apply under faults (issues #5, #8)", 180),
    ("B5", "bench.b5_octodns_peer", "A peer beside us: octoDNS (issue #18)", 1200),
    ("B6", "bench.b6_dated_plan", "What dates cost a plan (issue #15)", 240),
]


def run_scenario(module: str, limit: int) -> tuple[Result, float, str]:
    """The scenario's Result, its wall time, and an error ('' when it ran)."""
    with tempfile.TemporaryDirectory(prefix="orgctl-bench-") as tmp:
        out = Path(tmp) / "result.json"
        start = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", module, str(out)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return Result(), time.perf_counter() - start, f"stopped after {limit} s"
        took = time.perf_counter() - start
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return Result(), took, f"failed (exit {proc.returncode}): {tail[0]}"
        data = json.loads(out.read_text())
    return Result([Figure(**f) for f in data["figures"]], data["detail"]), took, ""


def main(argv: list[str]) -> int:
    if "-h" in argv or "--help" in argv:
        print(__doc__.strip() + "\n\nScenarios: " + ", ".join(
            f"{sid} ({title})" for sid, _, title, _ in SCENARIOS))
        return 0
    unknown = [a for a in argv if a.startswith("-") and a not in ("--no-write", "--merge")]
    if unknown:
        print(f"unknown option: {' '.join(unknown)} (see --help)", file=sys.stderr)
        return 2
    wanted = [a for a in argv if not a.startswith("--")]
    # The page holds every scenario's figures: only a full run may rewrite it whole, or one
    # scenario's run would wipe the others' figures; `--merge` replaces only the figures
    # and sections of the scenarios run, and says on the page which ones are older.
    merge = "--merge" in argv and bool(wanted)
    write = "--no-write" not in argv and (not wanted or merge)
    chosen = [s for s in SCENARIOS if not wanted or s[0] in wanted]
    if not chosen:
        print(f"no such scenario: {' '.join(wanted)} (known: "
              f"{', '.join(s[0] for s in SCENARIOS)})", file=sys.stderr)
        return 1
    before = machine()
    started = time.perf_counter()
    results = []
    for sid, module, title, limit in chosen:
        print(f"{sid}: {title} ...", file=sys.stderr, flush=True)
        result, took, error = run_scenario(module, limit)
        for f in result.figures:
            mark = {True: "met", False: "MISSED", None: "-"}[f.met]
            print(f"  {f.name}: {f.value} (target {f.target}: {mark})", file=sys.stderr)
        if error:
            print(f"  {error}", file=sys.stderr)
        results.append((sid, module, title, result, took, error))
    total = time.perf_counter() - started
    after = machine()
    print(f"all scenarios: {total:.0f} s", file=sys.stderr)
    if write:
        path = ROOT / "docs" / "benchmarks.md"
        write_report(path, results, before, after, total, merge=merge)
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 1 if any(r[5] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
