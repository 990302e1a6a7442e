"""Checks on who holds a role (issue 16 item 3), each at the file:line:col of the relation:
an inactive manager, HR or buddy; a Workelo manager or HR without a role that may hold it
(only where a Workelo provider is configured: it is Workelo's rule); a buddy who is the
manager; a reporting cycle."""

from __future__ import annotations

from pathlib import Path

from tests.config.conftest import problems

WORKELO = """providers:
  workelo:
    url: https://api.example/v1
    client_id: x
    client_secret: ${SECRET}
"""


def config(tmp_path: Path, people: str, providers: str = "") -> Path:
    (tmp_path / "org.yaml").write_text("version: 1\n" + providers + "employees:\n" + people,
                                       encoding="utf-8")
    return tmp_path


def at(path: Path, line: int, written: str) -> str:
    """file:line:col of `written` (its first occurrence) on `line` of the config."""
    text = (path / "org.yaml").read_text(encoding="utf-8").splitlines()[line - 1]
    return f"{path}/org.yaml:{line}:{text.index(written) + 1}"


def person(key: str, extra: str = "") -> str:
    return (f"  {key}: {{first_name: A, last_name: {key}, email: {key.lower()}@x.io"
            f"{', ' + extra if extra else ''}}}\n")


def test_an_inactive_manager_is_refused_at_the_relation(tmp_path: Path) -> None:
    path = config(tmp_path, person("BOSS", "status: inactive")
                  + person("ANN", "manager: BOSS"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 4, 'BOSS}')}: employees.ANN.manager: manager BOSS is inactive "
        f"({at(path, 3, 'inactive')}): give ANN an active manager"]


def test_a_leavers_relations_are_not_checked(tmp_path: Path) -> None:
    path = config(tmp_path, person("BOSS", "status: inactive")
                  + person("ANN", "manager: BOSS, status: inactive") + "  OK: "
                  "{first_name: O, last_name: K, email: ok@x.io}\n")
    from orgctl import config as cfg

    assert "ANN" in cfg.load(path, resolve_env=False).employees


def test_a_workelo_manager_needs_a_role_that_may_manage(tmp_path: Path) -> None:
    path = config(tmp_path, person("BOSS") + person("ANN", "manager: BOSS"), WORKELO)
    assert problems(path, resolve_env=False) == [
        f"{at(path, 9, 'BOSS}')}: employees.ANN.manager: BOSS cannot be ANN's manager in "
        f"workelo: their role is 'colleague', and a manager needs one of hr, manager, owner"]


def test_a_workelo_hr_needs_the_hr_role_and_hr_may_manage(tmp_path: Path) -> None:
    path = config(tmp_path, person("HR", "role: hr") + person("MGR", "role: manager")
                  + person("ANN", "manager: HR, hr: MGR"), WORKELO)
    assert problems(path, resolve_env=False) == [
        f"{at(path, 10, 'MGR}')}: employees.ANN.hr: MGR cannot be ANN's hr in workelo: their "
        f"role is 'manager', and a hr needs one of hr, owner"]


def test_without_workelo_no_role_is_required(tmp_path: Path) -> None:
    from orgctl import config as cfg

    path = config(tmp_path, person("BOSS") + person("ANN", "manager: BOSS"))
    assert cfg.load(path, resolve_env=False).employees["ANN"].manager == "BOSS"


def test_a_buddy_who_is_the_manager_is_refused(tmp_path: Path) -> None:
    path = config(tmp_path, person("BOSS") + person("ANN", "manager: BOSS, buddy: BOSS"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 4, 'BOSS}')}: employees.ANN.buddy: buddy BOSS is also ANN's manager: a "
        f"buddy is a peer"]


def test_a_reporting_cycle_is_refused_with_its_path(tmp_path: Path) -> None:
    path = config(tmp_path, person("A", "manager: B") + person("B", "manager: A"))
    assert problems(path, resolve_env=False) == [
        f"{at(path, 3, 'B}')}: employees.A.manager: manager cycle: A -> B -> A"]
