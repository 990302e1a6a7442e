"""The Workleap provider against the Workleap emulator over real loopback HTTP: reading,
planning with the engine's diff, and applying the plan as one full-replacement sync."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgctl.engine.plan import plan_provider
from orgctl.errors import ProviderError
from orgctl.model import Employee, Org, ProviderConfig, Team
from orgctl.providers.base import BatchResult, capability_table
from orgctl.providers.http import Http
from orgctl.providers.workleap import PAGE_SIZE, WorkleapProvider, live_resources, render_sync
from orgctl.providers.workleap import provider as workleap_provider
from orgctl.resources import Change, Resource
from orgctl.sandbox.core import Faults, Profile, ServerThread
from orgctl.sandbox.workleap import DEFAULT_API_KEY, WorkleapEmulator


def seed(**integration: Any) -> dict[str, Any]:
    """Live Workleap: three managed members (E1, E2 active, E3 invited), an admin without
    an externalMemberId, an unmanaged member in an unmanaged team."""
    return {
        "integration": {"processing_delay": 0.01, "risk_threshold": None, **integration},
        "members": [
            {"externalMemberId": "E1", "email": "ana@acme.io", "firstName": "Ana",
             "lastName": "Silva", "languagePreferences": "fr",
             "productAssignations": ["Skills", "Officevibe"], "status": "active"},
            {"externalMemberId": "E2", "email": "bob@acme.io", "firstName": "Bob",
             "lastName": "Stone", "status": "active"},
            {"externalMemberId": "E3", "email": "cy@acme.io", "firstName": "Cy",
             "lastName": "Roy", "status": "invited"},
            {"email": "root@acme.io", "firstName": "Root", "lastName": "Admin",
             "status": "active", "isAdmin": True},
            {"externalMemberId": "U1", "email": "una@acme.io", "firstName": "Una",
             "lastName": "Known", "status": "active", "customProperties": {"Site": "Lyon"}},
        ],
        "teams": [
            {"externalTeamId": "eng", "teamName": "Engineering"},
            {"externalTeamId": "platform", "teamName": "Platform"},
            {"externalTeamId": "sales", "teamName": "Sales"},
        ],
        "mappings": [
            {"externalTeamId": "eng", "externalSubteamId": "platform"},
            {"externalTeamId": "eng", "externalMemberId": "E1", "role": "manager"},
            {"externalTeamId": "platform", "externalMemberId": "E2", "role": "member"},
            {"externalTeamId": "sales", "externalMemberId": "U1", "role": "member"},
        ],
    }


def org(without: tuple[str, ...] = (), **extra: Employee) -> Org:
    """The config matching `seed()` for E1-E3, eng and platform; minus `without`."""
    people = {
        "E1": Employee("E1", "Ana", "Silva", "Ana@Acme.io", systems={
            "workleap": {"language": "fr", "products": ["Officevibe", "Skills"]}}),
        "E2": Employee("E2", "Bob", "Stone", "bob@acme.io"),
        "E3": Employee("E3", "Cy", "Roy", "cy@acme.io"),
        **extra,
    }
    people = {k: e for k, e in people.items() if k not in without}
    teams = {
        "eng": Team("eng", "Engineering", managers=("E1",)),
        "platform": Team("platform", "Platform", parent="eng",
                         members=tuple(m for m in ("E2",) if m in people)),
    }
    return Org(teams=teams, employees=people)


class Sandbox:
    def __init__(self, emu: WorkleapEmulator, url: str):
        self.emu = emu
        self.url = url

    def provider(self, **settings: Any) -> WorkleapProvider:
        config = ProviderConfig(name="workleap", type="workleap", url=self.url, settings={
            "api_key": DEFAULT_API_KEY, "poll_interval": 0.01, "poll_timeout": 10,
            **settings})
        return WorkleapProvider(config)

    def member(self, email: str) -> dict[str, Any] | None:
        return next((m for m in self.emu.snapshot()["members"].values()
                     if m["email"].lower() == email), None)


def sandbox(data: dict[str, Any]) -> Iterator[Sandbox]:
    emu = WorkleapEmulator(data)
    with ServerThread({"workleap": emu.app}) as st:
        yield Sandbox(emu, st.url("workleap"))


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    yield from sandbox(seed())


def plan(provider: WorkleapProvider, config: Org) -> tuple[list[Change], list[Resource]]:
    live = asyncio.run(provider.read())
    changes, _, _, _ = plan_provider(provider, config, live)
    return changes, live


def apply(provider: WorkleapProvider, config: Org) -> tuple[list[Change], BatchResult]:
    changes, live = plan(provider, config)
    return changes, asyncio.run(provider.apply_batch(changes, live))


def summary(changes: list[Change]) -> set[tuple[str, str]]:
    return {(c.action, c.address) for c in changes}


def test_read_of_matching_state_equals_desired(sb: Sandbox) -> None:
    provider = sb.provider()
    live = {(r.kind, r.key): r for r in asyncio.run(provider.read())}
    desired = provider.desired(org())
    for d in desired:
        got = live[(d.kind, d.key)]
        assert {k: got.attrs.get(k) for k in d.attrs} == d.attrs, d.key
    assert len(desired) == 3 + 2 + 2  # members, teams, mappings (E1 manages eng, E2 in platform)
    admin = live[("member", "root@acme.io")]  # no externalMemberId: keyed by email
    assert (admin.server["status"], admin.server["isAdmin"]) == ("active", True)
    # Manager access is read back (seed: managers gain access to their subteams).
    assert live[("member", "E1")].server["accessibleTeams"] == ["eng", "platform"]
    assert plan_provider(provider, org(), list(live.values()))[0] == []


def test_removed_member_converges_and_unmanaged_members_stay(sb: Sandbox) -> None:
    provider = sb.provider(prune={"member": True})
    config = org(without=("E2",))
    changes, result = apply(provider, config)
    # U1 is not in the config either, but is pruned too; only E2 is wanted gone here.
    assert summary(changes) >= {("deactivate", "workleap.member.E2"),
                                ("delete", "workleap.mapping.platform:E2")}
    assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
    assert sb.member("bob@acme.io")["status"] == "deactivated"
    assert plan(provider, config)[0] == []


def test_unmanaged_live_members_teams_and_mappings_survive_a_sync(sb: Sandbox) -> None:
    provider = sb.provider()  # prune defaults: members and teams are left alone
    config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io"))
    changes, result = apply(provider, config)
    assert summary(changes) == {("create", "workleap.member.E4")}
    assert {a: o.status for a, o in result.outcomes.items()} == {"workleap.member.E4": "applied"}
    una = sb.member("una@acme.io")
    assert (una["status"], una["customProperties"]) == ("active", {"Site": "Lyon"})
    sales = next(t for t in sb.emu.snapshot()["teams"].values() if t["externalTeamId"] == "sales")
    assert sales["memberIds"] == [una["id"]]
    assert sb.member("root@acme.io")["status"] == "active"
    assert sb.member("dee@acme.io")["status"] == "invited"
    assert plan(provider, config)[0] == []


def test_predicted_removals_are_what_workleap_does(sb: Sandbox) -> None:
    """Seed 003 "Effects of missing data": the plan says deactivate for the active, delete
    for the invited, and nothing for the admin; the sync then does exactly that."""
    provider = sb.provider(prune={"member": True})
    config = org(without=("E2", "E3"))
    changes, live = plan(provider, config)
    members = {c.key: c.action for c in changes if c.kind == "member"}
    assert members == {"E2": "deactivate", "E3": "delete", "U1": "deactivate"}
    result = asyncio.run(provider.apply_batch(changes, live))
    assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
    assert sb.member("bob@acme.io")["status"] == "deactivated"
    assert sb.member("una@acme.io")["status"] == "deactivated"
    assert sb.member("cy@acme.io") is None
    assert sb.member("root@acme.io")["status"] == "active"  # admin: never removed
    assert plan(provider, config)[0] == []


def test_paused_sync_is_reported_as_awaiting_approval() -> None:
    """Seed 003 "Sync statuses": Paused — risk threshold exceeded; approve or reject."""
    for sb in sandbox(seed(risk_threshold=10)):
        provider = sb.provider(prune={"member": True}, ignore=[{"key": "U1"}])
        config = org(without=("E2",))  # removes 1 of 5 members: 20 % over 10 %
        changes, result = apply(provider, config)
        assert changes
        assert all(o.status == "pending" and o.detail.startswith(
            "awaiting approval in Workleap (risk threshold)")
                   for o in result.outcomes.values()), result.outcomes
        assert "Paused" in result.detail
        assert sb.member("bob@acme.io")["status"] == "active"  # nothing applied yet
        sync_id = next(iter(sb.emu.snapshot()["syncs"]))
        httpx.post(f"{sb.url}/_sandbox/syncs/{sync_id}/approve").raise_for_status()
        assert sb.member("bob@acme.io")["status"] == "deactivated"
        assert plan(provider, config)[0] == []


def test_rejected_sync_changes_nothing_and_a_rerun_asks_again() -> None:
    for sb in sandbox(seed(risk_threshold=10)):
        provider = sb.provider(prune={"member": True}, ignore=[{"key": "U1"}])
        apply(provider, org(without=("E2",)))
        first = next(iter(sb.emu.snapshot()["syncs"]))
        httpx.post(f"{sb.url}/_sandbox/syncs/{first}/reject").raise_for_status()
        assert sb.member("bob@acme.io")["status"] == "active"
        changes, result = apply(provider, org(without=("E2",)))
        assert ("deactivate", "workleap.member.E2") in summary(changes)
        assert all(o.status == "pending" for o in result.outcomes.values())
        assert f"sync {first}" not in result.detail  # a new sync, paused in its turn


def test_inactive_integration_fails_every_change() -> None:
    """Seed 003 Step 1: "If deactivated, sync API calls will fail"."""
    for sb in sandbox({**seed(), "integration": {"active": False, "processing_delay": 0}}):
        _, result = apply(sb.provider(), org(E4=Employee("E4", "D", "N", "d@acme.io")))
        assert {a: (o.status, o.detail) for a, o in result.outcomes.items()} == {
            "workleap.member.E4": ("failed",
                                   "sync s-1 Failed: API provisioning integration is not active")}
        assert sb.member("d@acme.io") is None


def test_warning_report_fails_only_the_rows_it_names(sb: Sandbox) -> None:
    provider = sb.provider()
    twins = org(E4=Employee("E4", "Dee", "One", "dee@acme.io"),
                E5=Employee("E5", "Dee", "Two", "DEE@acme.io"))
    changes, result = apply(provider, twins)
    assert result.outcomes["workleap.member.E4"].status == "applied"
    assert (result.outcomes["workleap.member.E5"].status == "failed"
            and result.outcomes["workleap.member.E5"].detail.startswith("duplicate email"))
    assert "Warning" in result.detail and "members.csv row" in result.detail


def test_empty_workleap_to_config_in_one_sync_then_no_changes() -> None:
    for sb in sandbox({"integration": {"processing_delay": 0.01}}):
        provider = sb.provider()
        changes, result = apply(provider, org())
        assert len(changes) == 7 and {o.status for o in result.outcomes.values()} == {"applied"}
        assert plan(provider, org())[0] == []
        teams = {t["externalTeamId"]: t for t in sb.emu.snapshot()["teams"].values()}
        assert teams["platform"]["parentId"] == teams["eng"]["id"]


def admin_in_sales() -> dict[str, Any]:
    data = seed()
    data["mappings"].append({"externalTeamId": "sales", "email": "root@acme.io",
                             "role": "manager"})
    return data


def test_member_without_external_id_is_bound_by_email() -> None:
    """Seed 003 members.csv: email is the fallback identifier. The plan shows the binding as
    an update; the sync gives the live member the employee key as externalMemberId, and its
    team mapping (now nameable in teams-mappings.csv) survives."""
    for sb in sandbox(admin_in_sales()):
        provider = sb.provider()
        config = org(ADM=Employee("ADM", "Root", "Admin", "root@acme.io"))
        changes, result = apply(provider, config)
        assert [(c.action, c.key, c.fields) for c in changes] == [
            ("update", "ADM", {"external_id": [None, "ADM"]})]
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        root = sb.member("root@acme.io")
        assert root["externalMemberId"] == "ADM"
        sales = next(t for t in sb.emu.snapshot()["teams"].values()
                     if t["externalTeamId"] == "sales")
        assert sales["managerIds"] == [root["id"]]
        assert plan(provider, config)[0] == []


def test_plan_warns_about_mappings_a_sync_cannot_write_back() -> None:
    for sb in sandbox(admin_in_sales()):
        provider = sb.provider()
        live = asyncio.run(provider.read())
        provider.desired(org())
        findings = provider.findings(org(), live)
        assert [(f.address, f.level) for f in findings] == [
            ("workleap.mapping.sales:root@acme.io", "warning")]
        assert "no externalMemberId" in findings[0].message
        # Once the config claims the admin by email, the sync binds it: no warning.
        claimed = org(ADM=Employee("ADM", "Root", "Admin", "root@acme.io"))
        assert provider.findings(claimed, live) == []


def test_deactivated_member_back_in_config_is_reactivated() -> None:
    data = seed()
    data["members"][1]["status"] = "deactivated"
    for sb in sandbox(data):
        provider = sb.provider()
        changes, result = apply(provider, org())
        assert ("update", "workleap.member.E2") in summary(changes)
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        assert sb.member("bob@acme.io")["status"] == "active"
        assert plan(provider, org())[0] == []


def test_no_change_read_makes_the_minimum_requests() -> None:
    n_members, n_teams = 2 * PAGE_SIZE + 7, 30
    data = {
        "members": [{"externalMemberId": f"E{i}", "email": f"p{i}@acme.io",
                     "firstName": "P", "lastName": str(i)} for i in range(n_members)],
        "teams": [{"externalTeamId": f"t{i}", "teamName": f"Team {i}"} for i in range(n_teams)],
        "mappings": [{"externalTeamId": f"t{i % n_teams}", "externalMemberId": f"E{i}"}
                     for i in range(n_members)],
    }
    config = Org(
        employees={f"E{i}": Employee(f"E{i}", "P", str(i), f"p{i}@acme.io")
                   for i in range(n_members)},
        teams={f"t{t}": Team(f"t{t}", f"Team {t}", members=tuple(
            f"E{i}" for i in range(t, n_members, n_teams))) for t in range(n_teams)})
    for sb in sandbox(data):
        changes, _ = plan(sb.provider(), config)
        assert changes == []
        assert sb.emu.log.count("GET", "/provisioning/members") == math.ceil(
            n_members / PAGE_SIZE)
        assert sb.emu.log.count("GET", "/provisioning/teams") == math.ceil(n_teams / PAGE_SIZE)
        assert sb.emu.log.count() == 4


def test_refused_key_fails_the_read_without_showing_the_key(sb: Sandbox) -> None:
    provider = sb.provider(api_key="not-the-right-key-123")
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.read())
    assert "401" in str(caught.value) and "API key" in str(caught.value)
    assert "not-the-right-key-123" not in str(caught.value)


def test_formula_like_names_are_neutralised_and_converge(sb: Sandbox) -> None:
    provider = sb.provider()
    config = org(E4=Employee("E4", "=HYPERLINK(1)", "-Dash", "dee@acme.io"))
    changes, result = apply(provider, config)
    assert {o.status for o in result.outcomes.values()} == {"applied"}
    assert sb.member("dee@acme.io")["firstName"] == "'=HYPERLINK(1)"
    assert plan(provider, config)[0] == []


def test_render_writes_subteams_bottom_up_and_keeps_live_rows() -> None:
    live = [
        Resource("member", "U1", {"external_id": "U1", "email": "u@x.io", "first_name": "U",
                                  "last_name": "One", "language": None, "products": [],
                                  "deactivated": False},
                 remote_id="m-1", server={"customProperties": {"Site": "Lyon"}}),
        Resource("member", "gone@x.io", {"external_id": None, "email": "gone@x.io",
                                         "deactivated": True}, remote_id="m-2"),
        Resource("team", "a", {"name": "A", "parent": None}),
    ]
    changes = [
        Change("create", "workleap", "team", "b", after={"name": "B", "parent": "a"}),
        Change("create", "workleap", "team", "c", after={"name": "C", "parent": "b"}),
    ]
    rendered = render_sync("workleap", changes, live)
    assert rendered.files["members.csv"].splitlines() == [
        "externalMemberId,email,firstName,lastName,languagePreferences,productAssignations,"
        "Site", "U1,u@x.io,U,One,,,Lyon"]  # the deactivated member stays unlisted
    assert rendered.files["teams-mappings.csv"].splitlines()[1:] == ["b,,c,", "a,,b,"]
    assert rendered.rows[("teams-mappings.csv", 1)] == "workleap.team.c"


def test_apply_under_injected_faults_converges_without_duplicates() -> None:
    """Issue 5: with 5xx, 429, dropped connections and commit-then-fail injected, one apply
    from empty converges with nobody created twice."""
    emu = WorkleapEmulator({"integration": {"processing_delay": 0.01}},
                           faults=Faults.parse("5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02,"
                                               "retry_after=0.01,seed=7"))
    with ServerThread({"workleap": emu.app}) as st:
        sb = Sandbox(emu, st.url("workleap"))
        provider = sb.provider()
        changes, result = apply(provider, org())
        assert len(changes) == 7, result.detail
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        state = emu.snapshot()
        assert sorted(m["email"] for m in state["members"].values()) == [
            "ana@acme.io", "bob@acme.io", "cy@acme.io"]
        assert plan(provider, org())[0] == []


class LoseFirstSubmitAnswer(httpx.AsyncHTTPTransport):
    """The sync is accepted, then the answer is lost: the commit-then-fail case."""

    lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and not self.lost:
            self.lost += 1
            await response.aclose()
            raise httpx.ReadError("connection reset after the server committed")
        return response


def test_a_lost_submit_answer_is_retried_into_the_same_sync(
        sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = sb.provider()
    config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io"))
    changes, live = plan(provider, config)
    transport = LoseFirstSubmitAnswer()
    make = provider.make_http

    def with_transport() -> Http:
        http = make()
        http._client = httpx.AsyncClient(transport=transport, timeout=10)
        return http

    # The apply runs on a loop of its own, so it makes its client, through the transport.
    monkeypatch.setattr(provider, "make_http", with_transport)
    result = asyncio.run(provider.apply_batch(changes, live))
    assert transport.lost == 1
    assert {a: o.status for a, o in result.outcomes.items()} == {"workleap.member.E4": "applied"}
    assert len(sb.emu.snapshot()["syncs"]) == 1  # the retry found the first sync


def test_a_plan_folds_the_config_emails_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether the next sync keeps a live mapping of a team the config does not have, of a
    member it does not have either, depends on the config's emails (`removal_of`). They
    are folded once a plan, not once per such mapping: at 100,000 people each folding cost
    25 ms, so 200 such mappings took 5 s."""
    data = seed()
    data["members"] += [{"externalMemberId": f"C{i}", "email": f"c{i}@acme.io",
                         "firstName": "Con", "lastName": f"Tractor {i}", "status": "active"}
                        for i in range(5)]
    data["mappings"] += [{"externalTeamId": "sales", "externalMemberId": f"C{i}",
                          "role": "member"} for i in range(5)]
    folded: Counter[str] = Counter()
    real = workleap_provider.lowered

    def counted(text: str) -> str:
        folded[text] += 1
        return real(text)

    monkeypatch.setattr(workleap_provider, "lowered", counted)
    for box in sandbox(data):
        changes, _ = plan(box.provider(), org())
    assert not [c.address for c in changes if c.key.startswith("sales:")]  # left alone
    assert folded["Ana@Acme.io"] == 1  # E1's email as the config writes it


