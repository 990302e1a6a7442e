"""`Sandbox.reset`, which lets the test session share one sandbox: after a reset the same
ports serve emulators built from the new seed, faults and options, and nothing of the
previous test is left (state, tokens, request log, injected faults)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orgctl.errors import OrgctlError
from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults
from tests.conftest import Sandboxes


def users(box: Sandbox, token: str) -> httpx.Response:
    """GET the HRMS user list with `token`, as the HRMS provider does."""
    return httpx.get(box.url("hrms") + "/v1/users",
                     headers={"Authorization": f"Bearer {token}", "X-Environment": "staging"})


def hrms_seed(token: str, *names: str) -> dict[str, Any]:
    return {"hrms": {"tokens": [{"token": token, "environment": "staging",
                                 "scopes": ["users:read"]}],
                     "users": [{"name": name, "email": f"{name.lower()}@acme.example"}
                               for name in names]}}


def test_a_reset_serves_the_new_seed_and_credentials_on_the_same_ports(
        sandboxes: Sandboxes) -> None:
    box = sandboxes.start(hrms_seed("first-token", "Ada"))
    urls = {system: box.url(system) for system in box.emulators}
    assert [u["attributes"]["name"] for u in users(box, "first-token").json()["data"]] == ["Ada"]

    box.reset(hrms_seed("second-token", "Grace", "Linus"))

    assert {system: box.url(system) for system in box.emulators} == urls
    assert box.endpoints()["hrms"]["token"] == "second-token"
    assert users(box, "first-token").status_code == 401, "the old credentials are gone"
    answer = users(box, "second-token")
    assert [u["attributes"]["name"] for u in answer.json()["data"]] == ["Grace", "Linus"]
    assert box.emulators["hrms"].log.count() == 2, "the log starts again at the reset"


def test_a_reset_replaces_faults_and_options(sandboxes: Sandboxes) -> None:
    box = sandboxes.start({}, faults=Faults(error_rate=1.0))
    token = box.endpoints()["hrms"]["token"]
    assert users(box, token).status_code == 503

    box.reset({}, options={"workelo": {"rate_limit": 1}})
    assert users(box, token).status_code == 200, "no fault survives the reset"
    assert box.emulators["workelo"].limiter.limit == 1

    box.reset({})
    assert box.emulators["workelo"].limiter.limit == 1000, "nor does an option"


def test_an_invalid_seed_leaves_the_running_emulators_as_they_were(
        sandboxes: Sandboxes) -> None:
    box = sandboxes.start(hrms_seed("kept-token", "Ada"))
    before = dict(box.emulators)

    with pytest.raises(OrgctlError, match="sandbox seed fixture is invalid"):
        box.reset({"hrms": {"tokens": [{"token": "t", "environment": "production"}]}})

    assert box.emulators == before
    assert users(box, "kept-token").status_code == 200


def test_a_second_sandbox_in_one_test_is_its_own(sandboxes: Sandboxes) -> None:
    first = sandboxes.start(hrms_seed("first-token", "Ada"))
    second = sandboxes.start(hrms_seed("second-token", "Grace"))

    assert first.url("hrms") != second.url("hrms")
    assert users(first, "first-token").status_code == 200
    assert users(second, "second-token").status_code == 200
