"""`orgctl sandbox serve` in a process of its own, for the tests of its options."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Run `orgctl sandbox serve ARGS` until the block ends; yield the endpoints it wrote
    and a list that holds, once the block is over, what it printed."""
    endpoints = tmp_path / "sandbox.json"
    serve = subprocess.Popen(
        [sys.executable, "-m", "orgctl", "sandbox", "serve", *args,
         "--endpoints-file", str(endpoints)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while not endpoints.exists():
            assert serve.poll() is None, serve.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no endpoints file"
            time.sleep(0.05)
        yield json.loads(endpoints.read_text()), printed
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=15)
        printed.append(out)
