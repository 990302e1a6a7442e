"""Benchmark (not a test): load and validate a generated 10,000-employee config.

    .venv/bin/python bench/bench_config.py [EMPLOYEES] [RUNS]

Writes the organisation of `bench.generate` (same proportions as examples/acme) as a
multi-file config in a temporary directory, then times `orgctl.config.load` — read, parse,
schema, model, semantic checks: everything `orgctl validate` does — and prints each run.
Target: under 5 s for 10,000 employees.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import generate, write  # noqa: E402
from orgctl import config  # noqa: E402

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


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
