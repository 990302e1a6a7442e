"""The Workelo provider against the Workelo emulator over real loopback HTTP: a live state
that matches the config plans nothing, a read costs the minimum number of requests, every
kind of create, update and delete converges, what Workelo cannot do is planned as manual,
and a create whose outcome is unknown never makes a duplicate."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgctl.engine.apply import ApplyResult, apply_changes
from orgctl.engine.plan import link_dependencies, plan_provider
from orgctl.errors import ProviderError
from orgctl.model import Employee, Journey, Org, ProviderConfig, Unit
from orgctl.providers.base import capability_table
from orgctl.providers.workelo import PAGE_SIZE, WorkeloProvider
from orgctl.resources import Change, Finding, Resource
from orgctl.sandbox.core import Faults, ServerThread
from orgctl.sandbox.workelo import WorkeloEmulator

FAR = date(2099, 1, 1)  # an invitation date that stays in the future: status scheduled

UNITS = [
    Unit("acme", "Acme", "Group"),
    Unit("eng", "Engineering", "Division", parent="acme", language="en"),
    Unit("ops", "Operations", "Division", parent="acme"),
    Unit("platform", "Platform", "Department", parent="eng"),
]


def people() -> list[Employee]:
    lea_onboarding = Journey("onboarding", "EMP-3", "onboarding", date(2026, 6, 1),
                             end_date=date(2026, 9, 1), templates=("Standard onboarding",),
                             invite_at=FAR, start=True, implications={"buddy": "EMP-4"})
    return [
        Employee("EMP-1", "Marie", "Dubois", "marie@acme.io", unit="eng", role="manager",
                 identifications={"badge": "B-1"}, unit_scopes=("eng", "platform")),
        Employee("EMP-2", "Paul", "Martin", "paul@acme.io", unit="ops", role="hr"),
        Employee("EMP-3", "Lea", "Roux", "lea@acme.io", unit="platform",
                 job_position="Developer", manager="EMP-1", hr="EMP-2",
                 journeys=(lea_onboarding,)),
        Employee("EMP-4", "Tom", "Petit", "tom@acme.io", unit="eng"),
    ]


def org_of(units: list[Unit], employees: list[Employee]) -> Org:
    return Org(units={u.key: u for u in units}, employees={e.key: e for e in employees})


LIVE = {  # the emulator's fixture for the same organisation as org_of(UNITS, people())
    "unit_organizations": [
        {"external_id": "acme", "name": "Acme", "level": "Group"},
        {"external_id": "eng", "name": "Engineering", "level": "Division", "parent": "acme",
         "language": "en"},
        {"external_id": "ops", "name": "Operations", "level": "Division", "parent": "acme"},
        {"external_id": "platform", "name": "Platform", "level": "Department",
         "parent": "eng"},
    ],
    "employees": [
        {"external_id": "EMP-1", "first_name": "Marie", "last_name": "Dubois",
         "email": "marie@acme.io", "unit": "eng", "role": "manager",
         "identifications": {"badge": "B-1"}},
        {"external_id": "EMP-2", "first_name": "Paul", "last_name": "Martin",
         "email": "paul@acme.io", "unit": "ops", "role": "hr"},
        {"external_id": "EMP-3", "first_name": "Lea", "last_name": "Roux",
         "email": "lea@acme.io", "unit": "platform", "job_position": "Developer"},
        {"external_id": "EMP-4", "first_name": "Tom", "last_name": "Petit",
         "email": "tom@acme.io", "unit": "eng"},
    ],
    "unit_organization_managements": [{"employee": "EMP-1", "unit": "eng"},
                                      {"employee": "EMP-1", "unit": "platform"}],
    "tracks": [
        {"employee": "EMP-3", "mobility": "onboarding", "start_date": "2026-06-01",
         "end_date": "2026-09-01", "status": "scheduled", "invite_at": FAR.isoformat(),
         "templates": ["Standard onboarding"],
         "implications": {"manager": "EMP-1", "hr": "EMP-2", "buddy": "EMP-4"}},
    ],
}


class FailFirstPost:
    """ASGI wrapper: the first POST to a path matching `route` ("{id}" = any id) is
    committed by the emulator, then the client gets a 500 — the unknown outcome that makes
    careless clients create duplicates."""

    def __init__(self, app: ASGIApp, route: str):
        self.app = app
        self.pattern = re.compile("^" + re.escape(route).replace(r"\{id\}", r"\d+") + "$")
        self.tripped = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and self.pattern.match(scope["path"]) and not self.tripped):
            self.tripped = True

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await Response("Internal Server Error", 500)(scope, receive, send)
            return
        await self.app(scope, receive, send)


Serve = Callable[..., tuple[WorkeloEmulator, WorkeloProvider]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(seed, faults=None, wrap=None, today=None, **settings) -> (emulator,
    provider); `today`: the emulator's date (default the real one)."""
    servers: list[ServerThread] = []

    def start(seed: dict[str, Any] | None = None, faults: Faults | None = None,
              wrap: Callable[[ASGIApp], ASGIApp] | None = None, today: date | None = None,
              **settings: Any) -> tuple[WorkeloEmulator, WorkeloProvider]:
        emu = WorkeloEmulator(seed or {}, faults=faults, today=today)
        return served(emu, servers, wrap, **settings)

    yield start
    for st in servers:
        st.stop()