def test_someone_listed_as_manager_and_member_reads_as_one_manager_mapping() -> None:
    live = live_resources(
        [{"id": "m-1", "externalMemberId": "E1", "email": "a@x.io", "status": "active"}],
        [{"id": "t-1", "externalTeamId": "eng", "teamName": "Eng", "parentId": None,
          "managerIds": ["m-1"], "memberIds": ["m-1"]}])
    assert [(r.key, r.attrs) for r in live if r.kind == "mapping"] == [
        ("eng:E1", {"team": "eng", "member": "E1", "role": "manager"})]


def test_the_docs_publish_the_capability_table_of_the_code() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "providers" / "workleap.md").read_text("utf-8")
    assert capability_table(WorkleapProvider) in doc


def test_a_key_the_csv_would_alter_is_planned_manual(sb: Sandbox) -> None:
    provider = sb.provider()
    config = org(**{"-E9": Employee("-E9", "Neg", "Key", "neg@acme.io")})
    changes, _ = plan(provider, config)
    assert [(c.action, c.key) for c in changes] == [("manual", "-E9")]
    assert "rename the key" in changes[0].reason


def test_a_sync_writes_values_it_read_back_byte_for_byte() -> None:
    """Issue 13 (6) / issue 14 (4): a sync carries every live member and team, and what
    it read from Workleap goes back as it was. Neutralising those values (a leading `'`)
    rewrote phone numbers, handles and names of people the plan left alone, on every
    member, on the first sync: silent data corruption. Only values orgctl introduces are
    neutralised."""
    data = seed()
    data["members"][1]["customProperties"] = {"Phone": "+33 1 23 45", "Slack": "@bob"}
    data["members"].append(
        {"externalMemberId": "U2", "email": "=odd@acme.io", "firstName": "-Zed",
         "lastName": "+Plus", "status": "active",
         "customProperties": {"Site": "=Lyon", "Phone": "-12"}})
    data["teams"].append({"externalTeamId": "+ops", "teamName": "@Ops"})
    data["mappings"].append({"externalTeamId": "+ops", "externalMemberId": "U2",
                             "role": "member"})
    for sb in sandbox(data):
        before = {m["email"]: m for m in sb.emu.snapshot()["members"].values()}
        teams_before = {t["externalTeamId"]: t["teamName"]
                        for t in sb.emu.snapshot()["teams"].values()}
        provider = sb.provider()
        changes, result = apply(provider, org(E4=Employee("E4", "=Dee", "New", "dee@acme.io")))
        assert summary(changes) == {("create", "workleap.member.E4")}
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        after = {m["email"]: m for m in sb.emu.snapshot()["members"].values()}
        for email, member in before.items():
            for field in ("firstName", "lastName", "customProperties", "status"):
                assert after[email][field] == member[field], (email, field)
        assert {t["externalTeamId"]: t["teamName"]
                for t in sb.emu.snapshot()["teams"].values()} == teams_before
        ops = next(t for t in sb.emu.snapshot()["teams"].values()
                   if t["externalTeamId"] == "+ops")
        assert ops["memberIds"] == [after["=odd@acme.io"]["id"]]
        # What orgctl itself introduces is still neutralised.
        assert after["dee@acme.io"]["firstName"] == "'=Dee"
        assert plan(provider, org(E4=Employee("E4", "=Dee", "New", "dee@acme.io")))[0] == []


