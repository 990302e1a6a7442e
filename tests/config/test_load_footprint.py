"""What a load keeps and redoes: positions of scalars only when an error needs them, one
str object per distinct text and one empty set for all who clear nothing, the YAML let go
as the model is built, a large org kept out of the cyclic collector's reach, and model
constructors equal to dataclass's."""

from __future__ import annotations

import dataclasses
import gc
import inspect
from pathlib import Path

import pytest

from orgctl import config
from orgctl.config import sources, yamlload
from orgctl.errors import Location
from orgctl.model import Dated, Employee, Journey, Team, Unit
from tests.config.conftest import problems

UNITS = "version: 1\nunits:\n  eng: {name: Engineering, level: Division}\n"
PEOPLE = """\
employees:
  E1:
    first_name: Ana
    last_name: Silva
    email: ana@acme.example
    unit: eng
  E2:
    first_name: Omar
    last_name: Haddad
    email: omar@acme.example
    unit: eng
    manager: E1
"""


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file name of each parse, as `config.load` runs them."""
    parsed: list[str] = []
    original = yamlload.parse

    def parse(text: str, file: str, **kwargs: object) -> yamlload.Document:
        parsed.append(file)
        return original(text, file, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "parse", parse)
    return parsed


def test_a_valid_config_is_parsed_once_keeping_only_its_collections_positions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE)
    parsed = counting_parses(monkeypatch)
    org = config.load(tmp_path)
    assert sorted(Path(p).name for p in parsed) == ["people.yaml", "units.yaml"]
    assert org.employees["E2"].location == Location(str(tmp_path / "people.yaml"), 7, 3)


def test_an_error_on_a_scalar_is_located_exactly_by_parsing_its_file_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE.replace("manager: E1", "manager: E9"))
    parsed = counting_parses(monkeypatch)
    assert problems(tmp_path) == [
        f"{tmp_path / 'people.yaml'}:12:14: employees.E2.manager: unknown employee 'E9'"]
    assert sorted(Path(p).name for p in parsed) == ["people.yaml", "people.yaml",
                                                    "units.yaml"]


def test_a_file_with_a_problem_is_parsed_whole_at_once():
    text = "units:\n  eng: {name: A}\n  eng: {name: B}\n"
    coarse = yamlload.parse(text, "f", scalars=False)
    assert coarse.spans.digest is None and ("units", "eng", "name") in coarse.spans
    assert [i.message for i in coarse.issues] == ["duplicate key 'eng' (first at line 2)"]
    valid = yamlload.parse("units:\n  eng: {name: A}\n", "f", scalars=False)
    assert valid.spans.digest is not None and ("units", "eng") in valid.spans
    assert ("units", "eng", "name") not in valid.spans


def test_equal_texts_are_kept_as_one_object(tmp_path: Path):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE + "    second_manager: E1\n")
    org = config.load(tmp_path)
    ana, omar = org.employees["E1"], org.employees["E2"]
    assert ana.unit is omar.unit
    assert omar.manager is ana.key and omar.second_manager is ana.key


def test_people_who_clear_nothing_share_one_empty_set(tmp_path: Path):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE)
    ana, omar = config.load(tmp_path).employees.values()
    assert ana.cleared == frozenset() and ana.cleared is omar.cleared  # 216 bytes each else


def test_the_yaml_of_the_people_is_let_go_as_they_are_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE)
    seen: list[dict[str, object]] = []
    original = config.build

    def build(data: dict[str, object], *args: object) -> object:
        seen.append(data)
        return original(data, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(config, "build", build)
    org = config.load(tmp_path)
    assert list(org.employees) == ["E1", "E2"]  # in the order written
    assert seen[0]["employees"] == {}


def test_a_large_org_is_kept_out_of_the_cyclic_collectors_reach(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "units.yaml").write_text(UNITS)
    (tmp_path / "people.yaml").write_text(PEOPLE)
    before = gc.get_freeze_count()
    config.load(tmp_path)  # small: left to the collector
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(config, "FREEZE_AFTER", 0)
    try:
        org = config.load(tmp_path)
        assert gc.get_freeze_count() > before
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert org.employees["E2"].manager == "E1"


@pytest.mark.parametrize("cls", [Unit, Team, Journey, Dated, Employee])
def test_model_constructors_take_what_dataclass_would(cls: type):
    params = inspect.signature(cls).parameters
    fields = dataclasses.fields(cls)
    assert list(params) == [f.name for f in fields]
    for f in fields:
        default = params[f.name].default
        if f.default is not dataclasses.MISSING:
            assert default == f.default
        elif f.default_factory is not dataclasses.MISSING:
            assert repr(default) == "<factory>"
        else:
            assert default is inspect.Parameter.empty


def test_model_objects_are_frozen_with_fresh_defaults():
    a = Employee("E1", "Ana", "Silva", "ana@acme.example")
    b = Employee(key="E2", first_name="Omar", last_name="Haddad", email="o@acme.example")
    assert a.identifications == {} and a.identifications is not b.identifications
    assert (a.role, a.status, a.unit_scopes, a.cleared) == ("colleague", "active", (),
                                                            frozenset())
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.key = "E3"  # type: ignore[misc]
    assert dataclasses.replace(a, hr="E2") == Employee("E1", "Ana", "Silva",
                                                       "ana@acme.example", hr="E2")
    with pytest.raises(TypeError):
        Employee("E1", "Ana")  # type: ignore[call-arg]
    assert not hasattr(a, "__dict__")


def test_a_file_changed_since_its_reading_locates_values_at_their_object(tmp_path: Path):
    path = tmp_path / "people.yaml"
    path.write_text(PEOPLE)
    where = sources.SourceMap()
    where.add_file(sources.read(path, scalars=False))
    assert where.value(("employees", "E2", "manager")) == Location(str(path), 12, 14)
    changed = sources.SourceMap()
    changed.add_file(sources.read(path, scalars=False))
    path.write_text("\n" + PEOPLE)
    assert changed.value(("employees", "E2", "manager")) == Location(str(path), 8, 5)
    assert changed.key(("employees", "E2")) == Location(str(path), 7, 3)


def test_a_plain_scalar_resolved_once_is_not_confused_with_a_quoted_one():
    doc = yamlload.parse("a: yes\nb: 'yes'\nc: yes\nd: \"0x1F\"\ne: 0x1F\nf: 0x1F\ng: Off\n"
                         "h: !!str Off\n", "f", scalars=False)
    assert doc.data == {"a": True, "b": "yes", "c": True, "d": "0x1F", "e": 31, "f": 31,
                        "g": False, "h": "Off"}