def served(emu: WorkeloEmulator, servers: list[ServerThread],
           wrap: Callable[[ASGIApp], ASGIApp] | None = None,
           **settings: Any) -> tuple[WorkeloEmulator, WorkeloProvider]:
    """`emu` on a loopback port (its server thread added to `servers`, which the caller
    stops), `wrap`ped when asked, and a provider with its credentials and `settings`."""
    st = ServerThread({"workelo": wrap(emu.app) if wrap else emu.app}).start()
    servers.append(st)
    config = ProviderConfig("workelo", "workelo", st.url("workelo") + "/v1",
                            {**emu.credentials(), **settings})
    return emu, WorkeloProvider(config)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def plan(provider: WorkeloProvider, org: Org
               ) -> tuple[list[Change], list[Finding], list[Resource], dict[str, str]]:
    """What `orgctl plan` does for one provider: read, diff under policies, link."""
    live = await provider.read()
    changes, findings, _existing, ids = plan_provider(provider, org, live)
    link_dependencies(changes, {provider.name: {k: i for i, k in enumerate(provider.KINDS)}})
    return changes, findings, live, ids.ids()


async def converge(provider: WorkeloProvider, org: Org
                   ) -> tuple[list[Change], ApplyResult, list[Change]]:
    """Plan, apply with the engine, plan again: (changes, apply result, changes left)."""
    changes, _, live, ids = await plan(provider, org)
    result = await apply_changes(changes, {provider.name: provider}, {provider.name: live}, ids)
    left, _, _, _ = await plan(provider, org)
    await provider.aclose()
    return changes, result, left


def summary(changes: list[Change]) -> list[tuple[str, str]]:
    return sorted((c.action, c.address) for c in changes)


def counts(emu: WorkeloEmulator) -> dict[str, int]:
    return {t: len(emu.state[t]) for t in ("unit_organizations", "employees",
                                           "unit_organization_managements", "tracks")}


# -- read ----------------------------------------------------------------------------------

def test_read_of_a_matching_live_state_equals_desired(serve: Serve) -> None:
    emu, provider = serve(LIVE)
    org = org_of(UNITS, people())
    changes, findings, live, _ = run(plan(provider, org))
    assert changes == [] and findings == []
    by_address = {(r.kind, r.key): r for r in live}
    for want in provider.desired(org):
        got = by_address[(want.kind, want.key)]
        assert {k: got.attrs.get(k) for k in want.attrs} == want.attrs, want.key
    journey = by_address[("journey", "EMP-3.onboarding")]
    assert journey.attrs["implications"] == {"hr": "EMP-2", "manager": "EMP-1",
                                             "buddy": "EMP-4"}
    assert journey.attrs["started"] is True and journey.server == {"status": "scheduled"}


