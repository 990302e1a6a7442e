"""The plan: every change orgctl would make, why, in which order, and from which live state.

`read_live()` reads every provider's live state concurrently; `read_and_plan()` does too,
and makes each provider's part of the plan (`plan_part`: the ownership policies, manages,
ignore, prune; the diff; what the provider cannot do marked `manual`; the fingerprint of
its live state, so a saved plan can be refused when the world has moved) in a worker
thread as soon as that provider's read is in. `make_plan()` puts the parts together (and
makes those it was not given), links dependencies, lists what comes due on later days
(`orgctl.engine.schedule`) and names whom each change concerns
(`orgctl.engine.subjects`). `Plan.to_json()` is the documented plan file format
(docs/plan-format.md).
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from orgctl import __version__
from orgctl.engine.diff import diff
from orgctl.engine.subjects import Subject, subjects_of
from orgctl.errors import OrgctlError, ProviderError
from orgctl.files import read_regular, write_private
from orgctl.inert import json_text
from orgctl.lifecycle import Impact, Orphan
from orgctl.model import Org
from orgctl.providers.base import Provider
from orgctl.resources import ACTIONS, Action, Change, Finding, Resource

if TYPE_CHECKING:
    from orgctl.engine.schedule import Views

FORMAT_VERSION = "1"

RefusalRule = Literal["protected", "max-removals", "removals-percent", "updates-percent",
                      "orphans"]


@dataclass(frozen=True)
class Refusal:
    """A safety rule the plan breaks: which rule, over what scope (an address, a provider
    and kind, or a provider), the counts and ratio it measured against its limit, and the
    flag that lifts it (None: nothing does). `message` is the sentence the error shows."""

    rule: RefusalRule
    scope: str
    count: int
    message: str
    existing: int | None = None  # live objects in scope: the denominator of `ratio`
    ratio: float | None = None  # percent of `existing`, rounded to 2 decimals
    limit: float | None = None  # percent for the ratio rules, a count for max-removals
    override: str | None = "--force"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "scope": self.scope, "count": self.count,
                "existing": self.existing, "ratio": self.ratio, "limit": self.limit,
                "override": self.override, "message": self.message}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Refusal:
        return cls(rule=data["rule"], scope=data["scope"], count=data["count"],
                   message=data["message"], existing=data.get("existing"),
                   ratio=data.get("ratio"), limit=data.get("limit"),
                   override=data.get("override"))


@dataclass
class Scheduled:
    """A change that comes due on a later day (`on`) than the plan's: what the plan of
    that day will show, given the live state as it is now."""

    on: str  # ISO date
    change: Change
    why: str = ""  # what is due that day: "EMP-019 leaves on 2026-12-14"

    def to_json(self) -> dict[str, Any]:
        return {"on": self.on, "why": self.why, **self.change.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scheduled:
        return cls(on=data["on"], why=data.get("why", ""), change=Change.from_json(
            {k: v for k, v in data.items() if k not in ("on", "why")}))


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)  # provider -> live digest
    provider_types: dict[str, str] = field(default_factory=dict)
    config_path: str = ""
    config_digest: str = ""
    existing: dict[str, dict[str, int]] = field(default_factory=dict)  # provider -> kind -> n
    created_at: str = ""
    checksum: str = ""
    # How the plan was asked for, so applying a saved plan re-plans the same way:
    # {"targets": [...], "remove_duplicates": true}; empty for a plain plan.
    options: dict[str, Any] = field(default_factory=dict)
    # Whom the changes and findings concern, by subject id ("employee:EMP-031"): the names
    # a by-person view shows without the config. See `orgctl.engine.subjects`.
    subjects: dict[str, Subject] = field(default_factory=dict)
    # The safety rules the plan breaks, whatever --force says (it decides what they do).
    refusals: list[Refusal] = field(default_factory=list)
    # The day the config was evaluated on (`--as-of`, ISO date; "" for a plan made without
    # one), and the changes that come due in the `horizon` days after it, each with its
    # day (`Scheduled`): shown, never applied by this plan.
    as_of: str = ""
    horizon: int = 0
    scheduled: list[Scheduled] = field(default_factory=list)
    # What each day changes in the org's relations, the plan's day first (see
    # orgctl.lifecycle.Impact); and who would be left with a departed manager, HR,
    # administrative owner or buddy on the plan's day (`safety.assess` refuses them).
    impacts: list[Impact] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list, repr=False)
    # What `ids` is made of, from each provider's part; the ids once made.
    id_sources: list[RemoteIds] = field(default_factory=list, repr=False, compare=False)
    _ids: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def ids(self) -> dict[str, str]:
        """address -> remote id of every live object, by desired address where matched
        (what apply resolves references with, and adds what it creates to). Not saved:
        apply re-reads live state and recomputes it. Made on first use: a plan that is only
        shown never needs it (400,000 addresses in a 100,000-person plan)."""
        if self._ids is None:
            self._ids = {}
            for source in self.id_sources:
                self._ids.update(source.ids())
        return self._ids

    def counts(self) -> dict[str, int]:
        counter = Counter(c.action for c in self.changes)
        return {action: counter.get(action, 0) for action in ACTIONS}

    @property
    def has_changes(self) -> bool:
        return any(c.action != "manual" for c in self.changes)

    @property
    def has_errors(self) -> bool:
        """Findings someone must act on (duplicates): never a "no changes" plan."""
        return any(f.level == "error" for f in self.findings)

    def body(self) -> dict[str, Any]:
        """Everything the checksum covers: deterministic, no timestamps."""
        return {
            "format_version": FORMAT_VERSION,
            "config": {"path": self.config_path, "digest": self.config_digest},
            "providers": {
                name: {"type": self.provider_types.get(name, name),
                       "fingerprint": self.fingerprints[name],
                       "existing": self.existing.get(name, {})}
                for name in sorted(self.fingerprints)
            },
            **({"options": self.options} if self.options else {}),
            # Dated plans only, so a plan without dates keeps the checksum it always had.
            **({"as_of": self.as_of, "horizon": self.horizon,
                "scheduled": [s.to_json() for s in self.scheduled],
                "impacts": [i.to_json() for i in self.impacts]} if self.as_of else {}),
            # Both optional, so a plan without them keeps the checksum it always had.
            **({"refusals": [r.to_json() for r in self.refusals]} if self.refusals else {}),
            **({"subjects": {sid: self.subjects[sid].to_json()
                             for sid in sorted(self.subjects)}} if self.subjects else {}),
            "summary": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "findings": [f.to_json() for f in self.findings],
        }

    def compute_checksum(self) -> str:
        return sha256_of(canonical(self.body()))

    def to_json(self) -> dict[str, Any]:
        body = self.body()
        body["orgctl_version"] = __version__
        body["created_at"] = self.created_at
        body["checksum"] = self.checksum or self.compute_checksum()
        return dict(sorted(body.items()))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        if str(data.get("format_version")) != FORMAT_VERSION:
            raise OrgctlError(
                f"plan format {data.get('format_version')!r} is not supported "
                f"(this orgctl reads format {FORMAT_VERSION})")
        providers = data.get("providers") or {}
        plan = cls(
            changes=[Change.from_json(c) for c in data.get("changes") or []],
            findings=[Finding.from_json(f) for f in data.get("findings") or []],
            fingerprints={n: p["fingerprint"] for n, p in providers.items()},
            provider_types={n: p.get("type", n) for n, p in providers.items()},
            existing={n: p.get("existing", {}) for n, p in providers.items()},
            config_path=(data.get("config") or {}).get("path", ""),
            config_digest=(data.get("config") or {}).get("digest", ""),
            created_at=data.get("created_at", ""),
            checksum=data.get("checksum", ""),
            options=dict(data.get("options") or {}),
            subjects={sid: Subject.from_json(sid, subject)
                      for sid, subject in (data.get("subjects") or {}).items()},
            refusals=[Refusal.from_json(r) for r in data.get("refusals") or []],
            as_of=data.get("as_of", ""), horizon=int(data.get("horizon") or 0),
            scheduled=[Scheduled.from_json(s) for s in data.get("scheduled") or []],
            impacts=[Impact.from_json(i) for i in data.get("impacts") or []],
        )
        return plan

    def write(self, path: Path) -> None:
        self.checksum = self.compute_checksum()
        write_private(path, json_text(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Plan:
        """A saved plan file: its checksum verified on the document as written, then its
        shape checked against the plan format (docs/plan-format.md), then parsed; any of
        them failing is an `OrgctlError` naming the file, never a crash."""
        try:
            data = json.loads(read_regular(path, MAX_PLAN_BYTES).decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise OrgctlError(f"{path}: not a readable plan file: {exc}") from None
        if not isinstance(data, dict):
            raise OrgctlError(f"{path}: not a plan file: the document is not a JSON object")
        if str(data.get("format_version")) != FORMAT_VERSION:
            raise OrgctlError(
                f"plan format {data.get('format_version')!r} is not supported "
                f"(this orgctl reads format {FORMAT_VERSION})")
        body = {k: data[k] for k in BODY_KEYS if k in data}
        digest = sha256_of(canonical(body))
        if data.get("checksum") != digest:
            raise OrgctlError(f"{path}: checksum mismatch: the plan file was edited or damaged")
        problem = next(iter(_plan_validator().iter_errors(data)), None)
        if problem is not None:
            where = "/".join(str(p) for p in problem.absolute_path) or "(top)"
            raise OrgctlError(f"{path}: not a valid plan file (format {FORMAT_VERSION}): "
                              f"{where}: {problem.message[:200]}")
        return cls.from_json(data)


MAX_PLAN_BYTES = 512 * 1024 * 1024
BODY_KEYS = ("format_version", "config", "providers", "options", "as_of", "horizon",
             "scheduled", "impacts", "refusals", "subjects", "summary", "changes",
             "findings")  # what the checksum covers: `Plan.body()`

_ADDRESS = {"type": "string", "minLength": 1}
_ATTRS = {"type": ["object", "null"]}
_CHANGE = {
    "type": "object", "required": ["action", "provider", "kind", "key"],
    "properties": {
        "action": {"enum": list(ACTIONS)}, "provider": _ADDRESS, "kind": _ADDRESS,
        "key": _ADDRESS, "address": {"type": "string"}, "before": _ATTRS,
        "after": _ATTRS, "reason": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {
            "type": "array", "minItems": 2, "maxItems": 2}},
        "depends_on": {"type": "array", "items": {"type": "string"}},
        "remote_id": {"type": ["string", "null"]},
        "refs": {"type": "object", "additionalProperties": {"type": "string"}},
        "source": {"type": "string"}}}
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format_version", "config", "providers", "summary", "changes", "findings",
                 "checksum"],
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "checksum": {"type": "string"},
        "created_at": {"type": "string"},
        "orgctl_version": {"type": "string"},
        "config": {"type": "object", "properties": {"path": {"type": "string"},
                                                    "digest": {"type": "string"}}},
        "options": {"type": "object", "properties": {
            "targets": {"type": "array", "items": {"type": "string"}},
            "remove_duplicates": {"type": "boolean"}}},
        "refusals": {"type": "array", "items": {
            "type": "object", "required": ["rule", "scope", "count", "message"],
            "properties": {
                "rule": {"enum": ["protected", "max-removals", "removals-percent",
                                  "updates-percent", "orphans"]},
                "scope": {"type": "string"}, "count": {"type": "integer"},
                "message": {"type": "string"},
                "existing": {"type": ["integer", "null"]},
                "ratio": {"type": ["number", "null"]}, "limit": {"type": ["number", "null"]},
                "override": {"type": ["string", "null"]}}}},
        "subjects": {"type": "object",
                     "propertyNames": {"pattern": "^(employee|unit|team):."},
                     "additionalProperties": {
                         "type": "object", "required": ["name"],
                         "properties": {"name": {"type": "string"},
                                        "unit": {"type": "string"},
                                        "status": {"type": "string"}}}},
        "summary": {"type": "object", "additionalProperties": {"type": "integer"}},
        "providers": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["fingerprint"],
            "properties": {"type": {"type": "string"}, "fingerprint": {"type": "string"},
                           "existing": {"type": "object",
                                        "additionalProperties": {"type": "integer"}}}}},
        "changes": {"type": "array", "items": _CHANGE},
        "as_of": {"type": "string", "format": "date"},
        "horizon": {"type": "integer", "minimum": 0},
        "scheduled": {"type": "array", "items": {
            "allOf": [_CHANGE, {"required": ["on"],
                                "properties": {"on": {"type": "string", "format": "date"},
                                               "why": {"type": "string"}}}]}},
        "impacts": {"type": "array", "items": {
            "type": "object", "required": ["on"],
            "properties": {"on": {"type": "string"},
                           **{name: {"type": "array", "items": {"type": "string"}}
                              for name in ("manager_changes", "units_losing_hr",
                                           "admin_gained", "admin_lost")}}}},
        "findings": {"type": "array", "items": {
            "type": "object", "required": ["address", "level", "message"],
            "properties": {"address": {"type": "string", "pattern": r"^[^.]+\.[^.]+\."},
                           "level": {"enum": ["error", "warning", "info"]},
                           "message": {"type": "string"},
                           "code": {"type": "string"}}}},
    },
}


@cache
def _plan_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(PLAN_SCHEMA)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=str)
"""One encoder for every call: `json.dumps` with options builds a new one each time, which
cost more than the encoding itself at 500,000 resources."""


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


_FAST_CANONICAL = msgspec.json.Encoder(enc_hook=str, order="sorted").encode
"""`canonical` in msgspec, in half the CPU: the same text for text, integers, booleans, null,
lists and objects, the fingerprint's rows at 100,000 people being nearly all of them; a
float it writes in its own shortest form (`1e16`, not `1e+16`), and NaN or infinity as
null."""


def _row_json(value: Any) -> str:
    """`canonical(value)` by `_FAST_CANONICAL`, for a fingerprint's rows."""
    try:
        return _FAST_CANONICAL(value).decode()
    except UnicodeEncodeError:  # a lone surrogate, which msgspec does not write
        return canonical(value)


