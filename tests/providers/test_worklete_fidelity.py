"""The Worklete provider against servers that choose otherwise wherever seed 004 is silent
(issue 13): the strict emulator, and servers shaped by a wrapper around it. Each test is a
failure a vendor's server caused, or a contradiction between the code and the seed; its
docstring says what happened before the fix.

"Before" is the provider as it was when issue 13's mechanisms landed: it already stopped
on a team-admin item without `membership_id`, so against the strict server every plan
failed there ("GET /teams/{id}/admins: membership_id is missing"); each docstring also
says what that provider did once past that point (checked with servers shaped like the
strict one but for the admin items)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgctl.config import load
from orgctl.errors import ConfigError, ProviderError, UnexpectedAnswer
from orgctl.model import Employee, Team
from orgctl.sandbox.core import Profile, ServerThread
from orgctl.sandbox.worklete import WorkleteEmulator
from tests.providers.test_worklete_provider import (
    ADMIN,
    EMPTY,
    World,
    employee,
    live_seed,
    logged,
    org,
    run,
    summary,
)

API = "/api/v1"
MEMBERSHIPS = f"{API}/worklete_admin/memberships"
UPLOADS = "/_uploads/{folder}/{filename}"


class Reshaped:
    """ASGI wrapper: the JSON answers of `path` with `drop` taken out of every object in
    their `data`, as a server that never sends those fields."""

    def __init__(self, app: ASGIApp, path: str, drop: tuple[str, ...]):
        self.app = app
        self.path = path
        self.drop = drop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = json.loads(b"".join(chunks))
        for row in body.get("data") or []:
            for name in self.drop:
                row.pop(name, None)
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})


Serve = Callable[..., World]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """serve(seed, profile="strict", wrap=None, **options) -> a World on a running Worklete
    emulator; `wrap(emulator)` gives the ASGI app to serve instead of the emulator's."""
    with ExitStack() as stack:

        def start(seed: dict[str, Any], profile: str | Profile = "strict",
                  wrap: Callable[[WorkleteEmulator], ASGIApp] | None = None,
                  **options: Any) -> World:
            emu = WorkleteEmulator(seed, upload_delay=0.05, profile=profile, **options)
            server = stack.enter_context(ServerThread(
                {"worklete": wrap(emu) if wrap else emu.app}))
            return World(emu, server.url("worklete") + API, tmp_path)

        yield start


@pytest.fixture
def strict(serve: Serve) -> World:
    """The strict emulator holding `live_seed()`."""
    return serve(live_seed())


def writes(world: World) -> int:
    """Requests that could change something: every one but GETs and the sign-in."""
    return sum(n for (method, route, _s), n in world.emu.log.counters.items()
               if method != "GET" and route != f"{API}/auth/sign_in")


# -- membership answers shaped otherwise ------------------------------------------------------

def test_membership_answers_without_the_assumed_fields_are_read_the_documented_ways(
        strict: World) -> None:
    """The strict server's memberships carry no user, employee_id or team_ids. Before: every
    membership was keyed `id:<uuid>` with no teams, so a matching Worklete planned each
    member as new (and without employee_id alone, every member's employee_id as an update
    from None on every run). Now their emails come from the user list, their teams from
    the `team_id` filter, employee_id is unknown, and the plan says how it read them and
    what it cost."""
    provider = strict.provider()
    plan, _ = run(provider, strict.plan(provider, org()))
    assert summary(plan) == []
    notes = {f.message for f in plan.findings if f.code == "read"}
    assert ("GET /worklete_admin/memberships answers carry no team_ids: read "
            "GET /worklete_admin/memberships?team_id= once per team instead "
            "(4 requests this run)") in notes
    assert ("GET /worklete_admin/memberships answers carry no user.email: read "
            "GET /worklete_admin/users (joined by user_id) instead (1 request this run)") in notes
    assert any("employee_id" in n and "never compared" in n for n in notes)
    assert logged(strict.emu, 1 + 4, "GET", MEMBERSHIPS) == 1 + 4


