"""docs/config-reference.md is generated from the JSON Schema and must be committed up to date;
the defaults the schema's descriptions state must be the ones the code applies."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orgctl.engine import safety
from orgctl.providers import TYPES, provider_class

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "orgctl.schema.json").read_text(encoding="utf-8"))


def test_committed_reference_matches_the_schema() -> None:
    result = subprocess.run([sys.executable, "tools/gen_config_reference.py", "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_reference_documents_every_key_of_every_block() -> None:
    page = (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8")
    defs = SCHEMA["$defs"]
    for name in (*TYPES, "unit", "team", "employee", "journey", "thresholds"):
        for key in defs[name]["properties"]:
            assert f"| `{key}` |" in page, f"{name}.{key} is missing from the reference"


def test_documented_threshold_defaults_are_the_enforced_ones() -> None:
    props = SCHEMA["$defs"]["thresholds"]["properties"]
    enforced = {"removals_percent": safety.MAX_SAFE_REMOVALS_PERCENT,
                "updates_percent": safety.MAX_SAFE_UPDATES_PERCENT,
                "floor": safety.MIN_EXISTING_OBJECTS,
                "max_removals": safety.MAX_REMOVALS_PER_RUN}
    for key, value in enforced.items():
        assert f"Default {value:g}." in props[key]["description"], key


@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_documented_prune_defaults_are_the_applied_ones(type_name: str) -> None:
    text = SCHEMA["$defs"][type_name]["properties"]["prune"]["description"]
    documented = set(re.findall(r"`(\w+): true`", text))
    applied = {kind + "s" for kind, on in provider_class(type_name).PRUNE_DEFAULTS.items() if on}
    assert documented == applied
