"""The Workleap emulator against seed 003 (API provisioning), over real loopback HTTP.

Each test names the seed section whose behaviour it checks. The endpoints themselves are
assumed (the seed documents a PowerShell script, not its HTTP calls); the behaviour is not.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orgctl.sandbox.core import Profile, ServerThread
from orgctl.sandbox.workleap import API_KEY_HEADER, DEFAULT_API_KEY, PAGE_CAP, WorkleapEmulator

MEMBERS_HEADER = "externalMemberId,email,firstName,lastName,languagePreferences,productAssignations"
TEAMS_HEADER = "externalTeamId,teamName"
MAPPINGS_HEADER = "externalTeamId,externalMemberId,externalSubteamId,role"

BASE_SEED: dict[str, Any] = {
    "integration": {"processing_delay": 0.01, "risk_threshold": None},
    "members": [
        {"externalMemberId": "E1", "email": "ana@acme.io", "firstName": "Ana",
         "lastName": "Silva", "status": "active"},
        {"externalMemberId": "E2", "email": "bob@acme.io", "firstName": "Bob",
         "lastName": "Stone", "status": "invited"},
        {"externalMemberId": "E3", "email": "cy@acme.io", "firstName": "Cy",
         "lastName": "Roy", "status": "created"},
        {"externalMemberId": "E4", "email": "root@acme.io", "firstName": "Root",
         "lastName": "Admin", "status": "active", "isAdmin": True},
    ],
    "teams": [
        {"externalTeamId": "eng", "teamName": "Engineering"},
        {"externalTeamId": "ops", "teamName": "Operations"},
    ],
}


def serve(seed: dict[str, Any], profile: str | Profile = "permissive", **options: Any
          ) -> Iterator[tuple[WorkleapEmulator, httpx.Client]]:
    emu = WorkleapEmulator(seed, profile=profile, **options)
    with ServerThread({"workleap": emu.app}) as st:
        with httpx.Client(base_url=st.url("workleap"),
                          headers={API_KEY_HEADER: DEFAULT_API_KEY}, timeout=10) as client:
            yield emu, client


@pytest.fixture
def env() -> Iterator[tuple[WorkleapEmulator, httpx.Client]]:
    yield from serve(BASE_SEED)


def csv(header: str, *rows: str) -> str:
    return "\r\n".join((header, *rows)) + "\r\n"


def submit(client: httpx.Client, members: str | bytes | None, teams: str | bytes | None,
           mappings: str | bytes | None, **headers: str) -> dict[str, Any]:
    files = {name: (name, body.encode() if isinstance(body, str) else body, "text/csv")
             for name, body in (("members.csv", members), ("teams.csv", teams),
                                ("teams-mappings.csv", mappings)) if body is not None}
    resp = client.post("/provisioning/syncs", files=files, headers=headers)
    assert resp.status_code == 202, resp.text
    return resp.json()


def wait(client: httpx.Client, sync_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        sync = client.get(f"/provisioning/syncs/{sync_id}").json()
        if sync["status"] != "Pending" or time.monotonic() > deadline:
            return sync
        time.sleep(0.01)


def sync(client: httpx.Client, members: str | bytes | None, teams: str | bytes | None = None,
         mappings: str | bytes | None = None) -> dict[str, Any]:
    teams = csv(TEAMS_HEADER, "eng,Engineering", "ops,Operations") if teams is None else teams
    mappings = csv(MAPPINGS_HEADER) if mappings is None else mappings
    return wait(client, submit(client, members, teams, mappings)["id"])


def members_by_email(client: httpx.Client) -> dict[str, dict[str, Any]]:
    body = client.get("/provisioning/members", params={"pageSize": PAGE_CAP}).json()
    return {m["email"]: m for m in body["items"]}


def teams_by_ext(client: httpx.Client) -> dict[str, dict[str, Any]]:
    body = client.get("/provisioning/teams", params={"pageSize": PAGE_CAP}).json()
    return {t["externalTeamId"]: t for t in body["items"]}


ALL_FOUR = csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva,,", "E2,bob@acme.io,Bob,Stone,,",
               "E3,cy@acme.io,Cy,Roy,,", "E4,root@acme.io,Root,Admin,,")


def test_auth_requires_the_api_key(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 1 "Create an organization management API Key" (header name assumed)."""
    emu, client = env
    assert client.get("/provisioning/members", headers={API_KEY_HEADER: "wrong"}).status_code \
        == 401
    anonymous = httpx.Client(base_url=str(client.base_url))
    assert anonymous.get("/provisioning/teams").status_code == 401
    assert anonymous.post("/provisioning/syncs").status_code == 401
    assert emu.snapshot()["syncs"] == {}


