"""Seeded fuzzing, bounded in time (issue 14): mutated configs and mutated plan files give a
located error or a result, never an internal error (an exception that is not an
`OrgctlError`). A failure prints the seed and the case so it can be replayed."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from orgctl import config
from orgctl.engine.plan import BODY_KEYS, Plan, canonical
from orgctl.errors import OrgctlError
from orgctl.render import render
from tests.engine.fakes import FakeProvider, resource

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 8.0  # seconds per test: the suite's share of fuzzing
SEED = 20261130
ODD = ["", "\x00", "\x1b[2K", "${", "${file:/dev/zero}", "}", "&a", "*a", "!!python/object",
       ":", "- ", "{", "[", "'", '"', "\t", "\ufeff", "é", "9" * 30, "-1", "null", "~",
       "2026-02-30", "<<: *x", "? ", "|", ">"]


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        how = rng.randrange(5)
        if how == 0:
            del lines[i]
        elif how == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif how == 2:
            line = lines[i]
            j = rng.randrange(len(line) + 1)
            lines[i] = line[:j] + rng.choice(ODD) + line[j:]
        elif how == 3:
            line = lines[i]
            j = rng.randrange(len(line) + 1)
            lines[i] = line[:j] + line[j + rng.randint(1, 8):]
        else:
            lines[i] = " " * rng.randint(0, 6) + lines[i].lstrip()
    return "".join(lines)


def test_mutated_configs_never_cause_an_internal_error(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    acme = ROOT / "examples" / "acme"
    files = sorted(p.relative_to(acme) for p in acme.rglob("*.yaml"))
    deadline = time.monotonic() + BUDGET
    cases = 0
    while time.monotonic() < deadline:
        case = tmp_path / f"case-{cases}"
        shutil.copytree(ROOT / "examples" / "acme", case,
                        ignore=shutil.ignore_patterns(".orgctl"))
        victim = case / rng.choice(files)
        victim.write_text(mutate_text(rng, victim.read_text(encoding="utf-8")),
                          encoding="utf-8")
        try:
            config.load(case, resolve_env=False)
        except OrgctlError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"seed {SEED}, case {cases} ({victim}): internal error "
                        f"{type(exc).__name__}: {exc}\n{victim.read_text(encoding='utf-8')}")
        shutil.rmtree(case)
        cases += 1
    assert cases >= 20, f"only {cases} cases in {BUDGET} s"


def a_plan(tmp_path: Path) -> dict[str, Any]:
    from orgctl.engine.plan import make_plan
    from orgctl.model import Org, ProviderConfig

    desired = [resource({"kind": "unit", "key": k, "attrs": {"name": k, "n": i}})
               for i, k in enumerate("abcdef")]
    live = [resource({"kind": "unit", "key": "a", "remote_id": "1",
                      "attrs": {"name": "old", "n": 0}}),
            resource({"kind": "unit", "key": "z", "remote_id": "9", "attrs": {"name": "z"}})]
    provider = FakeProvider(settings={"prune": {"unit": True}}, desired=desired, live=live)
    (tmp_path / "org.yaml").write_text("version: 1\n")
    org = Org()
    org.providers["fake"] = ProviderConfig("fake", "fake", "http://127.0.0.1",
                                           {"prune": {"unit": True}})
    return make_plan(org, [provider], {"fake": live}, tmp_path / "org.yaml").to_json()


def mutate_json(rng: random.Random, value: Any) -> Any:
    """`value` with one random node replaced, removed or retyped."""
    odd = [None, 0, -1, 1.5, "", "x.y", [], {}, True, "create", [1, 2], {"a": 1}]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.2:
            del out[key]
        elif roll < 0.5:
            out[key] = rng.choice(odd)
        else:
            out[key] = mutate_json(rng, value[key])
        return out
    if isinstance(value, list) and value and rng.random() < 0.8:
        out = list(value)
        i = rng.randrange(len(out))
        out[i] = mutate_json(rng, out[i]) if rng.random() < 0.6 else rng.choice(odd)
        return out
    return rng.choice(odd)


def test_mutated_plan_files_never_cause_an_internal_error(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    original = a_plan(tmp_path)
    deadline = time.monotonic() + BUDGET
    cases = 0
    path = tmp_path / "plan.json"
    while time.monotonic() < deadline:
        data = mutate_json(rng, copy.deepcopy(original))
        if isinstance(data, dict) and rng.random() < 0.7:
            # a forger recomputes the checksum: the content checks must hold alone
            body = {k: data[k] for k in BODY_KEYS if k in data}
            data["checksum"] = "sha256:" + hashlib.sha256(
                canonical(body).encode()).hexdigest()
        text = json.dumps(data)
        if rng.random() < 0.1:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + rng.choice(ODD) + text[cut + 1:]
        path.write_text(text, encoding="utf-8")
        try:
            plan = Plan.read(path)
            for fmt in ("text", "markdown", "json"):
                render(plan, fmt)
        except OrgctlError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"seed {SEED}, case {cases}: internal error {type(exc).__name__}: "
                        f"{exc}\n{text[:2000]}")
        cases += 1
    assert cases >= 100, f"only {cases} cases in {BUDGET} s"


def test_a_forged_plan_of_the_wrong_shape_is_refused_naming_where(tmp_path: Path) -> None:
    """Before: a plan whose checksum matched but whose `changes` held a number crashed
    `show` and `apply` with `internal error: TypeError`."""
    data = a_plan(tmp_path)
    data["changes"] = [5]
    body = {k: data[k] for k in BODY_KEYS if k in data}
    data["checksum"] = "sha256:" + hashlib.sha256(canonical(body).encode()).hexdigest()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(OrgctlError, match=r"not a valid plan file \(format 1\): changes/0: "):
        Plan.read(path)
