"""`Http.collect` pages as the server answers, not as asked (issue 13 item 1): a server
that serves fewer rows than asked, says nothing of its paging, ignores the page parameter,
announces more rows than it serves, or never ends a list. Each server here is written from
the same few lines of a seed, choosing differently where the seed is silent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgctl.errors import IncompleteRead
from orgctl.providers.http import PAGE_WINDOW, Http, Page, Paging
from orgctl.sandbox.core import Emulator, ServerThread

OFFSET = Paging("offset", 100, "limit", "offset")
PAGES = Paging("page", 100, "size", "page", first_index=1)


class Pager(Emulator):
    """One collection of `rows` objects, served as `options` say: `cap` (rows per page at
    most), `echo` (the limit in answers), `total` (announce it: True, False or a number),
    `paged` (paging keys at all), `ignore_index` (always the first page), `endless`."""

    name = "pager"

    def load_seed(self, seed: dict[str, Any]) -> None:
        self.state = {"rows": [{"id": f"r-{i:05d}"} for i in range(seed.get("rows", 0))]}

    def credentials(self) -> dict[str, str]:
        return {}

    def routes(self) -> list[Route]:
        opts = self.options

        async def rows(request: Request) -> Response:
            q = request.query_params
            cap = opts.get("cap", 1000)
            size = min(int(q.get("size") or q.get("limit") or 25), cap)
            if "offset" in q:
                start = int(q["offset"])
            else:
                start = (int(q.get("page", 1)) - 1) * size
            if opts.get("ignore_index"):
                start = 0
            everything = self.state["rows"]
            if opts.get("endless"):
                chunk = [{"id": f"e-{start + i}"} for i in range(size)]
            else:
                chunk = everything[start:start + size]
            if not opts.get("paged", True):
                return JSONResponse({"data": everything})
            paging: dict[str, Any] = {}
            total = opts.get("total", True)
            if total is True:
                paging["total"] = len(everything)
            elif isinstance(total, int) and total is not False:
                paging["total"] = total
            if opts.get("echo", True):
                paging["limit"] = size
            return JSONResponse({"data": chunk, "paging": paging})

        return [Route("/rows", rows)]


def page_of(body: dict[str, Any]) -> Page:
    if "paging" not in body:
        return Page(body["data"], paged=False)
    paging = body["paging"]
    return Page(body["data"], total=paging.get("total"), limit=paging.get("limit"))


def read(rows: int, paging: Paging = OFFSET, **options: Any) -> tuple[list[Any], int]:
    emu = Pager({"rows": rows}, **options)
    with ServerThread({"pager": emu.app}) as servers:
        async def go() -> list[Any]:
            http = Http("pager", servers.url("pager"), backoff=0.001)
            try:
                return await http.collect("/rows", None, paging, page_of)
            finally:
                await http.aclose()

        got = asyncio.run(go())
    return got, emu.log.count(route="/rows")


def ids(n: int) -> list[str]:
    return [f"r-{i:05d}" for i in range(n)]


@pytest.mark.parametrize("paging", [OFFSET, PAGES], ids=["offset", "page"])
@pytest.mark.parametrize("cap", [20, 37, 50])
def test_a_server_cap_below_the_asked_size_is_followed(paging: Paging, cap: int) -> None:
    """570 rows at a cap of 20..50: every row once, in ceil(570/cap) requests (the bug:
    offsets advanced by the 100 asked for, so rows past each server page were skipped)."""
    got, requests = read(570, paging, cap=cap)
    assert [r["id"] for r in got] == ids(570)
    assert requests == -(-570 // cap)


@pytest.mark.parametrize("paging", [OFFSET, PAGES], ids=["offset", "page"])
def test_a_cap_the_server_does_not_echo_is_taken_from_the_first_page(paging: Paging) -> None:
    got, requests = read(570, paging, cap=30, echo=False)
    assert [r["id"] for r in got] == ids(570)
    assert requests == 19


@pytest.mark.parametrize("echo", [True, False])
def test_without_a_total_pages_are_read_until_a_short_one(echo: bool) -> None:
    got, requests = read(95, OFFSET, cap=20, total=False, echo=echo)
    assert [r["id"] for r in got] == ids(95)
    assert requests == 5


def test_without_a_total_an_exact_multiple_ends_on_an_empty_page() -> None:
    got, requests = read(100, OFFSET, cap=20, total=False)
    assert [r["id"] for r in got] == ids(100)
    assert requests == 6


def test_an_answer_without_paging_information_is_the_whole_list() -> None:
    """The HRMS case: no paging keys, every row in every answer. The loop read the same
    rows forever (~75 MB/s); now one request."""
    got, requests = read(250, PAGES, paged=False)
    assert [r["id"] for r in got] == ids(250)
    assert requests == 1


def test_a_server_ignoring_the_page_parameter_fails_the_read_at_the_repeat() -> None:
    """No total: the second page repeats the first, full one. Whether the server holds
    more cannot be known, so the read fails rather than plan from one page."""
    with pytest.raises(IncompleteRead, match="page 2 repeats 20 rows of earlier pages: "
                                             "the server ignores the page parameter"):
        read(45, PAGES, cap=20, total=False, ignore_index=True)


def test_a_server_ignoring_the_page_parameter_under_a_total_fails_the_read() -> None:
    with pytest.raises(IncompleteRead, match=r"GET /rows: page 4 repeats 20 rows"):
        read(60, PAGES, cap=20, ignore_index=True)


def test_fewer_rows_than_announced_fails_the_read_naming_the_collection() -> None:
    with pytest.raises(IncompleteRead) as err:
        read(45, OFFSET, cap=20, total=70)
    assert "could not read all of GET /rows" in str(err.value)
    assert "nothing was planned or written" in str(err.value)


def test_a_list_that_never_ends_stops_at_the_page_ceiling() -> None:
    ceiling = Paging("offset", 100, "limit", "offset", max_pages=12)
    with pytest.raises(IncompleteRead, match="after 12 pages"):
        read(0, ceiling, cap=10, total=False, endless=True)


def test_a_total_beyond_the_ceiling_fails_before_reading_on() -> None:
    ceiling = Paging("offset", 100, "limit", "offset", max_pages=5)
    with pytest.raises(IncompleteRead, match="more than 5 pages"):
        read(570, ceiling, cap=20)


def test_a_total_claiming_far_more_than_there_is_costs_one_window_not_all_pages() -> None:
    """Issue 14 item 10: `total = 10^8` scheduled ~10^6 requests at once (MemoryError). Now
    pages go in windows; the first short window ends the read, which then fails: the rows
    never reached the total."""
    huge = Paging("offset", 100, "limit", "offset", max_pages=10**7)
    emu = Pager({"rows": 150}, cap=50, total=10**8)
    with ServerThread({"pager": emu.app}) as servers:
        async def go() -> list[Any]:
            http = Http("pager", servers.url("pager"), backoff=0.001)
            try:
                return await http.collect("/rows", None, huge, page_of)
            finally:
                await http.aclose()

        with pytest.raises(IncompleteRead, match="announced 100000000 rows"):
            asyncio.run(go())
    # the first page, one window, and the one page read in turn that found nothing more
    assert emu.log.count(route="/rows") == 1 + PAGE_WINDOW + 1
