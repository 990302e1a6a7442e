"""A no-change plan of a 2,000-employee org costs exactly the minimum number of requests per
provider: its auth request plus ceil(n / page cap) per collection (at least one page each),
and for Worklete one admins request per team (the seed has no organisation-wide list).
Collections and caps are the ones in docs/providers/*.md ("Reading" and the capability
tables)."""

from __future__ import annotations

import math
from pathlib import Path

from bench.generate import generate, write
from orgctl.config import load
from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import seed_from_org
from tests.e2e.conftest import StartSandbox, run_orgctl, write_endpoints

EMPLOYEES = 2000
Requests = dict[tuple[str, str], int]


def pages(n: int, cap: int) -> int:
    return max(1, math.ceil(n / cap))


def minimum(box: Sandbox) -> dict[str, Requests]:
    """The fewest requests that can read what each emulator holds, by (method, route)."""
    workelo = box.emulators["workelo"].state
    hrms = box.emulators["hrms"].state
    workleap = box.emulators["workleap"].state
    worklete = box.emulators["worklete"].state
    return {
        # workelo.md: 1 token + ceil(n/100) per collection, eight collections.
        "workelo": {("POST", "/v1/tokens"): 1} | {
            ("GET", f"/v1/{name}"): pages(len(workelo[name]), 100)
            for name in ("user_roles", "identification_resources", "level_organizations",
                         "templates", "unit_organizations", "employees",
                         "unit_organization_managements", "tracks")},
        # hrms.md: a static token; users (with include=), departments, positions at 100.
        "hrms": {("GET", f"/api/v1/{name}"): pages(len(hrms[name]), 100)
                 for name in ("users", "departments", "positions")},
        # workleap.md: a static key; members and teams at pageSize=500.
        "workleap": {("GET", f"/provisioning/{name}"): pages(len(workleap[name]), 500)
                     for name in ("members", "teams")},
        # worklete.md: 1 sign-in + organizations + teams + memberships at 100 + 1 per team.
        "worklete": {
            ("POST", "/api/v1/auth/sign_in"): 1,
            ("GET", "/api/v1/organizations"): pages(len(worklete["organizations"]), 100),
            ("GET", "/api/v1/organizations/{organization_id}/teams"):
                pages(len(worklete["teams"]), 100),
            ("GET", "/api/v1/worklete_admin/memberships"):
                pages(len(worklete["memberships"]), 100),
            ("GET", "/api/v1/teams/{team_id}/admins"): len(worklete["teams"]),
        },
    }


def made(box: Sandbox) -> dict[str, Requests]:
    out: dict[str, Requests] = {}
    for name, emu in box.emulators.items():
        counters = emu.log.as_json()["counters"]
        assert {c["status"] for c in counters} <= {200}, f"{name}: {counters}"
        out[name] = {(c["method"], c["route"]): c["count"] for c in counters}
    return out


def breakdown(expected: dict[str, Requests], actual: dict[str, Requests]) -> str:
    lines = ["requests per provider (minimum / made):"]
    for name in sorted(expected):
        want, got = expected[name], actual.get(name, {})
        lines.append(f"  {name}: {sum(want.values())} / {sum(got.values())}")
        for method, route in sorted(want.keys() | got.keys()):
            mark = "" if want.get((method, route)) == got.get((method, route)) else "  <--"
            lines.append(f"    {method:4} {route}: {want.get((method, route), 0)} / "
                         f"{got.get((method, route), 0)}{mark}")
    return "\n".join(lines)


def test_no_change_plan_of_2000_employees_makes_the_minimum_requests(
        start_sandbox: StartSandbox, tmp_path: Path) -> None:
    config = write(generate(EMPLOYEES), tmp_path / "org")
    org = load(config, resolve_env=False)
    box = start_sandbox(seed_from_org(org))

    result = run_orgctl("plan", config, "--sandbox", write_endpoints(box, tmp_path / "sb.json"),
                        "--detailed-exitcode")

    assert result.exit_code == 0, result.output
    leavers = sum(not e.active for e in org.employees.values())  # manual in Workelo
    assert result.stdout.splitlines()[-1] == (
        f"Plan: 0 to add, 0 to change, 0 to destroy, {leavers} manual.")
    expected, actual = minimum(box), made(box)
    assert len(box.emulators["workelo"].state["employees"]) == EMPLOYEES
    assert actual == expected, breakdown(expected, actual)
