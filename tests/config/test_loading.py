"""Reading files: strictness, size and encoding limits, merging, positions."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import yaml

from orgctl import config
from orgctl.config import sources, yamlload
from orgctl.config.yamlload import parse
from orgctl.errors import Location, OrgctlError
from tests.config.conftest import ROOT as ROOT_DIR
from tests.config.conftest import problems

UNIT = "version: 1\nunits:\n  eng: {name: Engineering, level: Division}\n"


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return directory


def test_scalars_resolve_like_yaml_but_dates_stay_as_written():
    doc = parse("a: 1\nb: 1.5\nc: yes\nd: ~\ne: '007'\nf: 2026-06-01\ng: 0x1F\nh: text\n", "f")
    assert doc.data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "007",
                        "f": "2026-06-01", "g": 31, "h": "text"}
    assert not doc.issues


def test_keys_are_taken_as_written():
    # A numeric HR id stays the text the user typed, never the integer 1 (or octal 8).
    doc = parse("employees:\n  0010: {}\n  true: {}\n", "f")
    assert list(doc.data["employees"]) == ["0010", "true"]


def test_every_value_keeps_its_key_and_value_position():
    doc = parse("units:\n  eng:\n    name: Engineering\n    previously: [R&D, Tech]\n", "f")
    positions = {path: (k.line + 1, k.column + 1, v.line + 1, v.column + 1)
                 for path, (k, v) in doc.spans.items()}
    assert positions[("units", "eng", "name")] == (3, 5, 3, 11)
    assert positions[("units", "eng", "previously", 1)] == (4, 23, 4, 23)


def test_alias_bomb_gives_one_issue_and_no_data():
    bomb = "a: &a [x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(8))
    doc = parse(bomb, "f")
    assert doc.fatal and len(doc.issues) == 1
    assert "aliases (*a) are not allowed" in doc.issues[0].message


def test_an_alias_as_a_duplicate_keys_value_is_reported_without_a_path():
    doc = parse("a: 1\na: *x\n", "f")
    assert [str(i) for i in doc.issues] == [
        "f:2:1: a: duplicate key 'a' (first at line 1)",
        "f:2:4: aliases (*x) are not allowed: write the value out"]  # no `<object ...>`


def test_file_over_the_size_cap_is_refused(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * sources.MAX_FILE_BYTES + b"\n")
    assert problems(big) == [
        f"{big}:1:1: file is larger than 20 MiB: split it into several files"]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path):
    path = write(tmp_path, {"org.yaml": "\ufeff" + UNIT})
    assert config.load(path).units["eng"].name == "Engineering"


def test_non_utf8_position_counts_characters_not_bytes(tmp_path: Path):
    path = write(tmp_path, {"org.yaml": "version: 1\n# é\nunits: {}  # \xe9\n".encode("latin-1")})
    # Line 2 holds a Latin-1 "é" too: the first bad byte is there, at column 3.
    assert problems(path) == [f"{path}/org.yaml:2:3: not valid UTF-8 (byte 0xe9): save the "
                              "file as UTF-8"]


def test_every_file_is_parsed_before_giving_up(tmp_path: Path):
    path = write(tmp_path, {"a.yaml": "version: 1\nunits: [\n", "b.yaml": "teams: {a: *x}\n"})
    messages = problems(path)
    assert [m.split(":")[0] for m in messages] == [f"{path}/a.yaml", f"{path}/b.yaml"]


def test_directory_is_read_recursively_in_sorted_order_skipping_hidden_files(tmp_path: Path):
    path = write(tmp_path, {
        "b.yml": "units:\n  b: {name: B, level: Division, parent: a}\n",
        "a.yaml": "version: 1\nunits:\n  a: {name: A, level: Group}\n",
        "people/z.yaml": "units:\n  z: {name: Z, level: Division, parent: a}\n",
        ".github/workflows/ci.yml": "on: push\n",
        ".hidden.yaml": "not: config\n",
        "README.md": "not yaml",
    })
    org = config.load(path)
    assert list(org.units) == ["a", "b", "z"]
    assert org.units["z"].location == Location(f"{path}/people/z.yaml", 2, 3)


def test_sections_may_be_empty_in_some_files(tmp_path: Path):
    path = write(tmp_path, {"a.yaml": UNIT, "b.yaml": "teams:\nemployees: {}\n"})
    assert config.load(path).summary() == "1 units, 0 teams, 0 employees, 0 journeys"


def test_section_that_is_not_a_mapping_stops_the_checks(tmp_path: Path):
    path = write(tmp_path, {"a.yaml": UNIT, "b.yaml": "units:\n  - eng\n"})
    assert problems(path) == [
        f"{path}/b.yaml:2:3: units: must be a mapping of keys to units, not a list"]


def test_version_may_repeat_but_not_disagree(tmp_path: Path):
    path = write(tmp_path, {"a.yaml": UNIT, "b.yaml": "version: 1\n", "c.yaml": "version: 2\n"})
    assert problems(path) == [
        f"{path}/c.yaml:1:1: version: set again with a different value: first at "
        f"{path}/a.yaml:1:1"]


def test_unknown_version_is_refused(tmp_path: Path):
    path = write(tmp_path, {"org.yaml": UNIT.replace("version: 1", "version: 2")})
    assert problems(path) == [f"{path}/org.yaml:1:10: version: must be 1, not 2"]


def test_missing_path_is_a_clear_error():
    with pytest.raises(OrgctlError, match=r"^nowhere/org: no such file or directory$"):
        config.load("nowhere/org")


def test_directory_without_yaml_is_a_clear_error(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(OrgctlError, match="no \\*.yaml or \\*.yml files"):
        config.load(tmp_path)


def test_syntax_errors_stop_before_the_schema_but_duplicates_do_not(tmp_path: Path):
    path = write(tmp_path, {"org.yaml": UNIT + "units:\n  x: {name: X}\n"})
    # The duplicate top-level key is reported and the rest still checked.
    assert problems(path) == [
        f"{path}/org.yaml:4:1: units: duplicate key 'units' (first at line 2)"]


@pytest.mark.parametrize("text", ["1\n", "yes\n", "2026-06-01\n", "!!str x\n"])
def test_a_lone_scalar_is_not_a_config(text: str):
    doc = parse(text, "f")
    assert doc.fatal and doc.data == {}
    assert [str(i) for i in doc.issues][-1].startswith("f:1:1: the top level of a config file")


def test_a_file_of_repeated_mistakes_costs_a_bounded_report(tmp_path: Path):
    """Issue 14 item 10: 1 MiB of repeated `previously` entries printed 524,249 error lines
    (36 MB) after 5.5 s of checking. Now the schema check stops after 1,000 problems, a
    list's repeats are reported 20 at a time, and the message shows 200 lines."""
    import time

    from orgctl.errors import ConfigError

    lines = ["version: 1", "employees:", "  EMP-1:", "    first_name: A",
             "    last_name: B", "    email: a@b.co", "    previously:"]
    lines += ["      - x"] * ((1 << 20) // 10)
    (tmp_path / "org.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.process_time()
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, resolve_env=False)
    assert time.process_time() - started < 3.0
    assert len(caught.value.issues) <= 1001
    message = str(caught.value)
    assert len(message.splitlines()) == 201
    assert message.splitlines()[-1].startswith("... and ")


def test_a_directory_of_other_tools_yaml_says_it_is_not_an_orgctl_config(tmp_path: Path):
    """Issue 17: `plan` in a repository of unrelated YAML printed thousands of problems."""
    write(tmp_path, {"docker-compose.yml": "services:\n  web: {image: nginx}\n",
                     "mkdocs.yml": "site_name: Docs\nnav: [a, b]\n",
                     "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\n"})
    with pytest.raises(OrgctlError) as caught:
        config.load(tmp_path, resolve_env=False)
    message = str(caught.value)
    assert "not an orgctl configuration: none of its 3 YAML files" in message
    assert len(message.splitlines()) == 1


def test_other_tools_yaml_beside_a_config_is_skipped_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """So the pre-commit hook's default (the repository root) works beside CI and compose
    files."""
    write(tmp_path, {"org/units.yaml": UNIT, "docker-compose.yml": "services: {}\n"})
    with caplog.at_level("WARNING", logger="orgctl.config"):
        org = config.load(tmp_path, resolve_env=False)
    assert list(org.units) == ["eng"]
    assert "docker-compose.yml: skipped, it holds no orgctl section" in caplog.text


PARSED = sorted(p for d in ("acme", "invalid") for p in (ROOT_DIR / "examples" / d).rglob("*.y*ml"))


@pytest.mark.parametrize("path", PARSED, ids=lambda p: p.name)
def test_the_pure_python_parser_reads_every_example_as_libyaml_does(
        path: Path, monkeypatch: pytest.MonkeyPatch):
    # libyaml's C parser is used when PyYAML has it; without it the pure-Python one must
    # give the same data, the same positions and the same problems at the same places.
    text = path.read_bytes().decode("utf-8", "replace")
    fast = parse(text, str(path))
    monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    slow = parse(text, str(path))
    assert (slow.data, dict(slow.spans), slow.fatal) == (fast.data, dict(fast.spans),
                                                        fast.fatal)
    # The two parsers word a syntax error differently; where it is must not differ.
    assert [(i.location, i.path) for i in slow.issues] == [
        (i.location, i.path) for i in fast.issues]
    if "yaml-syntax" not in path.name:
        assert slow.issues == fast.issues


def test_positions_are_kept_as_plain_ints_the_garbage_collector_skips():
    doc = parse("units:\n  eng:\n    name: Engineering\n    previously: [R&D, Tech]\n", "f")
    assert len(doc.spans) == 7 and ("units", "eng", "previously", 1) in doc.spans
    assert ("units", "eng", "previously", 2) not in doc.spans
    assert doc.spans.location(("units", "eng", "name"), key=True) == (3, 5)
    assert doc.spans.location(("units", "eng", "name"), key=False) == (3, 11)
    # One dict of ints per collection, no mark or tuple per value: nothing for the
    # cyclic collector to scan after a load of 100,000 values.
    assert all(not gc.is_tracked(positions) for positions in doc.spans.children.values())


def test_a_duplicate_key_names_the_line_of_the_first_at_the_second():
    doc = parse("units:\n  eng: {name: A}\n  ops: {name: B}\n  eng: {name: C}\n", "f")
    assert [(i.location.line, i.location.column, i.path, i.message) for i in doc.issues] == [
        (4, 3, "units.eng", "duplicate key 'eng' (first at line 2)")]
    assert doc.data["units"]["eng"] == {"name": "A"} and not doc.fatal
