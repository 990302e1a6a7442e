"""The Worklete provider against the Worklete emulator over real loopback HTTP, through the
engine's plan and apply: what a user sees in the plan, and what ends up in Worklete."""

from __future__ import annotations

import asyncio
import gc
import math
import re
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgctl.engine.apply import ApplyResult, apply_changes
from orgctl.engine.plan import Plan, make_plan
from orgctl.errors import ProviderError
from orgctl.model import Employee, Org, ProviderConfig, Team
from orgctl.providers.base import capability_table
from orgctl.providers.worklete import PAGE_SIZE, WorkleteProvider
from orgctl.resources import Change
from orgctl.sandbox.core import ServerThread
from orgctl.sandbox.worklete import WorkleteEmulator

ADMIN = {"username": "sandbox-admin", "password": "sandbox-password",
         "email": "it@acme.example", "first_name": "Sandbox", "last_name": "Admin"}
PEOPLE = {  # employee key -> (first, last, email)
    "EMP-1": ("Alice", "Archer", "alice@acme.example"),
    "EMP-2": ("Bob", "Baker", "bob@acme.example"),
    "EMP-3": ("Carol", "Cole", "carol@acme.example"),
    "EMP-4": ("Dave", "Dunn", "dave@acme.example"),
}


def live_seed() -> dict[str, Any]:
    """Worklete as it is when it matches `org()`."""
    return {
        "users": [ADMIN] + [{"email": e, "first_name": f, "last_name": la}
                            for f, la, e in PEOPLE.values()],
        "teams": [{"name": "Engineering"}, {"name": "Platform", "parent": "Engineering"},
                  {"name": "SRE", "parent": "Platform"}, {"name": "Sales"}],
        "memberships": [
            {"user": "sandbox-admin", "org_admin": True},
            {"user": "alice@acme.example", "employee_id": "EMP-1", "org_admin": True},
            {"user": "bob@acme.example", "employee_id": "EMP-2", "teams": ["Platform"]},
            {"user": "carol@acme.example", "employee_id": "EMP-3", "teams": ["Platform", "SRE"]},
            {"user": "dave@acme.example", "employee_id": "EMP-4", "teams": ["Sales"]},
        ],
        "team_admins": [{"team": "Platform", "user": "alice@acme.example"},
                        {"team": "Sales", "user": "dave@acme.example"}],
    }


def employee(key: str, org_admin: bool | None = None, **changes: Any) -> Employee:
    first, last, email = PEOPLE[key]
    admin = key == "EMP-1" if org_admin is None else org_admin
    fields: dict[str, Any] = {"key": key, "first_name": first, "last_name": last,
                              "email": email, "systems": {"worklete": {"org_admin": admin}}}
    fields.update(changes)
    return Employee(**fields)


def org(teams: list[Team] | None = None, employees: list[Employee] | None = None) -> Org:
    teams = teams if teams is not None else [
        Team("engineering", "Engineering"),
        Team("platform", "Platform", parent="engineering", managers=("EMP-1",),
             members=("EMP-2", "EMP-3")),
        Team("sre", "SRE", parent="platform", members=("EMP-3",)),
        Team("sales", "Sales", managers=("EMP-4",), members=("EMP-4",)),
    ]
    employees = employees if employees is not None else [employee(k) for k in PEOPLE]
    return Org(teams={t.key: t for t in teams}, employees={e.key: e for e in employees})