def sha256_of(text: str) -> str:
    """`sha256:` and the digest of `text` in UTF-8. A lone surrogate, which JSON can escape
    (`"\\ud83d"`: a server that cut a name inside an emoji's UTF-16 pair writes one), is
    digested as its three bytes rather than refused."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(seen: Seen) -> str:
    """A digest of live state, as planned against the config: changes whenever any
    managed attribute or id moves.

    Every live resource the plan was made from (`Seen.live`) is a row. One equal to its
    desired match (`Seen.same`, from `diff`) is written as its kind, key and remote id
    only: the config, whose digest the plan carries too (`check_stale`), says its
    attributes, so were they to move, it would no longer be `same` and would be written in
    full. One holding its desired attributes and more (`Seen.covered`: fields the server
    keeps that the config does not set) is written short with those other fields. Every
    other live resource is written in full. At 100,000 people nearly all of the 500,000
    are short rows, which cost a fifth of the full ones (canonical JSON)."""
    # A short row is not JSON (a full one is an array): the two never read alike, and the
    # key and id are escaped as JSON strings, so a NUL cannot be part of either; a short
    # row with other fields has one NUL more.
    text = json.encoder.encode_basestring
    short = {id(r) for r in seen.same}
    more = {id(r): wanted for r, wanted in seen.covered}
    rows = []
    for r in seen.live:
        wanted = more.get(id(r))
        if wanted is None and id(r) not in short:
            rows.append(_row_json([r.kind, r.key, r.attrs, r.remote_id]))
            continue
        row = f"{r.kind}\0{text(r.key)}\0{text(r.remote_id or '')}"
        if wanted is not None:
            row += "\0" + _row_json({k: v for k, v in r.attrs.items() if k not in wanted})
        rows.append(row)
    rows.sort()
    rows.append("")  # every row ends with a newline
    return sha256_of("\n".join(rows))


def config_digest(path: Path) -> str:
    """A digest of the config files' bytes, so `apply plan.json` knows it plans the same."""
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes())
    return "sha256:" + digest.hexdigest()


