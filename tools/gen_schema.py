"""Write schemas/orgctl.schema.json, the config's JSON Schema that editors load (and its
copy in examples/acme, so `cp -r examples/acme my-org` keeps editors validating).

It is assembled (by `orgctl.config.schema`) from the core schema,
`orgctl/schema/core.schema.json`, and the part each built-in provider type ships,
`orgctl/providers/<type>/schema.json`; change those, never this file by hand:

    python tools/gen_schema.py           # rewrite schemas/orgctl.schema.json
    python tools/gen_schema.py --check   # exit 1 when it is out of date

tests/config/test_schema.py runs the check. Then run tools/gen_config_reference.py, which
documents the written file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import generated

from orgctl.config.schema import schema_document

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "schemas" / "orgctl.schema.json"
COPIES = (ROOT / "examples" / "acme" / "orgctl.schema.json",)


def render() -> str:
    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    worst = 0
    for output in (OUTPUT, *COPIES):
        worst = max(worst, generated.main(
            argv, description=__doc__.splitlines()[0], output=output, render=render,
            check_help="exit 1 if the committed schema differs from the assembled one"))
    return worst


if __name__ == "__main__":
    sys.exit(main())
