"""`orgctl plan` when the systems are hostile: refused credentials and missing scopes fail
with a message naming the provider and no secret; expired tokens, 429s and 5xx in the
middle of a read are absorbed, and the plan is the one a healthy read gives; a provider
that cannot be reached fails the plan with its name."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Faults, LoggedRequest, SlidingWindowLimiter
from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import ACME, StartSandbox, plan_json, run_orgctl, write_endpoints


def plan(box: Sandbox, tmp_path: Path, *args: str,
         overrides: dict[str, dict[str, Any]] | None = None) -> Any:
    endpoints = write_endpoints(box, tmp_path / "sandbox.json", overrides)
    return run_orgctl("plan", ACME, "--sandbox", endpoints, *args)


def comparable(result: Any) -> dict[str, Any]:
    """What a reviewer reads in a JSON plan: everything but the timestamp."""
    data = plan_json(result)
    return {k: v for k, v in data.items() if k != "created_at"}


def healthy_plan(box: Sandbox, tmp_path: Path) -> dict[str, Any]:
    """The plan of `box`'s live state read without a fault; the request logs are cleared
    after it, so a test counts only what its faulty read does."""
    healthy = comparable(plan(box, tmp_path, "--format", "json"))
    for emu in box.emulators.values():
        emu.log.clear()
    return healthy


def after_first(box: Sandbox, system: str, route: str, action: Any) -> None:
    """Run `action()` once, as soon as the emulator has answered its first request to
    `route`: a fault that starts in the middle of a read."""
    log = box.emulators[system].log
    add = log.add
    done = False

    def add_then_act(entry: LoggedRequest) -> None:
        nonlocal done
        add(entry)
        if entry.route == route and not done:
            done = True
            action()

    log.add = add_then_act  # type: ignore[method-assign]


# -- refused credentials and scopes ---------------------------------------------------------

@pytest.mark.parametrize(("provider", "setting"), [
    ("workelo", "client_secret"), ("hrms", "token"), ("workleap", "api_key"),
    ("worklete", "password")])
def test_wrong_credentials_fail_naming_the_provider_without_the_secret(
        start_sandbox: StartSandbox, tmp_path: Path, provider: str, setting: str) -> None:
    box = start_sandbox()
    secret = f"wrong-{setting}-Zq81x"

    result = run_orgctl("-v", "plan", ACME, "--sandbox", write_endpoints(
        box, tmp_path / "sandbox.json", {provider: {setting: secret}}))

    assert result.exit_code == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and error[0].startswith(f"Error: {provider}: ")
    assert "401" in error[0]
    assert result.stdout == ""
    # -v logs every request on stderr: the refused secret is in none of it.
    assert secret not in result.output
    assert box.emulators[provider].log.count(status=401) >= 1


def test_hrms_token_without_a_scope_fails_naming_the_scope(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    acme_seed["hrms"]["tokens"] = [{"token": "hrms-no-departments",
                                    "scopes": ["users:read", "positions:read"],
                                    "environment": "staging"}]
    box = start_sandbox(acme_seed)

    result = plan(box, tmp_path)

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: hrms: ")
    assert "departments:read" in result.stderr
    assert "hrms-no-departments" not in result.output
    assert box.emulators["hrms"].log.count(status=403) >= 1


def test_an_unreachable_provider_fails_the_plan_naming_it(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    box = start_sandbox(acme_seed)
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v1"

    result = plan(box, tmp_path, overrides={"worklete": {"url": closed}})

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: worklete: cannot reach {closed}")


# -- absorbed in the middle of a read: the plan is the one a healthy read of the same state
#    gives, fingerprints included ------------------------------------------------------------

def test_workelo_token_expiring_mid_read_is_renewed(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    now = [1000.0]
    box = start_sandbox(acme_drift(acme_seed),
                        options={"workelo": {"token_ttl": 60, "clock": lambda: now[0]}})
    healthy = healthy_plan(box, tmp_path)
    # The token's hour is up once the first employees page is answered.
    after_first(box, "workelo", "/v1/employees", lambda: now.__setitem__(0, now[0] + 61))

    result = plan(box, tmp_path, "--format", "json")

    log = box.emulators["workelo"].log
    assert log.count(status=401) >= 1, "the token never expired mid-read"
    assert log.count(method="POST", route="/v1/tokens") == 2
    assert comparable(result) == healthy


def test_worklete_token_expiring_mid_read_signs_in_again(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    box = start_sandbox(acme_drift(acme_seed))
    healthy = healthy_plan(box, tmp_path)
    worklete = box.emulators["worklete"]
    after_first(box, "worklete", "/api/v1/teams/{team_id}/admins", worklete.expire_tokens)

    result = plan(box, tmp_path, "--format", "json")

    assert worklete.log.count(status=401) >= 1, "the token never expired mid-read"
    assert worklete.log.count(method="POST", route="/api/v1/auth/sign_in") == 2
    assert comparable(result) == healthy


def test_workelo_rate_limit_429_mid_read_waits_retry_after(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any]) -> None:
    box = start_sandbox(acme_drift(acme_seed))
    healthy = healthy_plan(box, tmp_path)
    # 8 collections to list and the templates of the two (mobility, unit) pairs acme's
    # dated journeys need (a leaver's offboarding, a joiner's onboarding), with a token
    # allowed 5 requests a second: Workelo's own 429.
    box.emulators["workelo"].limiter = SlidingWindowLimiter(5, 1.0)

    result = plan(box, tmp_path, "--format", "json")

    log = box.emulators["workelo"].log
    assert log.count(method="GET", status=429) >= 1
    assert log.count(method="GET", status=200) == 10
    assert comparable(result) == healthy


@pytest.mark.parametrize("fault", ["5xx", "429"])
def test_injected_faults_mid_read_are_retried_and_the_plan_is_unchanged(
        start_sandbox: StartSandbox, tmp_path: Path, acme_seed: dict[str, Any],
        fault: str) -> None:
    # Seeded, so which requests fail is the same on every run; the healthy read before
    # the faults draws no random numbers.
    box = start_sandbox(acme_drift(acme_seed), faults=Faults(seed=4))
    healthy = healthy_plan(box, tmp_path)
    box.set_faults(Faults(error_rate=0.3, seed=4) if fault == "5xx"
                   else Faults(rate_429=0.3, retry_after=0.05, seed=4))

    result = plan(box, tmp_path, "--format", "json")

    status = 503 if fault == "5xx" else 429
    hit = {name: emu.log.count(method="GET", status=status)
           for name, emu in box.emulators.items()}
    assert all(hit.values()), f"some reads saw no injected {status}: {hit}"
    assert comparable(result) == healthy
