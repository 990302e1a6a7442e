"""The commands orgctl runs, as plain functions: load and validate a configuration, plan,
apply a saved or a fresh plan, import a system's live state as configuration.

The CLI turns its options into these functions' arguments and renders what they return;
tests and the benchmarks call them directly instead of assembling the pipeline again.
Nothing here prints or prompts: what a command shows or asks on the way comes in as
callbacks (`progress`, `show`, `confirm`), and what goes wrong is raised as an
`orgctl.errors` exception.

    load            the configuration at a path, pointed at a sandbox when asked
    point_at        a loaded configuration pointed at a sandbox's endpoints
    sandbox         the endpoints of a running sandbox, or of one started for the block
    plan            read live state, diff, check safety, write the plan file, show it
                    (with the rules it breaks), refuse it when it breaks one
    planned         the same plan with its providers still open, for applying part of it
    apply           re-plan, check safety, refuse a stale saved plan, refuse a plan that
                    breaks a safety rule, confirm, lock, journal, apply
    import_config   read a system and write its live state as a configuration
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal

from orgctl import lifecycle
from orgctl.config import gc_paused, point_at, settle
from orgctl.config import load as load_config
from orgctl.engine import importer, safety, sources
from orgctl.engine.apply import ApplyResult, Journal, ProgressLine, apply_changes
from orgctl.engine.lock import apply_lock
from orgctl.engine.plan import Plan, ReadProgress, make_plan, read_and_plan, read_live
from orgctl.engine.schedule import Views
from orgctl.errors import ConfigError, OrgctlError, StalePlanError
from orgctl.files import write_private
from orgctl.model import Org
from orgctl.providers import create
from orgctl.providers.base import Progress, Provider
from orgctl.resources import Change, Resource

__all__ = [
    "ApplyReport", "ApplyStatus", "Endpoints", "ImportResult", "OpenPlan", "PlanResult",
    "apply", "check_stale", "import_config", "is_plan_file", "load", "plan", "planned",
    "point_at", "read_plan", "sandbox",
]

Endpoints = dict[str, dict[str, Any]]
"""A sandbox's endpoints by system: base URL and throw-away credentials (the shape of
`orgctl sandbox serve --endpoints-file`)."""

ShowPlan = Callable[[Plan], None]
ConfirmPlan = Callable[[Plan], bool]


# -- loading --------------------------------------------------------------------------------

def load_org(path: Path, resolve_env: bool = True,
             providers: Iterable[str] = ()) -> Org:
    """The configuration at `path`; in source mode, its overlays (see engine.sources).
    `providers`: only those are used this run, so only their credentials are resolved."""
    if not path.exists():
        raise OrgctlError(f"{path}: no such file or directory")
    return load_config(path, resolve_env=resolve_env, source=sources.PendingSource(),
                       providers=set(providers) or None)



def read_endpoints(path: Path) -> Endpoints:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise OrgctlError(
            f"{path}: cannot read sandbox endpoints ({exc}); start one with "
            f"`orgctl sandbox serve --endpoints-file {path}`") from None


def open_providers(org: Org, only: Iterable[str] = ()) -> list[Provider]:
    """The providers named (all by default), created from their blocks."""
    only = list(only)
    unknown = [n for n in only if n not in org.providers]
    if unknown:
        known = ", ".join(sorted(org.providers)) or "none"
        raise OrgctlError(f"--provider {unknown[0]}: no such provider in the config "
                          f"(configured: {known})")
    names = only or sorted(org.providers)
    return [create(org.providers[n]) for n in names]


async def plan_org(org: Org, providers: list[Provider], config_path: Path,
                   targets: list[str] | None = None,
                   progress: ReadProgress | None = None, remove_duplicates: bool = False,
                   as_of: date | None = None, horizon: int | None = None,
                   ) -> tuple[Plan, dict[str, list[Resource]]]:
    """Read and plan `org` on the day `as_of` (default: today in the config's time
    zone), listing what comes due in the `horizon` days after it."""
    # Reading and diffing keep nearly everything they allocate (resources and their
    # attrs): the cyclic collector would rescan that growing heap for nothing, as when
    # loading the config. Paused, a 30,000-employee plan takes 28 % less CPU.
    with gc_paused():
        made = await _plan_org(org, providers, config_path, targets, progress,
                               remove_duplicates, as_of or lifecycle.today(org), horizon)
        settle()
        return made


async def _plan_org(org: Org, providers: list[Provider], config_path: Path,
                    targets: list[str] | None, progress: ReadProgress | None,
                    remove_duplicates: bool, as_of: date, horizon: int | None,
                    ) -> tuple[Plan, dict[str, list[Resource]]]:
    source = sources.source_provider(org)
    views = Views(org, as_of)
    for provider in providers:
        # Before the read, so a provider that must read per object (a documented route
        # costing one request each) reads only the objects the config compares. The
        # engine binds again with the org it plans (in source mode, the sourced one).
        provider.bind(views.of(provider.lead_days()))
    if source is None:
        live, parts = await read_and_plan(providers, views, remove_duplicates, progress)
        return make_plan(org, providers, live, config_path, targets,
                         remove_duplicates, as_of, horizon, views, parts), live
    # The source is read even when --provider leaves it out of the plan: the org comes
    # from it.
    extra = [] if any(p.name == source for p in providers) else [
        create(org.providers[source])]
    reading = [*providers, *extra]
    try:
        live = await read_live(reading, progress)
        org, origin = sources.sourced_org(org, config_path,
                                          next(p for p in reading if p.name == source))
    finally:
        await close_all(extra)
    plan = make_plan(org, providers, live, config_path, targets, remove_duplicates, as_of,
                     horizon)
    origin.attribute(plan)
    return plan, live


async def close_all(providers: list[Provider]) -> None:
    """Release every provider's connections."""
    for p in providers:
        await p.aclose()



