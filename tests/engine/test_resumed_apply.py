"""Re-running a killed apply is not refused for the size of what it finishes (issue 14 item
5): the changes the interrupted apply journaled at its start do not count against the
safety thresholds again; anything else does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orgctl import commands
from orgctl.errors import SafetyError

PEOPLE = 20



def write_config(root: Path, renamed: int) -> None:
    lines = ["version: 1", "providers:", "  directory:", "    type: memory",
             f"    url: http://127.0.0.1:9/{root.name}", "employees:"]
    for i in range(PEOPLE):
        last = "Renamed" if i < renamed else "Person"
        lines.append(f"  EMP-{i:02d}: {{first_name: P{i}, last_name: {last}, "
                     f"email: p{i}@acme.test}}")
    (root / "org.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def journal(root: Path, planned: list[str], finished: bool) -> None:
    folder = root / ".orgctl"
    for earlier in folder.glob("journal-*.jsonl"):  # the killed apply is the latest
        earlier.unlink()
    events = [{"event": "apply_started", "changes": len(planned), "planned": planned},
              {"event": "start", "address": planned[0].split(" ")[1]}]
    if finished:
        events.append({"event": "apply_finished", "summary": "Apply: 10 applied."})
    text = "\n".join(json.dumps(e) for e in events) + "\n"
    (folder / "journal-20261130T080000Z.jsonl").write_text(text + '{"event": "app', "utf-8")


@pytest.fixture
def renamed_half(registered: None, tmp_path: Path) -> Path:
    root = tmp_path / "resume"
    root.mkdir()
    write_config(root, renamed=0)
    commands.apply(root, confirm=lambda plan: True)
    write_config(root, renamed=PEOPLE // 2)  # 10 of 20 updates: 50 % > 30 %
    return root


UPDATES = [f"update directory.person.EMP-{i:02d}" for i in range(PEOPLE // 2)]


def test_without_a_journal_half_the_people_changing_is_refused(renamed_half: Path) -> None:
    with pytest.raises(SafetyError, match=r"50.00% is over 30.00% \(10/20\)"):
        commands.plan(renamed_half)


def test_finishing_an_interrupted_apply_is_not_refused(renamed_half: Path) -> None:
    journal(renamed_half, UPDATES, finished=False)
    assert commands.plan(renamed_half).plan.counts()["update"] == 10
    report = commands.apply(renamed_half, confirm=lambda plan: True)
    assert report.result is not None and report.result.ok


def test_a_finished_apply_exempts_nothing(renamed_half: Path) -> None:
    journal(renamed_half, UPDATES, finished=True)
    with pytest.raises(SafetyError):
        commands.plan(renamed_half)


def test_changes_the_interrupted_apply_did_not_plan_still_count(renamed_half: Path) -> None:
    journal(renamed_half, UPDATES[:2], finished=False)
    with pytest.raises(SafetyError, match=r"\(8/20\)"):
        commands.plan(renamed_half)
