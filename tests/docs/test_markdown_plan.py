"""The Markdown plan of a large change, as CI posts it on a pull request (docs/ci.md), laid
out by system: the hidden marker that lets the workflow update its one comment, the summary
in sight, and every long provider section folded into <details> that GitHub renders (a
blank line after <summary>, balanced code fences), holding every change of the plan. (The
by-person layout, the default: tests/render/.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from orgctl.render import FOLD_AFTER, MARKER

ROOT = Path(__file__).resolve().parents[2]
GITHUB_COMMENT_LIMIT = 65536  # characters in one issue or pull-request comment


def orgctl(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run([Path(sys.executable).parent / "orgctl", *map(str, args)],
                            cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_markdown_plan_of_a_large_change_is_marked_and_folded(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")  # no live objects: everything in examples/acme is a create
    orgctl("plan", ROOT / "examples" / "acme", "--sandbox", "--seed", empty, "-o", "plan.json",
           cwd=tmp_path)
    markdown = orgctl("show", "plan.json", "--format", "markdown", "--by", "system",
                      cwd=tmp_path)
    plan = json.loads(orgctl("show", "plan.json", "--format", "json", cwd=tmp_path))

    lines = markdown.splitlines()
    assert lines[0] == MARKER
    assert f"**Plan: {plan['summary']['create']} to add" in markdown
    per_provider: dict[str, int] = {}
    for change in plan["changes"]:
        per_provider[change["provider"]] = per_provider.get(change["provider"], 0) + 1
    assert max(per_provider.values()) > FOLD_AFTER, "the change is large enough to fold"

    sections = re.findall(r"<details><summary><b>(\w+)</b>: (.*?)</summary>\n\n```diff\n"
                          r"(.*?)\n```\n\n</details>", markdown, flags=re.S)
    folded = {name: body for name, _, body in sections}
    assert set(folded) == {p for p, n in per_provider.items() if n > FOLD_AFTER}
    for provider, body in folded.items():
        # A head line is its symbol and the change; a field line repeats the symbol, then
        # indents (so GitHub colours it too); a reason line indents.
        heads = [line for line in body.splitlines() if line[1:2] == " " and line[2:3] != " "]
        assert len(heads) == per_provider[provider]
    for provider, n in per_provider.items():
        if n <= FOLD_AFTER:
            assert f"### {provider} (" in markdown
    assert markdown.count("```") % 2 == 0
    # Folded too: the long lists of reporting lines and rights, and the notes.
    assert markdown.count("<details>") == markdown.count("</details>") > len(folded)
    assert len(markdown) < GITHUB_COMMENT_LIMIT
