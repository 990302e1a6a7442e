"""Workelo templates by mobility and unit (seed 000 "Templates and models", seed 001 §3:
`GET /templates?mobility=onboarding&unit_organization_id={id}`), in both profiles: what a
lead-time journey of issue 15 resolves its templates with."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orgctl.errors import OrgctlError
from orgctl.sandbox import Sandbox, load_fixture
from tests.conftest import Sandboxes

SEED: dict[str, Any] = {"workelo": {
    "unit_organizations": [
        {"external_id": "acme", "name": "Acme", "level": "Group"},
        {"external_id": "eng", "name": "Engineering", "level": "Division", "parent": "acme"},
        {"external_id": "backend", "name": "Backend", "level": "Department",
         "parent": "eng"},
        {"external_id": "sales", "name": "Sales", "level": "Division", "parent": "acme"},
        {"external_id": "closing", "name": "Closing", "level": "Department",
         "parent": "sales"},
    ],
    "templates": [
        {"name": "Standard onboarding", "mobility": "onboarding"},
        {"name": "Engineering onboarding", "mobility": "onboarding", "units": ["eng"]},
        {"name": "Closing onboarding", "mobility": "onboarding", "units": ["closing"]},
        {"name": "Internal mobility", "mobility": "crossboarding"},
        {"name": "Engineering offboarding", "mobility": "offboarding", "units": ["eng"]},
        {"name": "Standard offboarding", "mobility": "offboarding"},
    ],
}}


@pytest.fixture(params=["permissive", "strict"])
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


class Workelo:
    def __init__(self, box: Sandbox):
        self.url = box.url("workelo")
        creds = box.endpoints()["workelo"]
        token = httpx.post(self.url + "/tokens", files={
            "client_id": (None, creds["client_id"]),
            "client_secret": (None, creds["client_secret"])}).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, headers=self.headers)

    def unit(self, external_id: str) -> int:
        units = self.get("/unit_organizations", limit=25).json()["data"]
        return next(u["id"] for u in units if u["external_id"] == external_id)

    def names(self, **params: Any) -> list[str]:
        answer = self.get("/templates", limit=25, **params)
        assert answer.status_code == 200, answer.text
        return [t["name"] for t in answer.json()["data"]]


@pytest.mark.parametrize(("mobility", "unit", "names"), [
    # no unit: the mobility only
    ("onboarding", None, ["Standard onboarding", "Engineering onboarding",
                          "Closing onboarding"]),
    # a unit's own templates and the every-unit ones
    ("onboarding", "eng", ["Standard onboarding", "Engineering onboarding"]),
    # a unit below one that has templates gets them too
    ("onboarding", "backend", ["Standard onboarding", "Engineering onboarding"]),
    ("onboarding", "closing", ["Standard onboarding", "Closing onboarding"]),
    # but not the other way up
    ("onboarding", "sales", ["Standard onboarding"]),
    ("onboarding", "acme", ["Standard onboarding"]),
    ("crossboarding", "backend", ["Internal mobility"]),
    ("offboarding", "backend", ["Engineering offboarding", "Standard offboarding"]),
    ("offboarding", "closing", ["Standard offboarding"]),
])
def test_templates_filter_by_mobility_and_unit(sandboxes: Sandboxes, mobility: str,
                                               unit: str | None, names: list[str]) -> None:
    workelo = Workelo(sandboxes.start(SEED))
    params = {"mobility": mobility}
    if unit is not None:
        params["unit_organization_id"] = str(workelo.unit(unit))
    assert workelo.names(**params) == names


def test_an_unknown_unit_gets_the_every_unit_templates(sandboxes: Sandboxes) -> None:
    workelo = Workelo(sandboxes.start(SEED))
    assert workelo.names(mobility="onboarding", unit_organization_id=999_999_999) == [
        "Standard onboarding"]


def test_an_unknown_mobility_is_a_422(sandboxes: Sandboxes) -> None:
    workelo = Workelo(sandboxes.start(SEED))
    answer = workelo.get("/templates", mobility="boarding")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        "mobility must be one of onboarding, crossboarding, offboarding"]


def test_template_answers_show_unit_ids_only_when_permissive(sandboxes: Sandboxes,
                                                             profile: str) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    eng = workelo.unit("eng")
    answer = workelo.get("/templates", mobility="onboarding",
                         unit_organization_id=eng).json()["data"]
    engineering = next(t for t in answer if t["name"] == "Engineering onboarding")
    if profile == "strict":
        assert set(engineering) == {"id", "name", "mobility"}
    else:
        assert engineering["unit_organization_ids"] == [eng]
        assert next(t for t in answer if t["name"] == "Standard onboarding"
                    )["unit_organization_ids"] == []


def test_deleting_a_templates_last_unit_never_widens_it_to_every_unit(
        sandboxes: Sandboxes) -> None:
    box = sandboxes.start(SEED)
    workelo = Workelo(box)
    closing = workelo.unit("closing")
    deleted = httpx.delete(f"{workelo.url}/unit_organizations/{closing}",
                           headers=workelo.headers)
    assert deleted.status_code == 204
    assert workelo.names(mobility="onboarding",
                         unit_organization_id=workelo.unit("eng")) == [
        "Standard onboarding", "Engineering onboarding"]
    assert "Closing onboarding" in workelo.names(mobility="onboarding")


def test_a_seeded_template_needs_a_known_mobility() -> None:
    seed = {"workelo": {"templates": [{"name": "Onboarding", "mobility": "boarding"}]}}
    with pytest.raises(OrgctlError, match="template 'Onboarding' needs a mobility"):
        Sandbox(seed, systems=("workelo",))


def test_the_builtin_acme_fixture_has_templates_per_mobility_and_unit(
        sandboxes: Sandboxes) -> None:
    workelo = Workelo(sandboxes.start(load_fixture(None)))
    backend, sales_na = workelo.unit("backend"), workelo.unit("sales-na")
    assert workelo.names(mobility="onboarding", unit_organization_id=backend) == [
        "Engineering onboarding", "Manager onboarding", "Standard onboarding"]
    assert workelo.names(mobility="onboarding", unit_organization_id=sales_na) == [
        "Manager onboarding", "Sales onboarding", "Standard onboarding"]
    assert workelo.names(mobility="crossboarding", unit_organization_id=backend) == [
        "Internal mobility"]
    assert workelo.names(mobility="offboarding", unit_organization_id=sales_na) == [
        "Standard offboarding"]
