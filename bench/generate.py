"""Deterministic organisations at any scale, for benchmarks: `generate(10_000, seed=1)`.

Proportions follow examples/acme: about one unit per 40 employees in three levels, one team
per 20 employees (a third of them nested), one journey per 50 employees, 3 % inactive
people, managers and HR relations for everyone. The same (size, seed) always gives the same
org, so benchmark figures compare across runs.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

FIRST = ["Marie", "Jean", "Ana", "Li", "Omar", "Sofia", "Noah", "Emma", "Yuki", "Ravi",
         "Chloé", "Lucas", "Ines", "Mateo", "Zoe", "Hugo", "Lea", "Amir", "Nina", "Paul"]
LAST = ["Dubois", "Martin", "Silva", "Chen", "Haddad", "Rossi", "Smith", "Bernard",
        "Tanaka", "Patel", "Moreau", "Garcia", "Khan", "Lopez", "Weber", "Nowak"]
POSITIONS = ["Engineer", "Senior Engineer", "Analyst", "Account Executive", "Designer",
             "Support Specialist", "Recruiter", "Accountant", "Product Manager"]


def generate(employees: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    n_units = max(3, employees // 40)
    units: dict[str, Any] = {"root": {"name": "Acme Group", "level": "Group", "language": "en"}}
    divisions = [f"div-{i:03d}" for i in range(max(1, n_units // 10))]
    for key in divisions:
        units[key] = {"name": f"Division {key[4:]}", "level": "Division", "parent": "root"}
    departments = [f"dep-{i:04d}" for i in range(n_units - len(divisions) - 1)]
    for i, key in enumerate(departments):
        units[key] = {"name": f"Department {key[4:]}", "level": "Department",
                      "parent": divisions[i % len(divisions)]}
    leaf_units = departments or divisions

    keys = [f"E{i:06d}" for i in range(employees)]
    hr_people = keys[: max(1, employees // 100)]
    managers = keys[: max(2, employees // 10)]
    is_hr, is_manager = set(hr_people), set(managers)  # membership tests: O(1) at 100k
    people: dict[str, Any] = {}
    for i, key in enumerate(keys):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person: dict[str, Any] = {
            "first_name": first, "last_name": last,
            "email": f"{first.lower()}.{last.lower()}.{i}@acme.example".replace("é", "e"),
            "job_position": "Manager" if key in is_manager else rng.choice(POSITIONS),
            "unit": leaf_units[i % len(leaf_units)],
            "role": "hr" if key in is_hr else "manager" if key in is_manager else "colleague",
            # Leavers are never someone's manager or HR (a relation to a leaver is a
            # config error); the roll is made as before, so the data stays comparable.
            "status": "inactive" if i >= 10 and rng.random() < 0.03 and key not in is_manager
            and key not in is_hr else "active",
            "workleap": {"language": rng.choice(["en", "fr"]), "products": ["Officevibe"]},
        }
        if i >= len(managers):
            person["manager"] = managers[i % len(managers)]
        elif i > 0:
            person["manager"] = managers[(i - 1) // 10]  # a tree: no manager cycles
        if key not in is_hr:
            person["hr"] = hr_people[i % len(hr_people)]
        if key in is_hr:
            person["unit_scopes"] = [leaf_units[j] for j in range(i, len(leaf_units),
                                                                 len(hr_people))][:3]
        if i % 50 == 25 and person["status"] == "active":
            person["journeys"] = [{
                "mobility": "onboarding", "start_date": f"2026-{1 + i % 12:02d}-15",
                "templates": ["Standard onboarding"],
            }]
        people[key] = person

    active = [k for k in keys if people[k]["status"] == "active"]
    n_teams = max(1, employees // 20)
    teams: dict[str, Any] = {}
    for t in range(n_teams):
        key = f"team-{t:04d}"
        members = active[t * 20 % len(active): t * 20 % len(active) + 18]
        team: dict[str, Any] = {"name": f"Team {t:04d}", "unit": leaf_units[t % len(leaf_units)],
                                "managers": [members[0]] if members else [],
                                "members": members[1:]}
        if t % 3 == 2:
            team["parent"] = f"team-{t - 1:04d}"
        teams[key] = team
    return {"version": 1, "providers": providers_block(), "units": units, "teams": teams,
            "employees": people}


def providers_block() -> dict[str, Any]:
    return {
        "workelo": {"url": "https://api.workelo.eu/v1", "client_id": "${WORKELO_CLIENT_ID}",
                    "client_secret": "${WORKELO_CLIENT_SECRET}"},
        "hrms": {"url": "https://dev.workbeats.app/api", "token": "${HRMS_TOKEN}",
                 "environment": "staging"},
        "workleap": {"url": "https://api.workleap.com", "api_key": "${WORKLEAP_API_KEY}"},
        "worklete": {"url": "https://connection.worklete.com/api/v1",
                     "username": "${WORKLETE_USERNAME}", "password": "${WORKLETE_PASSWORD}",
                     "organization": "Acme"},
    }


def write(data: dict[str, Any], directory: Path, per_file: int = 5000) -> Path:
    """Write `data` as a multi-file config: providers, units, teams, people/NNN.yaml."""
    directory.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    def dump(name: str, content: dict[str, Any]) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            yaml.dump(content, f, Dumper=dumper, sort_keys=False, allow_unicode=True)

    dump("providers.yaml", {"version": data["version"], "providers": data["providers"]})
    dump("units.yaml", {"units": data["units"]})
    dump("teams.yaml", {"teams": data["teams"]})
    items = list(data["employees"].items())
    for n, start in enumerate(range(0, len(items), per_file)):
        dump(f"people/{n:03d}.yaml", {"employees": dict(items[start:start + per_file])})
    return directory


if __name__ == "__main__":
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"bench/out/org-{size}")
    write(generate(size), out)
    print(out)