class World:
    """One emulator on a loopback port and a provider pointed at it."""

    def __init__(self, emu: WorkleteEmulator, url: str, tmp_path: Path):
        self.emu = emu
        self.url = url
        self.config_path = tmp_path / "org.yaml"
        self.config_path.write_text("version: 1\n")

    def provider(self, **settings: Any) -> WorkleteProvider:
        base = {"username": "sandbox-admin", "password": "sandbox-password",
                "organization": "Acme", "upload_batch_window": 0.05}
        return WorkleteProvider(ProviderConfig(name="worklete", type="worklete",
                                               url=self.url, settings={**base, **settings}))

    async def plan(self, provider: WorkleteProvider, config: Org) -> tuple[Plan, list[Any]]:
        live = await provider.read()
        return make_plan(config, [provider], {provider.name: live}, self.config_path), live

    async def apply(self, provider: WorkleteProvider, config: Org) -> tuple[Plan, ApplyResult]:
        plan, live = await self.plan(provider, config)
        result = await apply_changes(plan.changes, {provider.name: provider},
                                     {provider.name: live}, plan.ids, parallelism=8)
        return plan, result

    def teams(self) -> dict[str, dict[str, Any]]:
        return {t["name"]: t for t in self.emu.state["teams"].values()}

    def membership(self, email: str) -> dict[str, Any]:
        users = self.emu.state["users"]
        return next(m for m in self.emu.state["memberships"].values()
                    if users[m["user_id"]]["email"] == email)


def run(provider: WorkleteProvider, coro: Any) -> Any:
    async def main() -> Any:
        try:
            return await coro
        finally:
            await provider.aclose()

    return asyncio.run(main())


def logged(emu: WorkleteEmulator, expected: int, method: str | None = None,
           route: str | None = None, status: int | None = None) -> int:
    """The request count once it reaches `expected` (or after 5 s). The emulator logs a
    request just after answering it, so a count taken at once can miss the last one."""
    deadline = time.monotonic() + 5
    while emu.log.count(method, route, status) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return emu.log.count(method, route, status)


def summary(plan: Plan) -> list[tuple[str, str, dict[str, list[Any]]]]:
    return [(c.action, c.address, c.fields) for c in plan.changes]


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    seed = getattr(request, "param", None)
    emu = WorkleteEmulator(live_seed() if seed is None else seed, upload_delay=0.05)
    with ServerThread({"worklete": emu.app}) as st:
        yield World(emu, st.url("worklete") + "/api/v1", tmp_path)


# -- read ----------------------------------------------------------------------------------

def test_read_of_a_matching_worklete_equals_desired(world: World) -> None:
    provider = world.provider()
    plan, live = run(provider, world.plan(provider, org()))
    assert summary(plan) == []
    matched = provider.match_live(provider.desired(org()), live)
    desired = {(r.kind, r.key): r.attrs for r in provider.desired(org())}
    got = {(r.kind, r.key): r.attrs for r in matched if (r.kind, r.key) in desired}
    assert got == desired
    assert ("team", "sre") in got and got[("team", "sre")]["parent"] == "platform"
    assert got[("membership", "EMP-3")]["teams"] == ["platform", "sre"]


def test_read_alone_keys_teams_by_name_path(world: World) -> None:
    """Without the config (`orgctl import`), live teams are keyed by where they sit."""
    provider = world.provider()
    live = run(provider, provider.read())
    teams = {r.key: r.attrs["parent"] for r in live if r.kind == "team"}
    assert teams == {"name:/Engineering": None,
                     "name:/Engineering/Platform": "name:/Engineering",
                     "name:/Engineering/Platform/SRE": "name:/Engineering/Platform",
                     "name:/Sales": None}
    assert {r.key for r in live if r.kind == "team_admin"} == {
        "name:/Engineering/Platform:EMP-1", "name:/Sales:EMP-4"}


def test_the_read_keeps_no_membership_answer(world: World) -> None:
    """Issue 18: the read keeps what it plans from, not the answers it read it from.
    Failed before: every membership kept its whole answer for the run (for one error
    message), about 1 KB a membership: some 100 MB in a 100,000-person plan."""
    provider = world.provider()
    live = run(provider, provider.read())
    gc.collect()
    answers = [o for o in gc.get_objects()
               if type(o) is dict and "org_admin" in o and isinstance(o.get("user"), dict)]
    assert len([r for r in live if r.kind == "membership"]) == 5
    assert answers == []


