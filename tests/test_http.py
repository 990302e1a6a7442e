"""The shared HTTP layer against a small real server on loopback: retry rules, auth renewal,
429 handling, concurrent paging, redaction."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgctl.errors import ProviderError
from orgctl.providers.http import (
    ApiError,
    ClientCredentials,
    Http,
    Pacer,
    Page,
    Paging,
    SignInHeaders,
    UnknownOutcome,
)
from orgctl.sandbox.core import Emulator, Faults, ServerThread


class Toy(Emulator):
    """A tiny API: tokens, a paged collection, a flaky endpoint, a create."""

    name = "toy"

    def load_seed(self, seed: dict) -> None:
        self.state = {"tokens": 0, "created": 0, "flaky": seed.get("flaky", 0), "items": 250,
                      "throttle": seed.get("throttle", 0), "valid": set()}

    def credentials(self) -> dict[str, str]:
        return {"client_id": "toy", "client_secret": "s3cret-value"}

    def routes(self) -> list[Route]:
        async def tokens(request: Request) -> Response:
            form = await request.form()
            if form.get("client_secret") != "s3cret-value":
                return JSONResponse({"error": "bad"}, 401)
            self.state["tokens"] += 1
            token = f"tok-{self.state['tokens']}"
            self.state["valid"].add(token)
            return JSONResponse({"access_token": token, "token_type": "Bearer",
                                 "expires_in": 3600})

        def authed(request: Request) -> bool:
            header = request.headers.get("authorization", "")
            return header.removeprefix("Bearer ") in self.state["valid"]

        async def items(request: Request) -> Response:
            if not authed(request):
                return JSONResponse({"error": "unauthorized"}, 401)
            limit = int(request.query_params.get("limit", 10))
            offset = int(request.query_params.get("offset", 0))
            data = list(range(offset, min(offset + limit, self.state["items"])))
            return JSONResponse({"data": data, "pagination": {"total": self.state["items"],
                                                              "limit": limit, "offset": offset}})

        async def flaky(request: Request) -> Response:
            if self.state["flaky"] > 0:
                self.state["flaky"] -= 1
                return Response("boom", 503)
            return JSONResponse({"ok": True})

        async def throttled(request: Request) -> Response:
            if self.state["throttle"] > 0:
                self.state["throttle"] -= 1
                return JSONResponse({}, 429, headers={"Retry-After": "0.05"})
            return JSONResponse({"ok": True})

        async def create(request: Request) -> Response:
            self.state["created"] += 1
            return Response("boom", 503)

        async def sign_in(request: Request) -> Response:
            body = await request.json()
            if body.get("password") != "pw-secret":
                return JSONResponse({"errors": ["Invalid login credentials"]}, 401)
            return JSONResponse({"data": {}}, headers={
                "access-token": "at-123", "client": "c-1", "uid": "admin"})

        async def me(request: Request) -> Response:
            ok = all(request.headers.get(h) for h in ("access-token", "client", "uid"))
            return JSONResponse({"ok": ok}, 200 if ok else 401)

        return [
            Route("/tokens", tokens, methods=["POST"]),
            Route("/items", items),
            Route("/flaky", flaky, methods=["GET", "POST"]),
            Route("/throttled", throttled),
            Route("/create", create, methods=["POST"]),
            Route("/auth/sign_in", sign_in, methods=["POST"]),
            Route("/me", me),
        ]


@pytest.fixture
def toy():
    emu = Toy()
    with ServerThread({"toy": emu.app}) as servers:
        yield emu, servers.url("toy")


def run(coro):
    return asyncio.run(coro)


def make_http(url: str, **kwargs) -> Http:
    kwargs.setdefault("backoff", 0.001)
    return Http("toy", url, auth=ClientCredentials("/tokens", "toy", "s3cret-value"), **kwargs)


def test_offset_paging_fetches_each_page_once(toy):
    emu, url = toy

    async def go():
        http = make_http(url)
        try:
            return await http.collect(
                "/items", None, Paging("offset", 100, "limit", "offset"),
                lambda b: Page(b["data"], total=b["pagination"]["total"]))
        finally:
            await http.aclose()

    items = run(go())
    assert items == list(range(250))
    assert emu.log.count(route="/items") == 3  # ceil(250 / 100)
    assert emu.log.count(route="/tokens") == 1


def test_get_retries_5xx_until_success(toy):
    emu, url = toy
    emu.state["flaky"] = 3

    async def go():
        http = make_http(url)
        try:
            return await http.get("/flaky")
        finally:
            await http.aclose()

    assert run(go()) == {"ok": True}
    assert emu.log.count(route="/flaky", status=503) == 3


def test_post_with_5xx_is_an_unknown_outcome_and_not_retried(toy):
    emu, url = toy

    async def go():
        http = make_http(url)
        try:
            await http.post("/create", json={})
        finally:
            await http.aclose()

    with pytest.raises(UnknownOutcome):
        run(go())
    assert emu.state["created"] == 1


def test_dropped_connection_on_post_is_unknown_outcome():
    emu = Toy(faults=Faults(drop_rate=1.0))
    with ServerThread({"toy": emu.app}) as servers:
        async def go():
            http = Http("toy", servers.url("toy"), backoff=0.001)
            try:
                await http.post("/flaky", json={})
            finally:
                await http.aclose()

        with pytest.raises(UnknownOutcome):
            run(go())


def test_429_waits_retry_after_and_counts(toy):
    emu, url = toy
    emu.state["throttle"] = 2

    async def go():
        http = make_http(url)
        try:
            return await http.get("/throttled"), http.throttled
        finally:
            await http.aclose()

    body, throttled = run(go())
    assert body == {"ok": True}
    assert throttled == 2


def test_expired_token_is_renewed_once_on_401(toy):
    emu, url = toy

    async def go():
        http = make_http(url)
        try:
            await http.get("/items")
            emu.state["valid"].clear()  # the server forgets every token: as on expiry
            return await http.get("/items")
        finally:
            await http.aclose()

    assert run(go())["pagination"]["total"] == 250
    assert emu.log.count(route="/tokens") == 2


def test_a_401_for_a_token_already_renewed_uses_the_new_one():
    """Two requests go out with the same token as it expires; the second is refused only
    once the first succeeded with a renewed one. It retries with that token: one renewal,
    not two."""
    tokens: list[str] = []
    expired = False

    async def go():
        nonlocal expired
        renewed = asyncio.Event()

        async def handler(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0)  # let the other request go out meanwhile
            if request.url.path == "/tokens":
                tokens.append(f"tok-{len(tokens) + 1}")
                return httpx.Response(200, json={"access_token": tokens[-1],
                                                 "expires_in": 3600})
            if request.headers["authorization"] == "Bearer tok-1":
                if not expired:
                    return httpx.Response(200, json={"ok": True})
                if request.url.params.get("late"):
                    await renewed.wait()
                return httpx.Response(401, json={"error": "expired"})
            renewed.set()  # the renewed token is in use
            return httpx.Response(200, json={"ok": True})

        http = Http("toy", "http://toy.invalid", backoff=0.001,
                    auth=ClientCredentials("/tokens", "toy", "s3cret-value"),
                    transport=httpx.MockTransport(handler))
        try:
            await http.get("/items")
            expired = True
            return await asyncio.gather(http.get("/items"), http.get("/items?late=1"))
        finally:
            await http.aclose()

    assert run(go()) == [{"ok": True}, {"ok": True}]
    assert tokens == ["tok-1", "tok-2"]


def test_wrong_secret_fails_with_provider_error_without_the_secret(toy):
    emu, url = toy

    async def go():
        http = Http("toy", url, auth=ClientCredentials("/tokens", "toy", "wrong-secret-xyz"))
        try:
            await http.get("/items")
        finally:
            await http.aclose()

    with pytest.raises(ApiError) as info:
        run(go())
    assert info.value.status == 401
    assert "wrong-secret-xyz" not in str(info.value)


def test_sign_in_headers_are_sent_on_every_call(toy):
    emu, url = toy

    async def go():
        auth = SignInHeaders("/auth/sign_in", {"username": "admin", "password": "pw-secret"})
        http = Http("toy", url, auth=auth)
        try:
            return await http.get("/me")
        finally:
            await http.aclose()

    assert run(go()) == {"ok": True}


def test_unreachable_host_names_the_provider():
    async def go():
        http = Http("workelo", "http://127.0.0.1:9", retries=1, backoff=0.001)
        try:
            await http.get("/x")
        finally:
            await http.aclose()

    with pytest.raises(ProviderError, match="workelo: cannot reach"):
        run(go())


def test_pacer_holds_requests_to_the_window():
    async def go():
        pacer = Pacer(3, 0.2)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(4):
            await pacer.acquire()
        return pacer.waited, loop.time() - start

    waited, _elapsed = run(go())
    assert waited > 0  # the fourth request had to wait for the window to slide


def test_pacer_counts_a_slot_from_the_answer():
    # The server counts a request when it reaches it, up to the answer: a slot reused one
    # window after the send, not the answer, got 429s from a server paced exactly.
    async def go():
        pacer = Pacer(1, 0.2)
        loop = asyncio.get_running_loop()
        start = loop.time()
        slot = await pacer.acquire()
        await asyncio.sleep(0.1)  # the request is in flight
        pacer.release(slot)
        await pacer.acquire()
        return loop.time() - start

    assert run(go()) >= 0.3


def test_pacer_parses_specs():
    assert Pacer.parse("1000/h").limit == 1000
    assert Pacer.parse("60/m").window == 60.0
    assert Pacer.parse(None) is None
    with pytest.raises(ValueError):
        Pacer.parse("lots")


def test_http_log_lines_never_hold_secrets(toy, caplog):
    emu, url = toy
    caplog.set_level(logging.DEBUG, logger="orgctl.http")

    async def go():
        http = make_http(url)
        try:
            await http.get("/items")
        finally:
            await http.aclose()

    run(go())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/items" in text
    assert "s3cret-value" not in text and "tok-1" not in text


def test_a_failed_token_fetch_fails_every_waiting_request_at_once():
    async def go():
        http = Http("workelo", "http://127.0.0.1:9", retries=2, backoff=0.001,
                    auth=ClientCredentials("/tokens", "id", "secret-value"))
        try:
            results = await asyncio.gather(*(http.get(f"/items/{i}") for i in range(8)),
                                           return_exceptions=True)
            return results, http.requests
        finally:
            await http.aclose()

    results, attempts = run(go())
    assert all(isinstance(r, ProviderError) for r in results)
    assert attempts == 3  # one token fetch and its 2 retries, not 3 per waiting request


def test_a_credential_with_a_newline_fails_at_once_with_a_hint(toy):
    from orgctl.providers.http import StaticHeaders

    emu, url = toy

    async def go():
        http = Http("hrms", url, backoff=0.001,
                    auth=StaticHeaders({"Authorization": "Bearer tok-with-newline\n"}))
        try:
            await http.get("/items")
        finally:
            await http.aclose()

    with pytest.raises(ProviderError, match="control character") as info:
        run(go())
    assert "tok-with-newline" not in str(info.value)
    assert emu.log.count() == 0  # refused before sending, never retried
