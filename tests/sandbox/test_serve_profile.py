"""`orgctl sandbox serve --profile strict` serves what a vendor's own server might: here,
Workelo without the org-wide scope list seed 001 never shows (issue 13 item 7)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.sandbox.serving import serving


@pytest.mark.parametrize(("profile", "status"), [("permissive", 200), ("strict", 404)])
def test_sandbox_serve_takes_a_profile(profile: str, status: int, tmp_path: Path) -> None:
    with serving(tmp_path, "--profile", profile) as (endpoints, printed):
        workelo = endpoints["workelo"]
        with httpx.Client(base_url=workelo["url"], timeout=10) as client:
            token = client.post("/tokens", files={
                "client_id": (None, workelo["client_id"]),
                "client_secret": (None, workelo["client_secret"])}).json()["access_token"]
            answer = client.get("/unit_organization_managements",
                                headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status
    assert f"profile: {profile}" in printed[0]