def load(path: Path, *, resolve_env: bool = True,
         sandbox_endpoints: Endpoints | None = None, providers: Iterable[str] = ()) -> Org:
    """The configuration at `path`. With `sandbox_endpoints`, every provider points at the
    sandbox instead, and `${ENV}` credentials are not resolved: the sandbox has its own.
    `providers`: the only ones this run uses (`--provider`); the others need neither
    credentials nor a sandbox endpoint."""
    providers = list(providers)
    if sandbox_endpoints is None:
        return load_org(path, resolve_env=resolve_env, providers=providers)
    return point_at(load_org(path, resolve_env=False), sandbox_endpoints,
                    only=set(providers) or None)


def read_plan(path: Path) -> Plan:
    """A saved plan file, its checksum verified."""
    return Plan.read(path)


def is_plan_file(path: Path) -> bool:
    """Whether `apply` takes `path` as a saved plan rather than a configuration."""
    return path.is_file() and path.suffix == ".json"


SANDBOX_DEPENDENCIES = frozenset({"starlette", "uvicorn", "multipart", "python_multipart"})


def sandbox_module(*names: str, module: str = "orgctl.sandbox") -> tuple[Any, ...]:
    """`names` from the sandbox package, which needs the `sandbox` extra: without it, an
    error that says what to install (not a ModuleNotFoundError)."""
    from importlib import import_module

    try:
        found = import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SANDBOX_DEPENDENCIES:
            raise
        raise OrgctlError(f"the sandbox needs the `sandbox` extra ({exc.name} is not "
                          f"installed): pip install 'orgctl[sandbox]', or from a checkout "
                          f"pip install -e '.[sandbox]'") from None
    return tuple(getattr(found, name) for name in names)


@contextmanager
def sandbox(endpoints_file: Path | None = None,
            seed: Path | None = None) -> Iterator[Endpoints]:
    """The endpoints of the sandbox `orgctl sandbox serve` wrote to `endpoints_file`; without
    one, of emulators started here (seeded with `seed`, or the built-in Acme live state)
    and stopped when the block ends."""
    if endpoints_file is not None:
        yield read_endpoints(endpoints_file)
        return
    Sandbox, load_fixture = sandbox_module("Sandbox", "load_fixture")

    with Sandbox(load_fixture(seed)) as box:
        yield box.endpoints()


