"""What every emulator shares: fault and latency injection, the request log, rate limiting,
and running ASGI apps as real HTTP servers on loopback ports.

An emulator is a subclass of `Emulator`: it owns its in-memory state (seeded from a fixture),
declares its Starlette routes, and implements the documented behaviour of one system. The
`FaultInjector` middleware wraps every emulator the same way, so the faults a test asks for
(`Faults.parse("5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02,latency=20")`) mean the same in
all four.

Paths under `/_sandbox/` are the control plane (state, request log, counters, reset, and
the clock: `GET`/`POST /_sandbox/clock`): never faulted, never counted, not part of any
documented API.

`Calendar` is the emulators' "today": the real date unless a test or `orgctl sandbox serve
--today` sets it. The emulators of one `Sandbox` share one, so setting it on any port moves
them all; behaviour that depends on the date (Workelo's journey statuses) reads it when
answering, so moving it moves what they answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import uvicorn
from starlette import responses
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgctl.inert import escape_surrogates

CONTROL_PREFIX = "/_sandbox"
ROUTES_KEPT = 50_000  # requests' (method, path) whose route `_Router` keeps


# Answers are encoded as Starlette's JSONResponse encodes them (compact, UTF-8, no NaN), by
# one encoder made once instead of one per answer, and without the check for cycles, which
# costs a dictionary insertion per object and list: answers are trees built from the state.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                            check_circular=False)


def encode(content: Any) -> bytes:
    """`content` as `JSONResponse` writes it; a lone surrogate (a test's name cut inside an
    emoji's UTF-16 pair) as `JSON.stringify` writes it, `\\ud83d`, where Starlette fails."""
    text = _ENCODER.encode(content)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return escape_surrogates(text).encode("utf-8")


class Encoded(bytes):
    """One list item already encoded (`Encoded(encode(item))`), for an emulator that keeps
    the items of its long lists encoded between requests: encoding them was most of the
    CPU of answering a page. `JSONResponse` writes a list of them that is a value of the
    answer object as the list they encode, without encoding anything again."""


class JSONResponse(responses.JSONResponse):
    """Starlette's JSONResponse, the same bytes, less CPU per answer (see _ENCODER and
    `Encoded`). The emulators answer with this one."""

    def render(self, content: Any) -> bytes:
        if type(content) is dict and any(map(_has_encoded, content.values())):
            # What the encoder writes for an object, `{"key":value,...}`, with the Encoded
            # items of its lists joined as they are, the others encoded.
            return b"{%s}" % b",".join(
                b"%s:[%s]" % (encode(key), b",".join(
                    v if type(v) is Encoded else encode(v) for v in value))
                if _has_encoded(value) else b"%s:%s" % (encode(key), encode(value))
                for key, value in content.items())
        return encode(content)


def _has_encoded(value: Any) -> bool:
    """Whether `value` is a list holding an Encoded item (see `EncodedItems`)."""
    return type(value) is list and any(type(v) is Encoded for v in value)


class EncodedItems:
    """The items of an emulator's list answers, each kept encoded, once it was asked for a
    second time, until the state object it shows changes.

    `item(key, obj, extra, render)` is `render(obj, extra)` the first time `key` is asked
    for: most lists are read once (a plan against a sandbox just started), and encoding
    and keeping each item apart cost more than encoding the page whole (a third more
    server CPU for the first plan of 100,000 people). From the second time on it is
    `Encoded(encode(render(obj, extra)))`, made again only when `obj` is another object
    than last time for `key`, or holds other values (a handler, or a test, may edit it in
    place: it is compared with a copy taken when it was encoded), or `extra` (whatever
    else the item shows, such as another object's fields) compares unequal. `extra` is
    kept as given: pass a value nobody edits in place. The copy goes one level deep, as
    deep as the emulators' objects go (lists and dicts of text). Each kept item costs
    about a kilobyte."""

    def __init__(self) -> None:
        self._kept: dict[Any, tuple[dict[str, Any], dict[str, Any], Any, Encoded]] = {}
        self._seen: set[Any] = set()

    def item(self, key: Any, obj: dict[str, Any], extra: Any,
             render: Callable[[dict[str, Any], Any], Any]) -> Any:
        kept = self._kept.get(key)
        if kept is not None and kept[0] is obj and kept[1] == obj and kept[2] == extra:
            return kept[3]
        if kept is None and key not in self._seen:
            self._seen.add(key)
            return render(obj, extra)
        encoded = Encoded(encode(render(obj, extra)))
        copy = {k: v.copy() if type(v) in (list, dict) else v for k, v in obj.items()}
        self._kept[key] = (obj, copy, extra, encoded)
        return encoded

    def clear(self) -> None:
        self._kept.clear()
        self._seen.clear()


@dataclass
class Faults:
    """What to inject, as probabilities per request and milliseconds of latency.

    error_rate: answer 503 before the handler runs (nothing committed).
    rate_429: answer 429 with Retry-After before the handler runs.
    drop_rate: close the connection mid-response before the handler runs.
    commit_fail_rate: run the handler (the write commits), then answer 500 or drop the
        connection: the case that makes careless clients create duplicates.
    latency_ms / jitter_ms: added before every request.
    retry_after: seconds announced in injected 429s.
    script: faults for particular requests, in order, before any drawn at random: each
        step ("METHOD route", fault) waits for its request, then the next step is armed.
        [("POST /v1/employees", "commit_fail")] + [("GET /v1/employees", "5xx")] * 6
        makes the next employee create commit and fail, then the six reads after it answer
        503 (routes as the emulator declares them).
    """

    error_rate: float = 0.0
    rate_429: float = 0.0
    drop_rate: float = 0.0
    commit_fail_rate: float = 0.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    retry_after: float = 1.0
    seed: int | None = None
    script: list[tuple[str, str]] = field(default_factory=list)

    KEYS = {
        "5xx": "error_rate",
        "429": "rate_429",
        "drop": "drop_rate",
        "commit_fail": "commit_fail_rate",
        "latency": "latency_ms",
        "jitter": "jitter_ms",
        "retry_after": "retry_after",
        "seed": "seed",
    }

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """Parse `5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02,latency=20,jitter=5,seed=1`."""
        faults = cls()
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, sep, value = part.partition("=")
            if not sep or name not in cls.KEYS:
                known = ", ".join(cls.KEYS)
                raise ValueError(f"bad fault {part!r}: expected NAME=VALUE with NAME in {known}")
            attr = cls.KEYS[name]
            try:
                setattr(faults, attr, int(value) if attr == "seed" else float(value))
            except ValueError:
                raise ValueError(f"bad fault {part!r}: {value!r} is not a number") from None
        return faults

    @property
    def any(self) -> bool:
        return bool(self.error_rate or self.rate_429 or self.drop_rate or self.commit_fail_rate)


@dataclass(frozen=True)
class Profile:
    """How an emulator chooses wherever its seed is silent.

    "permissive" is the profile the providers were written beside: generous page caps,
    the undocumented convenience routes, parameters and fields orgctl assumes. "strict"
    serves only what the seed documents (its routes, the fields its examples show, no
    undocumented query parameters) and chooses differently from the permissive profile
    wherever the seed is silent: smaller page caps and default sizes, no paging keys where
    the seed shows none, ids that are not small integers, another field order. A test
    suite green against both proves the provider notices when an assumption fails.

    Each emulator reads the fields it has a choice about; `draw` picks them at random for
    property tests.
    """

    name: str = "permissive"
    strict: bool = False
    page_cap: int | None = None  # rows per page at most; None: the emulator's own cap
    default_size: int | None = None  # rows per page when none is asked; None: its own
    paging_keys: bool = True  # False: list answers carry no paging keys the seed lacks
    ids: str = "int"  # "int" (1, 2, 3...), "sparse" (large, uneven), "uuid" where text is
    shuffle_fields: bool = False  # answer objects' keys in another order than documented
    seed: int = 0  # randomness of the choices above (ids, field order)

    @classmethod
    def named(cls, name: str | Profile | None) -> Profile:
        """"permissive" (default) or "strict"."""
        if isinstance(name, Profile):
            return name
        if name in (None, "", "permissive"):
            return cls()
        if name == "strict":
            return cls(name="strict", strict=True, page_cap=25, default_size=10,
                       paging_keys=False, ids="sparse", shuffle_fields=True, seed=13)
        raise ValueError(f"unknown sandbox profile {name!r}: expected permissive or strict")

    @classmethod
    def draw(cls, rng: random.Random) -> Profile:
        """A strict profile with its silent choices drawn from `rng` (property tests)."""
        return cls(name="strict", strict=True, page_cap=rng.randint(20, 50),
                   default_size=rng.choice((5, 10, 20, 25)),
                   paging_keys=rng.random() < 0.5, ids=rng.choice(("sparse", "uuid")),
                   shuffle_fields=rng.random() < 0.5, seed=rng.randrange(1 << 30))

    def cap(self, permissive: int) -> int:
        """The largest page served: the profile's cap, or the emulator's own."""
        return self.page_cap if self.page_cap is not None else permissive

    def size(self, permissive: int) -> int:
        """The page size when a request asks for none."""
        return self.default_size if self.default_size is not None else permissive

    def shaped(self, obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` with its keys in this profile's order (reversed when shuffling: another
        order than documented, the same on every answer)."""
        if not self.shuffle_fields:
            return obj
        return dict(reversed(list(obj.items())))


class Calendar:
    """The emulators' "today": the date of `source` (the real `date.today` by default) unless
    set. `set(date(2026, 12, 1))` pins it, `set(None)` goes back to the source.

    `Calendar.of` turns what a caller passes as `today` into one: None (the real date), a
    `date`, an ISO `YYYY-MM-DD` string, a callable returning a date (a test's own clock), or
    a `Calendar` (shared as it is).
    """

    def __init__(self, source: Callable[[], date] | None = None, fixed: date | None = None):
        self._source = source or real_today
        self._fixed = fixed

    @classmethod
    def of(cls, today: Calendar | date | str | Callable[[], date] | None) -> Calendar:
        if isinstance(today, Calendar):
            return today
        if today is None:
            return cls()
        if isinstance(today, date):
            return cls(fixed=today)
        if isinstance(today, str):
            return cls(fixed=parse_day(today))
        if callable(today):
            return cls(source=today)
        raise TypeError(f"today must be a date, YYYY-MM-DD, a callable or None, not {today!r}")

    def today(self) -> date:
        return self._fixed if self._fixed is not None else self._source()

    def set(self, today: date | None) -> None:
        """Pin today to `today`; None: follow the source again."""
        self._fixed = today

    @property
    def is_set(self) -> bool:
        return self._fixed is not None


def real_today() -> date:
    """The real date, unless $ORGCTL_TODAY names the day, as it does for orgctl itself
    (orgctl.lifecycle.today): a rehearsal or a test suite then has one "today" on both
    sides."""
    pinned = os.environ.get("ORGCTL_TODAY")
    return parse_day(pinned) if pinned else date.today()


def parse_day(text: str) -> date:
    """A `YYYY-MM-DD` date; ValueError naming the format otherwise."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


@dataclass
class LoggedRequest:
    method: str
    path: str
    route: str
    status: int
    fault: str | None
    at: float


class RequestLog:
    """Every request an emulator answered: for tests that count and benchmarks that measure."""

    def __init__(self, keep: int = 200_000):
        self.entries: deque[LoggedRequest] = deque(maxlen=keep)
        self.counters: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.entries.append(entry)
            self.counters[(entry.method, entry.route, entry.status)] += 1

    def count(self, method: str | None = None, route: str | None = None,
              status: int | None = None) -> int:
        """How many requests matched; None matches anything."""
        with self._lock:
            return sum(
                n for (m, r, s), n in self.counters.items()
                if (method is None or m == method)
                and (route is None or r == route)
                and (status is None or s == status)
            )

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.counters.clear()

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.counters.values()),
                "counters": [
                    {"method": m, "route": r, "status": s, "count": n}
                    for (m, r, s), n in sorted(self.counters.items())
                ],
            }


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds per key; says how long until the next slot."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> float:
        """Record a hit; return 0 if allowed, else the seconds to wait (nothing recorded)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.001)
        hits.append(now)
        return 0.0

    def remaining(self, key: str) -> int:
        return max(self.limit - len(self._hits.get(key, ())), 0)


class _Router(Router):
    """Starlette's router, which tries the routes' patterns in turn on every request (a
    tenth of the CPU of a small answer, for a route twenty deep), with the route each
    (method, path) takes fully kept: the routes are fixed once built, so the first that
    matches a path fully always will. A request no route takes fully (a 405, 404 or
    redirect) goes Starlette's way."""

    def __init__(self, routes: list[BaseRoute]):
        super().__init__(routes=routes)
        self._taken: dict[tuple[str, str, str], BaseRoute | None] = {}

    def route_for(self, scope: Scope) -> BaseRoute | None:
        """The first route that matches the request fully, if any."""
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        try:
            return self._taken[key]
        except KeyError:
            pass
        route = next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)
        if len(self._taken) >= ROUTES_KEPT:
            self._taken.clear()  # ids in paths: keep the memory bounded
        self._taken[key] = route
        return route

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route_for(scope) if scope["type"] == "http" else None
        if route is None:
            await super().app(scope, receive, send)
            return
        # As Starlette's router hands a request over, with the route's path parameters.
        _, child_scope = route.matches(scope)
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)


class _Dropped(Exception):
    """Raised after a partial response so the server closes the connection."""


class FaultInjector:
    """ASGI middleware: latency, injected errors, dropped connections, commit-then-fail,
    and the request log. Wraps one emulator."""

    def __init__(self, app: ASGIApp, emulator: Emulator):
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        emu = self.emulator
        faults = emu.faults
        rng = emu.rng
        if faults.latency_ms or faults.jitter_ms:
            delay = faults.latency_ms + rng.uniform(0, faults.jitter_ms)
            await asyncio.sleep(delay / 1000)
        status_box: list[int] = [0]
        logged = [False]

        def log_once(fault_name: str | None) -> None:
            if not logged[0]:
                logged[0] = True
                emu.log.add(LoggedRequest(
                    method=scope["method"], path=scope["path"], route=emu.route_of(scope),
                    status=status_box[0], fault=fault_name, at=time.time(),
                ))

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Log before the client can see the end of the answer, so a test that
                # counts right after a response never misses it.
                log_once(fault)
            await send(message)

        fault = None
        script = faults.script
        if script and script[0][0] == f"{scope['method']} {emu.route_of(scope)}":
            fault = script.pop(0)[1]
        elif faults.any:
            roll = rng.random()
            edges = (
                ("5xx", faults.error_rate),
                ("429", faults.rate_429),
                ("drop", faults.drop_rate),
                ("commit_fail", faults.commit_fail_rate),
            )
            acc = 0.0
            for name, rate in edges:
                acc += rate
                if roll < acc:
                    fault = name
                    break
        try:
            if fault == "5xx":
                await Response("Service Unavailable (injected)", 503)(scope, receive, send_logged)
            elif fault == "429":
                await JSONResponse(
                    {"message": "Too Many Requests (injected)"}, 429,
                    headers={"Retry-After": f"{faults.retry_after:g}"},
                )(scope, receive, send_logged)
            elif fault == "drop":
                status_box[0] = 599
                log_once(fault)
                await _drop(send)
            elif fault == "commit_fail":
                await self.app(scope, receive, _discard)
                if rng.random() < 0.5:
                    await Response("Internal Server Error (injected)", 500)(
                        scope, receive, send_logged)
                else:
                    status_box[0] = 599
                    log_once(fault)
                    await _drop(send)
            else:
                await self.app(scope, receive, send_logged)
        finally:
            log_once(fault)


async def _discard(message: Message) -> None:
    return None


async def _drop(send: Send) -> None:
    """Start a response that promises a body, send part of it, then abort: the client sees
    the peer closing the connection mid-message, as with a reset."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"1000"), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise _Dropped("connection dropped (injected)")


class Emulator:
    """Base of the four emulators. Subclasses set `name`, implement `routes()` and
    `load_seed()`, and keep all state in plain dicts guarded by `self.lock`.

    Tests read state directly (`emulator.state`), or over HTTP at `/_sandbox/state`.
    Options every emulator takes: `profile` (see `Profile`) and `today` (see `Calendar.of`;
    kept as `self.calendar`).
    """

    name = "emulator"

    def __init__(self, seed: dict[str, Any] | None = None, faults: Faults | None = None,
                 **options: Any):
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.log = RequestLog()
        self.lock = threading.RLock()
        self.profile = Profile.named(options.pop("profile", None))
        self.calendar = Calendar.of(options.pop("today", None))
        self.options = options
        self.state: dict[str, Any] = {}
        self.load_seed(seed or {})
        self._routes = self.routes()
        self._router = _Router(self._control_routes() + self._routes)
        self.app = self._build_app()

    # -- to implement -------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def load_seed(self, seed: dict[str, Any]) -> None:
        """Replace the state with the fixture's content (the emulator's own seed format)."""
        raise NotImplementedError

    def credentials(self) -> dict[str, str]:
        """Throw-away credentials that work against this emulator, for `sandbox serve`."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------
    def new_id(self, number: int) -> int:
        """The id of the `number`th object of a table whose ids are numbers: `number`
        itself, or under a "sparse"/"uuid" profile a large, uneven one (still increasing,
        so newer objects sort after older ones)."""
        if self.profile.ids == "int":
            return number
        return 1_000_003 * number + (number * 7919 + self.profile.seed) % 997

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy of the state, for tests and `/_sandbox/state`."""
        import copy

        with self.lock:
            return copy.deepcopy(self.state)

    def route_of(self, scope: Scope) -> str:
        """The declared route a request matches (`/teams/{team_id}/admins`), else its
        path."""
        route = self._router.route_for(scope)
        return route.path if isinstance(route, Route) else scope["path"]

    def _control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL_PREFIX}/state", self._control_state),
            Route(f"{CONTROL_PREFIX}/log", self._control_log),
            Route(f"{CONTROL_PREFIX}/reset", self._control_reset, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}/clock", self._control_clock, methods=["GET", "POST"]),
        ]

    def _build_app(self) -> ASGIApp:
        app = Starlette()
        # Starlette builds its middleware around `app.router` on the first request.
        app.router = self._router
        return FaultInjector(app, self)

    async def _control_state(self, request: Request) -> Response:
        """The state's tables, and `today`: the date the emulator answers as of."""
        return JSONResponse({**self.snapshot(), "today": self.calendar.today().isoformat()})

    async def _control_log(self, request: Request) -> Response:
        return JSONResponse(self.log.as_json())

    async def _control_reset(self, request: Request) -> Response:
        """Reload the state from the posted seed; the clock stays as it is."""
        body = await request.json() if await request.body() else {}
        with self.lock:
            self.load_seed(body)
        self.log.clear()
        return JSONResponse({"reset": True})

    async def _control_clock(self, request: Request) -> Response:
        """`GET`: `{"today": "YYYY-MM-DD", "set": bool}`. `POST {"today": "2026-12-01"}` pins
        the date (for every emulator sharing this calendar), `{"today": null}` goes back to
        the real date; a body without a valid `today` is a 422 that changes nothing."""
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or "today" not in body:
                return JSONResponse({"error": 'expected {"today": "YYYY-MM-DD" or null}'}, 422)
            try:
                today = None if body["today"] is None else parse_day(body["today"])
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 422)
            self.calendar.set(today)
        return JSONResponse({"today": self.calendar.today().isoformat(),
                             "set": self.calendar.is_set})


class ServerThread:
    """Runs ASGI apps on free loopback ports in one background thread with its own loop."""

    def __init__(self, apps: dict[str, ASGIApp], host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None):
        self.host = host
        self.apps = apps
        self.sockets: dict[str, socket.socket] = {}
        for name in apps:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Accepted sockets inherit this on Linux; without it a keep-alive client waits
            # ~40 ms per request on Nagle + delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((host, (ports or {}).get(name, 0)))
            sock.listen(512)
            sock.setblocking(False)
            self.sockets[name] = sock
        self.servers: dict[str, uvicorn.Server] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.sockets[name].getsockname()[1]}"

    def start(self) -> ServerThread:
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            for name, app in self.apps.items():
                config = uvicorn.Config(app, log_level="critical", lifespan="off",
                                        access_log=False, timeout_keep_alive=30)
                self.servers[name] = uvicorn.Server(config)
            tasks = [
                asyncio.create_task(srv.serve(sockets=[self.sockets[name]]))
                for name, srv in self.servers.items()
            ]
            while not all(s.started for s in self.servers.values()):
                await asyncio.sleep(0.01)
            ready.set()
            await asyncio.gather(*tasks)

        def run() -> None:
            # uvicorn installs signal handlers only in the main thread; here it does not.
            asyncio.run(main())

        self._thread = threading.Thread(target=run, name="orgctl-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError("sandbox servers did not start within 15 s")
        return self

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.should_exit = True
        if self._thread:
            self._thread.join(10)
        for sock in self.sockets.values():
            sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class ApiError(Exception):
    """Raised by handlers to answer with a documented error body."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return JSONResponse(self.body, self.status, headers=self.headers)