# -- issue 13: strict servers, fail closed, unknown fields, lost answers, rate_limit ---------

def strict(**changes: Any) -> Profile:
    return dataclasses.replace(Profile.named("strict"), **changes)


def people(n: int) -> dict[str, Any]:
    return {"integration": {"processing_delay": 0.01, "risk_threshold": None},
            "members": [{"externalMemberId": f"E{i}", "email": f"p{i}@acme.io",
                         "firstName": "P", "lastName": str(i)} for i in range(n)]}


def served(data: dict[str, Any], profile: str | Profile = "permissive",
           **options: Any) -> Iterator[Sandbox]:
    emu = WorkleapEmulator(data, profile=profile, **options)
    with ServerThread({"workleap": emu.app}) as st:
        yield Sandbox(emu, st.url("workleap"))


def test_a_server_without_paging_keys_is_read_to_its_last_page() -> None:
    """Seed 003 shows no list answer, so a server may page without page/pageSize/total.
    Failed before: such an answer was taken for the whole list, so 130 members read as 25
    and a plan made 105 creates of people who exist."""
    for sb in served(people(130), strict(page_cap=25)):
        live = asyncio.run(sb.provider().read())
        assert len([r for r in live if r.kind == "member"]) == 130
        assert sb.emu.log.count("GET", "/provisioning/members") == 6  # 5 full, 1 short