# -- plan -----------------------------------------------------------------------------------

# Results returned through `asyncio.run` print as their type only: on Python 3.11 the
# runner's SIGINT bookkeeping formats a message holding the finished main task, and with
# it the result's repr, which for a 100,000-employee plan cost 10 s of CPU (issue 18).
@dataclass(repr=False)
class PlanResult:
    plan: Plan
    live: dict[str, list[Resource]]  # provider name -> the live resources read
    org: Org  # the configuration planned (pointed at the sandbox when asked)


@dataclass(repr=False)
class OpenPlan(PlanResult):
    providers: dict[str, Provider]  # by name; open until the `planned` block ends


@asynccontextmanager
async def planned(org: Org, config_path: Path, *, providers: Iterable[str] = (),
                  targets: Iterable[str] = (), progress: ReadProgress | None = None,
                  remove_duplicates: bool = False, as_of: date | None = None,
                  horizon: int | None = None) -> AsyncIterator[OpenPlan]:
    """Open the providers (all, or those named), read their live state and plan `org`
    (loaded from `config_path`) on the day `as_of` (default today); the providers stay
    open for the block, to apply with."""
    opened = open_providers(org, providers)
    try:
        made, live = await plan_org(org, opened, config_path, list(targets), progress,
                                    remove_duplicates, as_of, horizon)
        yield OpenPlan(made, live, org, {p.name: p for p in opened})
    finally:
        await close_all(opened)


def plan(path: Path, *, org: Org | None = None, sandbox_endpoints: Endpoints | None = None,
         providers: Iterable[str] = (), targets: Iterable[str] = (), no_removals: bool = False,
         out: Path | None = None, force: bool = False, progress: ReadProgress | None = None,
         show: ShowPlan | None = None, remove_duplicates: bool = False,
         as_of: date | None = None, horizon: int | None = None,
         allow: Iterable[str] = ()) -> PlanResult:
    """Plan the configuration at `path` against every provider's live state (or only
    `providers`', only the changes at `targets`), without removals when asked, with the
    removal of duplicates (all but the oldest) when asked.

    The plan is checked against the safety rules, which it then carries (`refusals`),
    written to `out` when given and passed to `show`: a refused plan raises `SafetyError`
    after it was shown with its refusals. `org` is the configuration at `path` already
    loaded (and pointed at a sandbox), to skip loading it again. The plan is of the day
    `as_of` (default: today in the config's time zone) and lists what comes due in the
    `horizon` days after it; `allow` lifts refusals by name ("--allow-orphans")."""
    if org is None:
        org = load(path, sandbox_endpoints=sandbox_endpoints, providers=providers)

    async def run() -> PlanResult:
        async with planned(org, path, providers=providers, targets=targets,
                           progress=progress, remove_duplicates=remove_duplicates,
                           as_of=as_of, horizon=horizon) as made:
            return PlanResult(made.plan, made.live, made.org)

    result = asyncio.run(run())
    if no_removals:
        safety.drop_removals(result.plan)
    safety.assess(result.plan, org, resumed=interrupted_apply(path))
    if out is not None:
        result.plan.write(out)
    if show is not None:
        show(result.plan)
    safety.enforce(result.plan, force=force, allow=allow)
    return result


# -- apply ----------------------------------------------------------------------------------

ApplyStatus = Literal["applied", "no-changes", "declined"]


@dataclass(repr=False)
class ApplyReport:
    plan: Plan  # the plan made just before applying (for a saved plan: equal to it)
    status: ApplyStatus  # "applied" also when some changes failed: see `result.ok`
    result: ApplyResult | None = None  # every change's outcome, when applied
    journal: Path | None = None  # where the apply's journal was written, when applied