def test_the_read_keys_objects_as_matching_them_without_a_config_would(
        strict: World) -> None:
    """The read makes each live object once, already in the keys `match_live` gives a
    live state without a desired side (issue 18: it used to make them all, then make them
    again under those keys): teams by name path, memberships without employee_id by the
    bound config's employee of their email. Matching that read again changes nothing."""
    provider = strict.provider()
    provider.bind(org())
    live = run(provider, provider.read())
    assert provider.match_live([], live) == live
    assert {r.key for r in live if r.kind == "membership"} >= {"EMP-1", "EMP-2", "EMP-4"}
    assert {r.key for r in live if r.kind == "team_admin"} == {
        "name:/Engineering/Platform:EMP-1", "name:/Sales:EMP-4"}


def test_membership_answers_that_identify_no_one_stop_the_plan_before_any_write(
        serve: Serve) -> None:
    """A server whose memberships carry neither a user nor a user_id. Before: each was an
    unidentified live membership, every config member was planned as new and uploaded,
    and the apply waited 300 s for rows it could not recognise. Now the plan stops,
    naming the endpoint, the missing fields and a sample, and nothing is written."""
    world = serve(live_seed(), wrap=lambda emu: Reshaped(emu.app, MEMBERSHIPS, ("user_id",)))
    provider = world.provider()
    with pytest.raises(UnexpectedAnswer) as err:
        run(provider, world.apply(provider, org()))
    message = str(err.value)
    assert "GET /worklete_admin/memberships" in message
    assert "user (with its email) and user_id are missing" in message
    assert "the answer began: {" in message and "sandbox-password" not in message
    assert writes(world) == 0


def test_a_member_taken_out_of_their_last_team_keeps_the_membership_without_teams(
        strict: World) -> None:
    """Memberships without employee_id are known by email. Before: Bob, out of his only
    team, was no longer desired, so the plan showed nothing and he stayed in Platform."""
    config = org()
    config.teams["platform"] = Team("platform", "Platform", parent="engineering",
                                    managers=("EMP-1",), members=("EMP-3",))
    provider = strict.provider()
    plan, result = run(provider, strict.apply(provider, config))
    assert summary(plan) == [("update", "worklete.membership.EMP-2",
                              {"teams": [["platform"], []]})]
    assert result.ok, result.outcomes
    assert strict.membership("bob@acme.example")["team_ids"] == []


def test_a_leaver_known_only_by_email_is_a_manual_removal(strict: World) -> None:
    """Before: a membership without employee_id kept the key `email:...`, so a leaver's
    membership was "not in config; left alone" instead of the removal the config's
    `status: inactive` calls for: taken out of every team (issue 15: Worklete documents no
    removal of a membership)."""
    config = org()
    config.employees["EMP-2"] = employee("EMP-2", status="inactive")
    config.teams["platform"] = Team("platform", "Platform", parent="engineering",
                                    managers=("EMP-1",), members=("EMP-3",))
    provider = strict.provider()
    plan, _ = run(provider, strict.plan(provider, config))
    assert summary(plan) == [("deactivate", "worklete.membership.EMP-2", {})]


# -- team admins listed as memberships ---------------------------------------------------------

def test_removing_a_manager_revokes_the_admin_the_answer_names(strict: World) -> None:
    """The strict server lists a team's admins as memberships: `id`, no `membership_id`.
    Before: the plan stopped ("membership_id is missing"), and before that check the admin
    was read as membership "None": the plan removed `team_admin.platform:id:None` and the
    revoke hit a 404 taken as done, so Alice stayed admin. Now the item's id is read as
    the membership's (seed 004: admin_id is "a unique identifier for a membership")."""
    config = org()
    config.teams["platform"] = Team("platform", "Platform", parent="engineering",
                                    members=("EMP-2", "EMP-3"))
    provider = strict.provider()
    plan, result = run(provider, strict.apply(provider, config))
    assert summary(plan) == [("delete", "worklete.team_admin.platform:EMP-1", {})]
    assert result.ok, result.outcomes
    platform = strict.teams()["Platform"]["id"]
    assert [a for a in strict.emu.state["team_admins"].values()
            if a["team_id"] == platform] == []
    assert logged(strict.emu, 1, "DELETE", f"{API}/teams/{{team_id}}/admins/{{admin_id}}",
                  200) == 1


