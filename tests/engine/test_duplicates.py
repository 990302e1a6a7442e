"""Duplicates are visible to the plan (issue 14 item 2): two live objects matching one
desired object, by key, email or name within parent, are an error finding naming both
remote ids; `--remove-duplicates` plans the removal of all but the oldest."""

from __future__ import annotations

from orgctl.engine.diff import diff
from orgctl.engine.plan import RemoteIds
from orgctl.resources import Resource


def left_alone(_r: Resource) -> tuple[None, str]:
    return None, "not in config; left alone"


def team(key: str, rid: str, name: str = "Eng") -> Resource:
    return Resource("team", key, {"name": name}, identities=(f"name:/{name}",),
                    remote_id=rid)


DESIRED = [Resource("team", "eng", {"name": "Eng"}, identities=("name:/Eng",))]


def test_two_live_teams_of_one_name_are_an_error_naming_both_ids() -> None:
    live = [team("remote:57", "57"), team("remote:12", "12")]
    result = diff("worklete", DESIRED, live, left_alone)
    assert result.changes == []
    (error,) = [f for f in result.findings if f.level == "error"]
    assert error.code == "duplicate"
    assert "2 live objects match this one (12, 57)" in error.message
    assert "only the oldest (12)" in error.message and "--remove-duplicates" in error.message
    assert result.matched["worklete.team.eng"].remote_id == "12"
    # the other copy is neither pruned nor reported as merely "left alone"
    assert not [f for f in result.findings if "left alone" in f.message]


def test_the_same_key_twice_is_a_duplicate_too() -> None:
    desired = [Resource("employee", "EMP-1", {"email": "a@x.io"})]
    live = [Resource("employee", "EMP-1", {"email": "a@x.io"}, remote_id="9"),
            Resource("employee", "EMP-1", {"email": "a@x.io"}, remote_id="3")]
    result = diff("workelo", desired, live, left_alone)
    assert [f.message.split(":")[0] for f in result.findings if f.level == "error"] == [
        "2 live objects match this one (3, 9)"]


def test_the_remote_id_of_a_key_shared_by_duplicates_is_the_oldest() -> None:
    """Apply resolves an address through `Plan.ids`: with two live objects under the desired
    key, it must name the one the plan changes (the oldest), whatever order they came in."""
    desired = [Resource("employee", "EMP-1", {"email": "a@x.io"})]
    live = [Resource("employee", "EMP-1", {"email": "a@x.io"}, remote_id="3"),
            Resource("employee", "EMP-1", {"email": "a@x.io"}, remote_id="9")]
    result = diff("workelo", desired, live, left_alone)
    ids = RemoteIds("workelo", live, result.matched).ids()
    assert ids == {"workelo.employee.EMP-1": "3"}


def test_a_lone_match_by_key_is_not_recorded_again_but_one_by_identity_is() -> None:
    desired = [Resource("employee", "EMP-1", {"email": "a@x.io"}),
               Resource("employee", "EMP-2", {"email": "b@x.io"}, identities=("email:b@x.io",))]
    live = [Resource("employee", "EMP-1", {"email": "a@x.io"}, remote_id="3"),
            Resource("employee", "id:8", {"email": "b@x.io"}, identities=("email:b@x.io",),
                     remote_id="8")]
    result = diff("workelo", desired, live, left_alone)
    assert list(result.matched) == ["workelo.employee.EMP-2"]
    assert RemoteIds("workelo", live, result.matched).ids() == {
        "workelo.employee.EMP-1": "3", "workelo.employee.id:8": "8",
        "workelo.employee.EMP-2": "8"}


def test_a_key_match_and_an_email_match_are_duplicates_and_the_oldest_is_kept() -> None:
    desired = [Resource("employee", "EMP-1", {"email": "a@x.io", "name": "Ann"},
                        identities=("email:a@x.io",))]
    live = [Resource("employee", "EMP-1", {"email": "a@x.io", "name": "Ann"},
                     identities=("email:a@x.io",), remote_id="40"),
            Resource("employee", "id:7", {"email": "a@x.io", "name": "Ann"},
                     identities=("email:a@x.io",), remote_id="7")]
    result = diff("workelo", desired, live, left_alone)
    assert result.matched["workelo.employee.EMP-1"].remote_id == "7"
    assert any(f.level == "error" for f in result.findings)


def test_remove_duplicates_plans_the_removal_of_all_but_the_oldest() -> None:
    live = [team("remote:57", "57"), team("remote:12", "12"), team("remote:80", "80")]
    result = diff("worklete", DESIRED, live, left_alone, remove_duplicate=lambda r: "delete")
    assert sorted((c.action, c.remote_id) for c in result.changes) == [
        ("delete", "57"), ("delete", "80")]
    assert all("duplicate of eng" in c.reason for c in result.changes)
    assert len({c.key for c in result.changes}) == 2  # distinct addresses
    assert [f.level for f in result.findings if f.code == "duplicate"] == ["warning"]


def test_a_live_object_keyed_for_another_desired_object_is_not_a_duplicate() -> None:
    desired = [Resource("unit", "a", {"name": "Ops"}, identities=("name:/Ops",)),
               Resource("unit", "b", {"name": "Ops2"}, identities=("name:/Ops",))]
    live = [Resource("unit", "a", {"name": "Ops"}, identities=("name:/Ops",), remote_id="1"),
            Resource("unit", "b", {"name": "Ops2"}, identities=("name:/Ops",), remote_id="2")]
    result = diff("workelo", desired, live, left_alone)
    assert not [f for f in result.findings if f.level == "error"]
