"""The sandbox in a process of its own, with emulator options `orgctl sandbox serve` does not
expose (Workelo's rate limit, Worklete's upload delay), for the benchmarks.

    python -m bench.server SPEC.json

SPEC: {"seed": path of a JSON seed fixture or null, or "config": a config directory to seed
from (`seed_from_org`) with "drift" (`bench.common.drift`), "faults": "5xx=0.1,...",
"options": {system: {option: value}}, "endpoints": path to write, "http": "h11" or
"httptools" (uvicorn's HTTP parser; default: uvicorn's choice, as `orgctl sandbox serve`)}.
The endpoints file is written once every server listens; SIGTERM stops them. A separate
process keeps the emulators' CPU off the measured client's interpreter (and its GIL), as
in real use.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    if spec.get("http"):
        use_parser(spec["http"])
    if spec.get("config"):
        # Seeded from a config here, not in the benchmark: a 100,000-employee seed built
        # and encoded there would count in the measured process's peak memory.
        from bench.common import drift
        from orgctl.config import load
        from orgctl.sandbox.seeding import seed_from_org

        seed = seed_from_org(load(Path(spec["config"]), resolve_env=False))
        if spec.get("drift"):
            seed = drift(seed, spec["drift"])
    else:
        seed = json.loads(Path(spec["seed"]).read_text()) if spec.get("seed") else {}
    box = Sandbox(seed, Faults.parse(spec.get("faults")), options=spec.get("options") or {})
    box.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    endpoints = Path(spec["endpoints"])
    tmp = endpoints.with_suffix(".tmp")
    tmp.write_text(json.dumps(box.endpoints()))
    tmp.rename(endpoints)  # readers never see half a file
    try:
        stop.wait()
    finally:
        box.stop()


def use_parser(name: str) -> None:
    """Make every uvicorn server of this process parse HTTP with `name`."""
    import uvicorn

    original = uvicorn.Config.__init__

    def init(self: uvicorn.Config, *args: object, **kwargs: object) -> None:
        kwargs["http"] = name
        original(self, *args, **kwargs)

    uvicorn.Config.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    main(sys.argv[1])