def test_an_admin_item_naming_no_membership_stops_the_plan(serve: Serve) -> None:
    """An admin item with neither a membership_id nor a membership's id cannot be revoked
    safely: the plan stops, naming the team's endpoint, instead of removing `...:id:None`
    (the failure the issue reports)."""

    def without_ids(emu: WorkleteEmulator) -> ASGIApp:
        platform = next(t["id"] for t in emu.state["teams"].values()
                        if t["name"] == "Platform")
        return Reshaped(emu.app, f"{API}/teams/{platform}/admins", ("id",))

    world = serve(live_seed(), wrap=without_ids)
    platform = world.teams()["Platform"]["id"]
    provider = world.provider()
    with pytest.raises(UnexpectedAnswer, match=f"GET /teams/{platform}/admins: "
                                               "membership_id is missing"):
        run(provider, world.plan(provider, org()))
    assert writes(world) == 0


# -- the memberships CSV, proven on one row ----------------------------------------------------

STRIPPING = {"membership_team_column": "teams"}  # a server whose CSV names teams otherwise


def test_a_csv_read_otherwise_stops_after_the_one_row_proof_and_drops_nothing(
        serve: Serve) -> None:
    """A server whose CSV team column is `teams`: orgctl's `team_ids` is a column it does
    not know, and its replacing upsert strips every row's member of their teams. Before:
    the whole batch (3 rows) went in one CSV, Bob and Carol lost their teams, and apply
    waited for `upload_timeout` then failed. Now one row goes first (the new hire: nothing
    to lose), reads back without its team, and nothing more is sent."""
    world = serve(live_seed(), **STRIPPING)
    config = org(employees=[employee("EMP-1"), employee("EMP-2", last_name="Baker-Lee"),
                            employee("EMP-3"), employee("EMP-4")])
    config.employees["EMP-9"] = Employee(key="EMP-9", first_name="Nina", last_name="New",
                                         email="nina@acme.example")
    config.teams["sales"] = Team("sales", "Sales", managers=("EMP-4",),
                                 members=("EMP-4", "EMP-9", "EMP-3"))
    before = {e: world.membership(e)["team_ids"]
              for e in ("bob@acme.example", "carol@acme.example")}
    provider = world.provider(upload_timeout=5)
    started = time.monotonic()
    plan, result = run(provider, world.apply(provider, config))

    assert time.monotonic() - started < 5
    assert sorted((a, k) for a, k, _ in summary(plan)) == [
        ("create", "worklete.membership.EMP-9"), ("update", "worklete.membership.EMP-2"),
        ("update", "worklete.membership.EMP-3")]
    assert logged(world.emu, 1, "PUT", UPLOADS) == 1
    assert [u["rows"] for u in world.emu.state["uploads"].values() if u["content"]] == [1]
    assert {e: world.membership(e)["team_ids"] for e in before} == before
    failed = {o.address: o.detail for o in result.outcomes if o.status == "failed"}
    assert sorted(failed) == ["worklete.membership.EMP-2", "worklete.membership.EMP-3",
                              "worklete.membership.EMP-9"]
    detail = failed["worklete.membership.EMP-9"]
    assert ("the one row sent first to prove its format, for nina@acme.example (a new "
            "membership), now shows teams (none) instead of Sales") in detail
    assert "Nothing else was uploaded, so no other membership was changed" in detail


