"""`Http`'s direct path: a request without a body goes to `Http1Transport` without httpx's
client (issue 18). It must leave on the wire exactly as the client would send it, and come
back as the client would return it. Each test sends the same request both ways (through
`Http.request`, and through the `httpx.AsyncClient` it wraps) to a raw asyncio server on
loopback that records what it received."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from orgctl.errors import ProviderError
from orgctl.providers.http import Http, Http1Transport, StaticHeaders

AUTH = {"Authorization": "Bearer t0ken", "X-Environment": "prod",
        "Content-Type": "application/json"}


def ok(body: bytes = b'{"a": 1}', *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s"
            b"\r\n%s" % (len(body), extra, body))


def serve(answer: bytes, test: Callable[[str, list[bytes]], Awaitable[None]]) -> None:
    """Run `test(base_url, heads)` against a loopback server answering every request with
    `answer`; `heads` receives each request's line and headers as sent."""
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await test(f"http://127.0.0.1:{port}/api", heads)
        finally:
            server.close()

    asyncio.run(main())


async def both_ways(http: Http, method: str, path: str, **kwargs: Any
                    ) -> tuple[httpx.Response, httpx.Response]:
    """The answer of `http.request(method, path, ...)`, then of the same request sent by
    httpx's client with the headers `Http.request` adds (its credentials)."""
    direct = await http.request(method, path, **kwargs)
    headers = {**kwargs.get("headers", {}), **await http.auth.headers(http)}
    client = await http._client.request(method, http.url(path), params=kwargs.get("params"),
                                        headers=headers)
    return direct, client


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/v1/users", {"params": {"page[number]": 2, "page[size]": 100,
                                     "include": "department,position"}}),
    ("GET", "/v1/users", {"params": {"on": True, "off": False, "none": None, "ids": [1, 2],
                                     "q": "é &=/?#", "n": 1.5}}),
    ("GET", "/a b/ü/./x/../y", {}),
    ("GET", "/x?keep=1", {}),
    ("GET", "/x?dropped=1", {"params": {"b": 2}}),
    ("GET", "/x?dropped=1", {"params": {}}),
    ("GET", "/x", {"headers": {"Accept": "application/json", "X-Trace": "1"}}),
    ("DELETE", "/units/7", {"allow": (404,)}),
    ("POST", "/resync", {}),
    ("PUT", "/units/7/close", {}),
], ids=["paged", "param-values", "path-quoting", "own-query", "params-replace-query",
        "empty-params", "extra-headers", "delete", "bodiless-post", "bodiless-put"])
def test_a_request_without_a_body_is_sent_as_httpx_sends_it(
        method: str, path: str, kwargs: dict[str, Any]) -> None:
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, auth=StaticHeaders(AUTH))
        try:
            direct, client = await both_ways(http, method, path, **kwargs)
        finally:
            await http.aclose()
        assert len(heads) == 2 and heads[0] == heads[1]
        assert direct.request.url == client.request.url
        assert direct.request.headers.multi_items() == client.request.headers.multi_items()

    serve(ok(), test)


@pytest.mark.parametrize("answer", [
    ok(b'{"data": [1, 2]}', b"x-request-id: 7", b"x-request-id: 8"),
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain; "
    b"charset=latin-1\r\n\r\n3\r\n\xe9t\xe9\r\n0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 13\r\n\r\n{\"error\": 1}\n",
    b"HTTP/1.1 302 Found\r\nlocation: /elsewhere?x=1\r\ncontent-length: 0\r\n\r\n",
], ids=["json", "chunked-latin-1", "refusal", "redirect"])
def test_the_answer_is_returned_as_httpx_returns_it(answer: bytes) -> None:
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, auth=StaticHeaders(AUTH))
        try:
            direct, client = await both_ways(http, "GET", "/x", allow=(302, 404))
        finally:
            await http.aclose()
        for name in ("status_code", "reason_phrase", "http_version", "content", "text",
                     "encoding", "url", "is_redirect", "has_redirect_location"):
            assert getattr(direct, name) == getattr(client, name), name
        assert direct.headers.multi_items() == client.headers.multi_items()
        assert direct.request.method == "GET" and direct.elapsed.total_seconds() >= 0
        if client.next_request is None:
            assert direct.next_request is None
        else:  # prepared as the client prepares it, and not followed
            assert direct.next_request is not None
            assert direct.next_request.url == client.next_request.url
            assert len(heads) == 2

    serve(answer, test)


def test_a_redirect_to_a_location_that_is_no_url_fails_as_through_httpx() -> None:
    """httpx's client reads it as a protocol error (a GET is retried, then given up)."""
    answer = b"HTTP/1.1 302 Found\r\nlocation: http://a\x01b/\r\ncontent-length: 0\r\n\r\n"

    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, retries=1, backoff=0.001)
        try:
            with pytest.raises(httpx.RemoteProtocolError):
                await http._client.get(f"{url}/x")
            with pytest.raises(ProviderError, match="RemoteProtocolError after the request "
                                                    "was sent; gave up after 2 attempts"):
                await http.get("/x")
        finally:
            await http.aclose()
        assert len(heads) == 3

    serve(answer, test)


def test_the_line_httpx_logs_for_a_request_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")

    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url)
        try:
            await both_ways(http, "GET", "/x", params={"page": 2})
        finally:
            await http.aclose()

    serve(ok(), test)
    direct, client = (r.getMessage() for r in caplog.records if r.name == "httpx")
    assert direct == client and direct.startswith("HTTP Request: GET http://127.0.0.1:")


def test_cookies_a_server_sets_are_sent_back_as_httpx_does() -> None:
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url)
        try:
            await http.get("/login")
            await http.get("/x")
        finally:
            await http.aclose()
        assert b"\r\ncookie: session=s1" not in heads[0].lower()
        assert b"\r\ncookie: session=s1" in heads[1].lower()

    serve(ok(b"{}", b"set-cookie: session=s1; Path=/"), test)


def test_a_closed_client_opens_no_connection() -> None:
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url)
        await http.get("/x")
        await http.aclose()
        with pytest.raises(RuntimeError, match="client has been closed"):
            await http.get("/x")
        assert len(heads) == 1

    serve(ok(), test)


def test_a_proxy_in_the_environment_receives_the_requests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a proxy, requests without a body too go through it (httpx's transport)."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def test(proxy: str, heads: list[bytes]) -> None:
        monkeypatch.setenv("HTTP_PROXY", proxy.removesuffix("/api"))
        http = Http("toy", "http://api.example/v1", auth=StaticHeaders(AUTH))
        try:
            assert not isinstance(http._client._transport, Http1Transport)
            assert await http.get("/users", {"page": 1}) == {"a": 1}
        finally:
            await http.aclose()
        assert heads[0].startswith(b"GET http://api.example/v1/users?page=1 HTTP/1.1\r\n")

    serve(ok(), test)
