"""Provider mappings tested as data, pyinfra-style: each `cases/<system>/NN-name.yaml` is one
test, and no socket is opened.

A case holds:

config    a small org config (`version: 1` is added); its `providers:` block has the
          system's provider, named after the directory.
expect    the resources the provider gives: `desired(org)` for a case without `answers`,
          `read()` for a case with them.
answers   what the system's API answers: {"METHOD /path": JSON body}, paths relative to the
          provider's URL. A key with `?query` answers only that query (decoded, as sent);
          one without answers any. The HTTP layer's client answers from here
          (`httpx.MockTransport`); a request with no answer fails the case.
headers   response headers by the same keys (Worklete's sign-in sends its token in them).
findings  with `answers`: what `findings(org, live)` reports, [{key, message, level}].

An expected resource gives `kind`, `key`, `attrs` and `refs` (both compared whole, empty
when left out); `identities`, `remote_id`, `server`, `protected` and `source` are compared
when given. The provider must give exactly the expected resources, in any order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import yaml

import orgctl.providers.http
from orgctl.config import load
from orgctl.model import Org
from orgctl.providers import create
from orgctl.providers.base import Provider
from orgctl.resources import Resource

CASES = sorted(Path(__file__).parent.joinpath("cases").glob("*/*.yaml"))
ALWAYS = ("kind", "key", "attrs", "refs")
WHEN_GIVEN = ("identities", "remote_id", "server", "protected", "source")


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mapping(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    system = path.parent.name
    org = load_config(case["config"], tmp_path)
    provider = create(org.providers[system])
    if "answers" not in case:
        provider.bind(org)
        got = provider.desired(org)
    else:
        answer = Answers(case["answers"], case.get("headers") or {}, provider.config.url)
        real_client = httpx.AsyncClient
        monkeypatch.setattr(orgctl.providers.http.httpx, "AsyncClient", lambda **kwargs: (
            real_client(**{**kwargs, "transport": httpx.MockTransport(answer)})))
        got = asyncio.run(read(provider))
    assert as_expected(got, case["expect"]) == expected(case["expect"])
    if "findings" in case:
        found = [{"key": f.key, "message": f.message, "level": f.level}
                 for f in provider.findings(org, got)]
        assert found == case["findings"]


def load_config(config: dict[str, Any], directory: Path) -> Org:
    (directory / "org.yaml").write_text(
        yaml.safe_dump({"version": 1, **config}, sort_keys=False, allow_unicode=True),
        encoding="utf-8")
    return load(directory, resolve_env=False)


async def read(provider: Provider) -> list[Resource]:
    try:
        return await provider.read()
    finally:
        await provider.aclose()


class Answers:
    """The API of one case: answers a request from the case's table, or fails the case."""

    def __init__(self, bodies: dict[str, Any], headers: dict[str, dict[str, str]], url: str):
        self.bodies = bodies
        self.headers = headers
        self.base = urlsplit(url).path.rstrip("/")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(self.base)
        query = unquote(request.url.query.decode())
        for key in (f"{request.method} {path}?{query}", f"{request.method} {path}"):
            if key in self.bodies:
                return httpx.Response(200, json=self.bodies[key],
                                      headers=self.headers.get(key, {}))
        raise AssertionError(f"the case has no answer for {request.method} {path}?{query}")


def as_expected(resources: list[Resource], expect: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources, each with the fields its expectation names, in the expected order
    (resources nobody expected last)."""
    given = {(e["kind"], e["key"]): e for e in expect}
    order = {identity: n for n, identity in enumerate(given)}
    shown = []
    for r in resources:
        fields = ALWAYS + tuple(f for f in WHEN_GIVEN if f in given.get((r.kind, r.key), ()))
        shown.append({f: list(getattr(r, f)) if f == "identities" else getattr(r, f)
                      for f in fields})
    return sorted(shown, key=lambda r: order.get((r["kind"], r["key"]), len(order)))


def expected(expect: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"attrs": {}, "refs": {}, **e} for e in expect]