# -- reading --------------------------------------------------------------------------------

ReadProgress = Callable[[str, int, "int | None"], None]


async def read_live(providers: list[Provider], progress: ReadProgress | None = None,
                    each: Callable[[Provider, list[Resource]], None] | None = None,
                    ) -> dict[str, list[Resource]]:
    """Read every provider concurrently. A provider that fails fails the whole read, with
    its name in the message, after the others were given the chance to finish. `each`
    is called with a provider and its resources as soon as that provider's read is in."""

    async def one(p: Provider) -> list[Resource]:
        cb = (lambda done, total: progress(p.name, done, total)) if progress else None
        resources = await p.read(cb)
        if each is not None:
            each(p, resources)
        return resources

    results = await asyncio.gather(*(one(p) for p in providers), return_exceptions=True)
    live: dict[str, list[Resource]] = {}
    errors: list[BaseException] = []
    for p, result in zip(providers, results, strict=True):
        if isinstance(result, BaseException):
            errors.append(result)
        else:
            live[p.name] = result
    for error in errors:
        if isinstance(error, ProviderError):
            raise error
    if errors:
        raise errors[0]
    return live


@dataclass
class RemoteIds:
    """The remote ids one provider's live state gives (`Plan.ids`): every live object's
    by its address, and a desired object's matched by identity (under another key) by the
    desired address."""

    provider: str
    live: list[Resource]
    by_identity: dict[str, Resource]

    def ids(self) -> dict[str, str]:
        # `provider.address`, written out: a call per live object cost more than the dict.
        name = self.provider
        ids = {f"{name}.{r.kind}.{r.key}": r.remote_id for r in self.live if r.remote_id}
        ids.update({address: r.remote_id for address, r in self.by_identity.items()
                    if r.remote_id})
        return ids


