"""`orgctl sandbox serve --profile strict` serves what a vendor's own server might: here,
Workelo without the org-wide scope list seed 001 never shows (issue 13 item 7)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


@pytest.mark.parametrize(("profile", "status"), [("permissive", 200), ("strict", 404)])
def test_sandbox_serve_takes_a_profile(profile: str, status: int, tmp_path: Path) -> None:
    endpoints = tmp_path / "sandbox.json"
    serve = subprocess.Popen(
        [sys.executable, "-m", "orgctl", "sandbox", "serve", "--profile", profile,
         "--endpoints-file", str(endpoints)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not endpoints.exists():
            assert serve.poll() is None, serve.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no endpoints file"
            time.sleep(0.05)
        workelo = json.loads(endpoints.read_text())["workelo"]
        with httpx.Client(base_url=workelo["url"], timeout=10) as client:
            token = client.post("/tokens", files={
                "client_id": (None, workelo["client_id"]),
                "client_secret": (None, workelo["client_secret"])}).json()["access_token"]
            answer = client.get("/unit_organization_managements",
                                headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=15)
    assert f"profile: {profile}" in out
