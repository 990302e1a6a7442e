"""`python -m bench.decoders [EMPLOYEES]`: what decoding a plan's answers costs in each JSON
decoder, the measurement behind docs/benchmarks.md's "Decision: the JSON decoder".

Every answer a plan of EMPLOYEES people (default 100,000, 1 % drift) reads is captured as
the bytes the server sent, provider by provider, then decoded again in this process, five
times per decoder with the collector paused as during a plan: the standard library's
`json.loads` (what `httpx.Response.json()` calls), msgspec (what orgctl decodes with), and
orjson when it is installed. CPU is the process's (user and system: decoding 140 MB makes
new memory, and its page faults are system time). Prints one line per decoder.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import SYSTEMS, pointed_unthrottled, unthrottled_serve, workdir
from bench.generate import generate, write
from orgctl import commands
from orgctl.config import load
from orgctl.providers import http

RUNS = 5


def capture(employees: int) -> list[bytes]:
    """The bodies of every answer each provider's read of a fresh plan receives."""
    bodies: list[bytes] = []
    decode = http._body

    def keep(resp: Any) -> Any:
        bodies.append(resp.content)
        return decode(resp)

    with workdir() as tmp:
        config = Path(tmp) / "org"
        write(generate(employees), config)
        org = load(config, resolve_env=False)
        server = unthrottled_serve(Path(tmp), None, config=config, drift=0.01)
        http._body = keep
        try:
            target = pointed_unthrottled(org, server)
            for name in SYSTEMS:
                opened = commands.open_providers(target, [name])

                async def read(opened: list[Any] = opened) -> None:
                    try:
                        await opened[0].read(None)
                    finally:
                        await commands.close_all(opened)

                asyncio.run(read())
        finally:
            http._body = decode
            server.stop()
    return bodies


def cpu_of(loads: Callable[[bytes], Any], bodies: list[bytes]) -> float:
    """The median CPU of decoding every body, keeping the results until the run ends."""
    times = []
    for _ in range(RUNS):
        gc.collect()
        gc.disable()
        start = time.process_time()
        kept = [loads(body) for body in bodies]
        times.append(time.process_time() - start)
        del kept
        gc.enable()
    return statistics.median(times)


def main() -> None:
    employees = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    bodies = capture(employees)
    size = sum(map(len, bodies))
    print(f"{len(bodies):,} answers, {size / 1e6:.1f} MB, of a plan of {employees:,} "
          f"employees; CPU, median of {RUNS}:")
    decoders: list[tuple[str, Callable[[bytes], Any]]] = [
        ("json (standard library)", json.loads), ("msgspec (orgctl)", http._DECODE)]
    try:
        import orjson  # type: ignore[import-not-found]  # only when installed by hand
        decoders.append(("orjson", orjson.loads))
    except ImportError:
        pass
    for name, loads in decoders:
        print(f"  {name:24} {cpu_of(loads, bodies):.2f} s")


if __name__ == "__main__":
    main()