def apply(source: Path, *, config: Path | None = None, org: Org | None = None,
          sandbox_endpoints: Endpoints | None = None, no_removals: bool = False,
          force: bool = False, parallelism: int = 8, journal: Path | None = None,
          progress: bool = False, show: ShowPlan | None = None,
          confirm: ConfirmPlan | None = None, remove_duplicates: bool = False,
          providers: Iterable[str] = (), targets: Iterable[str] = (),
          as_of: date | None = None, allow: Iterable[str] = ()) -> ApplyReport:
    """Apply a saved plan file, or a fresh plan of the configuration at `source`.

    Either way the configuration is planned again against live state, under the apply
    lock and with the same providers that then apply it. A saved plan is refused as stale
    (`StalePlanError`) when the live state, the configuration or the re-computed plan
    moved since it was made; its config is `config` when given (it moved), else the one
    it names. A fresh plan is passed to `show`, and, when it has changes, to `confirm`:
    a False answer applies nothing. Both are checked against the safety rules (`force`
    lifts the thresholds). The apply writes its journal to `journal` (default
    `.orgctl/journal-TIME.jsonl` beside the config) and draws a progress line on stderr
    when `progress`. `org` is the configuration already loaded (and pointed at a
    sandbox), to skip loading it again. `providers` and `targets` narrow a fresh plan as
    they narrow `plan`; a saved plan is re-planned with its own. A fresh plan is of the
    day `as_of` (default today); a saved plan is re-planned on its own day, and refused
    when that day is still to come (its changes are not due yet)."""
    saved = read_plan(source) if is_plan_file(source) else None
    config_path = source if saved is None else (config or Path(saved.config_path))
    if saved is not None and (list(providers) or list(targets)):
        raise OrgctlError("--provider and --target narrow a fresh plan: a saved plan is "
                          "applied as it was made (narrow it when you make it)")
    if saved is not None:
        providers = sorted(saved.fingerprints)
    if org is None:
        org = load(config_path, sandbox_endpoints=sandbox_endpoints, providers=providers)
    day = as_of or lifecycle.today(org)
    if saved is not None and saved.as_of:
        if as_of is not None and saved.as_of != as_of.isoformat():
            raise OrgctlError(f"--as-of {as_of}: the saved plan is of {saved.as_of}, and "
                              f"is applied on its own day (plan again for another)")
        if date.fromisoformat(saved.as_of) > day:
            raise OrgctlError(f"the saved plan is of {saved.as_of}, a day still to come "
                              f"(today is {day}): its changes are not due yet. Apply it "
                              f"on that day, or plan again")
        day = date.fromisoformat(saved.as_of)
    with apply_lock(config_path):
        return asyncio.run(_apply(
            org, config_path, saved, no_removals=no_removals, force=force,
            parallelism=parallelism, journal=journal, progress=progress, show=show,
            confirm=confirm, remove_duplicates=remove_duplicates, providers=list(providers),
            targets=list(targets), as_of=day, allow=list(allow)))