def test_rate_limit_paces_the_requests() -> None:
    """The schema accepts `rate_limit`; failed before: it was ignored (7 requests in a few
    milliseconds)."""
    for sb in served(people(100), strict(page_cap=20)):
        provider = sb.provider(rate_limit="5/s")
        started = time.monotonic()
        asyncio.run(provider.read())
        assert sb.emu.log.count() == 7  # 5 full pages, an empty one, the teams
        assert time.monotonic() - started >= 0.9  # 5 a second: the 6th waits a second
    with pytest.raises(ProviderError, match="rate_limit"):
        sb.provider(rate_limit="fast")


def test_a_server_without_the_list_routes_stops_the_plan_before_anything_is_written(
        ) -> None:
    """The reads are assumed (seed 003 documents none) and have no documented stand-in. A
    404 must never turn into a plan from nothing (every member a create, every live one
    removed by the sync); the error says what is missing and that nothing was written.
    Failed before: the error said only "answered 404: Not Found"."""
    for sb in served(seed(), "strict", reads=False):
        with pytest.raises(ProviderError) as caught:
            asyncio.run(sb.provider().read())
        said = str(caught.value)
        assert "GET /provisioning/" in said and "answered 404" in said
        assert "does not serve the list" in said and "nothing was planned or written" in said
        assert sb.emu.log.count("POST") == 0


