"""B0' (issue #2), a benchmark, not a test: load and validate a generated 10,000-employee
config.

    .venv/bin/python bench/bench_config.py [EMPLOYEES] [RUNS]   # prints each run
    .venv/bin/python -m bench.bench_config [OUT.json]           # as `python -m bench` does

Writes the organisation of `bench.generate` (same proportions as examples/acme) as a
multi-file config in a temporary directory, then times `orgctl.config.load` — read, parse,
schema, model, semantic checks: everything `orgctl validate` does — and prints each run.
Target: 0.5 s or less for 10,000 employees (issue #18).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Figure, Result  # noqa: E402
from bench.generate import generate, write  # noqa: E402
from orgctl import config  # noqa: E402

EMPLOYEES = 10_000
RUNS = 5
TARGET = 0.5  # issue #18 (it was 5 s in issue #2)

METHOD = f"""\
The generated {EMPLOYEES:,}-employee org is written as a multi-file config (providers,
units, teams, people/NNN.yaml), then `orgctl.config.load(directory)` runs {RUNS} times: read,
strict YAML parse, JSON Schema, model, semantic checks: everything `orgctl validate` does.
The figure is the median wall time.
"""

ENV = {name: f"bench-{name.lower()}" for name in (
    "WORKELO_CLIENT_ID", "WORKELO_CLIENT_SECRET", "HRMS_TOKEN", "WORKLEAP_API_KEY",
    "WORKLETE_USERNAME", "WORKLETE_PASSWORD")}


def main(employees: int = 10_000, runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = write(generate(employees), Path(tmp) / "org")
        size = sum(p.stat().st_size for p in directory.rglob("*.yaml"))
        print(f"config: {employees} employees, {size / 1e6:.1f} MB in "
              f"{len(list(directory.rglob('*.yaml')))} files")
        times = []
        for run in range(1, runs + 1):
            start = time.perf_counter()
            org = config.load(directory, environ=ENV)
            times.append(time.perf_counter() - start)
            print(f"run {run}: load+validate {times[-1]:.2f} s  ({org.summary()})")
        print(f"median {statistics.median(times):.2f} s, best {min(times):.2f} s")


def run(workdir: Path) -> Result:
    directory = write(generate(EMPLOYEES), workdir / "org")
    times, summary = [], ""
    for _ in range(RUNS):
        start = time.perf_counter()
        summary = config.load(directory, environ=ENV).summary()
        times.append(time.perf_counter() - start)
    took = statistics.median(times)
    size = sum(p.stat().st_size for p in directory.rglob("*.yaml"))
    result = Result()
    result.figures.append(Figure(
        "B0'", f"load + validate a {EMPLOYEES:,}-employee config", f"≤ {TARGET:g} s",
        f"{took:.2f} s", took <= TARGET,
        f"{size / 1e6:.1f} MB of YAML; min {min(times):.2f} s, max {max(times):.2f} s"))
    result.detail.append(f"{summary}; {RUNS} runs: " + ", ".join(f"{t:.2f} s" for t in times)
                         + ".")
    return result


if __name__ == "__main__":
    if __package__:  # python -m bench.bench_config
        from bench.common import main as scenario_main

        scenario_main(run)
    else:
        main(*(int(a) for a in sys.argv[1:3]))