async def _apply(org: Org, config_path: Path, saved: Plan | None, *, no_removals: bool,
                 force: bool, parallelism: int, journal: Path | None, progress: bool,
                 show: ShowPlan | None, confirm: ConfirmPlan | None,
                 remove_duplicates: bool, providers: list[str],
                 targets: list[str], as_of: date, allow: list[str]) -> ApplyReport:
    # A saved plan is re-planned the way it was made (its providers, targets, flags).
    options = saved.options if saved is not None else {
        "remove_duplicates": remove_duplicates, "targets": targets}
    async with planned(org, config_path, providers=providers,
                       targets=options.get("targets") or (),
                       remove_duplicates=bool(options.get("remove_duplicates")),
                       as_of=as_of,
                       horizon=saved.horizon if saved is not None and saved.as_of else None,
                       ) as made:
        fresh = made.plan
        if no_removals or (saved is not None and _held_back(saved)):
            safety.drop_removals(fresh)
        # Before the staleness check: a saved plan carries the rules it breaks.
        safety.assess(fresh, org, resumed=interrupted_apply(config_path))
        if saved is not None:
            check_stale(saved, fresh)
        elif show is not None:
            show(fresh)
        safety.enforce(fresh, force=force, allow=allow)
        if not fresh.has_changes:
            return ApplyReport(fresh, "no-changes")
        if saved is None and confirm is not None and not confirm(fresh):
            return ApplyReport(fresh, "declined")
        todo = list(fresh.changes)
        # A kill (SIGTERM: a CI job cancelled, a timeout) stops the apply as Ctrl-C does,
        # so it too says what was done and what was not.
        _stop_on_terminate(asyncio.current_task())
        total = sum(c.action != "manual" for c in todo)
        line = ProgressLine(total, progress)
        journal = journal or _journal_path(config_path)  # named when the apply starts
        ended: list[dict[str, Any]] = []
        log = Journal(journal, echo=ended.append if progress else _logging_each(ended, total))
        _remember_journal(config_path, journal)
        try:
            log.write(event="apply_started", checksum=fresh.checksum, changes=len(todo),
                      planned=sorted(f"{c.action} {c.address}" for c in todo
                                     if c.action != "manual"))
            result = await apply_changes(todo, made.providers, made.live, fresh.ids,
                                         parallelism, log, line)
            log.write(event="apply_finished", summary=result.summary())
        except (KeyboardInterrupt, asyncio.CancelledError):
            log.write(event="apply_interrupted",
                      detail="stopped before the end: re-run to finish")
            line.finish()
            raise Interrupted(_interrupted_account(todo, ended, journal)) from None
        finally:
            log.close()
            _stop_on_terminate(None)
        return ApplyReport(fresh, "applied", result, journal)


def _held_back(saved: Plan) -> bool:
    """Whether the saved plan was made with --no-removals (its re-plan must be too)."""
    return any(f.code == "held-back" for f in saved.findings)


def check_stale(saved: Plan, fresh: Plan) -> None:
    """Raise StalePlanError when `fresh`, planned now, shows the saved plan out of date."""
    moved = [n for n, fp in saved.fingerprints.items() if fresh.fingerprints.get(n) != fp]
    if moved:
        raise StalePlanError(
            f"stale plan: the live state of {', '.join(sorted(moved))} changed since the "
            f"plan was made. Run `orgctl plan` again and review the new plan.")
    if saved.config_digest and fresh.config_digest != saved.config_digest:
        raise StalePlanError("stale plan: the configuration changed since the plan was made. "
                             "Run `orgctl plan` again and review the new plan.")
    if fresh.compute_checksum() != saved.checksum:
        raise StalePlanError("stale plan: re-planning gives a different plan than the saved "
                             "one. Run `orgctl plan` again and review the new plan.")