MEMBER = {"id": "m-1", "externalMemberId": "E1", "email": "ana@acme.io", "firstName": "Ana",
          "lastName": "Silva", "languagePreferences": None, "productAssignations": [],
          "customProperties": {}, "status": "active", "isAdmin": False}
TEAM = {"id": "t-1", "externalTeamId": "eng", "teamName": "Eng", "parentId": None,
        "managerIds": ["m-1"], "memberIds": []}


def without(row: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != name}


UNRECOGNISED = {
    # name: (members, teams, what the error says); "before" says what happened before.
    "member without firstName (before: written back empty)": (
        [without(MEMBER, "firstName")], [TEAM], "GET /provisioning/members: firstName is "
                                                "missing"),
    "member without externalMemberId (before: keyed by email, its mappings dropped)": (
        [without(MEMBER, "externalMemberId")], [TEAM], "externalMemberId is missing"),
    "member with an unknown status (before: listed, so reactivated)": (
        [{**MEMBER, "status": "suspended"}], [TEAM], "status 'suspended' is not one of"),
    "member without status (before: listed, so reactivated)": (
        [without(MEMBER, "status")], [TEAM], "status is missing"),
    "member with a null email (before: read with an empty email)": (
        [{**MEMBER, "email": None}], [TEAM], "email is null, not text"),
    "two members with one externalMemberId (before: one lost at the sync)": (
        [MEMBER, {**MEMBER, "id": "m-2", "email": "other@acme.io"}], [TEAM],
        "members m-1 and m-2 both have externalMemberId 'E1'"),
    "two members with one email (before: one lost at the sync)": (
        [MEMBER, {**MEMBER, "id": "m-2", "externalMemberId": "E2", "email": "ANA@acme.io"}],
        [TEAM], "both have email 'ana@acme.io'"),
    "team without memberIds (before: its members dropped by the sync)": (
        [MEMBER], [without(TEAM, "memberIds")], "GET /provisioning/teams: memberIds is "
                                                "missing"),
    "team without teamName (before: written nameless, so the sync deleted it)": (
        [MEMBER], [without(TEAM, "teamName")], "teamName is missing"),
    "team naming a member not read (before: the mapping skipped, so dropped)": (
        [MEMBER], [{**TEAM, "memberIds": ["m-404"]}], "team eng names member m-404"),
    "team under a parent not read (before: synced as a root)": (
        [MEMBER], [{**TEAM, "parentId": "t-404"}], "team eng names parent t-404"),
    "two teams with one externalTeamId (before: one lost at the sync)": (
        [MEMBER], [TEAM, {**TEAM, "id": "t-2", "managerIds": []}],
        "teams t-1 and t-2 both have externalTeamId 'eng'"),
}