def test_desired_shapes(serve: Serve) -> None:
    _, provider = serve()
    desired = {(r.kind, r.key): r for r in provider.desired(org_of(UNITS, people()))}
    platform = desired[("unit", "platform")]
    assert platform.attrs == {"external_id": "platform", "name": "Platform",
                              "level": "department", "parent": "eng"}
    assert platform.refs == {"parent": "workelo.unit.eng"}
    assert platform.identities == ("name:eng/Platform",)
    lea = desired[("employee", "EMP-3")]
    assert lea.attrs == {"external_id": "EMP-3", "first_name": "Lea", "last_name": "Roux",
                         "email": "lea@acme.io", "role": "colleague", "job_position": "Developer",
                         "unit": "platform"}
    assert lea.identities == ("email:lea@acme.io",)
    assert desired[("scope", "EMP-1:eng")].refs == {"employee": "workelo.employee.EMP-1",
                                                    "unit": "workelo.unit.eng"}
    journey = desired[("journey", "EMP-3.onboarding")]
    assert journey.attrs == {
        "mobility": "onboarding", "start_date": "2026-06-01", "end_date": "2026-09-01",
        "templates": ["Standard onboarding"], "started": True, "invite_at": "2099-01-01",
        "implications": {"hr": "EMP-2", "manager": "EMP-1", "buddy": "EMP-4"}}
    assert journey.refs == {"employee": "workelo.employee.EMP-3",
                            "hr": "workelo.employee.EMP-2", "manager": "workelo.employee.EMP-1",
                            "buddy": "workelo.employee.EMP-4"}


def test_no_change_read_costs_one_token_and_one_request_per_page(serve: Serve) -> None:
    n = 250
    seed = {
        "unit_organizations": [{"external_id": "acme", "name": "Acme", "level": "Group"}],
        "employees": [{"external_id": f"E{i:04}", "first_name": "F", "last_name": "L",
                       "email": f"e{i}@acme.io", "unit": "acme"} for i in range(n)],
        "unit_organization_managements": [{"employee": f"E{i:04}", "unit": "acme"}
                                          for i in range(120)],
        "tracks": [{"employee": f"E{i:04}", "mobility": "onboarding",
                    "start_date": "2026-06-01"} for i in range(30)],
    }
    emu, provider = serve(seed)
    org = org_of([Unit("acme", "Acme", "Group")], [
        Employee(f"E{i:04}", "F", "L", f"e{i}@acme.io", unit="acme",
                 unit_scopes=("acme",) if i < 120 else (),
                 journeys=(Journey("onboarding", f"E{i:04}", "onboarding",
                                   date(2026, 6, 1)),) if i < 30 else ())
        for i in range(n)])
    changes, _, _, _ = run(plan(provider, org))
    assert changes == []
    pages = {"/v1/employees": math.ceil(n / PAGE_SIZE),
             "/v1/unit_organization_managements": math.ceil(120 / PAGE_SIZE),
             "/v1/tracks": 1, "/v1/unit_organizations": 1, "/v1/user_roles": 1,
             "/v1/identification_resources": 1, "/v1/level_organizations": 1,
             "/v1/templates": 1}
    assert emu.log.count(method="POST", route="/v1/tokens") == 1
    for route, expected in pages.items():
        assert emu.log.count(method="GET", route=route) == expected, route
    assert emu.log.count() == 1 + sum(pages.values())


def test_live_objects_without_external_id_are_matched_then_adopted(serve: Serve) -> None:
    """A unit without external_id matches by name within its parent, an employee by email
    (case-insensitive); the plan stamps the keys on them, and the next plan matches by key."""
    seed = {"unit_organizations": [{"name": "Acme", "level": "Group"}],
            "employees": [{"first_name": "Marie", "last_name": "Dubois",
                           "email": "Marie@Acme.io", "unit": "Acme"}]}
    emu, provider = serve(seed)
    org = org_of([Unit("acme", "Acme", "Group")],
                 [Employee("EMP-1", "Marie", "Dubois", "marie@acme.io", unit="acme",
                           previously=("old@acme.io",))])
    changes, findings, live, _ = run(plan(provider, org))
    assert sorted(r.key for r in live) == ["id:1", "id:1"]
    assert {c.address: c.fields for c in changes} == {
        "workelo.unit.acme": {"external_id": [None, "acme"]},
        # Its unit is the one matched above: no `unit` change, though both lack a key.
        "workelo.employee.EMP-1": {"external_id": [None, "EMP-1"],
                                   "email": ["Marie@Acme.io", "marie@acme.io"]},
    }
    assert sorted(f.address for f in findings) == ["workelo.employee.EMP-1",
                                                   "workelo.unit.acme"]
    _, result, left = run(converge(provider, org))
    assert result.ok and left == []
    assert counts(emu)["employees"] == 1 and counts(emu)["unit_organizations"] == 1


# -- apply ---------------------------------------------------------------------------------