@dataclass
class Part:
    """What one provider brings to a plan: `plan_provider`'s changes, findings, live
    counts and remote ids, and the fingerprint of its live state."""

    changes: list[Change]
    findings: list[Finding]
    existing: dict[str, int]
    ids: RemoteIds
    fingerprint: str


@dataclass
class Seen:
    """The live state one provider's part was planned from, for its `fingerprint`: every
    live resource as diffed (after `Provider.match_live`) and those left out by policy
    (`manages`, `ignore`), and what `diff` found equal to the config among them."""

    live: list[Resource] = field(default_factory=list)
    same: list[Resource] = field(default_factory=list)
    covered: list[tuple[Resource, dict[str, Any]]] = field(default_factory=list)


def plan_part(provider: Provider, org: Org, live: list[Resource],
              remove_duplicates: bool = False) -> Part:
    """One provider's part of the plan of `org` (evaluated for it: `Views.of`)."""
    seen = Seen()
    changes, findings, existing, ids = plan_provider(provider, org, live, remove_duplicates,
                                                     seen)
    return Part(changes, findings, existing, ids, fingerprint(seen))


async def read_and_plan(providers: list[Provider], views: Views,
                        remove_duplicates: bool = False,
                        progress: ReadProgress | None = None,
                        ) -> tuple[dict[str, list[Resource]], dict[str, Part]]:
    """`read_live`, planning each provider's part as soon as its own read is in, while the
    others still read: a plan waits on the slowest system's answers (one request per team
    and 20 ms each, say), and the CPU the other parts need would otherwise come after it.

    The parts are made one at a time in a worker thread, so the event loop keeps sending
    and answering the reads still going; the interpreter lock is handed back and forth
    every `SWITCH_INTERVAL` meanwhile (Python's default, 5 ms, delays each answer of the
    slowest read by as much). A part that fails is raised once every read has ended."""
    loop = asyncio.get_running_loop()
    parts: dict[str, asyncio.Future[Part]] = {}

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="orgctl-plan") as worker:
        def start(provider: Provider, resources: list[Resource]) -> None:
            parts[provider.name] = loop.run_in_executor(
                worker, plan_part, provider, views.of(provider.lead_days()), resources,
                remove_duplicates)

        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL))
        try:
            try:
                live = await read_live(providers, progress, start)
            finally:
                # Whatever happened to the reads, the parts started are let finish: a
                # thread cannot be stopped, and the worker is shut down below anyway.
                done = await asyncio.gather(*parts.values(), return_exceptions=True)
        finally:
            sys.setswitchinterval(switch)
    for result in done:
        if isinstance(result, BaseException):
            raise result
    return live, {name: part.result() for name, part in parts.items()}


