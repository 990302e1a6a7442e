"""The Provider contract: what every connected system implements, and nothing more.

A provider is one system (Workelo, HRMS, Workleap, Worklete) seen through four questions:

1. **What can you do?** `CAPABILITIES` lists every operation the provider uses, with its
   HTTP method, endpoint, and whether the seed document shows it ("documented") or the
   provider relies on an endpoint the seed is silent about ("assumed"). `KINDS` lists the
   resource kinds it manages, parents first. `unsupported(change)` says why a change cannot
   be made (the plan then shows it as `manual`, with that reason, instead of dropping it).
   `removal(kind)` says what removing a live object of that kind means in this system:
   "delete", "deactivate", or None when the system never removes it.
2. **What should be there?** `desired(org)` maps the desired model into this provider's
   resources, pure and synchronous: which concepts go where, and the `refs` between them.
3. **What is there?** `read()` fetches live state with list endpoints at their largest page
   size, pages concurrently where the API allows, and normalises it into resources with
   the same attribute names and value shapes as `desired()`.
4. **Make it so.** `apply(change, ids)` performs one change and returns the remote id of
   what it created (or None). `ids` maps addresses to remote ids, for resolving `refs` to
   objects created earlier in the same run. `lookup(change)` finds a created object by its
   key, so a create whose outcome is unknown (timeout, reset, 5xx after commit) is checked
   before any retry and never duplicated. Batch systems (Workleap's full-replacement sync)
   set `BATCH = True` and implement `apply_batch(changes, live)` instead.

Providers never print and never raise anything but `orgctl.errors.ProviderError` for
system failures. They hold secrets; they must not put them into resources, changes,
findings or error messages (the HTTP layer redacts its logs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from orgctl.model import Org, ProviderConfig
from orgctl.resources import Action, Change, Finding, Resource

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
    """What a batch apply did: per address, "applied", "failed: why" or "pending: why"."""

    outcomes: dict[str, str]
    detail: str = ""


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

    def __init__(self, config: ProviderConfig):
        self.config = config
        self.name = config.name

    # -- 1. capabilities ----------------------------------------------------------------
    def unsupported(self, change: Change) -> str | None:
        """Why this change cannot be made here, or None if `apply` can make it."""
        if self.READ_ONLY:
            return f"{self.type} is read-only: orgctl never writes to it"
        return None

    def removal(self, kind: str) -> Action | None:
        """What removing a live object of `kind` means here; None: never removed."""
        return "delete"

    # -- 2. desired ---------------------------------------------------------------------
    def desired(self, org: Org) -> list[Resource]:
        raise NotImplementedError

    # -- 3. live ------------------------------------------------------------------------
    async def read(self, progress: Progress | None = None) -> list[Resource]:
        raise NotImplementedError

    def findings(self, org: Org, live: list[Resource]) -> list[Finding]:
        """Audit findings that are not changes (HRMS disagreements). Default: none."""
        return []

    # -- 4. apply -----------------------------------------------------------------------
    async def apply(self, change: Change, ids: Mapping[str, str]) -> str | None:
        raise NotImplementedError(f"{self.type} does not apply single changes")

    async def lookup(self, change: Change, ids: Mapping[str, str]) -> str | None:
        """The remote id of the object `change` creates, if it exists already."""
        return None

    async def apply_batch(self, changes: list[Change], live: list[Resource],
                          progress: Progress | None = None) -> BatchResult:
        raise NotImplementedError(f"{self.type} does not apply batches")

    async def aclose(self) -> None:
        """Release connections."""

    # -- helpers for subclasses ---------------------------------------------------------
    def address(self, kind: str, key: str) -> str:
        return f"{self.name}.{kind}.{key}"

    def option(self, name: str, default: Any = None) -> Any:
        return self.config.settings.get(name, default)


def capability_table(provider: type[Provider]) -> str:
    """The capability table as Markdown, for the docs."""
    rows = ["| operation | method | endpoint | status | seed |", "|---|---|---|---|---|"]
    for c in provider.CAPABILITIES:
        rows.append(f"| {c.operation} | {c.method} | `{c.endpoint}` | {c.status} | {c.seed} |")
    return "\n".join(rows)