def test_apply_from_empty_creates_everything_and_converges(serve: Serve) -> None:
    emu, provider = serve()
    org = org_of(UNITS, people())
    changes, result, left = run(converge(provider, org))
    assert result.ok, result.outcomes
    assert summary(changes) == sorted(
        [("create", f"workelo.unit.{u.key}") for u in UNITS]
        + [("create", f"workelo.employee.EMP-{i}") for i in range(1, 5)]
        + [("create", "workelo.scope.EMP-1:eng"), ("create", "workelo.scope.EMP-1:platform"),
           ("create", "workelo.journey.EMP-3.onboarding")])
    assert left == []
    track = next(iter(emu.state["tracks"].values()))
    assert track["status"] == "scheduled" and track["invite_at"] == "2099-01-01"
    marie = next(e for e in emu.state["employees"].values() if e["external_id"] == "EMP-1")
    assert list(marie["identifications"].values()) == ["B-1"]
    assert emu.log.count(method="POST", route="/v1/tokens") == 1


def test_updates_of_every_kind_converge(serve: Serve) -> None:
    # Before the journeys' dates (June and July 2026), so a started one is invitation_sent.
    emu, provider = serve(LIVE, today=date(2026, 5, 1))
    units = [dataclasses.replace(u, name="Platform Team", parent="ops", previously=("Platform",))
             if u.key == "platform" else u for u in UNITS]
    staff = people()
    marie, paul, lea, tom = staff
    lea_journey = dataclasses.replace(lea.journeys[0], start_date=date(2026, 6, 15),
                                      implications={"buddy": "EMP-1"})
    staff = [
        dataclasses.replace(marie, identifications={"badge": "B-100"},
                            unit_scopes=("platform", "ops")),
        dataclasses.replace(paul, job_position="HR partner", role="owner"),
        dataclasses.replace(lea, journeys=(lea_journey,), unit="eng"),
        dataclasses.replace(tom, journeys=(Journey("crossboarding", "EMP-4", "crossboarding",
                                                   date(2026, 7, 1), start=True,
                                                   templates=("Internal mobility",)),)),
    ]
    changes, result, left = run(converge(provider, org_of(units, staff)))
    assert result.ok, result.outcomes
    assert summary(changes) == [
        ("create", "workelo.journey.EMP-4.crossboarding"),
        ("create", "workelo.scope.EMP-1:ops"),
        ("delete", "workelo.scope.EMP-1:eng"),
        ("update", "workelo.employee.EMP-1"),
        ("update", "workelo.employee.EMP-2"),
        ("update", "workelo.employee.EMP-3"),
        ("update", "workelo.journey.EMP-3.onboarding"),
        ("update", "workelo.unit.platform"),
    ]
    assert left == []
    lea_track = emu.state["tracks"][1]
    # apply_on_actions: the template's actions moved with the start date (06-01 -> 06-15).
    assert [a["due_date"] for a in lea_track["actions"]][:2] == ["2026-06-08", "2026-06-15"]
    tom_track = emu.state["tracks"][2]
    assert tom_track["status"] == "invitation_sent"


def test_deletes_follow_prune_policy_and_never_remove_employees(serve: Serve) -> None:
    emu, provider = serve(LIVE, prune={"unit": True, "employee": True, "journey": True})
    staff = [dataclasses.replace(e, unit="eng" if e.unit == "platform" else e.unit,
                                 unit_scopes=("eng",) if e.unit_scopes else (), journeys=())
             for e in people() if e.key != "EMP-4"]
    org = org_of([u for u in UNITS if u.key != "platform"], staff)
    changes, findings, _, _ = run(plan(provider, org))
    assert summary(changes) == [
        ("delete", "workelo.scope.EMP-1:platform"),
        ("delete", "workelo.unit.platform"),
        ("update", "workelo.employee.EMP-3"),
    ]
    # Never removed: reported to the reviewer (the wording is the engine's), not planned.
    assert sorted(f.address for f in findings) == ["workelo.employee.EMP-4",
                                                   "workelo.journey.EMP-3.onboarding"]
    assert all("not in config" in f.message for f in findings)
    _, result, left = run(converge(provider, org))
    assert result.ok, result.outcomes
    assert left == []
    assert "platform" not in {u["external_id"] for u in emu.state["unit_organizations"].values()}
    assert len(emu.state["employees"]) == 4