SWITCH_INTERVAL = 0.0005
"""Seconds the worker planning a part may hold the interpreter lock while the event loop
waits for it (`sys.setswitchinterval`), while `read_and_plan` runs."""


# -- policies -------------------------------------------------------------------------------

def _ignored(resource: Resource, rules: list[dict[str, str]]) -> bool:
    for rule in rules:
        if all(_rule_matches(resource, what, pattern) for what, pattern in rule.items()):
            return True
    return False


def _rule_matches(resource: Resource, what: str, pattern: str) -> bool:
    if what == "key":
        value = resource.key
    elif what == "kind":
        value = resource.kind
    else:
        value = resource.attrs.get(what)
    return isinstance(value, str) and fnmatch.fnmatchcase(value.lower(), str(pattern).lower())


def managed_kinds(provider: Provider) -> set[str]:
    manages = provider.option("manages")
    if not manages:
        return set(provider.KINDS)
    # Accept plural forms as written in configs ("units", "employees").
    wanted = {m.rstrip("s") if m.rstrip("s") in provider.KINDS else m for m in manages}
    return {k for k in provider.KINDS if k in wanted}


def prune_enabled(provider: Provider, kind: str) -> bool:
    prune = provider.option("prune") or {}
    if isinstance(prune, bool):
        return prune
    for name in (kind, kind + "s"):
        if name in prune:
            return bool(prune[name])
    return provider.PRUNE_DEFAULTS.get(kind, False)