def test_unmanaged_live_objects_are_reported_not_removed(world: World) -> None:
    """The signed-in admin is not in the config: its membership is never removed, and its
    org-admin flag is left alone while prune is off."""
    provider = world.provider()
    plan, _ = run(provider, world.plan(provider, org()))
    notes = {f.address: f.message for f in plan.findings}
    assert any(a.startswith("worklete.membership.email:it@acme.example") for a in notes)
    assert summary(plan) == []


def _big_seed(teams: int, members: int) -> dict[str, Any]:
    return {
        "users": [ADMIN] + [{"email": f"p{i}@acme.example", "first_name": f"P{i}",
                             "last_name": "Person"} for i in range(members)],
        "teams": [{"name": f"Team {i:03d}"} for i in range(teams)],
        "memberships": [{"user": "sandbox-admin", "org_admin": True}] + [
            {"user": f"p{i}@acme.example", "employee_id": f"E{i}",
             "teams": [f"Team {i % teams:03d}"]} for i in range(members)],
    }


@pytest.mark.parametrize("world", [_big_seed(130, 250)], indirect=True)
def test_no_change_plan_makes_the_minimum_number_of_requests(world: World) -> None:
    teams, members = 130, 250
    config = org(
        teams=[Team(f"t{i}", f"Team {i:03d}", members=tuple(f"E{j}" for j in range(members)
                                                          if j % teams == i))
               for i in range(teams)],
        employees=[Employee(key=f"E{i}", first_name=f"P{i}", last_name="Person",
                            email=f"p{i}@acme.example") for i in range(members)])
    provider = world.provider()
    plan, _ = run(provider, world.plan(provider, config))
    assert summary(plan) == []
    log = world.emu.log
    assert logged(world.emu, 1 + 1 + 2 + 3 + teams) == 1 + 1 + 2 + 3 + teams
    assert log.count("POST", "/api/v1/auth/sign_in") == 1
    assert log.count("GET", "/api/v1/organizations") == 1
    assert log.count("GET", "/api/v1/organizations/{organization_id}/teams") == \
        math.ceil(teams / PAGE_SIZE)
    # the membership list is one page more: the signed-in admin has a membership too
    assert log.count("GET", "/api/v1/worklete_admin/memberships") == \
        math.ceil((members + 1) / PAGE_SIZE)
    assert log.count("GET", "/api/v1/teams/{team_id}/admins") == teams


MEMBERSHIP_LIST = "/api/v1/worklete_admin/memberships"
ADMIN_LIST = "/api/v1/teams/{team_id}/admins"


class Answering:
    """ASGI wrapper: the requests whose path ends with `path_suffix` (counted in `seen`)
    are answered `delay` seconds late, or refused with `status` when it is given."""

    def __init__(self, app: ASGIApp, path_suffix: str, delay: float = 0.0,
                 status: int | None = None):
        self.app = app
        self.path_suffix = path_suffix
        self.delay = delay
        self.status = status
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(self.path_suffix):
            self.seen += 1
            await asyncio.sleep(self.delay)
            if self.status is not None:
                await Response("refused", self.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def test_the_admin_lists_are_read_while_the_membership_pages_are(tmp_path: Path) -> None:
    """Issue 18: each team's admin list is asked for as soon as the teams are known, so
    the requests in flight are not left idle while the last membership pages are read.
    Failed before: no admin list was asked for until every membership page was in."""
    teams = 20
    emu = WorkleteEmulator(_big_seed(teams, 250), upload_delay=0.05)
    with ServerThread({"worklete": Answering(emu.app, "/memberships", delay=0.3)}) as st:
        world = World(emu, st.url("worklete") + "/api/v1", tmp_path)
        provider = world.provider()
        steps: list[tuple[int, int | None]] = []
        live = run(provider, provider.read(lambda done, total: steps.append((done, total))))
        assert logged(emu, teams, "GET", ADMIN_LIST) == teams
    assert len([r for r in live if r.kind == "membership"]) == 251
    answered = [e.route for e in emu.log.entries]
    last_page = max(i for i, route in enumerate(answered) if route == MEMBERSHIP_LIST)
    assert answered.index(ADMIN_LIST) < last_page
    # Progress: every list read counted once (the teams, the memberships, each team's
    # admins), against a total that does not move.
    assert steps == [(done, 2 + teams) for done in range(1, 3 + teams)]


def test_a_refused_admin_list_stops_the_whole_read_at_once(tmp_path: Path) -> None:
    """A read that fails leaves nothing behind: the reads still going are cancelled and
    waited for, so no request of it is sent after the error, and no error is left for
    nobody to see ("Task exception was never retrieved"). Failed before: the other admin
    lists went on after the read had failed, every one of them."""
    teams = 130
    emu = WorkleteEmulator(_big_seed(teams, 250), upload_delay=0.05)
    app = Answering(emu.app, "/admins", status=403)
    unseen: list[dict[str, Any]] = []

    async def read_then_wait(provider: WorkleteProvider) -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: unseen.append(ctx))
        with pytest.raises(ProviderError, match="403"):
            await provider.read()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        sent = provider.http().requests
        await asyncio.sleep(0.3)  # time for requests still going, were there any
        gc.collect()
        assert provider.http().requests == sent

    with ServerThread({"worklete": app}) as st:
        world = World(emu, st.url("worklete") + "/api/v1", tmp_path)
        provider = world.provider()
        run(provider, read_then_wait(provider))
    assert 0 < app.seen < teams
    assert unseen == []

