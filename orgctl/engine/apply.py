"""Apply: make exactly the planned changes, in dependency order, in parallel, safely.

Order: within each provider, creates, updates and deactivations run as a dependency graph
(`graphlib.TopologicalSorter`: a change starts when everything it depends on is applied);
deletes run afterwards, kinds in reverse order (memberships before teams, children before
parents). Providers run concurrently; each is bounded by `parallelism` and paced by its own
HTTP layer.

Failure: a failed change marks every change that depends on it `skipped` (with the cause);
independent branches go on. A create whose outcome is unknown is looked up by key before it
is tried again, so it is never duplicated; when the lookup cannot tell, the change ends as
`unknown` and is not sent again (the next plan finds out). Every step is written to the
journal as it happens, so an interrupted apply can be audited; re-running re-plans from
live state and does only what is left.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import IO, Any

from orgctl.errors import OrgctlError, ProviderError, UnknownOutcome
from orgctl.files import open_private
from orgctl.inert import json_text
from orgctl.providers.base import Provider
from orgctl.redact import redact
from orgctl.resources import STATUSES, Change, Outcome, Resource, Status

MAX_ATTEMPTS = 4


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not any(o.status in ("failed", "skipped", "unknown") for o in self.outcomes)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES if self.count(s)]
        return "Apply: " + (", ".join(parts) if parts else "nothing to do") + "."


FINAL_EVENTS = frozenset({"applied", "failed", "skipped", "pending", "unknown"})
"""Journal events that end a change (an "unknown" only when marked final)."""

Echo = Callable[[dict[str, Any]], None]


class Journal:
    """JSON lines, one per event, flushed as written; every line redacted. `echo`, when
    given, also hears each event that ends a change (one line per change in CI logs)."""

    def __init__(self, path: Path | None, echo: Echo | None = None):
        self.path = path
        self.echo = echo
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open_private(path, "a")

    def write(self, **event: Any) -> None:
        kind = event.get("event")
        if (self.echo is not None and event.get("address") and kind in FINAL_EVENTS
                and (kind != "unknown" or event.get("final"))):
            self.echo(event)
        if self._file is None:
            return
        event = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **event}
        # Redact the values before JSON escapes them (a secret holding `"` or `\` would no
        # longer match once escaped), then the line as a whole.
        line = json_text(_redacted(event), default=str)
        self._file.write(redact(line) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


class ProgressLine:
    """`done / total, rate, ETA` on one rewritten stderr line, redrawn every second even
    while nothing completes (a long wait shows its ETA growing, not a frozen "4s"). The
    rate is the one observed over the last `WINDOW` seconds."""

    WINDOW = 30.0

    def __init__(self, total: int, enabled: bool, stream: IO[str] = sys.stderr):
        self.total = total
        self.enabled = enabled and total > 0
        self.stream = stream
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._recent: deque[tuple[float, int]] = deque([(self.started, 0)])

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        self._recent.append((now, self.done))
        self.draw(now)

    def eta(self, now: float) -> float | None:
        """Seconds left at the rate of the last WINDOW seconds; None when nothing has
        completed in that time (no rate to go by)."""
        while len(self._recent) > 1 and self._recent[1][0] <= now - self.WINDOW:
            self._recent.popleft()
        since, done_then = self._recent[0]
        if self.done == done_then or now <= since:
            return None
        return (self.total - self.done) / ((self.done - done_then) / (now - since))

    def draw(self, now: float | None = None, force: bool = False) -> None:
        now = time.monotonic() if now is None else now
        if not self.enabled or (not force and now - self._last < 0.2
                                and self.done < self.total):
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        left = self.eta(now)
        shown = "?" if left is None else _duration(left)
        self.stream.write(f"\rapply: {self.done}/{self.total} ({self.done / elapsed:.1f}/s, "
                          f"ETA {shown})   ")
        self.stream.flush()

    async def ticking(self) -> None:
        """Redraw every second until cancelled."""
        while True:
            await asyncio.sleep(1.0)
            self.draw(force=True)

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


async def apply_changes(changes: list[Change], providers: dict[str, Provider],
                        live: dict[str, list[Resource]], ids: dict[str, str],
                        parallelism: int = 8, journal: Journal | None = None,
                        progress: ProgressLine | None = None) -> ApplyResult:
    """Apply `changes` (one plan's) and return every change's outcome."""
    journal = journal or Journal(None)
    progress = progress or ProgressLine(0, False)
    result = ApplyResult()
    manual = {c.address: c.reason for c in changes if c.action == "manual"}
    for address, reason in manual.items():
        result.outcomes.append(Outcome(address, "manual", "manual", reason))
    by_provider: dict[str, list[Change]] = {}
    for c in changes:
        if c.action != "manual":
            by_provider.setdefault(c.provider, []).append(c)

    async def run_provider(name: str, group: list[Change]) -> list[Outcome]:
        provider = providers[name]
        if provider.BATCH:
            return await _apply_batch(provider, group, live.get(name, []), journal, progress)
        runner = _Runner(provider, ids, parallelism, journal, progress, manual)
        ordered_kinds = {k: i for i, k in enumerate(provider.KINDS)}
        outcomes = await runner.run([c for c in group if c.action != "delete"], set(manual))
        deletes = [c for c in group if c.action == "delete"]
        failed = {o.address for o in outcomes if o.status in ("failed", "skipped")} | set(manual)
        for kind in sorted({c.kind for c in deletes}, key=lambda k: -ordered_kinds.get(k, 0)):
            outcomes += await runner.run([c for c in deletes if c.kind == kind], failed)
        return outcomes

    ticker = asyncio.create_task(progress.ticking()) if progress.enabled else None
    try:
        groups = await asyncio.gather(*(run_provider(n, g)
                                        for n, g in sorted(by_provider.items())))
    finally:
        if ticker is not None:
            ticker.cancel()
    for outcomes in groups:
        result.outcomes.extend(outcomes)
    progress.finish()
    order = {c.address: i for i, c in enumerate(changes)}
    result.outcomes.sort(key=lambda o: order.get(o.address, 0))
    return result


async def _apply_batch(provider: Provider, changes: list[Change], live: list[Resource],
                       journal: Journal, progress: ProgressLine) -> list[Outcome]:
    for c in changes:
        journal.write(address=c.address, action=c.action, event="batched", fields=c.fields)
    reported = [0]

    def batch_progress(done: int, total: int | None) -> None:
        # Scale the batch's own progress onto its share of the overall line.
        share = round(len(changes) * done / total) if total else 0
        if share > reported[0]:
            progress.step(share - reported[0])
            reported[0] = share

    try:
        batch = await provider.apply_batch(changes, live, batch_progress)
    except ProviderError as exc:
        journal.write(provider=provider.name, event="batch_failed", detail=str(exc))
        progress.step(len(changes) - reported[0])
        return [Outcome(c.address, c.action, "failed", str(exc)) for c in changes]
    outcomes = []
    for c in changes:
        said = batch.outcomes.get(c.address)
        if said is None:
            outcome = Outcome.of(c, "failed", f"the batch said nothing of this change; "
                                              f"{batch.detail}")
        else:
            outcome = Outcome.of(c, said.status, said.detail or batch.detail, said.remote_id)
        outcomes.append(outcome)
        journal.write(address=c.address, action=c.action, event=outcome.status,
                      detail=outcome.detail)
    progress.step(len(changes) - reported[0])
    return outcomes


class _Runner:
    """Runs one provider's changes as a dependency graph with bounded concurrency."""

    def __init__(self, provider: Provider, ids: dict[str, str], parallelism: int,
                 journal: Journal, progress: ProgressLine, manual: dict[str, str]):
        self.provider = provider
        self.manual = manual  # address -> reason: changes left to a human
        self.ids = ids
        self.sem = asyncio.Semaphore(max(1, parallelism))
        self.journal = journal
        self.progress = progress

    async def run(self, changes: list[Change], failed_before: set[str] | None = None
                  ) -> list[Outcome]:
        by_address = {c.address: c for c in changes}
        graph = TopologicalSorter[str]()
        for c in changes:
            graph.add(c.address, *[d for d in c.depends_on if d in by_address])
        try:
            graph.prepare()
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            raise OrgctlError(f"dependency cycle in the plan: {cycle}") from None
        outcomes: dict[str, Outcome] = {}
        failed = set(failed_before or ())
        running: dict[asyncio.Task[Outcome], str] = {}
        try:
            while graph.is_active():
                skipped_any = False
                for address in graph.get_ready():
                    change = by_address[address]
                    blocked = [d for d in change.depends_on if d in failed]
                    if blocked:
                        outcomes[address] = self._skip(change, blocked[0], outcomes)
                        failed.add(address)
                        graph.done(address)
                        skipped_any = True  # its dependents may be ready now: look again
                        continue
                    running[asyncio.create_task(self._one(change))] = address
                if not running:
                    if skipped_any:
                        continue
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    address = running.pop(task)
                    outcome = task.result()
                    outcomes[address] = outcome
                    if outcome.status != "applied":
                        failed.add(address)
                    graph.done(address)
        finally:
            # Interrupted (Ctrl-C cancels the apply): stop the changes still in flight, so
            # none goes on writing to the systems and the journal after the apply ended.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        return [outcomes[c.address] for c in changes if c.address in outcomes]

    def _skip(self, change: Change, cause: str, outcomes: dict[str, Outcome]) -> Outcome:
        root = outcomes.get(cause)
        why = f"skipped: depends on {cause}"
        if root is not None and root.status == "skipped":
            why = root.detail
        elif root is not None:
            why += f", which failed ({root.detail})"
        elif cause in self.manual:
            why += f", which must be done by hand first ({self.manual[cause]})"
        self.journal.write(address=change.address, action=change.action, event="skipped",
                           detail=why)
        self.progress.step()
        return Outcome(change.address, change.action, "skipped", why)

    async def _one(self, change: Change) -> Outcome:
        if change.kind in self.provider.COALESCED_KINDS:
            outcome = await self._attempt(change)
        else:
            async with self.sem:
                outcome = await self._attempt(change)
        self.progress.step()
        return outcome

    async def _attempt(self, change: Change) -> Outcome:
        journal = self.journal
        journal.write(address=change.address, action=change.action, event="start",
                      fields=change.fields, remote_id=change.remote_id)
        detail = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                remote_id = await self.provider.apply(change, self.ids)
            except UnknownOutcome as exc:
                detail = str(exc)
                journal.write(address=change.address, action=change.action, event="unknown",
                              attempt=attempt, detail=detail)
                if change.action != "create":
                    continue  # updates and deletes are idempotent: try again
                try:
                    found = await self.provider.lookup(change, self.ids)
                except ProviderError as lookup_error:
                    # Whether the first create committed cannot be known now: sending it
                    # again could make a duplicate. The next plan reads live state and
                    # either finds the object or plans the create again.
                    detail = (f"{detail}; could not look it up ({lookup_error}), so it was "
                              f"not sent again: run `orgctl plan` to see whether it was made")
                    journal.write(address=change.address, action=change.action,
                                  event="unknown", final=True, detail=detail)
                    return Outcome(change.address, change.action, "unknown", detail)
                if found:
                    return self._applied(change, found, "created (confirmed by lookup)")
                continue
            except ProviderError as exc:
                journal.write(address=change.address, action=change.action, event="failed",
                              attempt=attempt, detail=str(exc))
                return Outcome(change.address, change.action, "failed", str(exc))
            return self._applied(change, remote_id, "")
        journal.write(address=change.address, action=change.action, event="failed",
                      detail=f"outcome still unknown after {MAX_ATTEMPTS} attempts: {detail}")
        return Outcome(change.address, change.action, "failed",
                       f"outcome unknown after {MAX_ATTEMPTS} attempts: {detail}")

    def _applied(self, change: Change, remote_id: str | None, note: str) -> Outcome:
        if remote_id:
            self.ids[change.address] = str(remote_id)
        self.journal.write(address=change.address, action=change.action, event="applied",
                           remote_id=remote_id, detail=note)
        return Outcome(change.address, change.action, "applied", note,
                       str(remote_id) if remote_id else None)

