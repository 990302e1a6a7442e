"""B0 (issue #3): list requests per second each emulator serves.

The server is `orgctl sandbox serve` in a process of its own, seeded with the live state of
a generated 1,000-employee org; the client is one asyncio process with an httpx
AsyncClient over orgctl's own transport keeping CONCURRENCY connections busy, cycling
through the pages of each system's main list (the one a plan reads most), at the page size
the provider asks for and at the API's default page size. The same against the sandbox in
the client's own process is given for reference: there client and server share one
interpreter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, Result, ServerProcess, main, make_org, median, orgctl_serve
from orgctl.providers.http import Http1Transport
from orgctl.sandbox import Sandbox
from orgctl.sandbox.seeding import seed_from_org

EMPLOYEES = 1_000
CONCURRENCY = 16
REQUESTS = 500  # per run, system and page size
RUNS = 3
WARM_UP = 100
TARGET = 1_000.0
WORKELO_TOKEN_BUDGET = 900  # the emulator allows 1000 requests/hour per token by default

METHOD = f"""\
`orgctl sandbox serve --seed live.json` runs in a process of its own, seeded with
`seed_from_org` of a generated {EMPLOYEES:,}-employee org. The client is one asyncio
process with an httpx `AsyncClient` over orgctl's own HTTP/1.1 transport
(`Http1Transport`, what a plan sends through; httpx's default one spent more CPU per
request than the server, so the figure was the client's) keeping {CONCURRENCY}
keep-alive connections busy; it
cycles through the pages of each system's main list (the one a plan reads most) at the
page size the provider asks for (the cap in docs/providers/*.md) and at the API's default
page size. Each figure is the median of {RUNS} runs of {REQUESTS:,} requests after
{WARM_UP} warm-up requests. Workelo's emulator limits each token to 1,000 requests an hour
by default, so the client spreads its requests over several tokens taken beforehand.

The server's CPU time per request (from `/proc/PID/stat` around the timed requests) is
given beside it, with what that makes per server core, and the client's CPU per request:
on a 2-core machine the side that spends more CPU per request saturates first. The
same client against the sandbox running in its own process (`Sandbox`, one interpreter for
both sides) is given for reference.
"""


class Target:
    """How to authenticate to one emulator and page through its main list."""

    def __init__(self, system: str, base: str, credentials: dict[str, Any]):
        self.system = system
        self.base = base
        self.credentials = credentials
        self._workelo_tokens: list[str] = []
        self._sent = 0

    async def prepare(self, client: httpx.AsyncClient, requests: int) -> None:
        c = self.credentials
        if self.system == "workelo":
            # One token per WORKELO_TOKEN_BUDGET requests: the per-token rate limit (seed 000)
            # would otherwise turn this into a 429 benchmark.
            self._workelo_tokens = []
            for _ in range(requests // WORKELO_TOKEN_BUDGET + 2):
                r = await client.post(f"{self.base}/tokens", files={
                    "client_id": (None, c["client_id"]),
                    "client_secret": (None, c["client_secret"])})
                self._workelo_tokens.append(r.raise_for_status().json()["access_token"])
            self._sent = 0
        elif self.system == "hrms":
            self.headers = {"Authorization": f"Bearer {c['token']}",
                            "X-Environment": c["environment"]}
        elif self.system == "workleap":
            self.headers = {"workleap-subscription-key": c["api_key"]}
        else:
            r = await client.post(f"{self.base}/auth/sign_in", json={
                "username": c["username"], "password": c["password"], "provider": "username"})
            r.raise_for_status()
            self.headers = {k: r.headers[k] for k in ("access-token", "client", "uid")}
            orgs = (await client.get(f"{self.base}/organizations",
                                     headers=self.headers)).json()["data"]
            self.org_id = next(o["id"] for o in orgs if o["name"] == c["organization"])

    def request_headers(self) -> dict[str, str]:
        if self.system == "workelo":
            self._sent += 1
            token = self._workelo_tokens[self._sent // WORKELO_TOKEN_BUDGET]
            return {"Authorization": f"Bearer {token}"}
        return self.headers

    def page(self, index: int, size: int) -> tuple[str, dict[str, Any]]:
        """URL and params of page `index` (0-based) of the main list, `size` items a page."""
        if self.system == "workelo":
            return f"{self.base}/employees", {"limit": size, "offset": index * size}
        if self.system == "hrms":
            return f"{self.base}/v1/users", {"page[number]": index + 1, "page[size]": size,
                                            "include": "department,position"}
        if self.system == "workleap":
            return f"{self.base}/provisioning/members", {"page": index + 1, "pageSize": size}
        return f"{self.base}/worklete_admin/memberships", {
            "organization_id": self.org_id, "page": index, "size": size}


# The provider's page size (the API's cap, as docs/providers/*.md say) and the API's default.
PAGE_SIZES = {"workelo": (100, 10), "hrms": (100, 25), "workleap": (500, 100),
              "worklete": (100, 25)}


async def throughput(target: Target, size: int, requests: int,
                     server: ServerProcess | None) -> tuple[float, float, float]:
    """(requests per second served with CONCURRENCY in flight, cycling through the list;
    the server process's and this process's CPU seconds per request during the timed
    burst; the server's is 0 in-process)."""
    pages = max(1, EMPLOYEES // size)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60,
                                 transport=Http1Transport(CONCURRENCY)) as client:
        await target.prepare(client, requests + WARM_UP)

        async def worker(numbers: Iterator[int]) -> None:
            for n in numbers:
                url, params = target.page(n % pages, size)
                r = await client.get(url, params=params, headers=target.request_headers())
                if r.status_code != 200:
                    raise RuntimeError(f"{target.system}: {r.status_code} {r.text[:200]}")

        async def burst(count: int) -> float:
            numbers = iter(range(count))  # shared: each worker takes the next page number
            start = time.perf_counter()
            await asyncio.gather(*(worker(numbers) for _ in range(CONCURRENCY)))
            return time.perf_counter() - start

        await burst(WARM_UP)  # open the connections, warm the caches
        cpu, own = (server.cpu_seconds() if server else 0.0), time.process_time()
        took = await burst(requests)
        used = (server.cpu_seconds() - cpu) / requests if server else 0.0
        return requests / took, used, (time.process_time() - own) / requests


def measure(endpoints: dict[str, dict[str, Any]], server: ServerProcess | None,
            labels: tuple[str, ...]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (system, page size label): median requests/s and server CPU per request."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for system, sizes in PAGE_SIZES.items():
        credentials = {k: v for k, v in endpoints[system].items() if k != "url"}
        target = Target(system, endpoints[system]["url"], credentials)
        for label, size in zip(("full", "default"), sizes, strict=True):
            if label not in labels:
                continue
            runs = [asyncio.run(throughput(target, size, REQUESTS, server))
                    for _ in range(RUNS)]
            rates = [r for r, _, _ in runs]
            out[(system, label)] = {"rate": median(rates), "min": min(rates),
                                    "max": max(rates), "size": size,
                                    "cpu": median([c for _, c, _ in runs]),
                                    "client": median([c for _, _, c in runs])}
    return out


LISTS = {"workelo": "GET /v1/employees", "hrms": "GET /api/v1/users?include=…",
         "workleap": "GET /provisioning/members",
         "worklete": "GET /api/v1/worklete_admin/memberships"}


def run(workdir: Path) -> Result:
    org = make_org(EMPLOYEES, workdir / "b0-org")
    seed = seed_from_org(org)
    with orgctl_serve(workdir, seed) as server:
        separate = measure(server.endpoints, server, ("full", "default"))
    box = Sandbox(seed).start()
    try:
        inproc = measure(box.endpoints(), None, ("full",))
    finally:
        box.stop()

    result = Result()
    for system, (full, default) in PAGE_SIZES.items():
        f, d = separate[(system, "full")], separate[(system, "default")]
        result.figures.append(Figure(
            "B0", f"{system} emulator: list requests/s ({full}-item pages), server in its "
            "own process, one httpx client process", f"≥ {TARGET:,.0f}/s",
            f"{f['rate']:,.0f}/s", f["rate"] >= TARGET,
            f"server CPU {f['cpu'] * 1000:.2f} ms/request, i.e. {1 / f['cpu']:,.0f}/s per "
            f"server core; client CPU {f['client'] * 1000:.2f} ms/request; "
            f"{default}-item pages: {d['rate']:,.0f}/s"))
    result.detail += [
        "| emulator | list | page size | served (median, min–max) | server CPU per request "
        "| per server core | client CPU per request | in-process |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system in PAGE_SIZES:
        for label in ("full", "default"):
            s = separate[(system, label)]
            i = inproc.get((system, label))
            in_process = f"{i['rate']:,.0f}/s" if i else "–"
            result.detail.append(
                f"| {system} | `{LISTS[system]}` | {s['size']} ({label}) | "
                f"{s['rate']:,.0f}/s ({s['min']:,.0f}–{s['max']:,.0f}) | "
                f"{s['cpu'] * 1000:.2f} ms | {1 / s['cpu']:,.0f}/s | "
                f"{s['client'] * 1000:.2f} ms | {in_process} |")
    return result


if __name__ == "__main__":
    main(run)