def test_an_expired_session_signs_in_again(world: World) -> None:
    provider = world.provider()

    async def twice() -> None:
        await provider.read()
        world.emu.expire_tokens()
        await provider.read()

    run(provider, twice())
    assert logged(world.emu, 2, "POST", "/api/v1/auth/sign_in") == 2


def test_wrong_password_fails_without_showing_it(world: World) -> None:
    provider = world.provider(password="not-the-sandbox-pass")
    with pytest.raises(ProviderError) as err:
        run(provider, provider.read())
    assert "401" in str(err.value) and "not-the-sandbox-pass" not in str(err.value)


def test_unknown_organization_names_the_visible_ones(world: World) -> None:
    provider = world.provider(organization="Globex")
    with pytest.raises(ProviderError, match="'Globex' is not an organization.*Acme"):
        run(provider, provider.read())


# -- teams ---------------------------------------------------------------------------------

def test_rename_declared_with_previously_is_one_update(world: World) -> None:
    config = org()
    config.teams["platform"] = Team("platform", "Platform Team", parent="engineering",
                                    managers=("EMP-1",), members=("EMP-2", "EMP-3"),
                                    previously=("Platform",))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert summary(plan) == [
        ("update", "worklete.team.platform", {"name": ["Platform", "Platform Team"]})]
    assert result.ok
    assert "Platform Team" in world.teams() and "Platform" not in world.teams()
    assert logged(world.emu, 1, "PUT", "/api/v1/teams/{team_id}") == 1
    again = world.provider()
    assert summary(run(again, world.plan(again, config))[0]) == []


def decomposed_sales() -> dict[str, Any]:
    """`live_seed()` with Sales named "Équipe" in decomposed Unicode (E + U+0301), as text
    that went through a file system or an export can come back."""
    seed = live_seed()
    nfd = unicodedata.normalize("NFD", "Équipe")
    seed["teams"][3]["name"] = nfd
    seed["memberships"][4]["teams"] = [nfd]
    seed["team_admins"][1]["team"] = nfd
    return seed


@pytest.mark.parametrize("world", [decomposed_sales()], indirect=True)
def test_a_team_named_in_other_unicode_form_is_matched_not_created_again(
        world: World) -> None:
    """Teams are matched by name: "Équipe" composed (the config) and decomposed (the live
    team) are one name, so the plan renames it in place. Before, it did not match: the plan
    created a second team and moved its member and admin to it."""
    config = org()
    config.teams["sales"] = Team("sales", "Équipe", managers=("EMP-4",), members=("EMP-4",))
    provider = world.provider()
    plan, _ = run(provider, world.plan(provider, config))
    assert summary(plan) == [("update", "worklete.team.sales",
                              {"name": [unicodedata.normalize("NFD", "Équipe"), "Équipe"]})]


