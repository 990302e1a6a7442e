"""CSV that HR systems import and people open in spreadsheets: UTF-8, comma delimiter,
double-quote escaping, and formula-injection neutralisation.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which spreadsheet
programs strip before evaluating) is run as a formula by Excel and LibreOffice. Employee names
and team names come from config files many people edit, so every string cell is neutralised by
prefixing a single quote (the OWASP "CSV injection" advice). Providers that diff what they wrote
against what they read back must apply `neutralise` to their desired values too, or the quote
shows up as drift.

A value read from the system itself and written back as part of a full-state file (a
Workleap sync carries every live member) is `Verbatim`: it goes back byte for byte, because
neutralising it would change data the plan did not show.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class Verbatim(str):
    """A value the system gave us, written back exactly as it was (never neutralised)."""


def as_read(value: Any) -> Any:
    """`value` from a live answer with every string in it marked `Verbatim`."""
    if isinstance(value, str):
        return Verbatim(value)
    if isinstance(value, dict):
        return {k: as_read(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_read(v) for v in value]
    return value


def neutralise(value: str) -> str:
    """`value`, prefixed with `'` when a spreadsheet would evaluate it as a formula.

    Idempotent: a neutralised value starts with `'` and is returned unchanged.
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # a number is not a formula, even when negative
    if isinstance(value, Verbatim):
        return str(value)
    return neutralise(str(value))


def render_csv(header: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """The CSV text of `rows` under `header`: one line per row, columns in header order,
    missing keys and None as empty cells, strings neutralised unless `Verbatim`. Keys not
    in `header` are an
    error, so a typo in a column name cannot silently drop data."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', doublequote=True,
                        quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([_cell(name) for name in header])
    columns = set(header)
    for row in rows:
        unknown = set(row) - columns
        if unknown:
            raise ValueError(f"columns not in the header: {', '.join(sorted(unknown))}")
        writer.writerow([_cell(row.get(name)) for name in header])
    return out.getvalue()
