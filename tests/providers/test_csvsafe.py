"""CSV rendering for imports: quoting that a strict reader undoes exactly, and formula cells
neutralised so a spreadsheet never runs them."""

from __future__ import annotations

import csv
import io

import pytest

from orgctl.providers.csvsafe import Verbatim, as_read, neutralise, render_csv


@pytest.mark.parametrize("value", ["=1+2", "+33 6", "-x", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_cells_are_neutralised_once(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert neutralise(neutralise(value)) == neutralise(value)


@pytest.mark.parametrize("value", ["Ana", "a=b", "", "'=quoted already", "Zoé"])
def test_ordinary_cells_are_unchanged(value: str) -> None:
    assert neutralise(value) == value


def test_render_round_trips_through_a_strict_reader() -> None:
    rows = [
        {"id": "E1", "name": 'Ana, "Nana"', "note": "line\nbreak", "n": -3},
        {"id": "E2", "name": "=HYPERLINK(\"http://x\")", "note": None},
    ]
    text = render_csv(["id", "name", "note", "n"], rows)
    parsed = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert parsed == [
        ["id", "name", "note", "n"],
        ["E1", 'Ana, "Nana"', "line\nbreak", "-3"],  # numbers are not formulas
        ["E2", "'=HYPERLINK(\"http://x\")", "", ""],
    ]


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="emial"):
        render_csv(["email"], [{"emial": "a@b.c"}])


def test_values_read_from_the_system_are_written_back_as_they_were() -> None:
    """A full-state file carries live values orgctl did not bring: `as_read` marks every
    string in them (nested too), and those cells are never neutralised."""
    live = as_read({"Phone": "+33 1 23 45", "tags": ["@ana", "=x"], "n": 3})
    text = render_csv(["Phone", "tag", "n", "new"],
                      [{"Phone": live["Phone"], "tag": live["tags"][1], "n": live["n"],
                        "new": "=brought"}])
    assert text.splitlines()[1] == "+33 1 23 45,=x,3,'=brought"
    assert isinstance(live["tags"][0], Verbatim)