def test_moving_a_team_is_one_parent_update(world: World) -> None:
    config = org()
    config.teams["sre"] = Team("sre", "SRE", parent="engineering", members=("EMP-3",))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert summary(plan) == [
        ("update", "worklete.team.sre", {"parent": ["platform", "engineering"]})]
    assert result.ok
    teams = world.teams()
    assert teams["SRE"]["parent_id"] == teams["Engineering"]["id"]
    again = world.provider()
    assert summary(run(again, world.plan(again, config))[0]) == []


def test_new_nested_teams_are_created_with_their_parent(world: World) -> None:
    config = org()
    config.teams["data"] = Team("data", "Data", parent="engineering")
    config.teams["ml"] = Team("ml", "ML", parent="data")
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert [(a, k) for a, k, _ in summary(plan)] == [
        ("create", "worklete.team.data"), ("create", "worklete.team.ml")]
    assert result.ok
    teams = world.teams()
    assert teams["ML"]["parent_id"] == teams["Data"]["id"]
    assert teams["Data"]["parent_id"] == teams["Engineering"]["id"]


def test_pruned_team_is_deleted(world: World) -> None:
    config = org()
    del config.teams["sales"]
    config.employees["EMP-4"] = employee("EMP-4", status="inactive")
    provider = world.provider(prune={"teams": True})
    plan, result = run(provider, world.apply(provider, config))
    # a live team the config does not name is addressed by where it sits; the leaver's
    # membership cannot be removed through the API: it is deactivated, taken out of every
    # team by the memberships CSV (issue 15)
    assert sorted((a, k) for a, k, _ in summary(plan)) == [
        ("deactivate", "worklete.membership.EMP-4"), ("delete", "worklete.team.name:/Sales")]
    assert result.ok
    assert "Sales" not in world.teams()
    user = next(u["id"] for u in world.emu.state["users"].values()
                if u.get("email") == PEOPLE["EMP-4"][2])
    [membership] = [m for m in world.emu.state["memberships"].values()
                    if m.get("user_id") == user]
    assert membership["team_ids"] == []
    assert logged(world.emu, 1, "DELETE", "/api/v1/teams/{team_id}", 204) == 1


class CommitThenFailFirst:
    """ASGI wrapper: the first request matching runs (the write commits), then the client
    gets a 500, as when a proxy times out after the server did the work."""

    def __init__(self, app: ASGIApp, method: str, path_suffix: str):
        self.app = app
        self.method = method
        self.path_suffix = path_suffix
        self.tripped = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and not self.tripped and scope["method"] == self.method
                and scope["path"].endswith(self.path_suffix)):
            self.tripped = True

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await Response("upstream timeout", 500)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_unknown_outcome_team_create_is_found_by_lookup_not_duplicated(tmp_path: Path) -> None:
    emu = WorkleteEmulator(live_seed(), upload_delay=0.05)
    app = CommitThenFailFirst(emu.app, "POST", "/teams")
    with ServerThread({"worklete": app}) as st:
        world = World(emu, st.url("worklete") + "/api/v1", tmp_path)
        config = org()
        config.teams["ops"] = Team("ops", "Ops", parent="engineering")
        provider = world.provider()
        _, result = run(provider, world.apply(provider, config))
    assert app.tripped
    [outcome] = result.outcomes
    assert outcome.status == "applied" and "lookup" in outcome.detail
    ops = [t for t in emu.state["teams"].values() if t["name"] == "Ops"]
    assert len(ops) == 1 and outcome.remote_id == ops[0]["id"]


# -- memberships -----------------------------------------------------------------------------

EMPTY = {"users": [ADMIN], "memberships": [{"user": "sandbox-admin", "org_admin": True}]}