def test_what_workelo_cannot_do_is_planned_as_manual(serve: Serve) -> None:
    _, provider = serve(LIVE)
    marie, paul, lea, tom = people()
    staff = [
        dataclasses.replace(marie, identifications={}),  # fine: not set means not managed
        dataclasses.replace(paul, status="inactive"),
        dataclasses.replace(lea, identifications={"passport": "P-1"}, journeys=(
            dataclasses.replace(lea.journeys[0], templates=()),)),
        tom,
    ]
    units = [dataclasses.replace(u, level="Region") if u.key == "ops" else u for u in UNITS]
    changes, _, _, _ = run(plan(provider, org_of(units, staff)))
    manual = {c.address: c.reason for c in changes if c.action == "manual"}
    assert set(manual) == {"workelo.employee.EMP-2", "workelo.employee.EMP-3",
                           "workelo.journey.EMP-3.onboarding", "workelo.unit.ops"}
    assert "deactivate" in manual["workelo.employee.EMP-2"]
    assert "offboarding journey" in manual["workelo.employee.EMP-2"]
    assert "identification 'passport'" in manual["workelo.employee.EMP-3"]
    assert "templates" in manual["workelo.journey.EMP-3.onboarding"]
    assert "level 'region'" in manual["workelo.unit.ops"]
    assert [c for c in changes if c.action != "manual"] == []


def test_a_leaver_absent_from_workelo_gets_no_journey_and_no_account(serve: Serve) -> None:
    """An inactive employee is never created; their offboarding journey would create them
    through its employee block, so it is manual too."""
    emu, provider = serve(LIVE)
    leaver = Employee("EMP-9", "Max", "Gone", "max@acme.io", unit="eng", status="inactive",
                      journeys=(Journey("offboarding", "EMP-9", "offboarding",
                                        date(2026, 11, 2),
                                        templates=("Standard offboarding",)),))
    org = org_of(UNITS, [*people(), leaver])
    changes, result, left = run(converge(provider, org))
    assert [(c.action, c.address) for c in changes] == [
        ("manual", "workelo.journey.EMP-9.offboarding")]
    assert "inactive in the config and absent from Workelo" in changes[0].reason
    assert counts(emu)["employees"] == 4 and counts(emu)["tracks"] == 1


def test_a_leaver_with_an_offboarding_journey_converges(serve: Serve) -> None:
    """Workelo has no employee status: leaving is the offboarding journey. Once it exists,
    nothing stays pending for the leaver; one without a journey stays manual."""
    _, provider = serve(LIVE)
    marie, paul, lea, tom = people()
    offboarding = Journey("offboarding", "EMP-2", "offboarding", date(2026, 12, 1),
                          templates=("Standard offboarding",))
    staff = [marie, dataclasses.replace(paul, status="inactive", journeys=(offboarding,)),
             lea, dataclasses.replace(tom, status="inactive")]
    changes, result, left = run(converge(provider, org_of(UNITS, staff)))
    assert ("create", "workelo.journey.EMP-2.offboarding") in summary(changes)
    assert result.count("failed") == 0
    assert summary(left) == [("manual", "workelo.employee.EMP-4")]


def test_identification_removal_is_manual(serve: Serve) -> None:
    _, provider = serve(LIVE)
    marie, *rest = people()
    staff = [dataclasses.replace(marie, identifications={"badge": "B-1"}), *rest]
    run(plan(provider, org_of(UNITS, staff)))
    change = Change("update", "workelo", "employee", "EMP-1",
                    before={"identifications": {"badge": "B-1", "locker": "7"}},
                    after={"identifications": {"badge": "B-1"}},
                    fields={"identifications.locker": ["7", None]})
    assert "remove an identification (locker)" in provider.unsupported(change)


# -- unknown outcomes ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/employees", "/v1/unit_organizations", "/v1/tracks",
                                  "/v1/employees/{id}/unit_organization_managements",
                                  "/v1/employees/{id}/identifications"])
def test_unknown_outcome_create_is_resolved_without_a_duplicate(serve: Serve,
                                                                path: str) -> None:
    """The emulator commits the first POST to `path`, then answers 500."""
    trap: list[FailFirstPost] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        trap.append(FailFirstPost(app, path))
        return trap[0]

    emu, provider = serve(wrap=wrap)
    changes, result, left = run(converge(provider, org_of(UNITS, people())))
    assert trap[0].tripped
    assert result.ok, result.outcomes
    assert left == []
    assert counts(emu) == {"unit_organizations": 4, "employees": 4,
                           "unit_organization_managements": 2, "tracks": 1}
    # The follow-ups after the unknown create still happened: identification, start.
    assert next(iter(emu.state["tracks"].values()))["status"] == "scheduled"
    marie = next(e for e in emu.state["employees"].values() if e["external_id"] == "EMP-1")
    assert list(marie["identifications"].values()) == ["B-1"]


