"""Does uvicorn's `httptools` parser lift emulator throughput? (the decision recorded at the
end of docs/benchmarks.md; not part of `python -m bench`)

    PYTHONPATH=DIR python -m bench.http_parser     # DIR holds httptools, if not installed

Serves the B0 seed with `python -m bench.server` forced to h11, then to httptools, and
prints, per emulator list and page size, the requests served to the B0 client and the
server's CPU per request.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

from bench.b0_emulators import EMPLOYEES, PAGE_SIZES, Target, throughput
from bench.common import bench_serve, make_org, workdir
from orgctl.sandbox.seeding import seed_from_org

REQUESTS = 800
ROUNDS = 2


def main() -> int:
    if importlib.util.find_spec("httptools") is None:
        print("httptools is not importable: install it somewhere and put that directory "
              "on PYTHONPATH", file=sys.stderr)
        return 1
    with workdir() as tmp:
        directory = Path(tmp)
        seed = seed_from_org(make_org(EMPLOYEES, directory / "org"))
        for _ in range(ROUNDS):
            for parser in ("h11", "httptools"):
                with bench_serve(directory, seed, http=parser) as server:
                    for system, sizes in PAGE_SIZES.items():
                        for size in sizes:
                            e = server.endpoints[system]
                            target = Target(system, e["url"],
                                            {k: v for k, v in e.items() if k != "url"})
                            rate, cpu, _ = asyncio.run(throughput(target, size, REQUESTS,
                                                               server))
                            print(f"{parser:9} {system:8} {size:3} {rate:5.0f}/s "
                                  f"server CPU {cpu * 1000:.2f} ms/request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