@pytest.mark.parametrize("case", list(UNRECOGNISED))
def test_answers_a_sync_could_not_write_back_stop_the_plan(case: str) -> None:
    """Issue 13 item 4: a sync writes every member and team back, so an answer without
    what it must write back, or whose objects cannot be told apart, stops the read with
    an error naming the endpoint and the field; nothing is planned from it."""
    members, teams, says = UNRECOGNISED[case]

    def handle(request: httpx.Request) -> httpx.Response:
        items = members if request.url.path.endswith("/members") else teams
        page = int(request.url.params.get("page", 1))
        return httpx.Response(200, json={"items": items if page == 1 else []})

    provider = WorkleapProvider(ProviderConfig("workleap", "workleap", "http://wl.invalid",
                                               {"api_key": "key"}))
    provider.make_http = lambda: Http(  # type: ignore[method-assign]
        "workleap", "http://wl.invalid", transport=httpx.MockTransport(handle))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.read())
    assert says in str(caught.value)


class Without(httpx.AsyncHTTPTransport):
    """The emulator's member answers without some fields: a server that does not carry
    them."""

    def __init__(self, *names: str):
        super().__init__()
        self.names = names

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method != "GET" or not request.url.path.endswith("/members"):
            return response
        body = json.loads(await response.aread())
        body["items"] = [without(without(m, self.names[0]), self.names[-1])
                         for m in body["items"]]
        return httpx.Response(response.status_code, json=body)


