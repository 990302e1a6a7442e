"""The scheduled section is computed on the part of the org each day's events touch
(`lifecycle.Neighbourhood`), not the whole org: it must say exactly what the whole org says,
for every system, reporting teams derived from `manager:` included. Generated orgs with
dated joiners, leavers, moves and changes of manager are planned both ways."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgctl import lifecycle
from orgctl.config import load
from orgctl.engine.plan import make_plan
from orgctl.providers import create

DAY = date(2026, 11, 30)


def generated(rng: random.Random, people: int) -> dict[str, Any]:
    units = {"root": {"name": "Root", "level": "Group", "hr": "E0"}}
    for u in range(6):
        units[f"u{u}"] = {"name": f"Unit {u}", "level": "Division",
                          "parent": "root" if u < 2 else f"u{rng.randrange(2)}"}
    employees: dict[str, Any] = {}
    for i in range(people):
        key = f"E{i}"
        e: dict[str, Any] = {"first_name": f"F{i}", "last_name": f"L{i}",
                             "email": f"e{i}@x.io", "unit": rng.choice(list(units)),
                             "role": "owner" if i == 0 else "manager"}
        if i:
            e["manager"] = f"E{rng.randrange(max(1, i // 3), i) if i > 3 else 0}"
        if i > 3 and rng.random() < 0.2 and (buddy := f"E{rng.randrange(i)}") != e["manager"]:
            e["buddy"] = buddy
        when = (DAY + timedelta(days=rng.randint(0, 30))).isoformat()  # the plan's day too
        roll = rng.random()
        if i > 5 and roll < 0.08:
            e["start_date"] = when
        elif i > 5 and roll < 0.16:
            e["leave_date"] = when
        elif i > 5 and roll < 0.30:
            e["changes"] = [{"from": when, "unit": rng.choice(list(units)),
                             "manager": f"E{rng.randrange(i)}"}]
        employees[key] = e
    # Someone changes manager on the plan's day itself: a relation that day changes.
    moved = employees["E7"]
    for field in ("start_date", "leave_date", "changes"):
        moved.pop(field, None)
    moved["changes"] = [{"from": DAY.isoformat(),
                         "manager": "E2" if moved["manager"] != "E2" else "E3"}]
    teams = {f"t{t}": {"name": f"Team {t}", "managers": [f"E{rng.randrange(people)}"],
                       "members": sorted({f"E{rng.randrange(people)}" for _ in range(6)})}
             for t in range(5)}
    for team in teams.values():
        team["members"] = [m for m in team["members"] if m not in team["managers"]]
    teams["t3"]["parent"], teams["t4"]["parent"] = "t0", "t3"  # nested teams too
    return {"version": 1, "providers": {
        "workelo": {"url": "https://a.invalid", "client_id": "x",
                    "client_secret": "${S}", "lifecycle": {"crossboarding": True}},
        "workleap": {"url": "https://b.invalid", "api_key": "${S}",
                     "reporting_teams": True},
        "worklete": {"url": "https://c.invalid", "username": "${S}", "password": "${S}",
                     "organization": "Acme", "reporting_teams": True}},
        "units": units, "teams": teams, "employees": employees}


def scheduled(org: Any, tmp_path: Path) -> tuple[list[tuple[str, str, str, Any]], list[Any]]:
    """The plan's scheduled changes, and what each day changes in relations (impacts)."""
    providers = [create(org.providers[name]) for name in sorted(org.providers)]
    plan = make_plan(org, providers, {p.name: [] for p in providers}, tmp_path / "org.yaml",
                     as_of=DAY, horizon=30)
    return sorted((s.on, s.change.action, s.change.address,
                   repr((s.change.before, s.change.after, s.why)))
                  for s in plan.scheduled), plan.impacts


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_each_day_computed_on_its_part_says_what_the_whole_org_says(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(generated(random.Random(seed), 120)))
    org = load(tmp_path, resolve_env=False)
    parts, impacts = scheduled(org, tmp_path)
    monkeypatch.setattr(lifecycle, "restricted", lambda whole, keep: whole)
    whole, whole_impacts = scheduled(org, tmp_path)
    assert len(whole) > 40  # the generated dates change something in every system
    assert {address.split(".")[0] for _, _, address, _ in whole} == {
        "workelo", "workleap", "worklete"}
    assert parts == whole
    # The plan's own day among them: its impact too is computed on its part.
    assert whole_impacts and whole_impacts[0].day == DAY
    assert impacts == whole_impacts
