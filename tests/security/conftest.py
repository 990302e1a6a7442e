"""A served sandbox whose credentials are known, distinctive secret values ("canaries"), and
a copy of examples/acme pointed at it, with those values in the environment: the way a
production config meets real systems, over loopback.

Commands run as subprocesses: the redactor's registry is per process, so a secret an earlier
in-process command registered cannot hide a path that forgets to register it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import pytest
import yaml

from orgctl.sandbox import BUILTIN_FIXTURE

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
BIN = Path(sys.executable).parent

# Distinctive values that must never be seen. Letters, digits and '-' only, so URL-encoding,
# JSON-escaping and CSV-quoting cannot disguise one.
SECRETS = {
    "WORKELO_CLIENT_SECRET": "wkl-s3cr3t-CANARY-7f3a9c",
    "HRMS_TOKEN": "hrms-t0k3n-CANARY-5b1e22",
    "WORKLEAP_API_KEY": "wlp-k3y-CANARY-9d0c41",
    "WORKLETE_PASSWORD": "wlt-p4ss-CANARY-3e8f70",
}
# Wrong credentials given in error-path tests: also secrets, also never shown.
WRONG = {name: value.replace("CANARY", "WRONGCANARY") for name, value in SECRETS.items()}
IDENTITIES = {"WORKELO_CLIENT_ID": "leaktest-client", "WORKLETE_USERNAME": "sandbox-admin"}
CANARIES = (*SECRETS.values(), *WRONG.values())
# A bearer token or a signed-URL signature shown in clear, whatever its value.
CLEAR_TOKENS = re.compile(r"Bearer (?!\*\*\*)\S|signature=(?!\*\*\*)\w|access-token['\": ]+"
                          r"(?!\*\*\*)\w")


def leaks(text: str) -> list[str]:
    found = [c for c in CANARIES if c in text]
    found += [m.group(0) for m in CLEAR_TOKENS.finditer(text)]
    return found


def leak_seed() -> dict:
    """The built-in Acme live state, with the canaries as the emulators' credentials."""
    seed = copy.deepcopy(yaml.safe_load(BUILTIN_FIXTURE.read_text(encoding="utf-8")))
    seed["workelo"]["clients"] = [{"client_id": IDENTITIES["WORKELO_CLIENT_ID"],
                                   "client_secret": SECRETS["WORKELO_CLIENT_SECRET"]}]
    seed["hrms"]["tokens"] = [{"token": SECRETS["HRMS_TOKEN"], "environment": "staging",
                               "scopes": ["users:read", "departments:read", "positions:read"]}]
    seed["workleap"]["api_keys"] = [SECRETS["WORKLEAP_API_KEY"]]
    seed["workleap"].setdefault("integration", {})["processing_delay"] = 0.05
    for user in seed["worklete"]["users"]:
        if user.get("username") == IDENTITIES["WORKLETE_USERNAME"]:
            user["password"] = SECRETS["WORKLETE_PASSWORD"]
    return seed


@dataclass
class Served:
    """One `orgctl sandbox serve` process and what it wrote."""

    proc: subprocess.Popen[bytes]
    endpoints_file: Path
    log: Path
    endpoints: dict = field(default_factory=dict)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        return self.log.read_text(encoding="utf-8", errors="replace")


def serve(workdir: Path, *args: str) -> Served:
    seed = workdir / "seed.json"
    seed.write_text(json.dumps(leak_seed()))
    endpoints = workdir / "endpoints.json"
    log = workdir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([BIN / "orgctl", "-v", "sandbox", "serve", "--seed", seed,
                                 "--endpoints-file", endpoints, *args], cwd=workdir,
                                stdout=out, stderr=subprocess.STDOUT, env=base_env())
    deadline = time.monotonic() + 20
    while not (endpoints.exists() and endpoints.stat().st_size):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sandbox serve did not start:\n{log.read_text()}")
        time.sleep(0.05)
    time.sleep(0.05)  # the file is written in one call; let it be complete
    return Served(proc, endpoints, log, json.loads(endpoints.read_text()))


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in SECRETS and k not in IDENTITIES and not k.startswith("ORGCTL")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def pointed_config(directory: Path, endpoints: dict, overrides: dict[str, str] | None = None
                   ) -> Path:
    """A copy of examples/acme whose provider URLs are the served sandbox's (or `overrides`)."""
    import shutil

    shutil.copytree(ROOT / "examples" / "acme", directory,
                    ignore=shutil.ignore_patterns(".orgctl"))
    providers = directory / "providers.yaml"
    text = providers.read_text(encoding="utf-8")
    for name, endpoint in endpoints.items():
        url = (overrides or {}).get(name, endpoint["url"])
        text = re.sub(rf"(\n  {name}:\n(?:    .*\n)*?    url: )\S+", rf"\g<1>{url}", text)
    providers.write_text(text, encoding="utf-8")
    return directory


@dataclass
class Runner:
    """Runs orgctl with the canaries in the environment and checks every output at once."""

    cwd: Path
    env: dict[str, str]
    seen: list[str] = field(default_factory=list)

    def __call__(self, *args: str | Path, code: int | tuple[int, ...] = 0,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(BIN / "orgctl"), *map(str, args)], cwd=self.cwd,
                                env=env or self.env, capture_output=True, text=True,
                                timeout=120)
        shown = " ".join(map(str, args))
        self.seen.append(shown)
        for stream in (result.stdout, result.stderr):
            assert not leaks(stream), f"`orgctl {shown}` showed a secret: {leaks(stream)}"
        codes = code if isinstance(code, tuple) else (code,)
        assert result.returncode in codes, (
            f"`orgctl {shown}` exited {result.returncode}\n{result.stdout[-2000:]}\n"
            f"{result.stderr[-2000:]}")
        return result


def together(*jobs: Callable[[], T]) -> list[T]:
    """Run independent jobs side by side (they wait on subprocesses and retries); their
    results in order, the first failure raised."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]


def assert_files_clean(*paths: Path) -> int:
    """No canary in any of these files (directories: every file below). Returns the count."""
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*")))
             if f.is_file()]
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        assert not leaks(text), f"{f} holds a secret: {leaks(text)}"
    return len(files)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    box = serve(tmp_path_factory.mktemp("served"))
    yield box
    box.stop()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return base_env(**SECRETS, **IDENTITIES)


class Handler(BaseHTTPRequestHandler):
    """A hand-written server's handler for a test (`loopback`): `send` answers whole,
    nothing is logged."""

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """`handler` served on a free loopback port while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def hrms_at(directory: Path, url: str) -> Path:
    """A config of one HRMS provider at `url`, its token from ${HRMS_TOKEN}."""
    config = directory / "org.yaml"
    config.write_text(f"version: 1\nproviders:\n  hrms:\n    url: {url}\n"
                      "    token: ${HRMS_TOKEN}\n    environment: staging\n")
    return config