def through(provider: WorkleapProvider,
            transport: httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport],
            monkeypatch: pytest.MonkeyPatch) -> WorkleapProvider:
    """`provider`, its requests sent through `transport` (or a new one from a factory for
    each client: a connection pool belongs to one event loop)."""
    make = provider.make_http

    def with_transport() -> Http:
        http = make()
        http._client = httpx.AsyncClient(
            transport=transport if isinstance(transport, httpx.AsyncBaseTransport)
            else transport(), timeout=10)
        return http

    monkeypatch.setattr(provider, "make_http", with_transport)
    return provider


def test_optional_columns_the_answers_do_not_carry_are_unknown_and_kept(
        sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 item 3: absent is not empty. Failed before: a server without
    languagePreferences and productAssignations in its answers read as "no language, no
    products", so every member with either was planned as an update on every run, and
    the sync cleared them for everyone. Now they are unknown: no drift, a note, and
    members.csv leaves the columns out, so Workleap keeps what orgctl cannot see."""
    provider = through(sb.provider(),
                       lambda: Without("languagePreferences", "productAssignations"),
                       monkeypatch)
    config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io",
                             systems={"workleap": {"language": "en"}}))
    changes, result = apply(provider, config)
    assert summary(changes) == {("create", "workleap.member.E4")}
    assert "language" not in changes[0].after  # the sync cannot write it: not promised
    notes = {f.key: f.message for f in provider.notes.values()}
    assert "left out of members.csv" in notes["unknown:member.language"]
    assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
    ana = sb.member("ana@acme.io")
    assert (ana["languagePreferences"], ana["productAssignations"]) == (
        "fr", ["Skills", "Officevibe"])
    assert plan(provider, config)[0] == []


class LoseSubmitAnswers(httpx.AsyncHTTPTransport):
    """Every sync submission reaches the server and commits; the first `lose` answers
    are lost (the commit-then-fail case)."""

    def __init__(self, lose: int):
        super().__init__()
        self.lose = lose
        self.posts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST":
            self.posts += 1
            if self.posts <= self.lose:
                await response.aclose()
                raise httpx.ReadError("connection reset after the server committed")
        return response


def test_a_lost_submission_is_resent_identical_and_makes_nothing_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A strict server ignores Idempotency-Key (the seed never names it), so the resent
    files make a second sync. It changes nothing the first did not: the same full state,
    members matched by externalMemberId, teams by externalTeamId."""
    for sb in served(seed(), "strict"):
        config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io"))
        changes, live = plan(sb.provider(), config)
        transport = LoseSubmitAnswers(lose=1)
        provider = through(sb.provider(), transport, monkeypatch)
        result = asyncio.run(provider.apply_batch(changes, live))
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        assert transport.posts == 2 and len(sb.emu.snapshot()["syncs"]) == 2
        emails = [m["email"] for m in sb.emu.snapshot()["members"].values()]
        assert sorted(emails) == sorted(set(emails)) and "dee@acme.io" in emails
        assert plan(sb.provider(), config)[0] == []


def test_a_submission_whose_answers_stay_lost_is_unknown_not_failed(
        sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed before: the HTTP layer resent the POST six times and the batch reported
    every change as failed, though Workleap had accepted the sync (six of them). Now
    the submission is sent at most four times, and the changes end unknown: the next plan
    reads what happened."""
    monkeypatch.setattr(workleap_provider, "SUBMIT_BACKOFF", 0.01)
    config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io"))
    changes, live = plan(sb.provider(), config)
    transport = LoseSubmitAnswers(lose=99)
    result = asyncio.run(through(sb.provider(), transport, monkeypatch).apply_batch(
        changes, live))
    assert transport.posts == 4
    assert {(o.status, o.detail.split(":")[0]) for o in result.outcomes.values()} == {
        ("unknown", "the answer to POST /provisioning/syncs was lost 4 times")}
    time.sleep(0.1)  # the syncs were accepted: they run
    assert plan(sb.provider(), config)[0] == []


def test_a_resent_sync_that_fails_behind_a_paused_one_is_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed before: the first submission, committed and then Paused by the risk
    threshold, made the resent one fail ("another sync is Paused"), and every change was
    reported failed though it awaits approval."""
    for sb in served(seed(risk_threshold=10), "strict"):
        provider = sb.provider(prune={"member": True}, ignore=[{"key": "U1"}])
        changes, live = plan(provider, org(without=("E2",)))
        result = asyncio.run(through(provider, LoseSubmitAnswers(lose=1),
                                     monkeypatch).apply_batch(changes, live))
        assert {o.status for o in result.outcomes.values()} == {"unknown"}, result.outcomes
        assert all("awaiting approval" in o.detail for o in result.outcomes.values())
        assert [s["status"] for s in sb.emu.snapshot()["syncs"].values()] == [
            "Paused", "Failed"]


def test_a_sync_whose_status_cannot_be_read_is_unknown_not_failed() -> None:
    """The status route is assumed (seed 003 shows statuses in the UI only). Failed
    before: its 404 failed the batch, every change reported failed, though the sync ran."""
    for sb in served(seed(), "strict", sync_status=False):
        config = org(E4=Employee("E4", "Dee", "New", "dee@acme.io"))
        changes, result = apply(sb.provider(), config)
        assert {o.status for o in result.outcomes.values()} == {"unknown"}
        assert "status could not be read" in result.outcomes["workleap.member.E4"].detail
        time.sleep(0.1)
        assert sb.member("dee@acme.io") is not None
        assert plan(sb.provider(), config)[0] == []


def test_a_member_leaving_is_shown_leaving_the_teams_the_config_does_not_describe(
        sb: Sandbox) -> None:
    """A sync lists no deactivated member, so teams-mappings.csv cannot keep it in any
    team. Failed before: the plan showed E2's deactivation, and the sync also took it out
    of sales (a team the config does not describe) without the plan saying so."""
    sales = next(t for t in sb.emu.snapshot()["teams"].values()
                 if t["externalTeamId"] == "sales")
    sales["memberIds"].append(sb.member("bob@acme.io")["id"])
    sb.emu.state["teams"][sales["id"]] = sales
    leaving = Employee("E2", "Bob", "Stone", "bob@acme.io", status="inactive")
    changes, _ = plan(sb.provider(), Org(teams=org().teams,
                                         employees={**org().employees, "E2": leaving}))
    assert {("deactivate", "workleap.member.E2"), ("delete", "workleap.mapping.sales:E2"),
            ("delete", "workleap.mapping.platform:E2")} <= summary(changes)


def test_a_mapping_matched_by_email_is_rewritten_once_under_the_bound_key() -> None:
    """The config claims the keyless admin by email and keeps it managing sales (now
    managed, so U1 leaves it): the plan binds the member (external_id) and its mapping
    (member root@acme.io -> ADM). Failed
    before: the sync carried the live row and the changed row for the same member and team,
    Workleap skipped the second as "mapped twice", and the mapping change failed."""
    for sb in sandbox(admin_in_sales()):
        config = org(ADM=Employee("ADM", "Root", "Admin", "root@acme.io"))
        config.teams["sales"] = Team("sales", "Sales", managers=("ADM",))
        changes, result = apply(sb.provider(), config)
        assert summary(changes) == {("update", "workleap.member.ADM"),
                                    ("update", "workleap.mapping.sales:ADM"),
                                    ("delete", "workleap.mapping.sales:U1")}
        assert {o.status for o in result.outcomes.values()} == {"applied"}, result.detail
        assert "mapped" not in result.detail
        assert plan(sb.provider(), config)[0] == []
