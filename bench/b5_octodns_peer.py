"""B5 (issue #18): a peer measured beside us. octoDNS plans N DNS records from one YAML
provider into another; orgctl plans N employees against the four emulators; the figure is
octoDNS's CPU over orgctl's, per size.

    python -m bench.b5_octodns_peer [OUT.json]          # as `python -m bench` does
    python -m bench.b5_octodns_peer --one octodns 1000  # one measurement, printed as JSON

Each measurement runs in an interpreter of its own, so neither side's heap or imports
weigh on the other. octoDNS comes from the `bench` extra (`pip install -e .[bench]`).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Figure, Result, main, pointed_unthrottled, unthrottled_serve
from bench.generate import generate, write

SIZES = (1_000, 10_000, 100_000)
DRIFT = 0.01
GOAL = 5.0  # at 100,000: octoDNS's CPU / orgctl's

METHOD = f"""\
**octoDNS** (the `bench` extra, `octodns>=1.22`) plans N A records of one zone from a
`YamlProvider` holding the config into another `YamlProvider` holding the live state, where
{DRIFT:.0%} of the records point elsewhere: `Manager(config).sync(dry_run=True)`, exactly
as `octodns-sync` plans without `--doit`. Its CPU is the process's user + system time from
building the `Manager` to the end of the plan (imports excluded). **orgctl** plans N
employees with {DRIFT:.0%} drift as B2 does (load, read, diff, render; the emulators in a
process of their own; the CPU of the whole plan process). Each side runs in a fresh
interpreter; the figure is octoDNS's CPU over orgctl's, above 1 when orgctl is cheaper.
Per object the comparison favours octoDNS: an employee is several resources across four
systems (the resources each plan compared are given), a record is one.
"""


class ChangeCount:
    """An octoDNS plan output that counts the changes planned."""

    total = 0

    def __init__(self, name: str, **_: Any):
        self.name = name

    def run(self, log: Any, plans: list[Any], *args: Any, **kwargs: Any) -> None:
        ChangeCount.total = sum(len(plan.changes) for _, plan in plans)


def octodns_cpu(workdir: Path, records: int) -> dict[str, Any]:
    """Plan `records` A records YAML → YAML with octoDNS; its CPU seconds and peak RSS."""
    import yaml

    config_dir, live_dir = workdir / "zones-config", workdir / "zones-live"
    config_dir.mkdir(parents=True, exist_ok=True)
    live_dir.mkdir(parents=True, exist_ok=True)
    step = max(1, round(1 / DRIFT))
    wanted: dict[str, Any] = {}
    live: dict[str, Any] = {}
    for i in range(records):
        name = f"host-{i:06d}"
        address = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        wanted[name] = {"type": "A", "ttl": 3600, "value": address}
        live[name] = {"type": "A", "ttl": 3600,
                      "value": "192.0.2.1" if i % step == 0 else address}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    (config_dir / "example.com.yaml").write_text(yaml.dump(wanted, Dumper=dumper))
    (live_dir / "example.com.yaml").write_text(yaml.dump(live, Dumper=dumper))
    manager_file = workdir / "octodns.yaml"
    manager_file.write_text(yaml.safe_dump({
        # octoDNS's default plan output, and a count of the changes (a dry run returns 0)
        "manager": {"plan_outputs": {
            "logger": {"class": "octodns.provider.plan.PlanLogger", "level": "info"},
            "count": {"class": "bench.b5_octodns_peer.ChangeCount"}}},
        "providers": {
            "config": {"class": "octodns.provider.yaml.YamlProvider",
                       "directory": str(config_dir), "escaped_semicolons": False},
            "live": {"class": "octodns.provider.yaml.YamlProvider",
                     "directory": str(live_dir), "escaped_semicolons": False},
        },
        "zones": {"example.com.": {"sources": ["config"], "targets": ["live"]}},
    }))
    from octodns import __version__
    from octodns.manager import Manager

    start = _cpu()
    wall = time.perf_counter()
    Manager(str(manager_file)).sync(dry_run=True)
    changes = ChangeCount.total
    return {"cpu": _cpu() - start, "wall": time.perf_counter() - wall,
            "rss_mb": _peak_mb(), "objects": records, "changes": changes,
            "version": __version__}


def orgctl_cpu(workdir: Path, employees: int) -> dict[str, Any]:
    """Plan `employees` as B2 does (without the profile); the plan process's CPU (every
    thread: each provider's part is made in a worker thread during the read; the emulators
    are in a process of their own) and peak RSS."""
    from orgctl import commands
    from orgctl.config import load
    from orgctl.render import render_json, render_text

    config = workdir / "org"
    write(generate(employees), config)
    cpu, wall = time.thread_time(), time.perf_counter()
    org = load(config, resolve_env=False)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    server = unthrottled_serve(workdir, None, config=config, drift=DRIFT)
    try:
        target = pointed_unthrottled(org, server)
        start, started = time.process_time(), time.perf_counter()
        made = commands.plan(config, org=target)
        render_text(made.plan)
        render_json(made.plan)
        cpu += time.process_time() - start
        wall += time.perf_counter() - started
        objects = sum(len(resources) for resources in made.live.values())
    finally:
        server.stop()
    changes = sum(1 for c in made.plan.changes if c.action != "manual")
    return {"cpu": cpu, "wall": wall, "rss_mb": _peak_mb(), "objects": objects,
            "changes": changes}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(tool: str, size: int) -> dict[str, Any]:
    """One measurement in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-m", "bench.b5_octodns_peer", "--one", tool,
                           str(size)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{tool} at {size}: exit {proc.returncode}: {tail[0]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(workdir: Path) -> Result:
    rows = [(size, measure("octodns", size), measure("orgctl", size)) for size in SIZES]
    result = Result()
    version = rows[0][1]["version"]
    for size, peer, ours in rows:
        ratio = peer["cpu"] / ours["cpu"]
        last = size == SIZES[-1]
        result.figures.append(Figure(
            "B5", f"octoDNS {version} CPU / orgctl plan CPU, {size:,} records / employees",
            f"≥ {GOAL:g}" if last else "(reported)", f"{ratio:.1f}",
            ratio >= GOAL if last else None,
            f"octoDNS {peer['cpu']:.1f} s, orgctl {ours['cpu']:.1f} s"))
    result.detail += [
        f"octoDNS {version}, `Manager.sync(dry_run=True)`; orgctl as B2.",
        "",
        "| size | octoDNS CPU | changes | peak RSS | orgctl CPU | resources read | changes "
        "| peak RSS | CPU ratio (octoDNS / orgctl) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, peer, ours in rows:
        result.detail.append(
            f"| {size:,} | {peer['cpu']:.2f} s | {peer['changes']:,} | "
            f"{peer['rss_mb']:,.0f} MB | {ours['cpu']:.2f} s | {ours['objects']:,} | "
            f"{ours['changes']:,} | {ours['rss_mb']:,.0f} MB | "
            f"{peer['cpu'] / ours['cpu']:.1f} |")
    return result


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        import tempfile

        # The module as octoDNS imports it (for ChangeCount), not as `__main__`.
        from bench import b5_octodns_peer as peer

        tool, size = sys.argv[2], int(sys.argv[3])
        with tempfile.TemporaryDirectory(prefix="orgctl-bench-") as tmp:
            one = peer.octodns_cpu if tool == "octodns" else peer.orgctl_cpu
            measured = one(Path(tmp), size)
        print(json.dumps(measured))
    else:
        main(run)