def test_later_memberships_of_the_run_are_not_sent_once_the_csv_is_refused(
        serve: Serve) -> None:
    """Before: each batch was uploaded whole and waited for `upload_timeout`; now the
    first is refused at once and the second is not sent."""
    world = serve(live_seed(), **STRIPPING)
    provider = world.provider(upload_timeout=5)

    async def two_batches() -> list[str]:
        await provider.read()
        sales = {"worklete.team.sales": world.teams()["Sales"]["id"]}
        outcomes = []
        for key, name in (("EMP-8", "ola"), ("EMP-9", "nina")):
            change = _new_member(key, name)
            try:
                await provider.apply(change, sales)
            except ProviderError as exc:
                outcomes.append(str(exc))
        return outcomes

    first, second = run(provider, two_batches())
    assert "now shows teams (none) instead of Sales" in first
    assert second.startswith("worklete: memberships not uploaded: the CSV was not applied "
                             "as intended earlier this run")
    assert logged(world.emu, 1, "PUT", UPLOADS) == 1


def _new_member(key: str, name: str) -> Any:
    from orgctl.resources import Change

    return Change(action="create", provider="worklete", kind="membership", key=key,
                  after={"email": f"{name}@acme.example", "first_name": name.title(),
                         "last_name": "New", "employee_id": key, "teams": ["sales"]},
                  refs={"teams.sales": "worklete.team.sales"})


def test_an_update_only_batch_is_proven_on_the_member_with_least_to_lose(
        serve: Serve) -> None:
    """With no new membership, the proof row is an existing one that has teams (a row
    without teams proves nothing about the team column): the one with the fewest. Here
    only Bob's membership is touched, and the error says what he had, to restore it.
    Before: Bob and Carol were both stripped, and apply waited for `upload_timeout`."""
    world = serve(live_seed(), **STRIPPING)
    config = org(employees=[employee("EMP-1"), employee("EMP-2", last_name="Baker-Lee"),
                            employee("EMP-3", last_name="Cole-Rey"), employee("EMP-4")])
    carol = world.membership("carol@acme.example")["team_ids"]
    provider = world.provider(upload_timeout=5)
    _, result = run(provider, world.apply(provider, config))
    failed = {o.address: o.detail for o in result.outcomes if o.status == "failed"}
    assert "for bob@acme.example (before: teams Platform), now shows" in \
        failed["worklete.membership.EMP-2"]
    assert world.membership("carol@acme.example")["team_ids"] == carol
    assert logged(world.emu, 1, "PUT", UPLOADS) == 1


# -- what the code contradicted in the seed -----------------------------------------------------

EMAIL_ONLY = {  # seed 004: provider "email" signs a user in by email; this one has no username
    "users": [{"email": "it@acme.example", "password": "it-pass", "first_name": "It",
               "last_name": "Admin"}],
    "memberships": [{"user": "it@acme.example", "org_admin": True}],
}


@pytest.mark.parametrize("profile", ["permissive", "strict"])
def test_sign_in_sends_the_provider_the_username_needs(serve: Serve, profile: str) -> None:
    """Before: the schema said `username` holds an email, but the code always sent
    `provider: "username"`, so an account with an email and no username got 401."""
    world = serve(EMAIL_ONLY, profile=profile)
    provider = world.provider(username="it@acme.example", password="it-pass")
    assert provider.settings.sign_in_provider == "email"
    run(provider, provider.read())
    named = world.provider(username="it@acme.example", password="it-pass",
                           sign_in_provider="username")
    with pytest.raises(ProviderError, match="401"):
        run(named, named.read())


def test_sign_in_provider_must_be_one_the_seed_names(serve: Serve) -> None:
    """A value outside seed 004's enum fails when the provider is made, before any
    request (before: the setting did not exist)."""
    world = serve(EMPTY)
    with pytest.raises(ProviderError, match="sign_in_provider 'ldap': expected email or "
                                            "username"):
        world.provider(sign_in_provider="ldap")


ORG_ID = "5f0c8a8e-2b1d-4c3e-9a7f-0d6e5b4c3a21"