def _stop_on_terminate(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` on SIGTERM (None: stop doing so). Only where the loop can."""
    try:
        loop = asyncio.get_running_loop()
        if task is None:
            loop.remove_signal_handler(signal.SIGTERM)
        else:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        pass  # not the main thread (tests run apply in threads), or no signals here


class Interrupted(OrgctlError):
    """The apply was stopped (Ctrl-C, a kill): what was done and what was not."""

    exit_code = 130


APPLY_LOG = logging.getLogger("orgctl.apply")


def _logging_each(ended: list[dict[str, Any]], total: int) -> Callable[[dict[str, Any]], None]:
    """One log line per change as it ends (the progress line's stand-in off a terminal):
    `applied PROVIDER.employee.EMP-001 (create) [3/40]`."""

    def echo(event: dict[str, Any]) -> None:
        ended.append(event)
        detail = f": {event['detail']}" if event.get("detail") and \
            event["event"] != "applied" else ""
        APPLY_LOG.info("%s %s (%s) [%d/%d]%s", event["event"], event["address"],
                       event.get("action", ""), len(ended), total, detail)

    return echo


def _interrupted_account(todo: list[Change], ended: list[dict[str, Any]],
                         journal: Path) -> str:
    """What an interrupted apply did and did not do, for the user who stopped it."""
    done = [e["address"] for e in ended if e["event"] == "applied"]
    finished = {e["address"] for e in ended}
    left = [c.address for c in todo if c.action != "manual" and c.address not in finished]

    def some(addresses: list[str]) -> str:
        head = ", ".join(addresses[:10])
        return head + (f" and {len(addresses) - 10} more" if len(addresses) > 10 else "")

    parts = [f"apply interrupted: {len(done)} of {len(done) + len(left)} changes applied"]
    if done:
        parts.append(f"applied: {some(done)}")
    if left:
        parts.append(f"not done: {some(left)}")
    parts.append(f"every step is in {journal}; run apply again to finish (what is done is no "
                 f"longer in the plan)")
    return "\n  ".join(parts)


def interrupted_apply(config_path: Path) -> set[str]:
    """The addresses the last apply beside `config_path` set out to change, when its
    journal shows it never finished (killed, cancelled, crashed); empty otherwise.
    A re-run that finishes those changes is not refused for their number: the safety
    rules passed them when that apply started."""
    last = _last_journal(config_path)
    if last is None:
        return set()
    planned: set[str] = set()
    try:
        lines = last.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the last line of a killed apply may be half-written
        if not isinstance(event, dict):
            continue
        if event.get("event") == "apply_finished":
            return set()
        if event.get("event") == "apply_started" and isinstance(event.get("planned"), list):
            # By address: finishing a create can be an update of the same object (its
            # follow-up write, an identification or a start, was not made).
            planned = {str(p).partition(" ")[2] for p in event["planned"]}
    return planned


LAST_APPLY = "last-apply"  # in .orgctl/: the path of the latest apply's journal


def _remember_journal(config_path: Path, journal: Path) -> None:
    """Note where this apply journals (`--journal` may put it anywhere), so the next run
    can tell whether it finished."""
    _journal_dir(config_path).mkdir(parents=True, exist_ok=True)
    write_private(_journal_dir(config_path) / LAST_APPLY, str(journal.resolve()) + "\n")


def _last_journal(config_path: Path) -> Path | None:
    pointer = _journal_dir(config_path) / LAST_APPLY
    try:
        named = Path(pointer.read_text(encoding="utf-8").strip())
        if named.is_file():
            return named
    except (OSError, UnicodeDecodeError):
        pass
    journals = sorted(_journal_dir(config_path).glob("journal-*.jsonl"))
    return journals[-1] if journals else None


def _journal_dir(config_path: Path) -> Path:
    base = config_path if config_path.is_dir() else config_path.parent
    return base / ".orgctl"


def _journal_path(config_path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return _journal_dir(config_path) / f"journal-{stamp}.jsonl"


# -- import ---------------------------------------------------------------------------------

@dataclass
class ImportResult:
    files: list[Path]  # the files written
    org: Org  # the written configuration, loaded back (credentials not resolved)
    notes: int  # values that could not be mapped or objects left out, noted as # comments


def import_config(system: str, out: Path, *, path: Path | None = None, url: str | None = None,
                  sandbox_endpoints: Endpoints | None = None, force: bool = False,
                  progress: Progress | None = None,
                  written: importer.FileWritten | None = None) -> ImportResult:
    """Read `system`'s live state and write it into `out` as a configuration.

    Where the system is and how to sign in come from its provider block in the config at
    `path`, else from `url` (credentials from the environment) or the sandbox. `progress`
    hears the read, `written` every file written. The written configuration must load
    again: when it does not, the error says which values to fix by hand."""
    configured = load_org(path, resolve_env=False) if path is not None else None
    name, block = importer.provider_block(system, configured, path, url, sandbox_endpoints)
    provider_config = importer.connect(name, block, sandbox_endpoints)
    imported = asyncio.run(importer.read(provider_config, progress))
    files = importer.write(out, name, block, imported, force=force, written=written)
    try:
        org = load(out, resolve_env=False)
    except ConfigError as exc:
        raise OrgctlError(f"the configuration written to {out} does not validate; fix "
                          f"these values by hand:\n{exc}") from None
    return ImportResult(files, org, imported.note_count)
