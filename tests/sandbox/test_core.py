"""What all emulators share: each fault of the fault injector does what its name says;
answers kept encoded are the bytes Starlette would write; routing keeps Starlette's."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgctl.sandbox.core import Emulator, Encoded, EncodedItems, Faults, ServerThread, encode
from orgctl.sandbox.core import JSONResponse as EmulatorJSONResponse


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


def test_a_list_of_encoded_items_is_written_as_the_items_would_be():
    answer = {"items": [{"id": 1, "name": "Zoë", "tags": ["a"]}, {"id": 2, "extra": None}],
              "page": 1, "meta": {"total": 2}}
    kept = {**answer, "items": [Encoded(encode(item)) for item in answer["items"]]}
    half = {**answer, "items": [answer["items"][0], Encoded(encode(answer["items"][1]))]}
    written = EmulatorJSONResponse(kept).body
    assert written == EmulatorJSONResponse(half).body  # some kept, some not yet
    assert written == EmulatorJSONResponse(answer).body == JSONResponse(answer).body


def test_kept_items_are_encoded_again_when_their_object_changes_even_in_place():
    kept, renders = EncodedItems(), []

    def render(obj: dict, extra: str) -> dict:
        renders.append(extra)
        return {**obj, "extra": extra}

    row = {"id": 1, "tags": ["a"]}
    # The first time, as rendered: a list read once is encoded whole, cheaper.
    assert kept.item(1, row, "x", render) == {"id": 1, "tags": ["a"], "extra": "x"}
    first = kept.item(1, row, "x", render)
    assert first == b'{"id":1,"tags":["a"],"extra":"x"}'
    assert kept.item(1, row, "x", render) is first and len(renders) == 2
    row["tags"].append("b")  # edited in place, one level down
    assert kept.item(1, row, "x", render) == b'{"id":1,"tags":["a","b"],"extra":"x"}'
    assert kept.item(1, row, "y", render) == b'{"id":1,"tags":["a","b"],"extra":"y"}'
    replaced = {"tags": ["a", "b"], "id": 1}  # another object: its own key order
    assert kept.item(1, replaced, "y", render) == b'{"tags":["a","b"],"id":1,"extra":"y"}'
    assert len(renders) == 5


def test_routes_keep_their_path_parameters_405s_and_404s():
    class Echo(Counter):
        def routes(self) -> list[Route]:
            async def echo(request: Request) -> Response:
                return JSONResponse(request.path_params)

            return [*super().routes(), Route("/things/{thing_id}", echo)]

    emu = Echo()
    with ServerThread({"e": emu.app}) as servers, httpx.Client() as client:
        for _ in range(2):  # the second time from the routes kept
            assert client.get(servers.url("e") + "/things/7").json() == {"thing_id": "7"}
            assert client.get(servers.url("e") + "/things/8").json() == {"thing_id": "8"}
            assert client.get(servers.url("e") + "/things").status_code == 405
            assert client.get(servers.url("e") + "/nothing").status_code == 404
    assert emu.log.count(route="/things/{thing_id}") == 4
    assert emu.log.count(route="/things", status=405) == 2