def test_the_organization_is_found_by_its_uuid_whatever_its_case(serve: Serve) -> None:
    """Seed 004: an organization id is a uuid. Before: the id was compared as written, so
    the same uuid in capitals (as some consoles show it) was "not an organization"."""
    seed = {**live_seed(), "organizations": [{"name": "Acme", "id": ORG_ID},
                                             {"name": "Other"}]}
    world = serve(seed)
    provider = world.provider(organization=ORG_ID.upper())
    plan, _ = run(provider, world.plan(provider, org()))
    assert summary(plan) == []


def test_the_schema_takes_the_organization_as_text_not_a_number(tmp_path: Path) -> None:
    """Before: the schema accepted a "numeric id", which no Worklete organisation has."""
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\nproviders:\n  worklete:\n"
                      "    url: https://connection.worklete.com/api/v1\n"
                      "    username: it@acme.example\n    password: ${WORKLETE_PASSWORD}\n"
                      "    organization: 42\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="organization"):
        load(config, resolve_env=False)


def test_rate_limit_paces_the_requests(strict: World) -> None:
    """The schema accepts `rate_limit`, and the provider honours it: no more requests in
    any second than the limit allows (a read of this org makes 14). It was honoured
    before too; without the pacer this test fails (the read takes 0.04 s)."""
    provider = strict.provider(rate_limit="6/s")
    started = time.monotonic()
    run(provider, provider.read())
    elapsed = time.monotonic() - started
    stamps = sorted(e.at for e in strict.emu.log.entries)
    assert len(stamps) == 14
    assert elapsed >= 2.0
    assert max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps) <= 6


# -- paging follows the server -----------------------------------------------------------------

def _many_teams(n: int) -> dict[str, Any]:
    return {"users": [ADMIN], "teams": [{"name": f"Team {i:02d}"} for i in range(n)],
            "memberships": [{"user": "sandbox-admin", "org_admin": True}]}


def test_lists_read_whole_where_the_seed_shows_no_paging(serve: Serve) -> None:
    """The strict team list serves 20 rows a page with an empty `meta`; the organisation,
    user and membership lists have no documented paging and answer whole. Before: an
    empty `meta` was read as "paged", so each of those lists was asked a second page (the
    same rows again)."""
    profile = Profile(name="strict", strict=True, page_cap=20, paging_keys=False)
    world = serve(_many_teams(45), profile=profile)
    provider = world.provider()
    live = run(provider, provider.read())
    assert len([r for r in live if r.kind == "team"]) == 45
    assert logged(world.emu, 3, "GET", f"{API}/organizations/{{organization_id}}/teams") == 3
    assert world.emu.log.count("GET", f"{API}/organizations") == 1
    assert world.emu.log.count("GET", MEMBERSHIPS) == 1


# -- whatever the strict server chooses --------------------------------------------------------

profiles = st.builds(
    Profile, name=st.just("strict"), strict=st.just(True), page_cap=st.integers(1, 5),
    default_size=st.sampled_from((1, 2, 25)), paging_keys=st.booleans(),
    ids=st.sampled_from(("sparse", "uuid")), shuffle_fields=st.booleans(),
    seed=st.integers(0, 2**30))


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=profiles)
def test_an_empty_worklete_converges_and_a_matching_one_stays_whatever_it_chooses(
        profile: Profile, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Page caps below the team count, paging keys or none, field order: one apply from
    empty converges, and the next plan is empty."""
    emu = WorkleteEmulator(EMPTY, upload_delay=0.05, profile=profile)
    with ServerThread({"worklete": emu.app}) as server:
        world = World(emu, server.url("worklete") + API, tmp_path_factory.mktemp("drawn"))
        provider = world.provider()
        _, result = run(provider, world.apply(provider, org()))
        assert result.ok, (profile, result.outcomes)
        again = world.provider()
        assert summary(run(again, world.plan(again, org()))[0]) == [], profile
