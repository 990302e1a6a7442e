"""The fault injector shared by all emulators: each fault does what its name says."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgctl.sandbox.core import Emulator, Faults, ServerThread


class Counter(Emulator):
    name = "counter"

    def load_seed(self, seed: dict) -> None:
        self.state = {"writes": 0}

    def credentials(self) -> dict[str, str]:
        return {}

    def routes(self) -> list[Route]:
        async def write(request: Request) -> Response:
            self.state["writes"] += 1
            return JSONResponse({"writes": self.state["writes"]}, 201)

        return [Route("/things", write, methods=["POST"])]


def post_many(faults: Faults, n: int = 20) -> tuple[Counter, list[object]]:
    emu = Counter(faults=faults)
    results: list[object] = []
    with ServerThread({"c": emu.app}) as servers, httpx.Client() as client:
        for _ in range(n):
            try:
                results.append(client.post(servers.url("c") + "/things").status_code)
            except httpx.TransportError as exc:
                results.append(type(exc).__name__)
    return emu, results


def test_parse_rejects_unknown_faults():
    assert Faults.parse("5xx=0.1,latency=20").error_rate == 0.1
    with pytest.raises(ValueError, match="bad fault"):
        Faults.parse("explode=1")
    with pytest.raises(ValueError, match="not a number"):
        Faults.parse("5xx=lots")


def test_5xx_and_429_answer_before_anything_is_written():
    emu, results = post_many(Faults(error_rate=1.0))
    assert set(results) == {503} and emu.state["writes"] == 0
    emu, results = post_many(Faults(rate_429=1.0))
    assert set(results) == {429} and emu.state["writes"] == 0


def test_drop_closes_the_connection_mid_answer():
    emu, results = post_many(Faults(drop_rate=1.0), n=5)
    assert set(results) == {"RemoteProtocolError"} and emu.state["writes"] == 0


def test_commit_then_fail_writes_but_the_client_sees_an_error():
    emu, results = post_many(Faults(commit_fail_rate=1.0, seed=3))
    assert emu.state["writes"] == 20  # every write happened...
    assert 201 not in results  # ...and no client saw it succeed


def test_request_log_counts_every_answer_by_route_and_status():
    emu, _ = post_many(Faults(error_rate=0.5, seed=7), n=40)
    assert emu.log.count(route="/things") == 40
    assert emu.log.count(status=503) + emu.log.count(status=201) == 40
    assert emu.log.count(status=201) == emu.state["writes"]