def test_apply_under_random_faults_converges_with_zero_duplicates(serve: Serve) -> None:
    faults = Faults(error_rate=0.05, rate_429=0.05, drop_rate=0.03, commit_fail_rate=0.1,
                    retry_after=0.01, seed=11)
    emu, provider = serve(faults=faults)
    staff = people() + [Employee(f"EMP-{i}", "New", f"Hire{i}", f"hire{i}@acme.io",
                                 unit="ops", manager="EMP-1", unit_scopes=("ops",),
                                 journeys=(Journey("onboarding", f"EMP-{i}", "onboarding",
                                                   date(2026, 9, 1), start=True),))
                        for i in range(10, 30)]
    org = org_of(UNITS, staff)

    async def until_converged() -> list[Change]:
        for _ in range(3):  # a failed branch is re-planned, as a re-run of apply would
            changes, _, live, ids = await plan(provider, org)
            if not changes:
                return []
            await apply_changes(changes, {provider.name: provider}, {provider.name: live}, ids)
        left, _, _, _ = await plan(provider, org)
        await provider.aclose()
        return left

    assert run(until_converged()) == []
    commit_failed_posts = [e for e in emu.log.entries
                           if e.fault == "commit_fail" and e.method == "POST"]
    assert commit_failed_posts, "the faults never hit a create: the test proves nothing"
    assert counts(emu) == {"unit_organizations": 4, "employees": 24,
                           "unit_organization_managements": 22, "tracks": 21}


# -- settings, errors, capabilities --------------------------------------------------------

def test_missing_credentials_are_a_clear_error() -> None:
    with pytest.raises(ProviderError, match="setting `client_secret` is required"):
        WorkeloProvider(ProviderConfig("workelo", "workelo", "http://127.0.0.1:1/v1",
                                       {"client_id": "x"}))
    with pytest.raises(ProviderError, match="rate_limit"):
        WorkeloProvider(ProviderConfig("workelo", "workelo", "http://127.0.0.1:1/v1",
                                       {"client_id": "x", "client_secret": "y",
                                        "rate_limit": "fast"}))
    provider = WorkeloProvider(ProviderConfig("workelo", "workelo", "http://127.0.0.1:1/v1",
                                              {"client_id": "x", "client_secret": "y",
                                               "rate_limit": 500}))
    assert provider.settings.rate_limit == 500


def test_refused_credentials_fail_the_read_without_leaking_the_secret(serve: Serve) -> None:
    _, provider = serve(client_secret="wrong-secret-value-123")
    with pytest.raises(ProviderError) as caught:
        run(provider.read())
    assert "401" in str(caught.value) and "credentials" in str(caught.value)
    assert "wrong-secret-value-123" not in str(caught.value)


def test_capability_table_lists_every_endpoint_the_provider_calls(serve: Serve) -> None:
    def wrap(app: ASGIApp) -> ASGIApp:
        return FailFirstPost(app, "/v1/employees/{id}/identifications")

    emu, provider = serve(LIVE, wrap=wrap)
    marie, paul, lea, tom = people()
    staff = [dataclasses.replace(marie, identifications={"badge": "B-2"}, unit_scopes=()),
             paul, lea, dataclasses.replace(tom, unit_scopes=("ops",), journeys=(
                 Journey("crossboarding", "EMP-4", "crossboarding", date(2026, 7, 1),
                         start=True),))]
    units = [*UNITS, Unit("sales", "Sales", "Division", parent="acme")]
    _, result, left = run(converge(provider, org_of(units, staff)))
    assert result.ok and left == []
    documented = {(c.method, c.endpoint.split("?")[0]) for c in provider.CAPABILITIES}
    used = {(e.method, e.route.removeprefix("/v1")) for e in emu.log.entries}
    assert used <= documented, used - documented
    table = capability_table(WorkeloProvider)
    assert "| assumed |" in table and "| documented |" in table


def test_docs_capability_table_is_the_codes() -> None:
    doc = Path(__file__).parents[2] / "docs" / "providers" / "workelo.md"
    assert capability_table(WorkeloProvider) in doc.read_text(encoding="utf-8")