def plan_provider(provider: Provider, org: Org, live: list[Resource],
                  remove_duplicates: bool = False, seen: Seen | None = None
                  ) -> tuple[list[Change], list[Finding], dict[str, int], RemoteIds]:
    """Diff one provider under its policies; return changes, findings, live counts, ids.
    `remove_duplicates`: plan the removal of every duplicate but the oldest. `seen`, when
    given, is filled with the live state this plan was made from (see `Seen`)."""
    kinds = managed_kinds(provider)
    ignore = provider.option("ignore") or []
    # Live objects by kind, counted in one pass at C speed (400,000 at 100,000 people).
    existing = dict(Counter(map(KIND, live)))
    desired = desired_of(provider, org, existing)
    left_out: list[Resource] = []  # by policy: not managed, or ignored
    if not kinds.issuperset(existing):
        left_out = [r for r in live if r.kind not in kinds]
        live = [r for r in live if r.kind in kinds]
    ignored: list[Resource] = []
    if ignore:
        ignored = [r for r in live if _ignored(r, ignore)]
        live = [r for r in live if not _ignored(r, ignore)]
        left_out += ignored
    if len(live) != sum(existing.values()):
        existing = dict(Counter(map(KIND, live)))
    notes = list(provider.notes.values())  # what the read learnt about the server
    if provider.READ_ONLY:
        # Nothing is ever written to an audit source: its whole contribution is findings.
        if seen is not None:
            seen.live = live + left_out
        return [], notes + provider.findings(org, live), existing, RemoteIds(
            provider.name, [], {})
    # A system without external ids (teams matched by name) can write a live object's relations
    # in config keys only once it sees the desired side, which is built after the read.
    live = provider.match_live(desired, live)

    def removal(r: Resource) -> tuple[Action | None, str]:
        if r.key in org.pending:
            return None, (f"joins on {org.pending[r.key]} here: left alone until then")
        person = org.employees.get(r.key)
        if person is not None and not person.active:
            # The config says this person left: their account goes, whatever prune says.
            if provider.is_inactive(r):
                return None, "status inactive in config; already inactive here"
            where = person.status_from
            action = provider.removal_of(r)
            if action is not None:
                return action, f"status inactive in {where}"
            return "manual", (f"status inactive in {where}, but {provider.type} does not "
                              f"remove this {r.kind} (a rule of the system): do it by hand")
        if not prune_enabled(provider, r.kind):
            return None, f"not in config; left alone (prune.{r.kind}: false)"
        action = provider.removal_of(r)
        if action is None:
            return None, (f"not in config; left in place: {provider.type} does not remove "
                          f"this {r.kind} (a rule of the system, e.g. admins or already "
                          f"deactivated)")
        return action, f"absent from config; removed because prune.{r.kind}: true"

    result = diff(provider.name, desired, live, removal,
                  provider.removal_of if remove_duplicates else None)
    if seen is not None:
        # The plan is made from these and the config alone: as matched, not as read.
        seen.live, seen.same, seen.covered = live + left_out, result.same, result.covered
    findings = notes + result.findings
    if ignored:
        findings.append(Finding(provider.name, "*", "ignored",
                                f"{len(ignored)} live objects matched ignore rules: not managed",
                                level="info"))
    findings.extend(provider.findings(org, live))
    changes = []
    for change in result.changes:
        reason = provider.unsupported(change)
        if reason:
            change.reason = f"{change.action} needed ({change.reason}) but {reason}"
            change.action = "manual"
        changes.append(change)
    return changes, findings, existing, RemoteIds(provider.name, live, result.matched)