def test_sync_is_asynchronous_and_sourced_api_provisioning(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Sync statuses": Pending while running; "View sync history": source API Provisioning."""
    _, client = env
    accepted = submit(client, ALL_FOUR, csv(TEAMS_HEADER, "eng,Engineering", "ops,Operations"),
                      csv(MAPPINGS_HEADER))
    assert accepted["status"] == "Pending"
    done = wait(client, accepted["id"])
    assert done["status"] == "Success"
    history = client.get("/provisioning/syncs").json()["items"]
    assert [(s["id"], s["source"]) for s in history] == [(accepted["id"], "API Provisioning")]


@pytest.mark.parametrize("missing", ["members.csv", "teams.csv", "teams-mappings.csv"])
def test_missing_file_fails_the_sync(env: tuple[WorkleapEmulator, httpx.Client],
                                     missing: str) -> None:
    """Step 5 "Caution: Always include all 3 CSV files. Otherwise, the operation will fail."""
    emu, client = env
    before = emu.snapshot()["members"]
    bodies = {"members.csv": csv(MEMBERS_HEADER), "teams.csv": csv(TEAMS_HEADER),
              "teams-mappings.csv": csv(MAPPINGS_HEADER)}
    bodies[missing] = None  # type: ignore[assignment]
    done = wait(client, submit(client, bodies["members.csv"], bodies["teams.csv"],
                               bodies["teams-mappings.csv"])["id"])
    assert done["status"] == "Failed"
    assert missing in done["reason"]
    # Empty files for the others would have removed everyone: nothing ran.
    assert emu.snapshot()["members"] == before


def test_non_utf8_file_fails_the_sync(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 4 "Use UTF-8 encoded CSV files with comma delimiters and double-quote escaping"."""
    emu, client = env
    latin1 = csv(MEMBERS_HEADER, "E1,ana@acme.io,Anaïs,Silva,,").encode("latin-1")
    done = sync(client, latin1)
    assert done["status"] == "Failed"
    assert "UTF-8" in done["reason"]
    assert members_by_email(client)["ana@acme.io"]["firstName"] == "Ana"


def test_quoted_values_with_commas_and_quotes_round_trip(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 4: comma delimiters and double-quote escaping."""
    _, client = env
    members = csv(MEMBERS_HEADER, 'E1,ana@acme.io,"Ana, ""Nana""",Silva,fr,Officevibe;Skills',
                  "E4,root@acme.io,Root,Admin,,")
    assert sync(client, members)["status"] == "Success"
    ana = members_by_email(client)["ana@acme.io"]
    assert ana["firstName"] == 'Ana, "Nana"'
    assert ana["languagePreferences"] == "fr"
    assert ana["productAssignations"] == ["Officevibe", "Skills"]


def test_missing_members_deactivated_if_active_deleted_if_invited_or_created(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Effects of missing data": previously active -> deactivated; invited/created ->
    deleted."""
    _, client = env
    done = sync(client, csv(MEMBERS_HEADER, "E4,root@acme.io,Root,Admin,,"))
    assert done["status"] == "Success"
    members = members_by_email(client)
    assert members["ana@acme.io"]["status"] == "deactivated"
    assert "bob@acme.io" not in members  # was invited
    assert "cy@acme.io" not in members  # was created
    assert done["summary"]["membersDeactivated"] == 1
    assert done["summary"]["membersDeleted"] == 2


def test_admins_are_never_deactivated_or_deleted(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Effects of missing data": "Admins are never auto-deleted or deactivated"."""
    _, client = env
    done = sync(client, csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva,,"))
    assert done["status"] == "Success"
    root = members_by_email(client)["root@acme.io"]
    assert (root["status"], root["isAdmin"]) == ("active", True)


def test_teams_missing_from_teams_csv_are_deleted(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Effects of missing data": "Teams missing from teams.csv: previously active teams are
    deleted"; teams.csv also creates and renames by externalTeamId."""
    _, client = env
    done = sync(client, ALL_FOUR, csv(TEAMS_HEADER, "eng,Engineering & Data", "qa,Quality"))
    assert done["status"] == "Success"
    teams = teams_by_ext(client)
    assert sorted(teams) == ["eng", "qa"]
    assert teams["eng"]["teamName"] == "Engineering & Data"
    assert done["summary"]["teamsDeleted"] == 1


def test_new_members_are_invited_or_created_per_automatic_invite() -> None:
    """Step 1 "Use the toggle to enable or disable Automatic Invite to auto-invite new users"."""
    for auto_invite, expected in ((True, "invited"), (False, "created")):
        seed = {"integration": {"processing_delay": 0, "auto_invite": auto_invite}}
        for _, client in serve(seed):
            done = sync(client, csv(MEMBERS_HEADER, "N1,new@acme.io,New,Person,en,LMS"),
                        csv(TEAMS_HEADER), csv(MAPPINGS_HEADER))
            assert done["status"] == "Success"
            assert members_by_email(client)["new@acme.io"]["status"] == expected


def test_email_is_the_fallback_identifier(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """members.csv: "Uses email as a fallback identifier if the externalMemberId doesn't match
    any member in your Workleap org"."""
    emu, client = env
    members = csv(MEMBERS_HEADER, "HR-77,ANA@acme.io,Ana,Silva-Roy,,",
                  "E2,bob@acme.io,Bob,Stone,,", "E3,cy@acme.io,Cy,Roy,,",
                  "E4,root@acme.io,Root,Admin,,")
    done = sync(client, members)
    assert done["status"] == "Success"
    by_id = {m["id"]: m for m in emu.snapshot()["members"].values()}
    ana = next(m for m in by_id.values() if m["email"].lower() == "ana@acme.io")
    assert ana["externalMemberId"] == "HR-77"
    assert ana["lastName"] == "Silva-Roy"
    assert ana["status"] == "active"  # the same member, not a new invitation
    assert len(by_id) == 4


def test_subteams_and_manager_access(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """teams-mappings.csv: subteams via externalSubteamId -> externalTeamId, built bottom up;
    "Managers automatically gain access to their subteams"; upper managers see the whole
    reporting line."""
    _, client = env
    teams = csv(TEAMS_HEADER, "eng,Engineering", "platform,Platform", "sre,SRE",
                "ops,Operations")
    mappings = csv(MAPPINGS_HEADER, "platform,,sre,", "eng,,platform,",
                   "eng,E4,,manager", "platform,E1,,manager", "sre,E2,,member", "ops,E3,,")
    done = sync(client, ALL_FOUR, teams, mappings)
    assert done["status"] == "Success"
    listed = teams_by_ext(client)
    ids = {ext: t["id"] for ext, t in listed.items()}
    assert listed["sre"]["parentExternalTeamId"] == "platform"
    assert listed["platform"]["subteamIds"] == [ids["sre"]]
    members = members_by_email(client)
    assert listed["sre"]["memberIds"] == [members["bob@acme.io"]["id"]]
    assert listed["ops"]["memberIds"] == [members["cy@acme.io"]["id"]]  # role defaults
    assert sorted(members["root@acme.io"]["accessibleTeamIds"]) == sorted(
        [ids["eng"], ids["platform"], ids["sre"]])
    assert sorted(members["ana@acme.io"]["accessibleTeamIds"]) == sorted(
        [ids["platform"], ids["sre"]])
    assert members["bob@acme.io"]["accessibleTeamIds"] == []


def test_mappings_are_replaced_by_each_sync(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 5 "each sync replaces the previous one": mappings absent from the file go."""
    _, client = env
    sync(client, ALL_FOUR, None, csv(MAPPINGS_HEADER, "eng,E1,,member", "ops,,eng,"))
    sync(client, ALL_FOUR, None, csv(MAPPINGS_HEADER, "ops,E1,,manager"))
    teams = teams_by_ext(client)
    assert teams["eng"]["memberIds"] == [] and teams["eng"]["parentExternalTeamId"] is None
    assert len(teams["ops"]["managerIds"]) == 1


def _risky(client: httpx.Client) -> dict[str, Any]:
    # Removes 3 of 4 members (the admin stays): 75 % over a 25 % threshold.
    return sync(client, csv(MEMBERS_HEADER, "E4,root@acme.io,Root,Admin,,"))


@pytest.fixture
def guarded() -> Iterator[tuple[WorkleapEmulator, httpx.Client]]:
    yield from serve({**BASE_SEED, "integration": {"processing_delay": 0.01,
                                                   "risk_threshold": 25}})


def test_risk_threshold_pauses_then_approve_applies(
        guarded: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 1 risk threshold; "Sync statuses": Paused -> approve -> Success ("may have been
    previously Paused")."""
    emu, client = guarded
    paused = _risky(client)
    assert paused["status"] == "Paused"
    assert paused["risk"] == {"removalPercent": 75.0, "threshold": 25}
    assert members_by_email(client)["ana@acme.io"]["status"] == "active"  # nothing applied
    approved = httpx.post(f"{client.base_url}/_sandbox/syncs/{paused['id']}/approve").json()
    assert (approved["status"], approved["wasPaused"]) == ("Success", True)
    members = members_by_email(client)
    assert members["ana@acme.io"]["status"] == "deactivated"
    assert "bob@acme.io" not in members


def test_risk_threshold_pauses_then_reject_applies_nothing(
        guarded: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Sync statuses": "Rejected — Paused sync was rejected"."""
    emu, client = guarded
    before = emu.snapshot()["members"]
    paused = _risky(client)
    rejected = httpx.post(f"{client.base_url}/_sandbox/syncs/{paused['id']}/reject").json()
    assert rejected["status"] == "Rejected"
    assert client.get(f"/provisioning/syncs/{paused['id']}").json()["status"] == "Rejected"
    assert emu.snapshot()["members"] == before
    # A rejected sync is final: it cannot be approved afterwards.
    assert httpx.post(f"{client.base_url}/_sandbox/syncs/{paused['id']}/approve"
                      ).status_code == 409


def test_a_sync_below_the_threshold_is_not_paused(
        guarded: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Step 1 risk threshold: only syncs over it wait for approval."""
    _, client = guarded
    # Removes 1 (bob, invited) of 4 members: 25 %, not over 25 %.
    members = csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva,,", "E3,cy@acme.io,Cy,Roy,,",
                  "E4,root@acme.io,Root,Admin,,")
    assert sync(client, members)["status"] == "Success"


def test_duplicates_give_warning_with_report(env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """"Sync statuses": "Warning — Partial success; check report for issues like duplicates"."""
    _, client = env
    members = csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva,,", "E1,ana2@acme.io,Ana,Two,,",
                  "E9,ANA@acme.io,Ana,Three,,", "E2,bob@acme.io,Bob,Stone,,",
                  "E3,cy@acme.io,Cy,Roy,,", "E4,root@acme.io,Root,Admin,,")
    done = sync(client, members, None, csv(MAPPINGS_HEADER, "nope,E1,,member"))
    assert done["status"] == "Warning"
    issues = {(r["file"], r["row"]): r["issue"] for r in done["report"]}
    assert set(issues) == {("members.csv", 2), ("members.csv", 3), ("teams-mappings.csv", 1)}
    assert "duplicate externalMemberId" in issues[("members.csv", 2)]
    assert "duplicate email" in issues[("members.csv", 3)]
    members_now = members_by_email(client)
    assert "ana2@acme.io" not in members_now  # skipped rows change nothing
    assert members_now["ana@acme.io"]["lastName"] == "Silva"  # the first row applied


def test_inactive_integration_fails_every_sync() -> None:
    """Step 1 "If deactivated, sync API calls will fail"; "Failed — Sync didn't run"."""
    for emu, client in serve({**BASE_SEED, "integration": {"active": False,
                                                           "processing_delay": 0}}):
        before = emu.snapshot()["members"]
        done = sync(client, csv(MEMBERS_HEADER))
        assert done["status"] == "Failed"
        assert "not active" in done["reason"]
        assert emu.snapshot()["members"] == before


def test_a_sync_submitted_while_another_is_paused_fails(
        guarded: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Assumed: a Paused sync blocks later ones until an administrator decides."""
    _, client = guarded
    paused = _risky(client)
    later = sync(client, ALL_FOUR)
    assert later["status"] == "Failed"
    assert paused["id"] in later["reason"]


def test_idempotency_key_returns_the_first_sync(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Assumed: a retried submission with the same Idempotency-Key is not a second sync."""
    emu, client = env
    teams, mappings = csv(TEAMS_HEADER, "eng,Engineering"), csv(MAPPINGS_HEADER)
    first = submit(client, ALL_FOUR, teams, mappings, **{"Idempotency-Key": "k-1"})
    again = submit(client, ALL_FOUR, teams, mappings, **{"Idempotency-Key": "k-1"})
    assert again["id"] == first["id"]
    assert len(emu.snapshot()["syncs"]) == 1


def test_reads_are_paginated_with_a_cap() -> None:
    """Assumed read endpoints: page/pageSize, capped at PAGE_CAP, with the total."""
    seed = {"members": [{"externalMemberId": f"E{i}", "email": f"p{i}@acme.io"}
                        for i in range(PAGE_CAP + 20)]}
    for _, client in serve(seed):
        first = client.get("/provisioning/members",
                           params={"page": 1, "pageSize": PAGE_CAP * 4}).json()
        second = client.get("/provisioning/members",
                            params={"page": 2, "pageSize": PAGE_CAP * 4}).json()
        assert (first["pageSize"], first["total"]) == (PAGE_CAP, PAGE_CAP + 20)
        assert len(first["items"]) == PAGE_CAP and len(second["items"]) == 20
        emails = {m["email"] for m in first["items"] + second["items"]}
        assert len(emails) == PAGE_CAP + 20


def test_member_pages_show_each_change_to_a_member(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """Assumed read endpoint: the member list keeps each member encoded between requests
    (B0), yet what a sync changes, the teams a manager gains, and an edit made to the state
    in place (as a test may make one) all show on the next read."""
    emu, client = env
    assert members_by_email(client)["ana@acme.io"]["lastName"] == "Silva"
    members = csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva-Roy,fr,",
                  "E2,bob@acme.io,Bob,Stone,,", "E3,cy@acme.io,Cy,Roy,,",
                  "E4,root@acme.io,Root,Admin,,")
    sync(client, members, None, csv(MAPPINGS_HEADER, "eng,E1,,manager"))
    ana = members_by_email(client)["ana@acme.io"]
    assert (ana["lastName"], ana["languagePreferences"]) == ("Silva-Roy", "fr")
    assert ana["accessibleTeamIds"] == [teams_by_ext(client)["eng"]["id"]]
    with emu.lock:
        member = next(m for m in emu.state["members"].values() if m["email"] == "ana@acme.io")
        member["productAssignations"].append("Skills")
    assert members_by_email(client)["ana@acme.io"]["productAssignations"] == ["Skills"]


def test_mappings_only_reach_members_listed_in_members_csv(
        env: tuple[WorkleapEmulator, httpx.Client]) -> None:
    """teams-mappings.csv: "Map externalTeamId (from teams.csv) to externalMemberId (from
    members.csv)": the admin kept without a row cannot be mapped."""
    _, client = env
    done = sync(client, csv(MEMBERS_HEADER, "E1,ana@acme.io,Ana,Silva,,"), None,
                csv(MAPPINGS_HEADER, "eng,E1,,member", "eng,E4,,manager"))
    assert done["status"] == "Warning"
    assert [(r["file"], r["row"]) for r in done["report"]] == [("teams-mappings.csv", 2)]
    assert teams_by_ext(client)["eng"]["managerIds"] == []


# -- the strict profile: only what orgctl cannot do without, other choices where the seed is
# silent (see the module docstring of orgctl.sandbox.workleap) ---------------------------------

def strict_profile(**changes: Any) -> Profile:
    return dataclasses.replace(Profile.named("strict"), **changes)


def test_strict_lists_page_at_its_own_cap_without_paging_keys() -> None:
    seed = {"members": [{"externalMemberId": f"E{i}", "email": f"p{i}@acme.io"}
                        for i in range(60)]}
    for _emu, client in serve(seed, strict_profile(page_cap=25, default_size=10)):
        first = client.get("/provisioning/members", params={"page": 1, "pageSize": 500})
        third = client.get("/provisioning/members", params={"page": 3, "pageSize": 500})
        unsized = client.get("/provisioning/members").json()
        assert list(first.json()) == ["items"] and len(first.json()["items"]) == 25
        assert len(third.json()["items"]) == 10
        assert len(unsized["items"]) == 10  # its own default size
        ids = [m["id"] for m in first.json()["items"]]
        assert all(isinstance(i, int) and i > 1_000_000 for i in ids)
        assert ids == sorted(ids)  # large, uneven, increasing


def test_strict_answers_carry_only_the_fields_the_seed_names_in_another_order() -> None:
    seed = {**BASE_SEED, "mappings": [
        {"externalTeamId": "eng", "externalSubteamId": "ops"},
        {"externalTeamId": "eng", "externalMemberId": "E1", "role": "manager"}]}
    for _emu, client in serve(seed, strict_profile(ids="uuid")):
        member = client.get("/provisioning/members").json()["items"][0]
        assert set(member) == {"id", "externalMemberId", "email", "firstName", "lastName",
                               "languagePreferences", "productAssignations",
                               "customProperties", "status", "isAdmin"}
        assert list(member)[0] != "id"
        teams = {t["externalTeamId"]: t for t in
                 client.get("/provisioning/teams").json()["items"]}
        assert set(teams["ops"]) == {"id", "externalTeamId", "teamName", "parentId",
                                     "memberIds", "managerIds"}
        assert teams["ops"]["parentId"] == teams["eng"]["id"]
        assert len(teams["eng"]["id"]) == 36 and teams["eng"]["managerIds"] == [member["id"]]


def test_strict_sync_answers_and_the_key_the_seed_never_names() -> None:
    """Strict: a sync answers id, status, source and report ("View sync history"); the
    history list is the UI's, not served; Idempotency-Key is not honoured."""
    for _emu, client in serve(BASE_SEED, "strict"):
        first = submit(client, ALL_FOUR, csv(TEAMS_HEADER, "eng,Engineering"),
                       csv(MAPPINGS_HEADER), **{"Idempotency-Key": "k-1"})
        again = submit(client, ALL_FOUR, csv(TEAMS_HEADER, "eng,Engineering"),
                       csv(MAPPINGS_HEADER), **{"Idempotency-Key": "k-1"})
        assert set(first) == {"id", "status", "source", "report"}
        assert first["id"] != again["id"]
        done = wait(client, again["id"])
        assert (done["status"], done["source"]) == ("Success", "API Provisioning")
        assert client.get("/provisioning/syncs").status_code in (404, 405)


def test_options_take_the_assumed_reads_away() -> None:
    for _emu, client in serve(BASE_SEED, "strict", reads=False, sync_status=False):
        assert client.get("/provisioning/members").status_code == 404
        assert client.get("/provisioning/teams").status_code == 404
        accepted = submit(client, ALL_FOUR, csv(TEAMS_HEADER, "eng,Engineering"),
                          csv(MAPPINGS_HEADER))
        assert client.get(f"/provisioning/syncs/{accepted['id']}").status_code == 404


def test_the_permissive_profile_keeps_its_ids_keys_and_history() -> None:
    for _emu, client in serve(BASE_SEED, "permissive"):
        body = client.get("/provisioning/members").json()
        assert set(body) == {"items", "page", "pageSize", "total"}
        assert body["items"][0]["id"] == "m-1" and "accessibleTeamIds" in body["items"][0]
        assert client.get("/provisioning/syncs").status_code == 200
