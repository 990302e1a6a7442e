"""A live name holding a lone surrogate: a server that cuts a name at a length in UTF-16
code units can cut an emoji's pair in two, and its JSON then escapes the half it kept
(`"Data \\ud83d"`), which is valid JSON and decodes to a string UTF-8 cannot hold. The plan
shows it escaped, saves it, and applies from the file; before, the fingerprint's digest and
every output raised UnicodeEncodeError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orgctl.sandbox.seeding import acme_drift
from tests.e2e.conftest import ACME, StartSandbox, plan_json, run_orgctl, write_endpoints

CUT = "Data \ud83d"  # "Data 🚀" cut after the first half of the rocket's UTF-16 pair


def test_a_name_cut_inside_an_emoji_is_planned_shown_saved_and_applied(
        start_sandbox: StartSandbox, acme_seed: dict[str, Any], tmp_path: Path) -> None:
    def data_unit(seed: dict[str, Any]) -> dict[str, Any]:
        return next(u for u in seed["workelo"]["unit_organizations"]
                    if u["external_id"] == "data")

    wanted = data_unit(acme_seed)["name"]  # as the config has it
    seed = acme_drift(acme_seed)
    data_unit(seed)["name"] = CUT
    box = start_sandbox(seed)
    endpoints = write_endpoints(box, tmp_path / "sb.json")
    planfile = tmp_path / "plan.json"

    text = run_orgctl("plan", ACME, "--sandbox", endpoints, "-o", planfile)
    assert text.exit_code == 0, text.output
    assert f'name: "Data \\ud83d" → "{wanted}"' in text.stdout
    markdown = run_orgctl("plan", ACME, "--sandbox", endpoints, "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert "Data \\ud83d" in markdown.stdout and "\ud83d" not in markdown.stdout
    data = plan_json(run_orgctl("plan", ACME, "--sandbox", endpoints, "--format", "json"))
    [change] = [c for c in data["changes"] if c["address"] == "workelo.unit.data"]
    assert change["before"]["name"] == CUT  # JSON keeps the exact value, escaped

    saved = planfile.read_bytes()
    assert b"\\ud83d" in saved
    saved.decode("utf-8")  # the file is UTF-8 throughout
    fingerprints = {n: p["fingerprint"] for n, p in data["providers"].items()}
    assert {n: p["fingerprint"] for n, p in json.loads(saved)["providers"].items()} \
        == fingerprints  # the same live state, digested alike each time
    shown = run_orgctl("show", planfile)
    assert shown.exit_code == 0, shown.output
    assert 'name: "Data \\ud83d"' in shown.stdout

    journal = tmp_path / "journal.jsonl"
    applied = run_orgctl("apply", planfile, "--sandbox", endpoints, "--journal", journal)
    assert applied.exit_code == 0, applied.output
    names = [u["name"] for u in box.emulators["workelo"].state["unit_organizations"].values()
             if u["external_id"] == "data"]
    assert names == [wanted]
    assert any("workelo.unit.data" in line for line in journal.read_text("utf-8").splitlines())