KIND = attrgetter("kind")


def desired_of(provider: Provider, org: Org, live_kinds: Iterable[str] = ()) -> list[Resource]:
    """What `provider` should hold for `org`, under its policies (manages, ignore).
    `live_kinds`: the kinds its live state holds, checked with the desired ones."""
    kinds = managed_kinds(provider)
    ignore = provider.option("ignore") or []
    provider.bind(org)
    everything = provider.desired(org)
    present = set(map(KIND, everything))
    provider.check_kinds(present.union(live_kinds))
    if not ignore and kinds.issuperset(present):
        return everything  # nearly always: nothing to leave out
    return [r for r in everything if r.kind in kinds and not _ignored(r, ignore)]


def link_dependencies(changes: list[Change], kind_order: dict[str, dict[str, int]]) -> None:
    """Creates wait for the creates they refer to; a parent's delete waits for its
    children's deletes. (All removals run after all creates and updates: see apply.)"""
    by_address = {c.address: c for c in changes}

    def created_here(address: str) -> bool:
        # A manual create counts too: what needs it must wait for the hand-made object.
        target = by_address.get(address)
        return target is not None and (target.action == "create" or (
            target.action == "manual" and target.before is None))

    for c in changes:
        if c.action in ("create", "update", "deactivate", "manual"):
            c.depends_on = sorted({a for a in c.refs.values() if created_here(a)})
    for c in changes:
        if c.action == "delete" and c.before and c.before.get("parent"):
            parent = by_address.get(f"{c.provider}.{c.kind}.{c.before['parent']}")
            if parent is not None and parent.action == "delete":
                parent.depends_on = sorted({*parent.depends_on, c.address})


def wait_for_manual(changes: list[Change]) -> None:
    """A change that depends on one a person must make (a `manual` create) cannot be made
    by this apply either: it is manual too, saying what it waits for. Without this it was
    `skipped` by every apply (exit 1) and kept every plan "with changes" (exit 2)."""
    waiting = [c for c in changes if c.action == "manual"]
    blocked = {c.address for c in waiting}
    # Who waits for each address, in plan order: each manual change looks up its own
    # dependents instead of scanning the plan (3,000 leavers × 7,000 changes at 100,000).
    dependents: dict[str, list[Change]] = {}
    for c in changes:
        for address in c.depends_on:
            dependents.setdefault(address, []).append(c)
    while waiting:
        done = waiting.pop()
        for c in dependents.get(done.address, ()):
            if c.action != "manual" and c.address not in blocked:
                blocked.add(c.address)
                c.reason = (f"{c.action} waits for {done.address}, which must be made by "
                            f"hand first ({c.reason})" if c.reason else
                            f"{c.action} waits for {done.address}, which must be made by "
                            f"hand first")
                c.action = "manual"
                waiting.append(c)


def sort_changes(changes: list[Change], kind_order: dict[str, dict[str, int]]) -> list[Change]:
    def key(c: Change) -> tuple[Any, ...]:
        return (c.provider, kind_order.get(c.provider, {}).get(c.kind, 99), c.kind, c.key)

    return sorted(changes, key=key)


