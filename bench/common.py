"""What every benchmark scenario shares: the machine description, figures, generated orgs
and their live state, and sandbox servers running in a process of their own."""

from __future__ import annotations

import cProfile
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.generate import generate, write
from orgctl.config import load
from orgctl.engine import plan as engine_plan
from orgctl.model import Org
from orgctl.sandbox import BASE_PATHS

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("workelo", "hrms", "workleap", "worklete")


@dataclass
class Figure:
    """One line of the results table."""

    scenario: str
    name: str
    target: str
    value: str
    met: bool | None = None  # None: reference figure, no target
    note: str = ""


@dataclass
class Result:
    """A scenario's figures and the detail its section of docs/benchmarks.md shows."""

    figures: list[Figure] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)  # Markdown lines


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 ** 2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": str(len(os.sched_getaffinity(0))), "cpu": model, "memory": memory,
            "python": platform.python_version(), "os": f"{platform.system()} "
            f"{platform.release()}", "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """`median (min–max of N runs)`."""
    return (f"{fmt.format(median(values))} ({fmt.format(min(values))}–"
            f"{fmt.format(max(values))}, {len(values)} runs)")


# -- orgs and live state ----------------------------------------------------------------------

def make_org(employees: int, directory: Path, seed: int = 1) -> Org:
    """Write `generate(employees, seed)` as a multi-file config and load it."""
    write(generate(employees, seed), directory)
    return load(directory, resolve_env=False)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


# -- sandbox servers in another process -------------------------------------------------------

class ServerProcess:
    """A sandbox serving in a child process. `endpoints` as `Sandbox.endpoints()` gives them;
    `log(system)` and `state(system)` read the emulator's control plane over HTTP."""

    def __init__(self, argv: list[str], endpoints_file: Path, startup_timeout: float = 180,
                 env: dict[str, str] | None = None):
        self.endpoints_file = endpoints_file
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + startup_timeout
        while True:
            # `orgctl sandbox serve` writes the file in one call; bench.server renames it in.
            if endpoints_file.exists():
                try:
                    self.endpoints: dict[str, dict[str, Any]] = json.loads(
                        endpoints_file.read_text())
                    break
                except ValueError:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox process exited: {self.proc.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox process did not start in {startup_timeout} s")
            time.sleep(0.05)
        self.control = httpx.Client(timeout=120)

    def root(self, system: str) -> str:
        url = self.endpoints[system]["url"]
        return url[: len(url) - len(BASE_PATHS[system])] if BASE_PATHS[system] else url

    def log(self, system: str) -> dict[str, Any]:
        return self.control.get(f"{self.root(system)}/_sandbox/log").json()

    def requests(self, system: str, status: int | None = None) -> int:
        counters = self.log(system)["counters"]
        return sum(c["count"] for c in counters if status is None or c["status"] == status)

    def state(self, system: str) -> dict[str, Any]:
        return self.control.get(f"{self.root(system)}/_sandbox/state").json()

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "control"):
            self.control.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def orgctl_serve(workdir: Path, seed: dict[str, Any] | None, latency_ms: float = 0,
                 faults: str = "") -> ServerProcess:
    """`orgctl sandbox serve`, exactly as a user starts it."""
    endpoints = workdir / "serve-endpoints.json"
    endpoints.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "orgctl", "sandbox", "serve", "--endpoints-file",
            str(endpoints), "--latency", str(latency_ms)]
    if faults:
        argv += ["--faults", faults]
    if seed is None:
        argv.append("--empty")
    else:
        seed_file = workdir / "serve-seed.json"
        seed_file.write_text(json.dumps(seed))
        argv += ["--seed", str(seed_file)]
    return ServerProcess(argv, endpoints)


def bench_serve(workdir: Path, seed: dict[str, Any] | None, faults: str = "",
                options: dict[str, dict[str, Any]] | None = None, http: str | None = None,
                env: dict[str, str] | None = None, config: Path | None = None,
                drift: float = 0.0) -> ServerProcess:
    """`python -m bench.server`: the same sandbox, with emulator options. With `config`
    (and `seed` None), the server seeds itself with `seed_from_org` of that config, with
    `drift`: the calling process never holds the seed."""
    endpoints = workdir / "bench-endpoints.json"
    endpoints.unlink(missing_ok=True)
    source: dict[str, Any] = {"config": str(config), "drift": drift}
    if config is None:
        seed_file = workdir / "bench-seed.json"
        seed_file.write_text(json.dumps(seed or {}))
        source = {"seed": str(seed_file)}
    spec = workdir / "bench-server.json"
    spec.write_text(json.dumps({**source, "faults": faults, "http": http,
                                "options": options or {}, "endpoints": str(endpoints)}))
    return ServerProcess([sys.executable, "-m", "bench.server", str(spec)], endpoints, env=env)