@pytest.mark.parametrize("world", [EMPTY], indirect=True)
def test_apply_from_empty_creates_everything_and_converges(world: World) -> None:
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, org()))
    assert plan.counts()["create"] == 4 + 4 + 2 + 1  # teams, memberships, admins, org admin
    assert result.ok, result.outcomes
    carol = world.membership("carol@acme.example")
    teams = world.teams()
    assert carol["employee_id"] == "EMP-3" and carol["first_name"] == "Carol"
    assert sorted(carol["team_ids"]) == sorted([teams["Platform"]["id"], teams["SRE"]["id"]])
    assert world.membership("alice@acme.example")["org_admin"] is True
    admins = {(a["team_id"], a["membership_id"]) for a in world.emu.state["team_admins"].values()}
    assert (teams["Platform"]["id"], world.membership("alice@acme.example")["id"]) in admins
    assert len(world.emu.state["invitations"]) == 4
    assert len(world.emu.state["memberships"]) == 5  # no duplicate
    again = world.provider()
    assert summary(run(again, world.plan(again, org()))[0]) == []


def test_memberships_applied_together_share_one_upload_after_a_one_row_proof(
        world: World) -> None:
    """The first upload of a run carries one row, read back before the others are sent
    (issue 13: the CSV format is assumed); the other memberships then share one upload."""
    new = {"EMP-5": "erin", "EMP-6": "frank", "EMP-7": "gus"}
    provider = world.provider()
    changes = [Change(action="create", provider="worklete", kind="membership", key=key,
                      after={"email": f"{name}@acme.example", "first_name": name.title(),
                             "last_name": "New", "employee_id": key, "teams": ["sales"]},
                      refs={"teams.sales": "worklete.team.sales"})
               for key, name in new.items()]

    async def go() -> list[str | None]:
        await provider.read()
        ids = {"worklete.team.sales": world.teams()["Sales"]["id"]}
        return list(await asyncio.gather(*(provider.apply(c, ids) for c in changes)))

    created = run(provider, go())
    route = "/api/v1/worklete_admin/organizations/{organization_id}/upload_memberships_list_url"
    assert logged(world.emu, 2, "GET", route) == 2
    assert [world.membership(f"{n}@acme.example")["id"] for n in new.values()] == created
    assert [u["created"] for u in world.emu.state["uploads"].values()] == [1, 2]


def test_more_memberships_than_parallelism_still_share_one_upload(world: World) -> None:
    """The engine does not hold a --parallelism slot for a membership waiting on its batch,
    so ten new members with parallelism 2 make one upload (after the one-row proof), not
    five."""
    provider = world.provider()
    changes = [Change(action="create", provider="worklete", kind="membership", key=f"N-{i}",
                      after={"email": f"new{i}@acme.example", "first_name": f"New{i}",
                             "last_name": "Hire", "employee_id": f"N-{i}", "teams": ["sales"]},
                      refs={"teams.sales": "worklete.team.sales"})
               for i in range(10)]

    async def go() -> ApplyResult:
        live = await provider.read()
        ids = {"worklete.team.sales": world.teams()["Sales"]["id"]}
        return await apply_changes(changes, {provider.name: provider}, {provider.name: live},
                                   ids, parallelism=2)

    result = run(provider, go())
    assert result.count("applied") == 10
    route = "/api/v1/worklete_admin/organizations/{organization_id}/upload_memberships_list_url"
    assert logged(world.emu, 2, "GET", route) == 2
    assert [u["rows"] for u in world.emu.state["uploads"].values()] == [1, 9]


def test_team_change_of_a_membership_goes_through_the_upload(world: World) -> None:
    config = org()
    config.teams["sales"] = Team("sales", "Sales", managers=("EMP-4",),
                                 members=("EMP-4", "EMP-2"))
    config.teams["platform"] = Team("platform", "Platform", parent="engineering",
                                    managers=("EMP-1",), members=("EMP-3",))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert summary(plan) == [("update", "worklete.membership.EMP-2",
                              {"teams": [["platform"], ["sales"]]})]
    assert result.ok
    assert world.membership("bob@acme.example")["team_ids"] == [world.teams()["Sales"]["id"]]
    assert len(world.emu.state["memberships"]) == 5