def make_plan(org: Org, providers: list[Provider], live: dict[str, list[Resource]],
              config_path: Path, targets: list[str] | None = None,
              remove_duplicates: bool = False, as_of: date | None = None,
              horizon: int | None = None, views: Views | None = None,
              parts: dict[str, Part] | None = None) -> Plan:
    """The plan of `org` against `live`. With `as_of`, the org is evaluated on that day
    for each provider (its joiner lead time included), and the plan lists what comes due
    in the `horizon` days after it (default: the config's `lifecycle.horizon_days`); see
    `orgctl.engine.schedule`. `views`: those evaluations of `org` on `as_of` made already
    (for binding the providers before the read), not made again. `parts`: providers'
    parts made already from those views (`read_and_plan`), by provider name."""
    from orgctl.engine.schedule import Views, schedule

    if views is None or views.org is not org or views.day != as_of:
        views, parts = Views(org, as_of), None
    plan = Plan(config_path=str(config_path), config_digest=config_digest(config_path),
                created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if targets:
        plan.options["targets"] = sorted(targets)
    if remove_duplicates:
        plan.options["remove_duplicates"] = True
    kind_order = {p.name: {k: i for i, k in enumerate(p.KINDS)} for p in providers}
    for provider in providers:
        part = (parts or {}).get(provider.name)
        if part is None:
            part = plan_part(provider, views.of(provider.lead_days()), live[provider.name],
                             remove_duplicates)
        plan.id_sources.append(part.ids)
        plan.changes.extend(part.changes)
        plan.findings.extend(part.findings)
        plan.fingerprints[provider.name] = part.fingerprint
        plan.provider_types[provider.name] = provider.type
        plan.existing[provider.name] = part.existing
    link_dependencies(plan.changes, kind_order)
    wait_for_manual(plan.changes)
    coming: list[Change] = []
    if as_of is not None:
        coming = schedule(plan, views, providers, live,
                          org.lifecycle.horizon_days if horizon is None else horizon)
    if targets:
        _check_targets(targets, plan.changes + coming, org, providers, live)
        plan.changes = select_targets(plan.changes, targets)
        plan.scheduled = [s for s in plan.scheduled if select_targets([s.change], targets)]
        coming = [s.change for s in plan.scheduled]
    plan.changes = sort_changes(plan.changes, kind_order)
    plan.scheduled.sort(key=lambda s: (s.on, s.change.provider,
                                       kind_order.get(s.change.provider, {}).get(
                                           s.change.kind, 99), s.change.kind, s.change.key))
    plan.findings.sort(key=lambda f: (f.provider, f.kind, f.key, f.message))
    plan.subjects = subjects_of(views.of(None), plan.changes + coming, plan.findings)
    plan.checksum = plan.compute_checksum()
    return plan


def _hits(address: str, target: str) -> bool:
    return (address == target or address.startswith(target + ".")
            or fnmatch.fnmatchcase(address, target))


def _check_targets(targets: list[str], changes: list[Change], org: Org,
                   providers: list[Provider], live: dict[str, list[Resource]]) -> None:
    """Refuse a target that names nothing in the config or the live systems: a typo would
    otherwise read as "No changes"."""
    missing = [t for t in targets if not any(_hits(c.address, t) for c in changes)]
    if not missing:
        return
    known = {p.address(r.kind, r.key) for p in providers for r in live.get(p.name, ())}
    for p in providers:
        p.bind(org)
        known.update(p.address(r.kind, r.key) for r in p.desired(org))
    for target in missing:
        if not any(_hits(a, target) for a in known):
            raise OrgctlError(f"--target {target}: matches nothing in the config or the live "
                              f"systems (an address is PROVIDER.KIND.KEY, e.g. "
                              f"{next(iter(sorted(known)), 'PROVIDER.employee.EMP-001')})")


def select_targets(changes: list[Change], targets: list[str]) -> list[Change]:
    """Changes whose address matches a target (exact, prefix at a dot, or glob), plus
    everything they depend on."""
    by_address = {c.address: c for c in changes}

    def hit(address: str) -> bool:
        return any(_hits(address, t) for t in targets)

    keep: set[str] = set()
    stack = [c.address for c in changes if hit(c.address)]
    while stack:
        address = stack.pop()
        if address in keep:
            continue
        keep.add(address)
        stack.extend(d for d in by_address[address].depends_on if d in by_address)
    return [c for c in changes if c.address in keep]
