"""What every generator in tools/ does with the file it generates: write it, or with
`--check` exit 1 when the committed copy differs (the tests run the check)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None, *, description: str, output: Path,
         render: Callable[[], str], check_help: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=check_help)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            script = Path(sys.argv[0]).name
            print(f"{output.relative_to(ROOT)} is out of date: run python tools/{script}",
                  file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    print(output.relative_to(ROOT))
    return 0
