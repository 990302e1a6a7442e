"""`Http1Transport`, the transport `Http` sends through: framing, keep-alive, and errors as
httpx's own transport raises them, so that `Http.request`'s retry rules read them alike.
Each test runs against a raw asyncio server that answers exactly the bytes it is given."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import httpx
import pytest

from orgctl.errors import ProviderError, UnknownOutcome
from orgctl.providers.http import Http, Http1Transport, StaticHeaders

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def serve(handler: Handler, test: Callable[[str], Awaitable[None]]) -> None:
    """Run `test(base_url)` against a loopback server whose connections `handler` answers."""
    async def main() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await test(f"http://127.0.0.1:{port}")
        finally:
            server.close()
    asyncio.run(main())


def answering(*answers: bytes, connections: list[int] | None = None) -> Handler:
    """Answer the requests of each connection with `answers` in turn (the last repeats);
    count connections in `connections`."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connections is not None:
            connections.append(1)
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(answers[min(n, len(answers) - 1)])
                await writer.drain()
                n += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
    return handler


def ok(body: bytes, *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s"
            b"\r\n%s" % (len(body), extra, body))


def test_keep_alive_reuses_one_connection_for_requests_in_turn() -> None:
    connections: list[int] = []

    async def test(url: str) -> None:
        http = Http("toy", url)
        try:
            assert [await http.get("/x") for _ in range(5)] == [{"a": 1}] * 5
        finally:
            await http.aclose()

    serve(answering(ok(b'{"a": 1}'), connections=connections), test)
    assert len(connections) == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    connections: list[int] = []
    closing = ok(b'{"a": 1}', b"connection: close")

    async def test(url: str) -> None:
        http = Http("toy", url, retries=0)
        try:
            for _ in range(3):
                assert await http.get("/x") == {"a": 1}
                await asyncio.sleep(0.01)
        finally:
            await http.aclose()

    serve(answering(closing, connections=connections), test)
    assert len(connections) == 3


def test_chunked_and_gzip_answers_are_read_whole() -> None:
    body = gzip.compress(b'{"data": [1, 2, 3]}')
    chunked = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
               b"content-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
               + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + 5]), body[i:i + 5])
                          for i in range(0, len(body), 5))
               + b"0\r\ntrailer: x\r\n\r\n")

    async def test(url: str) -> None:
        http = Http("toy", url)
        try:
            assert await http.get("/x") == {"data": [1, 2, 3]}
            assert await http.get("/x") == {"data": [1, 2, 3]}  # same connection, in step
        finally:
            await http.aclose()

    serve(answering(chunked), test)


def test_an_answer_framed_by_the_end_of_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"a\": ")
        await writer.drain()
        writer.write(b"2}")
        writer.close()

    async def test(url: str) -> None:
        http = Http("toy", url)
        try:
            assert await http.get("/x") == {"a": 2}
        finally:
            await http.aclose()

    serve(handler, test)


def test_informational_answers_are_skipped_and_204_has_no_body() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"

    async def test(url: str) -> None:
        http = Http("toy", url)
        try:
            resp = await http.request("DELETE", "/x")
            assert resp.status_code == 204 and resp.content == b""
            assert (await http.request("DELETE", "/x")).status_code == 204
        finally:
            await http.aclose()

    serve(answering(answer), test)


def test_a_connection_dropped_before_the_answer_retries_a_get_and_not_a_post() -> None:
    calls: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        calls.append(head.split(b" ")[0].decode())
        if len(calls) == 1 or head.startswith(b"POST"):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{\"a")  # cut short
        else:
            writer.write(ok(b'{"a": 3}'))
        await writer.drain()
        writer.close()

    async def test(url: str) -> None:
        http = Http("toy", url, backoff=0.001)
        try:
            assert await http.get("/x") == {"a": 3}
            await asyncio.sleep(0.05)  # the server has closed that connection: not reused
            with pytest.raises(UnknownOutcome):
                await http.post("/x", json={"b": 1})
        finally:
            await http.aclose()

    serve(handler, test)
    assert calls == ["GET", "GET", "POST"]


def test_a_slow_answer_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(1)
        writer.close()

    async def test(url: str) -> None:
        transport = Http1Transport()
        client = httpx.AsyncClient(transport=transport, timeout=0.05)
        try:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"{url}/x")
        finally:
            await client.aclose()

    serve(handler, test)


def test_a_header_value_with_a_newline_is_refused_before_anything_is_sent() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.read(100))
        writer.close()

    async def test(url: str) -> None:
        http = Http("toy", url, auth=StaticHeaders({"x-api-key": "a\r\nX-Evil: 1"}))
        try:
            with pytest.raises(ProviderError, match="header value is invalid"):
                await http.get("/x")
        finally:
            await http.aclose()

    serve(handler, test)
    assert seen in ([], [b""])


def test_nothing_listening_is_a_connect_error() -> None:
    async def test() -> None:
        client = httpx.AsyncClient(transport=Http1Transport())
        try:
            with pytest.raises(httpx.ConnectError, match="^connection refused$"):
                await client.get("http://127.0.0.1:9/x")
        finally:
            await client.aclose()

    asyncio.run(test())


def test_a_malformed_status_line_is_a_protocol_error() -> None:
    async def test(url: str) -> None:
        client = httpx.AsyncClient(transport=Http1Transport())
        try:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"{url}/x")
        finally:
            await client.aclose()

    serve(answering(b"ICY 200 OK\r\n\r\n"), test)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n" + b"x" * 2000,
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\n" + b"x" * 1024
    + b"\r\n400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + b"x" * 2000,
], ids=["content-length", "chunked", "to-the-end"])
def test_an_answer_over_the_size_limit_is_refused_not_buffered(
        answer: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile or broken server cannot make orgctl hold an endless answer in memory:
    past MAX_BODY (here lowered to 1,500 bytes) the answer is a protocol error."""
    monkeypatch.setattr(Http1Transport, "MAX_BODY", 1500)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def test(url: str) -> None:
        client = httpx.AsyncClient(transport=Http1Transport())
        try:
            with pytest.raises(httpx.RemoteProtocolError, match="more than"):
                await client.get(f"{url}/x")
        finally:
            await client.aclose()

    serve(handler, test)


def test_a_proxy_in_the_environment_keeps_httpx_own_transport(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: `Http` always handed httpx its own transport, and httpx then ignores
    HTTPS_PROXY: behind a proxy every request went straight out (and failed)."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    direct = Http("toy", "https://api.example")
    assert isinstance(direct._client._transport, Http1Transport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = Http("toy", "https://api.example")
    assert not isinstance(proxied._client._transport, Http1Transport)
    assert any(mount is not None for mount in proxied._client._mounts.values())
