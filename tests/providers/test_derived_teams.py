"""Reporting teams derived from `manager:` (`reporting_teams:`), as data: an org in, the
teams, resources, sync rows and imported config out; one emulator check of the order seed
003 asks subteam rows in. The end-to-end run on 300 people is tests/e2e/test_derived_teams.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgctl.config import load
from orgctl.errors import ConfigError, ProviderError
from orgctl.model import Employee, Org, ProviderConfig, Team
from orgctl.providers.reporting import (
    DERIVED,
    Person,
    ReportingTeam,
    ReportingTeams,
    derive,
    recognise,
)
from orgctl.providers.workleap import WorkleapProvider, live_resources, render_sync
from orgctl.providers.workleap.importer import to_config as workleap_import
from orgctl.providers.worklete import provider as worklete_provider
from orgctl.resources import Change, Resource
from orgctl.sandbox.core import ServerThread
from orgctl.sandbox.workleap import API_KEY_HEADER, DEFAULT_API_KEY, WorkleapEmulator

# Ada leads Bo and Cy; Bo leads Di and Ed; Cy leads Fa; Gus has left (and led Hal).
LINE = {"ada": None, "bo": "ada", "cy": "ada", "di": "bo", "ed": "bo", "fa": "cy",
        "gus": "ada", "hal": "gus"}


def org(option: Any = True, teams: dict[str, Team] | None = None,
        line: dict[str, str | None] = LINE, system: str = "workleap") -> Org:
    employees = {
        key: Employee(key=key, first_name=key.title(), last_name="Doe",
                      email=f"{key}@acme.io", manager=boss,
                      status="inactive" if key == "gus" else "active")
        for key, boss in line.items()}
    settings: dict[str, Any] = {"api_key": "k", "username": "u", "password": "p",
                                "organization": "Acme", "reporting_teams": option}
    return Org(employees=employees, teams=teams or {},
               providers={system: ProviderConfig(system, system, "http://x", settings)})


def workleap(o: Org) -> WorkleapProvider:
    provider = WorkleapProvider(o.providers["workleap"])
    provider.bind(o)
    return provider


def test_a_team_per_manager_with_exactly_their_direct_reports_nested_along_the_line() -> None:
    teams = derive({k: Person(k.title(), "Doe", b) for k, b in LINE.items() if k != "gus"},
                   ReportingTeams())
    assert teams == {
        "reports-ada": ReportingTeam("reports-ada", "Ada Doe's team", "ada", ("bo", "cy"),
                                     None),
        "reports-bo": ReportingTeam("reports-bo", "Bo Doe's team", "bo", ("di", "ed"),
                                    "reports-ada"),
        "reports-cy": ReportingTeam("reports-cy", "Cy Doe's team", "cy", ("fa",),
                                    "reports-ada"),
    }
    assert list(teams) == ["reports-ada", "reports-bo", "reports-cy"]  # parents first


def test_prefix_name_and_siblings_of_one_name_told_apart() -> None:
    option = ReportingTeams(prefix="rl-", name="{last_name} ({key})")
    teams = derive({k: Person("X", "Doe", b) for k, b in LINE.items() if k != "gus"}, option)
    assert teams["rl-bo"].name == "Doe (bo)"
    twins = derive({"a": Person("A", "A", None), "b": Person("Sam", "Roe", "a"),
                    "c": Person("Sam", "Roe", "a"), "d": Person("D", "D", "b"),
                    "e": Person("E", "E", "c")}, ReportingTeams())
    assert twins["reports-b"].name == "Sam Roe's team (b)"
    assert twins["reports-c"].name == "Sam Roe's team (c)"


@pytest.mark.parametrize("raw, message", [
    ({"name": "{boss}'s team"}, "may use {first_name}, {last_name}, {key} only (not {boss})"),
    ({"prefix": ""}, "prefix may not be empty"),
    ("yes", "write true, or {prefix, name}"),
])
def test_a_bad_option_says_how_to_fix_it(raw: Any, message: str) -> None:
    with pytest.raises(ProviderError, match=re.escape(message)):
        ReportingTeams.parse("workleap", raw)


def test_the_schema_refuses_an_unknown_placeholder_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "orgctl.yaml"
    path.write_text("version: 1\nproviders:\n  workleap:\n    url: https://api.workleap.com\n"
                    "    api_key: ${WORKLEAP_API_KEY}\n    reporting_teams:\n"
                    "      name: \"{boss}\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path, resolve_env=False)
    assert "orgctl.yaml:6" in str(caught.value) or "orgctl.yaml:7" in str(caught.value)


def test_workleap_desires_derived_teams_and_mappings_from_manager() -> None:
    o = org(teams={"guild": Team("guild", "Guild", managers=("di",), members=("fa",))})
    desired = {(r.kind, r.key): r for r in workleap(o).desired(o)}

    team = desired[("team", "reports-bo")]
    assert team.source == DERIVED
    assert team.attrs == {"name": "Bo Doe's team", "parent": "reports-ada"}
    assert team.refs == {"parent": "workleap.team.reports-ada"}
    mappings = {k: r.attrs["role"] for (kind, k), r in desired.items()
                if kind == "mapping" and k.startswith("reports-bo:")}
    assert mappings == {"reports-bo:bo": "manager", "reports-bo:di": "member",
                        "reports-bo:ed": "member"}
    assert desired[("mapping", "reports-bo:di")].source == DERIVED
    assert desired[("team", "guild")].source == "yaml"
    assert desired[("mapping", "guild:fa")].source == "yaml"
    assert ("team", "reports-gus") not in desired  # a leaver leads no team
    assert not [k for kind, k in desired if kind == "mapping" and k.endswith(":hal")]


def test_without_the_option_nothing_is_derived() -> None:
    o = org(option=None)
    assert not [r for r in workleap(o).desired(o) if r.source == DERIVED]


def test_a_hand_written_team_with_a_derived_key_is_kept_as_written_and_said() -> None:
    o = org(teams={"reports-bo": Team("reports-bo", "Bo's own", members=("fa",))})
    provider = workleap(o)
    desired = {(r.kind, r.key): r for r in provider.desired(o)}
    assert desired[("team", "reports-bo")].attrs["name"] == "Bo's own"
    assert desired[("team", "reports-bo")].source == "yaml"
    assert ("mapping", "reports-bo:di") not in desired
    said = {f.key: f for f in provider.findings(o, [])}
    assert said["reports-bo"].level == "warning"
    assert "kept as written" in said["reports-bo"].message
    assert said["reports-*"].message.startswith("2 teams derived from manager:")


def test_a_derived_team_s_mappings_are_the_config_s_to_remove() -> None:
    o = org()
    provider = workleap(o)
    gone = Resource(kind="mapping", key="reports-bo:zed",
                    attrs={"team": "reports-bo", "member": "zed", "role": "member"})
    assert provider.removal_of(gone) == "delete"


def test_subteam_rows_are_written_bottom_up() -> None:
    """Seed 003: "Build from the bottom up (subteams first)": a team is made a subteam only
    after every one of its own subteams was."""
    line = {f"p{i}": (f"p{i - 1}" if i else None) for i in range(6)} | {"leaf": "p5"}
    o = org(line=line)
    creates = [Change(action="create", provider="workleap", kind=r.kind, key=r.key,
                      after=r.attrs) for r in workleap(o).desired(o)]
    rows = render_sync("workleap", creates, []).files["teams-mappings.csv"].splitlines()[1:]
    subteams = [(r.split(",")[0], r.split(",")[2]) for r in rows if r.split(",")[2]]
    assert len(subteams) == 5
    for i, (_, sub) in enumerate(subteams):
        assert not [t for t, _ in subteams[i + 1:] if t == sub], subteams


def test_the_strict_emulator_refuses_subteam_rows_written_top_down() -> None:
    emulator = WorkleapEmulator({"integration": {"processing_delay": 0.01,
                                                 "risk_threshold": None}}, profile="strict")
    files = {"members.csv": "externalMemberId,email,firstName,lastName\r\n",
             "teams.csv": "externalTeamId,teamName\r\na,A\r\nb,B\r\nc,C\r\n",
             "teams-mappings.csv": "externalTeamId,externalMemberId,externalSubteamId,role\r\n"
                                   "a,,b,\r\nb,,c,\r\n"}
    with ServerThread({"workleap": emulator.app}) as server, httpx.Client(
            base_url=server.url("workleap"), headers={API_KEY_HEADER: DEFAULT_API_KEY},
            timeout=10) as client:
        sync = client.post("/provisioning/syncs", files={
            name: (name, text.encode(), "text/csv") for name, text in files.items()}).json()
        deadline = time.monotonic() + 10
        while sync["status"] == "Pending" and time.monotonic() < deadline:
            time.sleep(0.01)
            sync = client.get(f"/provisioning/syncs/{sync['id']}").json()
    assert sync["status"] == "Warning"
    assert sync["report"][0]["row"] == 2
    assert "build from the bottom up" in sync["report"][0]["issue"]


def live_of(o: Org, rename: dict[str, str] | None = None) -> list[Resource]:
    """Live Workleap after a perfect sync of `o`, a team renamed in Workleap by `rename`."""
    provider = workleap(o)
    desired = provider.desired(o)
    ids = {r.key: str(n) for n, r in enumerate(desired)}
    members = [{"id": ids[r.key], "externalMemberId": r.key, "email": r.attrs["email"],
                "firstName": r.attrs["first_name"], "lastName": r.attrs["last_name"],
                "status": "active"} for r in desired if r.kind == "member"]
    teams = []
    for r in desired:
        if r.kind != "team":
            continue
        roles = {role: [ids[m.attrs["member"]] for m in desired if m.kind == "mapping"
                        and m.attrs["team"] == r.key and m.attrs["role"] == role]
                 for role in ("manager", "member")}
        teams.append({"id": ids[r.key], "externalTeamId": r.key,
                      "teamName": (rename or {}).get(r.key, r.attrs["name"]),
                      "parentId": ids[r.attrs["parent"]] if r.attrs["parent"] else None,
                      "managerIds": roles["manager"], "memberIds": roles["member"]})
    return live_resources(members, teams)


def test_import_writes_manager_for_derived_teams_and_keeps_hand_written_ones() -> None:
    o = org(teams={"guild": Team("guild", "Guild", managers=("di",), members=("fa",))})
    imported = workleap_import(live_of(o), workleap(o))

    assert set(imported.teams) == {"guild"}
    assert {k: e.get("manager") for k, e in imported.employees.items()} == {
        "ada": None, "bo": "ada", "cy": "ada", "di": "bo", "ed": "bo", "fa": "cy",
        "hal": None}  # Hal's manager has left: Hal is in no derived team


def test_import_keeps_a_team_that_differs_from_what_would_be_derived() -> None:
    """A derived team renamed in Workleap is not what `manager:` derives: it is imported as
    a team, its members without `manager:`; the rest of the line is still derived."""
    o = org()
    imported = workleap_import(live_of(o, rename={"reports-cy": "Cy's crew"}), workleap(o))

    assert imported.teams == {"reports-cy": {"name": "Cy's crew", "parent": "reports-ada",
                                             "managers": ["cy"], "members": ["fa"]}}
    assert imported.employees["fa"].get("manager") is None
    assert imported.employees["cy"]["manager"] == "ada"


def test_recognise_gives_back_the_line_derive_drew() -> None:
    people = {k: Person(k.title(), "Doe", b) for k, b in LINE.items() if k != "gus"}
    teams = derive(people, ReportingTeams())
    blank = {k: Person(p.first_name, p.last_name, None) for k, p in people.items()}
    assert recognise(teams, blank, ReportingTeams()) == {
        k: b for k, b in LINE.items() if b and "gus" not in (k, b)}


def test_worklete_derives_teams_whose_admin_is_the_manager() -> None:
    o = org(system="worklete")
    provider = worklete_provider.WorkleteProvider(o.providers["worklete"])
    provider.bind(o)
    desired = {(r.kind, r.key): r for r in provider.desired(o)}

    assert desired[("team", "reports-bo")].attrs == {"name": "Bo Doe's team",
                                                     "parent": "reports-ada"}
    assert desired[("team", "reports-bo")].source == DERIVED
    admins = sorted(k for kind, k in desired if kind == "team_admin")
    assert admins == ["reports-ada:ada", "reports-bo:bo", "reports-cy:cy"]
    assert desired[("team_admin", "reports-bo:bo")].source == DERIVED
    assert desired[("membership", "di")].attrs["teams"] == ["reports-bo"]
    assert desired[("membership", "ada")].attrs["teams"] == []  # she leads, in no team