UNLIMITED = 1_000_000_000
"""Requests per hour. At Workelo's documented 1,000 a large read would last hours: the plan
scenarios lift it on both sides (`unthrottled_serve`, `pointed_unthrottled`)."""


def unthrottled_serve(workdir: Path, seed: dict[str, Any] | None,
                      options: dict[str, dict[str, Any]] | None = None,
                      **kwargs: Any) -> ServerProcess:
    """`bench_serve`, the Workelo emulator's rate limit lifted."""
    options = dict(options or {})
    options["workelo"] = {**options.get("workelo", {}), "rate_limit": UNLIMITED}
    return bench_serve(workdir, seed, options=options, **kwargs)


def pointed_unthrottled(org: Org, server: ServerProcess) -> Org:
    """`org` pointed at `server`'s endpoints, its Workelo client not paced either."""
    from orgctl.config import point_at

    endpoints = {name: dict(e) for name, e in server.endpoints.items()}
    endpoints["workelo"]["rate_limit"] = f"{UNLIMITED}/h"
    return point_at(org, endpoints)


class PartsCpu:
    """The CPU of the providers' parts of a plan made in `read_and_plan`'s worker thread,
    while the reads go on (`counting`): each part's own thread CPU, summed in `seconds`. A
    part made in the main thread (`make_plan` making one it was not given) is left out: it
    is in that thread's CPU already. While `profiles` is not empty, each worker part is
    also profiled, by its thread's CPU (by the wall clock it would be charged the time it
    waits for the interpreter lock), and its profile added to `profiles`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.profiles: list[cProfile.Profile] = []

    @contextmanager
    def counting(self) -> Iterator[PartsCpu]:
        original = engine_plan.plan_part

        def timed(*args: Any, **kwargs: Any) -> Any:
            worker = threading.current_thread() is not threading.main_thread()
            cpu = time.thread_time()
            profile = cProfile.Profile(time.thread_time) if worker and self.profiles else None
            if profile is not None:
                profile.enable()  # cProfile sees only the thread it is enabled in
            try:
                return original(*args, **kwargs)
            finally:
                if profile is not None:
                    profile.disable()
                    self.profiles.append(profile)
                if worker:
                    self.seconds += time.thread_time() - cpu

        engine_plan.plan_part = timed  # type: ignore[assignment]
        try:
            yield self
        finally:
            engine_plan.plan_part = original  # type: ignore[assignment]


def workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="orgctl-bench-")


def main(run: Callable[[Path], Result]) -> None:
    """Entry point of a scenario module: `python -m bench.bN_... [OUT.json]`. Runs the
    scenario in a temporary directory and writes its Result as JSON (or prints it)."""
    import dataclasses

    with workdir() as tmp:
        result = run(Path(tmp))
    data = dataclasses.asdict(result)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for f in result.figures:
            mark = {True: "met", False: "MISSED", None: "-"}[f.met]
            print(f"{f.scenario} {f.name}: {f.value} (target {f.target}, {mark}) {f.note}")
        print("\n".join(result.detail))


def drift(seed: dict[str, Any], fraction: float) -> dict[str, Any]:
    """`seed` (from `seed_from_org`) with every 1/fraction-th employee changed in each system:
    a job title in Workelo, a position in HRMS, a language in Workleap, a last name in
    Worklete. Deterministic; changes the seed in place and returns it."""
    step = max(1, round(1 / fraction))
    for e in seed["workelo"]["employees"][::step]:
        e["job_position"] = "Drifted position"
    seed["hrms"]["positions"].append({"title": "Drifted position"})
    for u in seed["hrms"]["users"][::step]:
        u["position"] = "Drifted position"
    for m in seed["workleap"]["members"][::step]:
        m["languagePreferences"] = "fr" if m.get("languagePreferences") == "en" else "en"
    for m in seed["worklete"]["memberships"][1::step]:  # [0] is the sandbox's own admin
        m["last_name"] = "Drifted"
    return seed
