"""An in-memory provider for engine tests: desired and live come from the test case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgctl.errors import ProviderError, UnknownOutcome
from orgctl.model import Org, ProviderConfig
from orgctl.providers.base import Provider
from orgctl.resources import Action, Change, Resource


def resource(data: dict[str, Any]) -> Resource:
    return Resource(kind=data["kind"], key=data["key"], attrs=data.get("attrs", {}),
                    identities=tuple(data.get("identities", ())), refs=data.get("refs", {}),
                    remote_id=data.get("remote_id"), protected=data.get("protected", False))


class FakeProvider(Provider):
    type = "fake"
    KINDS = ("unit", "employee", "scope")
    PRUNE_DEFAULTS = {"scope": True}

    def __init__(self, settings: dict[str, Any] | None = None,
                 desired: list[Resource] | None = None, live: list[Resource] | None = None,
                 unsupported: dict[str, str] | None = None, name: str = "fake"):
        super().__init__(ProviderConfig(name=name, type="fake", url="http://127.0.0.1",
                                        settings=settings or {}))
        self._desired = desired or []
        self._live = live or []
        self._unsupported = unsupported or {}
        self.applied: list[str] = []
        self.fail: set[str] = set()
        self.unknown_once: set[str] = set()
        self.lookup_fails = False  # the list a lookup reads answers 503
        self.store: dict[str, str] = {}  # address -> remote id, as the "server" sees it
        self.calls = 0

    def desired(self, org: Org) -> list[Resource]:
        return self._desired

    async def read(self, progress=None) -> list[Resource]:
        return self._live

    def unsupported(self, change: Change) -> str | None:
        return self._unsupported.get(f"{change.kind}:{change.action}")

    def removal(self, kind: str) -> Action | None:
        return "deactivate" if kind == "employee" else "delete"

    def is_inactive(self, resource: Resource) -> bool:
        attrs = resource.attrs
        return attrs.get("deactivated") is True or attrs.get("status") == "inactive"

    async def apply(self, change: Change, ids: Mapping[str, str]) -> str | None:
        from orgctl.errors import ProviderError

        self.calls += 1
        for attr, ref in change.refs.items():
            if ref not in ids:
                raise ProviderError(self.name, f"{change.address}: unresolved {attr} {ref}")
        if change.address in self.fail:
            raise ProviderError(self.name, f"{change.address}: 422 invalid")
        remote = f"r-{change.key}"
        self.store[change.address] = remote
        if change.address in self.unknown_once:
            self.unknown_once.discard(change.address)  # committed, but the answer was lost
            raise UnknownOutcome(self.name, "dropped connection after commit")
        self.applied.append(change.address)
        return remote if change.action == "create" else None

    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        if self.lookup_fails:
            raise ProviderError(self.name, "GET /units answered 503")
        return self.store.get(change.address)