def test_email_change_is_a_user_patch(world: World) -> None:
    config = org()
    config.employees["EMP-2"] = employee("EMP-2", email="robert@acme.example",
                                         previously=("bob@acme.example",))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert summary(plan) == [("update", "worklete.membership.EMP-2",
                              {"email": ["bob@acme.example", "robert@acme.example"]})]
    assert result.ok
    assert logged(world.emu, 1, "PATCH", "/api/v1/users/{user_id}", 200) == 1
    assert world.membership("robert@acme.example")["employee_id"] == "EMP-2"


def test_formula_like_names_converge(world: World) -> None:
    """Names travel through a CSV: a leading '=' is neutralised in Worklete and in the plan
    alike, so the next plan is empty instead of showing drift forever."""
    config = org()
    config.employees["EMP-2"] = employee("EMP-2", first_name="=Bob")
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert summary(plan) == [("update", "worklete.membership.EMP-2",
                              {"first_name": ["Bob", "'=Bob"]})]
    assert result.ok
    again = world.provider()
    assert summary(run(again, world.plan(again, config))[0]) == []


# -- admins ------------------------------------------------------------------------------------

def test_team_admins_follow_the_managers(world: World) -> None:
    config = org()
    config.teams["platform"] = Team("platform", "Platform", parent="engineering",
                                    managers=("EMP-2",), members=("EMP-2", "EMP-3"))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    assert sorted((a, k) for a, k, _ in summary(plan)) == [
        ("create", "worklete.team_admin.platform:EMP-2"),
        ("delete", "worklete.team_admin.platform:EMP-1")]
    assert result.ok
    platform = world.teams()["Platform"]["id"]
    admins = [a["membership_id"] for a in world.emu.state["team_admins"].values()
              if a["team_id"] == platform]
    assert admins == [world.membership("bob@acme.example")["id"]]


def test_org_admin_is_set_and_unset(world: World) -> None:
    config = org(employees=[employee("EMP-1", org_admin=False),
                            employee("EMP-2", org_admin=True),
                            employee("EMP-3"), employee("EMP-4")])
    provider = world.provider(prune={"org_admins": True})
    plan, result = run(provider, world.apply(provider, config))
    assert sorted((a, k) for a, k, _ in summary(plan)) == [
        ("create", "worklete.org_admin.EMP-2"), ("delete", "worklete.org_admin.EMP-1"),
        ("manual", "worklete.org_admin.email:it@acme.example")]
    manual = next(c for c in plan.changes if c.action == "manual")
    assert "signs in as (sandbox-admin)" in manual.reason
    assert result.ok
    assert world.membership("alice@acme.example")["org_admin"] is False
    assert world.membership("bob@acme.example")["org_admin"] is True
    assert world.membership("it@acme.example")["org_admin"] is True


STAFF_SIGN_IN = {
    "users": [{"username": "staff", "password": "staff-pass", "email": "staff@worklete.example",
               "worklete_employee": True},
              {"email": "alice@acme.example", "first_name": "Alice", "last_name": "Archer"}],
    "memberships": [{"user": "alice@acme.example", "employee_id": "EMP-1", "org_admin": True}],
}


@pytest.mark.parametrize("world", [STAFF_SIGN_IN], indirect=True)
def test_the_last_org_admin_is_never_unset(world: World) -> None:
    config = org(teams=[], employees=[employee("EMP-1", org_admin=False)])
    provider = world.provider(username="staff", password="staff-pass",
                              prune={"org_admins": True})
    plan, result = run(provider, world.apply(provider, config))
    assert [(a, k) for a, k, _ in summary(plan)] == [("delete", "worklete.org_admin.EMP-1")]
    [outcome] = result.outcomes
    assert outcome.status == "failed" and "last org admin" in outcome.detail
    assert world.membership("alice@acme.example")["org_admin"] is True


