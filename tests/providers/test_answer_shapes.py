"""Answers of a shape a provider cannot use, as data: (system, the endpoint that answers
wrongly, its answer, what the error must say). Every other endpoint answers an empty list,
through an in-memory transport (no sockets). The read must fail with an `UnexpectedAnswer`
naming the system, the request and the field, never with a KeyError or a TypeError."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from orgctl.errors import UnexpectedAnswer
from orgctl.model import ProviderConfig
from orgctl.providers.base import Provider
from orgctl.providers.hrms import HrmsProvider
from orgctl.providers.http import Http
from orgctl.providers.workelo import WorkeloProvider
from orgctl.providers.workleap import WorkleapProvider
from orgctl.providers.worklete import WorkleteProvider

URL = "http://api.invalid/v1"
SETTINGS: dict[type[Provider], dict[str, Any]] = {
    WorkeloProvider: {"client_id": "id", "client_secret": "secret"},
    HrmsProvider: {"token": "token", "environment": "staging"},
    WorkleapProvider: {"api_key": "key"},
    WorkleteProvider: {"username": "u", "password": "p", "organization": "org-1"},
}
EMPTY: dict[type[Provider], Any] = {
    WorkeloProvider: {"data": [], "pagination": {"total": 0}},
    HrmsProvider: {"data": [], "meta": {"total": 0}},
    WorkleapProvider: {"items": [], "total": 0},
    WorkleteProvider: {"data": [], "meta": {"total": 0}},
}
ORGANIZATIONS = {"data": [{"id": "org-1", "name": "Acme"}], "meta": {"total": 1}}

CASES = [
    (WorkeloProvider, "/employees",
     {"data": [{"id": 1, "first_name": "Ann", "last_name": "Lee"}], "pagination": {"total": 1}},
     "GET /employees: email is missing"),
    (WorkeloProvider, "/tracks", {"data": [], "pagination": {"total": "many"}},
     "GET /tracks: total is text, not a number or null"),
    (WorkeloProvider, "/unit_organizations", ["not", "a", "page"],
     "GET /unit_organizations: expected an object, got list"),
    (WorkeloProvider, "/tracks",
     {"data": [{"id": "7", "status": "draft", "mobility": "onboarding",
                "start_date": "2025-01-06"}], "pagination": {"total": 1}},
     "GET /tracks: id is text, not a number"),
    (HrmsProvider, "/v1/users", {"data": [{"id": "u1", "attributes": {"name": 5}}]},
     "GET /v1/users: name is a number, not text or null"),
    (HrmsProvider, "/v1/departments", {"meta": {"total": 0}},
     "GET /v1/departments: data is missing"),
    (WorkleapProvider, "/provisioning/members", {"items": "none", "total": 0},
     "GET /provisioning/members: items is text, not a list"),
    (WorkleapProvider, "/provisioning/teams",
     {"items": [{"id": "t1", "teamName": "Eng"}], "total": 1},
     "GET /provisioning/teams: externalTeamId is missing"),
    (WorkleteProvider, "/organizations/org-1/teams",
     {"data": [{"id": "t1", "name": "Eng", "parent_id": 3}], "meta": {"total": 1}},
     "GET /organizations/org-1/teams: parent_id is a number, not text or null"),
    (WorkleteProvider, "/worklete_admin/memberships", {"data": [{"user": {}}]},
     "GET /worklete_admin/memberships: id is missing"),
]


def provider_answering(kind: type[Provider], path: str, answer: Any) -> Provider:
    provider = kind(ProviderConfig(kind.type, kind.type, URL, SETTINGS[kind]))

    def handle(request: httpx.Request) -> httpx.Response:
        route = request.url.path.removeprefix("/v1")
        if route == path:
            return httpx.Response(200, json=answer)
        if route == "/organizations":
            return httpx.Response(200, json=ORGANIZATIONS)
        return httpx.Response(200, json=EMPTY[kind])

    provider.make_http = lambda: Http(  # type: ignore[method-assign]
        provider.name, URL, transport=httpx.MockTransport(handle))
    return provider


def read(provider: Provider) -> list[Any]:
    async def main() -> list[Any]:
        try:
            return await provider.read()
        finally:
            await provider.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(("kind", "path", "answer", "says"), CASES,
                         ids=[f"{c[0].type}{c[1]}-{c[3].split(': ')[-1]}" for c in CASES])
def test_an_answer_of_the_wrong_shape_is_an_unexpected_answer_naming_the_field(
        kind: type[Provider], path: str, answer: Any, says: str) -> None:
    provider = provider_answering(kind, path, answer)
    with pytest.raises(UnexpectedAnswer) as caught:
        read(provider)
    assert str(caught.value).startswith(f"{kind.type}: unexpected answer from the API: {says}")


def test_well_formed_empty_answers_read_as_nothing() -> None:
    for kind in SETTINGS:
        assert read(provider_answering(kind, "/none", None)) == []


def test_a_write_table_naming_an_undeclared_kind_is_refused_when_the_class_is_defined(
        ) -> None:
    async def write(self: Provider, change: Any, ids: Any) -> None:
        return None

    with pytest.raises(TypeError, match="WRITES names kinds not in KINDS: group"):
        type("Odd", (Provider,), {"type": "odd", "KINDS": ("unit",),
                                  "WRITES": {("group", "create"): write}})
