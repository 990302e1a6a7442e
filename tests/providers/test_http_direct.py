"""`Http`'s direct path: a request without a body goes to `Http1Transport` without httpx's
client (issue 18). It must leave on the wire exactly as the client would send it, and come
back as the client would return it. Most tests send the same request both ways (through
`Http.request`, and through the `httpx.AsyncClient` it wraps) to a raw asyncio server on
loopback that records what it received."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from orgctl.errors import ProviderError
from orgctl.providers import http as http_module
from orgctl.providers.http import Http, Http1Transport, StaticHeaders

AUTH = {"Authorization": "Bearer t0ken", "X-Environment": "prod",
        "Content-Type": "application/json"}
GZIPPED = gzip.compress(b'{"data": ["\xc3\xa9t\xc3\xa9"]}')


def ok(body: bytes = b'{"a": 1}', *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s"
            b"\r\n%s" % (len(body), extra, body))


def serve(answer: bytes, test: Callable[[str, list[bytes]], Awaitable[None]],
          opened: list[int] | None = None) -> None:
    """Run `test(base_url, heads)` against a loopback server answering every request with
    `answer`; `heads` receives each request's line and headers as sent, `opened` a number
    for each connection opened."""
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if opened is not None:
            opened.append(len(opened))
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
    ("GET", "/v1/teams/6f1c-2b7e_x.y~Z9/admins", {}),
    ("GET", "/x/./y/../z/.", {}),
    ("GET", "/x/.hidden/..y/", {}),
    ("GET", "//x", {}),
    ("GET", "/x%2F%7e/y%zz%4", {}),
    ("GET", "/x?keep=1", {}),
    ("GET", "/v1/teams", {"params": {"page": 2, "per_page": 100, "q": "-1_a.b~", "e": ""}}),
    ("GET", "/v1/teams", {"params": {"page": 2, "on": True}}),
    ("GET", "/x?dropped=1", {"params": {"b": 2}}),
    ("GET", "/x?dropped=1", {"params": {}}),
    ("GET", "/x", {"headers": {"Accept": "application/json", "X-Trace": "1"}}),
    ("DELETE", "/units/7", {"allow": (404,)}),
    ("POST", "/resync", {}),
    ("PUT", "/units/7/close", {}),
], ids=["paged", "param-values", "plain-params", "plain-and-other-params", "path-quoting",
        "plain-path", "dot-segments",
        "dots-in-names", "double-slash", "percent-encoded", "own-query",
        "params-replace-query", "empty-params", "extra-headers", "delete", "bodiless-post",
        "bodiless-put"])
def test_a_request_without_a_body_is_sent_as_httpx_sends_it(
        method: str, path: str, kwargs: dict[str, Any]) -> None:
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, auth=StaticHeaders(AUTH))
        try:
            direct, client = await both_ways(http, method, path, **kwargs)
        finally:
            await http.aclose()
        assert len(heads) == 2 and heads[0] == heads[1]
        same_request(direct.request, client.request)

    serve(ok(), test)


def same_request(direct: httpx.Request, client: httpx.Request) -> None:
    assert direct.method == client.method
    assert direct.url == client.url
    for part in ("scheme", "host", "port", "netloc", "raw_path", "query", "fragment"):
        assert getattr(direct.url, part) == getattr(client.url, part), part
    assert direct.headers.raw == client.headers.raw
    assert direct.content == client.content == b""
    assert direct.extensions == client.extensions


@pytest.mark.parametrize("base", ["", "/api", "/api/v1.2/", "/a%20b", "/a b", "/x/../api",
                                  "/API?x=1"])
def test_a_url_under_any_base_url_is_the_url_httpx_makes(base: str) -> None:
    """`Http` makes a plain path's URL of the base URL's parts instead of parsing it
    whole, and httpx parses any other, or any URL under a base URL with a query."""
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url.removesuffix("/api") + base)
        try:
            for path in ("/users/7/roles", "users/7/r.o~l-e_s/", "/users/./7", "/u sers"):
                for params in (None, {"page": 3, "size": 100}):
                    direct, client = await both_ways(http, "GET", path, params=params)
                    same_request(direct.request, client.request)
        finally:
            await http.aclose()
        assert len(heads) == 16 and heads[0::2] == heads[1::2]

    serve(ok(), test)


def test_headers_made_once_serve_only_the_same_method_and_host() -> None:
    """`Http._headers` remembers the headers of a method and host: a POST after a GET
    carries Content-Length 0, an other host its own Host header."""
    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, auth=StaticHeaders(AUTH))
        try:
            await http.get("/x")
            await http.post("/x")
            await http.get(url.replace("127.0.0.1", "localhost") + "/y")
        finally:
            await http.aclose()
        host = url.split("/")[2].encode()
        assert [b"\r\ncontent-length: 0\r\n" in h.lower() for h in heads] == [
            False, True, False]
        assert [h.split(b"\r\n")[1] for h in heads] == [
            b"Host: " + host, b"Host: " + host,
            b"Host: " + host.replace(b"127.0.0.1", b"localhost")]

    serve(ok(), test)


def test_a_request_asking_to_close_its_connection_is_not_sent_on_it_again() -> None:
    opened: list[int] = []

    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url)
        try:
            await http.request("GET", "/x", headers={"Connection": "close"})
            await http.get("/x")
            await http.get("/x")
        finally:
            await http.aclose()
        assert len(heads) == 3

    serve(ok(), test, opened)
    assert len(opened) == 2  # the first request's, then one kept alive for the others


@pytest.mark.parametrize("answer", [
    ok(b'{"data": [1, 2]}', b"x-request-id: 7", b"x-request-id: 8"),
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain; "
    b"charset=latin-1\r\n\r\n3\r\n\xe9t\xe9\r\n0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 13\r\n\r\n{\"error\": 1}\n",
    b"HTTP/1.1 302 Found\r\nlocation: /elsewhere?x=1\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(GZIPPED), GZIPPED),
    b"HTTP/1.1 204 No Content\r\n\r\n",
], ids=["json", "chunked-latin-1", "refusal", "redirect", "gzip", "no-content"])
@pytest.mark.parametrize("read_whole", [True, False], ids=["read-whole", "httpx-reads"])
def test_the_answer_is_returned_as_httpx_returns_it(answer: bytes, read_whole: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Either way the direct path reads an answer: handed over read (`_read_whole`, what
    this httpx allows) or read by httpx (an httpx whose internals moved)."""
    assert http_module._READ_WHOLE, "this httpx no longer takes an answer handed over read"
    monkeypatch.setattr(http_module, "_READ_WHOLE", read_whole)

    async def test(url: str, heads: list[bytes]) -> None:
        http = Http("toy", url, auth=StaticHeaders(AUTH))
        try:
            direct, client = await both_ways(http, "GET", "/x", allow=(302, 404))
        finally:
            await http.aclose()
        for name in ("status_code", "reason_phrase", "http_version", "content", "text",
                     "encoding", "url", "is_redirect", "has_redirect_location",
                     "num_bytes_downloaded", "is_closed", "is_stream_consumed",
                     "extensions", "history", "default_encoding"):
            assert getattr(direct, name) == getattr(client, name), name
        assert direct.headers.raw == client.headers.raw
        if direct.headers.get("content-type") == "application/json":
            assert direct.json() == client.json()
        assert [chunk async for chunk in direct.aiter_bytes()] == [
            chunk async for chunk in client.aiter_bytes()]
        for read_again in (direct.aiter_raw(), client.aiter_raw()):
            with pytest.raises(httpx.StreamConsumed):
                await anext(read_again)
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


def test_plain_params_are_made_a_query_here_any_other_by_httpx() -> None:
    """A page number and size become the query without httpx encoding them (0.015 ms a
    request); anything it would encode, or not write as it is, is left to it."""
    http = Http("toy", "http://127.0.0.1:9/api")
    url = "http://127.0.0.1:9/api/v1/teams"
    made, rest = http._url(url, {"page": 2, "per_page": 100})
    assert rest is None and made == httpx.URL(url, params={"page": 2, "per_page": 100})
    for other in ({"on": True}, {"ids": [1, 2]}, {"q": "a b"}, {"q": "a,b"}, {}):
        assert http._url(url, other) == (url, other)
    asyncio.run(http.aclose())
