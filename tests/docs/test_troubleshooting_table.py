"""The table of configuration messages in docs/troubleshooting.md quotes what orgctl really
says: each row's message is in the errors of the example file the row names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orgctl.config import load
from orgctl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ROWS = re.findall(r"^\| `(examples/invalid/[^`]+)` \| `([^`]+)` \|",
                  (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8"), re.M)


def test_the_table_is_there() -> None:
    assert len(ROWS) >= 10


@pytest.mark.parametrize(("example", "message"), ROWS, ids=[r[0] for r in ROWS])
def test_each_row_quotes_the_real_message(example: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(ROOT / example, environ={})
    assert message in str(raised.value)
