"""The plain-data types that cross the provider boundary.

A provider turns the desired model into Resources (`Provider.desired`) and the live system
into Resources (`Provider.read`). The engine diffs them into Changes, orders them, and hands
each Change back to the provider to apply; what happened to it is an `Outcome` with a typed
`Status`. A `Finding` is what a reviewer should know that is not a change. Attribute values
are JSON-able (str, int, float, bool, None, lists and dicts of them) so plans serialise
without adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete", "deactivate", "manual"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "deactivate", "manual")
REMOVALS: tuple[Action, ...] = ("delete", "deactivate")

Status = Literal["applied", "failed", "skipped", "pending", "manual", "unknown"]
"""What became of one change: made; refused or broken; not tried because a change it
depends on was not made; accepted but waiting on the system (an approval); left to a
human; unknown: a create whose answer was lost and whose lookup could not tell whether it
was made, so it is not sent again (the next plan finds out from live state)."""
STATUSES: tuple[Status, ...] = ("applied", "failed", "skipped", "pending", "manual",
                                "unknown")

FindingCode = Literal["", "held-back", "read", "duplicate"]
"""What a finding is about, for code that acts on findings (never their text): "held-back"
is a removal `--no-removals` left out; "read" is how a system was read (a documented route
used because an assumed one is missing, and its cost; fields its answers do not carry);
"duplicate" is several live objects matching one desired object."""


class _Nothing(dict):  # type: ignore[type-arg]
    """An empty dict that stays empty: the `refs` and `server` of every resource that has
    none share this one. A dict of its own each cost 64 bytes twice over per resource:
    about 100 MB in a 100,000-person plan (400,000 live and as many desired resources).
    Writing to it is a bug (the value would show up on every other resource), so it
    raises; a resource that gets fields later is made with a dict of its own."""

    __slots__ = ()
    __hash__ = object.__hash__  # hashable: dataclasses accept it as a shared default

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a resource's shared empty refs/server cannot be written: "
                        "give the resource a dict of its own")

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]


NOTHING: dict[str, Any] = _Nothing()


@dataclass(slots=True)
class Resource:
    """One object of one kind in one system, desired or live.

    kind: the provider's own kind name ("unit", "employee", "scope", "journey", "team",
        "team_admin", "membership", "member", "mapping"...).
    key: identity within the kind, stable across runs (external id, "EMP-1:eng" for a
        scope). The address of the resource is `provider.kind.key`.
    attrs: the managed fields, normalised. For a desired resource only the fields the
        config sets are present: a field missing from desired attrs is never drift.
    identities: extra identities for matching a live object that lacks the key, most
        specific first ("email:marie@acme.io", "name:parent-id/Platform"). Desired
        resources also list identities of their former selves (`previously:`) here.
    refs: for a desired resource, the addresses of other resources of the same provider
        it needs to exist first, by attribute ("parent" -> "PROVIDER.unit.eng"). The
        engine orders changes by them and the provider resolves them to remote ids.
    remote_id: the system's own id (live resources only).
    protected: the object may not be removed or deactivated by any plan.
    source: where the desired value comes from: "yaml", or the name of the provider that
        is the org's source of truth.
    server: live fields the system populates that are not diffed (status, created_at...).
    unknown: managed attributes this live object's answers did not carry (a field absent
        is unknown, not empty; a null is a value). They are never drift and never
        rewritten: the diff leaves them out, and a create writes them once.
    """

    kind: str
    key: str
    attrs: dict[str, Any] = field(default_factory=dict)
    identities: tuple[str, ...] = ()
    refs: dict[str, str] = NOTHING
    remote_id: str | None = None
    protected: bool = False
    source: str = "yaml"
    server: dict[str, Any] = NOTHING
    unknown: frozenset[str] = frozenset()


@dataclass(slots=True)
class Change:
    """One thing a plan would do to one resource.

    before/after: the managed attrs as live and as desired (None for create/delete).
    fields: only the attrs that differ, name -> [old, new].
    reason: why this change is in the plan, in words a reviewer reads ("absent from
        config; prune policy employees=true", "status inactive in config").
    depends_on: addresses that must be applied first.
    """

    action: Action
    provider: str
    kind: str
    key: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    fields: dict[str, list[Any]] = field(default_factory=dict)
    reason: str = ""
    depends_on: list[str] = field(default_factory=list)
    remote_id: str | None = None
    refs: dict[str, str] = field(default_factory=dict)
    source: str = "yaml"

    @property
    def address(self) -> str:
        return f"{self.provider}.{self.kind}.{self.key}"

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "action": self.action,
            "provider": self.provider,
            "kind": self.kind,
            "key": self.key,
            "before": self.before,
            "after": self.after,
            "fields": self.fields,
            "reason": self.reason,
            "depends_on": sorted(self.depends_on),
            "remote_id": self.remote_id,
            "refs": dict(sorted(self.refs.items())),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(
            action=data["action"], provider=data["provider"], kind=data["kind"],
            key=data["key"], before=data.get("before"), after=data.get("after"),
            fields=data.get("fields") or {}, reason=data.get("reason", ""),
            depends_on=list(data.get("depends_on") or []), remote_id=data.get("remote_id"),
            refs=dict(data.get("refs") or {}), source=data.get("source", "yaml"),
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a reviewer should know that is not a change: an audit disagreement
    (an audit source), a live object orgctl cannot match, an identity matched by fallback. An
    "error" needs someone to act (duplicates): `plan --detailed-exitcode` does not call a
    plan holding one "no changes"."""

    provider: str
    kind: str
    key: str
    message: str
    level: Literal["error", "warning", "info"] = "warning"
    code: FindingCode = ""

    @property
    def address(self) -> str:
        return f"{self.provider}.{self.kind}.{self.key}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"address": self.address, "level": self.level,
                                "message": self.message}
        if self.code:
            data["code"] = self.code
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        provider, kind, key = data["address"].split(".", 2)
        return cls(provider, kind, key, message=data["message"], level=data["level"],
                   code=data.get("code", ""))


@dataclass(slots=True)
class Outcome:
    """What became of one change in an apply: its status and, unless it was simply
    applied, why (`detail`); the remote id of what a create made."""

    address: str
    action: Action
    status: Status
    detail: str = ""
    remote_id: str | None = None

    @classmethod
    def of(cls, change: Change, status: Status, detail: str = "",
           remote_id: str | None = None) -> Outcome:
        return cls(change.address, change.action, status, detail, remote_id)