# -- the capability table --------------------------------------------------------------------

def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0])


def test_every_request_the_provider_makes_is_in_the_capability_table(world: World) -> None:
    config = org(employees=[employee("EMP-1"), employee("EMP-2", email="robert@acme.example"),
                            employee("EMP-3"), employee("EMP-4", org_admin=True),
                            Employee(key="EMP-9", first_name="Nina", last_name="New",
                                     email="nina@acme.example")])
    config.teams["platform"] = Team("platform", "Platform Team", parent="engineering",
                                    managers=("EMP-2",), members=("EMP-2", "EMP-9"),
                                    previously=("Platform",))
    config.teams["sre"] = Team("sre", "SRE", parent="engineering", members=("EMP-3",))
    config.teams["ops"] = Team("ops", "Ops")
    del config.teams["sales"]
    provider = world.provider(prune={"teams": True, "org_admins": True})
    _, result = run(provider, world.apply(provider, config))
    assert result.ok, result.outcomes
    # the scenario reaches every kind of write, the org-admin grant (of EMP-4) included
    assert logged(world.emu, 1, "PATCH",
                  "/api/v1/memberships/{membership_id}/admin_permission") == 1
    table = {(c.method, _shape(c.endpoint)) for c in WorkleteProvider.CAPABILITIES}
    called = {(m, _shape(r.removeprefix("/api/v1")))
              for (m, r, _s) in world.emu.log.counters}
    uploads = {(m, r) for m, r in called if r.startswith("/_uploads/")}
    assert uploads == {("PUT", "/_uploads/{}/{}")}
    assert ("PUT", "{}") in table  # the signed URL
    assert called - uploads <= table, sorted(called - uploads - table)


def test_the_docs_publish_the_capability_table_of_the_code() -> None:
    doc = Path(__file__).parents[2] / "docs" / "providers" / "worklete.md"
    assert capability_table(WorkleteProvider) in doc.read_text(encoding="utf-8")


def test_a_team_another_apply_made_since_the_plan_is_not_created_again(world: World) -> None:
    """Issue 14 item 3: two applies from two checkouts both planned the team and both
    created it (Worklete does not enforce names). The create looks again just before."""
    config = org()
    config.teams["ops"] = Team("ops", "Ops", parent="engineering")
    provider = world.provider()

    async def plan_then_race_then_apply() -> Any:
        plan, live = await world.plan(provider, config)
        # the other apply, in between: the same team, made by another client
        other = world.provider()
        await other.apply(plan.changes[0], plan.ids)
        await other.aclose()
        return await apply_changes(plan.changes, {provider.name: provider},
                                   {provider.name: live}, plan.ids, parallelism=8)

    result = run(provider, plan_then_race_then_apply())
    assert result.ok
    ops = [t for t in world.emu.state["teams"].values() if t["name"] == "Ops"]
    assert len(ops) == 1


def test_a_team_admin_waiting_for_a_manual_membership_is_manual_not_skipped_forever(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 13: an email starting with '-' cannot go through the memberships CSV,
    so its membership is manual; the team-admin change depending on it was `skipped` by
    every apply (exit 1) and kept every plan "with changes" (exit 2)."""
    monkeypatch.setitem(PEOPLE, "EMP-9", ("Dash", "Dee", "-dash@acme.example"))
    config = org()
    config.employees["EMP-9"] = employee("EMP-9")
    config.teams["sales"] = Team("sales", "Sales", managers=("EMP-4", "EMP-9"),
                                 members=("EMP-4", "EMP-9"))
    provider = world.provider()
    plan, result = run(provider, world.apply(provider, config))
    admin = next(c for c in plan.changes if c.address == "worklete.team_admin.sales:EMP-9")
    assert admin.action == "manual"
    assert "waits for worklete.membership.EMP-9, which must be made by hand" in admin.reason
    assert result.ok
    assert not plan.has_changes  # only manual ones: --detailed-exitcode says 0
