"""The Provider contract: what every connected system implements, and nothing more.

A provider is one system seen through the hooks below. The engine calls them, and only
them, in this order within one run; every hook but `desired`, `read` and (for a system
that writes) `apply` or `apply_batch` has a default, so a minimal provider is small (see
`tests/engine/memory_provider.py`).

1. **What can you do?** (class attributes, checked when the class is defined)
   `CAPABILITIES` lists every operation the provider uses, with its HTTP method, endpoint,
   and whether the seed document shows it ("documented") or the provider relies on
   something the seed is silent about ("assumed"). `KINDS` lists the resource kinds it
   manages, parents first; `PRUNE_DEFAULTS` and `COALESCED_KINDS` may name only those.
   `BATCH` says the system is written in one batch (`apply_batch`), `READ_ONLY` that it is
   never written (an audit source). `SETTINGS` is the typed settings class, parsed once
   from the provider block when the provider is created (`self.settings`). `SCHEMA` is
   the system's part of the config's JSON Schema (see `orgctl.config.schema`).
2. **What is there?** `bind(org)` has handed over the configured org first (see 3), so a
   read that costs a request per object can skip what the config does not compare.
   `read(progress)` fetches live state with list endpoints at their
   largest page, pages concurrently where the API allows, and normalises it into
   resources with the same attribute names and value shapes as `desired()`. A provider may
   keep from the read what it needs to write later (reference ids, catalogues): that is
   the only state a run builds up, and `unsupported`/`apply` may rely on it.
3. **What should be there?** `bind(org)` hands over the desired org (default: kept as
   `self.org`) for the hooks that need more than a change carries: before the read, then
   again before diffing with the org the plan is of (in source mode, the one the source
   of truth gave). `desired(org)` maps
   it into this provider's resources and their `refs`: pure, it keeps nothing.
   `match_live(desired, live)` may rewrite live resources once the desired side is known
   (references to objects matched by a fallback identity); default: unchanged.
4. **What does removing mean?** `removal_of(resource)` says what removing one live object
   means in this system: "delete", "deactivate", or None when the system never removes
   it (default: `removal(resource.kind)`). `is_inactive(resource)` says whether a live
   object already is what a leaver's object should be (default: False).
   `unsupported(change)` says why a change cannot be made here (the plan shows it as
   `manual` with that reason instead of dropping it). `findings(org, live)` reports what a
   reviewer should know that is not a change.
5. **Make it so.** `apply(change, ids)` performs one change and returns the remote id of
   what it created (or None); `ids` maps addresses to remote ids, for resolving `refs` to
   objects created earlier in the same run. By default it calls the method `WRITES` names
   for the change's (kind, action), the provider's one dispatch table. `lookup(change,
   ids)` finds a created object by its key, so a create whose outcome is unknown is
   checked before any retry and never duplicated. Batch systems implement
   `apply_batch(changes, live)` instead and say per change what became of it (typed
   `Outcome`s). `aclose()` releases connections.
6. **Import.** `to_config(live)` maps a live state to configuration data (`Imported`)
   that `desired()` turns back into the same resources. `IMPORT_SETTINGS` is the provider
   block written when no config gives one (`${ENV}` placeholders for secrets).
7. **Source of truth.** A provider with `SOURCE` set can be the org's source of truth
   (`mode: source`): `source_data()` gives, after `read()`, the employees and units it
   knows, and `SOURCE` says which fields it owns (see `orgctl.engine.sources`).
8. **Sandbox.** `seed(org, organization)` gives the live state this system's emulator would
   hold after a perfect apply of `org` (the emulator's own seed format), for a company of
   that name (default "Acme", the sandbox's); default: an empty seed.

The plumbing every provider shares, for its own use (the engine calls none of it but
`aclose`): `make_http()` builds a client with the system's auth and `self.settings`
(usually `self.client(auth)`: timeout, concurrency and the `rate_limit` pacer are common);
`http()` is the running loop's one client, made on first use; `explain(err)` words a
refusal (an `ApiError`: method, path, status, body) so it says what to fix; `call(method,
path)` and list reads inside `explaining()` raise refusals through it; `expect_object` and
`expect_items` check an answer's shape once, so the code after them indexes freely.

Where a provider relies on something its seed does not show to save requests, it reads
through `assumed(topic, assumed, documented)`: the first 400/404/405/501 answer, or a
`NotServed` its own check raises (a field absent from the answers), switches it to the
documented way for the rest of the run, and `note_fallback` puts the reason and the cost
(requests, time at the rate limit) in the plan. `unknown_fields` marks the attributes a live
answer did not carry as `Resource.unknown`: never drift, noted once. `notes` holds what the
plan shows of both.

Providers never print. A failure of the system is a `ProviderError` (from
`orgctl.errors`); an answer of a shape the provider cannot use is detected by an explicit
check and raised as `UnexpectedAnswer`. Anything else is a bug in orgctl and is left to
propagate as one. Providers hold secrets; they must not put them into resources, changes,
findings or error messages (the HTTP layer redacts its logs).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module, resources
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from orgctl.errors import (
    ApiError,
    OrgctlError,
    ProviderError,
    UnexpectedAnswer,
    expect_list,
    expect_mapping,
)
from orgctl.model import Org, ProviderConfig
from orgctl.providers.http import DEFAULT_TIMEOUT, Auth, Http, Pacer
from orgctl.resources import Action, Change, Finding, Outcome, Resource

if TYPE_CHECKING:
    from orgctl.providers.importing import Imported

__all__ = ["NOT_SERVED", "BatchResult", "Capability", "Fields", "NotServed", "Progress",
           "Provider", "Settings", "SourceSpec", "Write", "capability_table", "schema_file"]

T = TypeVar("T")
NOT_SERVED = frozenset({400, 404, 405, 501})
"""Answers that say a route or parameter is not there (rather than that a request failed)."""


class NotServed(Exception):
    """Raised inside `Provider.assumed`'s assumed read when the server does not serve what
    it assumes (a field absent from the answers); `why` says what showed it."""

    def __init__(self, why: str):
        self.why = why
        super().__init__(why)


Progress = Callable[[int, int | None], None]
"""Called as progress(done, total) while reading or applying; total may be unknown."""


@dataclass(frozen=True)
class Capability:
    """One operation a provider relies on, and how sure we are it exists as used."""

    operation: str
    method: str
    endpoint: str
    status: Literal["documented", "assumed"]
    seed: str  # the seed section it comes from, or what the assumption is


@dataclass
class BatchResult:
    """What a batch apply did: an `Outcome` per address it decided, and the batch's own
    account (`detail`, e.g. the sync's log) for the changes it holds no outcome for."""

    outcomes: dict[str, Outcome]
    detail: str = ""


@dataclass(frozen=True)
class SourceSpec:
    """How a provider acts as the org's source of truth (`mode: source`).

    system: the system's name in messages ("HRMS": "inactive in HRMS", "HRMS wins").
    owned: per config section ("employees", "units"), the fields it owns: an overlay in
        the YAML may not change them.
    required: per section, the fields an object must have once merged.
    finding_kind: per section, the kind named in findings about an overlay ("user").
    key_noun: per section, what a key is in this system ("staffId"), for messages.
    placeholders: per section, a function of the key giving stand-in values for the
        owned fields, so overlays validate before the system is read.
    """

    system: str
    owned: Mapping[str, tuple[str, ...]]
    required: Mapping[str, tuple[str, ...]]
    finding_kind: Mapping[str, str]
    key_noun: Mapping[str, str]
    placeholders: Mapping[str, Callable[[str], dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A provider's own settings, typed: parsed once, when the provider is created, from
    its config block (`parse`), so a missing or bad value fails before any request.

    These are the fields every system reached over HTTP has. A provider subclasses it with
    its own (credentials, pacing, poll intervals) and a `parse` that raises `ProviderError`
    saying how to fix a missing or bad value. What the engine reads for every provider
    (`manages`, `prune`, `ignore`) is not here: `Provider.option` gives it.
    """

    timeout: float = DEFAULT_TIMEOUT  # seconds to wait for one answer
    max_concurrency: int = 8  # requests in flight at once
    # Client-side pacing ("1000/h", "60/m", "10/s", or a number per hour); None: the
    # system's documented limit (`DEFAULT_RATE_LIMIT`), or no pacing when it names none.
    rate_limit: str | int | None = None
    DEFAULT_RATE_LIMIT: ClassVar[str | None] = None

    @classmethod
    def parse(cls, provider: str, raw: Mapping[str, Any]) -> Settings:
        """The settings of the provider named `provider` from its config block `raw`."""
        return cls(**cls.common(provider, raw))

    @classmethod
    def common(cls, provider: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of this base class, for a subclass's `parse`; a bad `rate_limit`
        is a `ProviderError` now, not at the first request."""
        rate_limit = raw.get("rate_limit", cls.DEFAULT_RATE_LIMIT)
        try:
            Pacer.parse(rate_limit, cls.DEFAULT_RATE_LIMIT)
        except ValueError as exc:
            raise ProviderError(provider, str(exc)) from None
        return {"timeout": float(raw.get("timeout", DEFAULT_TIMEOUT)),
                "max_concurrency": int(raw.get("max_concurrency", 8)),
                "rate_limit": rate_limit}

    def pacer(self) -> Pacer | None:
        """The client-side pacer these settings ask for (None: no pacing)."""
        return Pacer.parse(self.rate_limit, self.DEFAULT_RATE_LIMIT)


Write = Callable[[Any, Change, Mapping[str, str]], Awaitable[str | None]]
"""A provider method making one change: (self, change, ids) -> the remote id it created."""

Fields = Mapping[str, type | tuple[type, ...]]
"""Fields an answer's object must carry, with their JSON types (NoneType: may be absent)."""


class Provider:
    """Base class of every provider. See the module docstring for the contract."""

    type: ClassVar[str] = ""
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = ()
    KINDS: ClassVar[tuple[str, ...]] = ()
    BATCH: ClassVar[bool] = False
    READ_ONLY: ClassVar[bool] = False
    # Whether live objects of a kind that the config does not mention are removed, when the
    # config's `prune:` says nothing. Objects default to False (left alone); relation kinds
    # (scopes, mappings, admins) that only exist as part of a managed object set True.
    PRUNE_DEFAULTS: ClassVar[dict[str, bool]] = {}
    # Kinds whose `apply` mostly waits for a batch the provider sends itself (Worklete's
    # memberships CSV): the engine does not count them against --parallelism, so one batch
    # can carry every ready change instead of `parallelism` of them. The HTTP layer's own
    # concurrency limit still bounds the requests they make.
    COALESCED_KINDS: ClassVar[frozenset[str]] = frozenset()
    # Model fields a resource attribute carries where the names differ (Workleap's
    # `deactivated` is the employee's status): attribute -> model field.
    MODEL_FIELDS: ClassVar[dict[str, str]] = {}
    # The provider block `orgctl import --from TYPE --url URL` writes: placeholders.
    IMPORT_SETTINGS: ClassVar[dict[str, str]] = {}
    # Set when the system can be the org's source of truth (`mode: source`).
    SOURCE: ClassVar[SourceSpec | None] = None
    # The system's part of the config's JSON Schema: {"provider": its provider block,
    # "employee": the block an employee may hold under the type's name (optional)}, free
    # to refer to the core schema's $defs (url, secret, text, selectors...). A package
    # ships it as `schema.json` (see `schema_file`). None: `url` and any other settings.
    SCHEMA: ClassVar[Mapping[str, Any] | None] = None
    # The typed settings class; `self.settings` is parsed with it when the provider is made.
    SETTINGS: ClassVar[type[Settings]] = Settings
    # How `apply` makes each change: (kind, action) -> the method that does it.
    WRITES: ClassVar[Mapping[tuple[str, Action], Write]] = {}
    # Where the system rules who may hold a relation: relation (an IMPLICATIONS name) ->
    # the employee roles that may hold it. `validate` refuses a relation to someone
    # without one, at the relation's file:line:col. Empty: the system does not say.
    ROLE_HOLDERS: ClassVar[Mapping[str, frozenset[str]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.type:
            return  # an abstract intermediate class
        if not cls.KINDS:
            raise TypeError(f"provider {cls.type}: KINDS is empty")
        for name in ("PRUNE_DEFAULTS", "COALESCED_KINDS"):
            stray = sorted(set(getattr(cls, name)) - set(cls.KINDS))
            if stray:
                raise TypeError(f"provider {cls.type}: {name} names kinds not in KINDS: "
                                f"{', '.join(stray)}")
        stray = sorted({kind for kind, _ in cls.WRITES} - set(cls.KINDS))
        if stray:
            raise TypeError(f"provider {cls.type}: WRITES names kinds not in KINDS: "
                            f"{', '.join(stray)}")

    def __init__(self, config: ProviderConfig):
        self.config = config
        self.name = config.name
        self.org: Org | None = None
        self.settings = self.SETTINGS.parse(self.name, config.settings)
        self._http_client: Http | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        # What this run learnt about the server: assumptions that did not hold (topic ->
        # what showed it), and the notes the plan shows about them, once each.
        self.fallbacks: dict[str, str] = {}
        self.notes: dict[str, Finding] = {}

    # -- 1. capabilities ----------------------------------------------------------------
    def unsupported(self, change: Change) -> str | None:
        """Why this change cannot be made here, or None if `apply` can make it."""
        if self.READ_ONLY:
            return f"{self.type} is read-only: orgctl never writes to it"
        return None

    def removal(self, kind: str) -> Action | None:
        """What removing a live object of `kind` usually means here; None: never."""
        return "delete"

    def removal_of(self, resource: Resource) -> Action | None:
        """What removing this live object means here (its state may decide)."""
        return self.removal(resource.kind)

    def is_inactive(self, resource: Resource) -> bool:
        """Whether this live object already is what a leaver's object should be."""
        return False

    def check_kinds(self, kinds: set[str]) -> None:
        """Refuse resources of kinds this provider did not declare in KINDS."""
        stray = sorted(kinds.difference(self.KINDS))
        if stray:
            raise OrgctlError(f"provider {self.name} ({self.type}) produced a resource of "
                              f"kind {stray[0]!r}, which is not one of its KINDS "
                              f"({', '.join(self.KINDS)})")

    # -- 2. live ------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        raise NotImplementedError

    # -- 3. desired ---------------------------------------------------------------------
    def bind(self, org: Org) -> None:
        """The desired org of this run, for hooks that need more than a change carries."""
        self.org = org

    def desired(self, org: Org) -> list[Resource]:
        raise NotImplementedError

    def match_live(self, desired: list[Resource], live: list[Resource]) -> list[Resource]:
        """Live resources as the diff should see them once the desired side is known."""
        return live

    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """What a reviewer should know that is not a change. Default: nothing."""
        return []

    # -- 4. apply -----------------------------------------------------------------------
    async def apply(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """Make one change with the method `WRITES` names for its kind and action."""
        write = self.WRITES.get((change.kind, change.action))
        if write is None:
            raise ProviderError(self.name, f"{change.address}: cannot {change.action} a "
                                           f"{change.kind}")
        return await write(self, change, ids)

    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """The remote id of the object `change` creates if it exists, None if it does not;
        a `ProviderError` when it cannot tell. Called after a create whose outcome is
        unknown: None lets the create be sent again, an error ends the change as
        `unknown`. Default: cannot tell, so such a create is never sent twice."""
        raise ProviderError(self.name, f"{self.type} cannot look a {change.kind} up by its "
                                       f"key")

    async def apply_batch(self, changes: list[Change], live: list[Resource],
                          progress: Progress | None = None) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not apply batches")

    # -- 5. import, source of truth, sandbox --------------------------------------------
    def to_config(self, live: list[Resource]) -> Imported:
        """This live state as configuration data (see `orgctl.providers.importing`). By
        default, `to_config(live, provider)` of the `importer` module of the provider's
        package."""
        module = _package_module(type(self), "importer")
        if module is None:
            raise OrgctlError(f"{self.type} cannot be imported from")
        imported: Imported = module.to_config(live, self)
        return imported

    def source_data(self) -> dict[str, Any]:
        """After `read()`, the org as this system knows it: {"units": {key: fields},
        "employees": {key: fields}, "notes": [(employee key or "", text)]} (only when
        `SOURCE` is set)."""
        raise OrgctlError(f"{self.type} cannot be a source of truth")

    @classmethod
    def seed(cls, org: Org, organization: str = "Acme") -> dict[str, Any]:
        """The emulator seed of a perfect apply of `org` (the emulator's own format);
        `organization` is the company's name, for a system whose seed holds one. By
        default, `seed(org)` (or `seed(org, organization)` when it takes one) of the
        `seeding` module of the provider's package; no such module: an empty seed."""
        module = _package_module(cls, "seeding")
        if module is None:
            return {}
        wants = inspect.signature(module.seed).parameters
        made: dict[str, Any] = (module.seed(org, organization) if "organization" in wants
                                else module.seed(org))
        return made

    # -- plumbing: one client per event loop, one wording of refusals, answer checks ----
    def make_http(self) -> Http:
        """A new client for this system: base URL, auth, timeout, pacing (`self.settings`)."""
        raise NotImplementedError(f"{self.type} makes no HTTP requests")

    def client(self, auth: Auth) -> Http:
        """A client for this system's URL with `auth` and the common settings (timeout,
        concurrency, pacing): what most `make_http`s return."""
        return Http(provider=self.name, base_url=self.config.url, auth=auth,
                    timeout=self.settings.timeout,
                    max_concurrency=self.settings.max_concurrency,
                    pacer=self.settings.pacer())

    def http(self) -> Http:
        """The client of the running event loop, made by `make_http` on first use.

        A CLI command reads and applies on one loop, so one client (one token, one pool of
        connections, one pacer) serves the whole run; a client is bound to the loop it was
        made on, so another loop (tests run several) gets a new one."""
        loop = asyncio.get_running_loop()
        if self._http_client is None or self._http_loop is not loop:
            self._http_client, self._http_loop = self.make_http(), loop
        return self._http_client

    async def aclose(self) -> None:
        """Release connections: close the client of the running loop."""
        if self._http_client is not None and self._http_loop is asyncio.get_running_loop():
            await self._http_client.aclose()
        self._http_client = None

    def explain(self, err: ApiError) -> ProviderError:
        """A refusal in words that say what to fix, never quoting a credential. `err`
        names the request (`method`, `path`) and the answer (`status`, `body`).
        Default: the refusal as the HTTP layer words it."""
        return err

    @contextmanager
    def explaining(self) -> Iterator[None]:
        """Raise a refusal from within as `explain` words it: around calls and list reads."""
        try:
            yield
        except ApiError as err:
            explained = self.explain(err)
            if explained is err:
                raise
            raise explained from err

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request (keywords as `Http.request`), its answer parsed; a refusal is raised
        as `explain` words it."""
        with self.explaining():
            return await self.http().answer(method, path, **kwargs)

    def expect_object(self, what: str, body: Any, fields: Fields) -> dict[str, Any]:
        """`body` when it is an object carrying `fields`, else an `UnexpectedAnswer` naming
        `what` (the request, "GET /employees") and the first field missing or mistyped."""
        body = expect_mapping(self.name, what, body)
        for name, types in fields.items():
            value = body.get(name)
            if not isinstance(value, types):
                problem = (f"{name} is missing" if name not in body else
                           f"{name} is {_json_type(type(value))}, not {_json_types(types)}")
                raise UnexpectedAnswer(self.name, what, problem, body)
        return body

    def expect_items(self, what: str, items: Any, fields: Fields) -> list[dict[str, Any]]:
        """`items` when it is a list of objects each carrying `fields` (see
        `expect_object`). Check a list answer's rows once, then index them freely."""
        checks = tuple(fields.items())
        for item in expect_list(self.name, what, items):
            if type(item) is dict:  # the check of `expect_object`, inlined: a call less a row
                get = item.get
                for name, types in checks:
                    if not isinstance(get(name), types):
                        break
                else:
                    continue
            self.expect_object(what, item, fields)  # raises, naming the field at fault
        return items

    # -- assumptions that may not hold: fall back to the documented way, once per run -----
    async def assumed(self, topic: str, assumed: Callable[[], Awaitable[T]],
                      documented: Callable[[], Awaitable[T]]) -> T:
        """`assumed()`, a read through something the seed does not show (a route, a query
        parameter, a field in an answer) that saves requests, unless the server does not
        have it: it answers 400, 404, 405 or 501, or `assumed()` raises `NotServed`
        (a field it relies on is absent). Then `documented()`, the way the seed shows,
        for the rest of the run: the choice is remembered under `topic`, so the assumed
        way is tried once. The documented way should `note_fallback` what it cost."""
        if topic not in self.fallbacks:
            try:
                return await assumed()
            except NotServed as exc:
                self.fallbacks[topic] = exc.why
            except ProviderError as exc:
                refusal = exc if isinstance(exc, ApiError) else exc.__cause__
                if not isinstance(refusal, ApiError) or refusal.status not in NOT_SERVED:
                    raise
                self.fallbacks[topic] = (f"{refusal.method} {refusal.path} answered "
                                         f"{refusal.status}")
        return await documented()

    def note_fallback(self, topic: str, instead: str, requests: int) -> None:
        """Say in the plan, once, that `topic` was read the documented way (`instead`),
        why, and what it cost: `requests` requests and, under a rate limit, how long."""
        why = self.fallbacks.get(topic, "the assumed way is not available")
        cost = f"{requests} request{'s' if requests != 1 else ''}"
        pacer = self._http_client.pacer if self._http_client is not None else None
        if pacer is not None:
            # What these requests cost of the rate limit alone, whatever else the run did.
            seconds = requests / pacer.limit * pacer.window
            took = _duration(seconds)
            cost += (f", {took if took.startswith('under') else 'about ' + took} at the rate "
                     f"limit of {pacer.limit} per "
                     f"{_WINDOWS.get(pacer.window, _duration(pacer.window))}")
        self.note(f"fallback:{topic}", f"{why}: read {instead} instead ({cost} this run)")

    def note(self, topic: str, message: str) -> None:
        """Something about this run's read a reviewer should know (a fallback, fields the
        answers do not carry), shown once in the plan as an info finding."""
        self.notes.setdefault(topic, Finding(self.name, "*", topic, message, level="info",
                                             code="read"))

    def unknown_fields(self, what: str, kind: str, row: Mapping[str, Any],
                       fields: Mapping[str, str]) -> frozenset[str]:
        """The attributes of a live `kind` whose answer field is absent from `row`
        (`fields`: answer field -> attribute): unknown, not empty, so never drift; a note
        says so once. A field present with null is a value, not unknown."""
        if fields.keys() <= row.keys():
            return _NOTHING  # every field there: the usual answer, checked in C
        missing = frozenset(attr for name, attr in fields.items() if name not in row)
        for attr in missing:
            topic = f"unknown:{kind}.{attr}"
            if topic not in self.notes:  # once per run: the message is not made again
                self.note(topic,
                          f"{what} answers do not carry the {kind}s' {attr}: it is written "
                          f"when a {kind} is created and never compared or rewritten")
        return missing

    # -- helpers for subclasses ---------------------------------------------------------
    def address(self, kind: str, key: str) -> str:
        return f"{self.name}.{kind}.{key}"

    def option(self, name: str, default: Any = None) -> Any:
        return self.config.settings.get(name, default)

    # Days before an event this system acts on it, by event (`joiners`: a joiner's
    # account exists this long before their start date), unless the provider block's
    # `lifecycle:` says otherwise. Leavers are removed on their leave date everywhere.
    LEAD_DAYS: ClassVar[dict[str, int]] = {"joiners": 0}

    def lead_days(self, event: str = "joiners") -> int:
        """How many days before `event` ("joiners", or one of the system's own) it acts."""
        block = self.option("lifecycle") or {}
        return int(block.get(event, self.LEAD_DAYS.get(event, 0)))

    def leads(self) -> set[int]:
        """Every lead time this provider uses, so the plan knows which days to look at."""
        block = self.option("lifecycle") or {}
        events = {*self.LEAD_DAYS, *(k for k, v in block.items() if type(v) is int)}
        return {self.lead_days(event) for event in events}


def lowered(text: str) -> str:
    """`text` lower-cased: the same string when it already is (the usual email), so that
    a resource read or desired does not hold a second copy of it (100,000s of them)."""
    folded = text.lower()
    return text if folded == text else folded


def folded(text: str) -> str:
    """`text` as a name is compared across systems and people: case folded and in one
    Unicode form (NFC), so that "Équipe" typed, in capitals or come back decomposed (E and
    a combining accent, as text that went through a file name or an export can) is one
    name."""
    return text.casefold() if text.isascii() else unicodedata.normalize("NFC", text.casefold())


_WINDOWS = {3600.0: "hour", 60.0: "minute", 1.0: "second"}


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


_JSON_TYPES = {dict: "an object", list: "a list", str: "text", int: "a number",
               float: "a number", bool: "true or false", type(None): "null"}
_NOTHING: frozenset[str] = frozenset()


def _json_type(kind: type) -> str:
    return _JSON_TYPES.get(kind, kind.__name__)


def _json_types(types: type | tuple[type, ...]) -> str:
    names = [_json_type(t) for t in (types if isinstance(types, tuple) else (types,))]
    return " or ".join(dict.fromkeys(names))


def _package_module(provider: type[Provider], name: str) -> ModuleType | None:
    """The module `name` beside the provider's class in its package, if there is one."""
    package = provider.__module__.rpartition(".")[0]
    if not package:
        return None
    try:
        return import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.{name}":
            raise  # the module exists and fails to import: a bug, not an absence
        return None


def capability_table(provider: type[Provider]) -> str:
    """The capability table as Markdown, for the docs."""
    rows = ["| operation | method | endpoint | status | seed |", "|---|---|---|---|---|"]
    for c in provider.CAPABILITIES:
        rows.append(f"| {c.operation} | {c.method} | `{c.endpoint}` | {c.status} | {c.seed} |")
    return "\n".join(rows)


def schema_file(package: str) -> dict[str, Any]:
    """The `schema.json` a provider package ships: its `Provider.SCHEMA`."""
    return json.loads(resources.files(package).joinpath("schema.json").read_text("utf-8"))
