"""The command line: parse, call the engine, render, exit code. Nothing else lives here."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from orgctl import __version__
from orgctl.errors import ConfigError, OrgctlError, StalePlanError
from orgctl.redact import RedactingFilter, redact

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
SANDBOX_BUILTIN = "builtin"
DEFAULT_ENDPOINTS = Path(".orgctl/sandbox.json")


def _color(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj or {}
    # no-color.org: NO_COLOR disables colour when it is set and not empty.
    return sys.stdout.isatty() and not obj.get("no_color") and not os.environ.get("NO_COLOR")


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(redact(message), err=True)
    sys.exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every orgctl error into a message and an exit code; a bug into one line too."""
    try:
        yield
    except ConfigError as exc:
        count = len(exc.issues)
        _fail(f"{exc}\nError: {count} problem{'s' * (count != 1)} in the configuration",
              exc.exit_code)
    except OrgctlError as exc:
        _fail(f"Error: {exc}", exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # a bug: say so plainly, the traceback is in -v logs
        logging.getLogger("orgctl").debug("internal error", exc_info=True)
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with -v for details)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="orgctl")
@click.option("-v", "--verbose", count=True,
              help="Log every HTTP request on stderr (secrets redacted).")
@click.option("--no-color", is_flag=True, help="Plain output (also: NO_COLOR in the env).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Log lines as text or as JSON objects (for CI).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, no_color: bool, log_format: str) -> None:
    """orgctl: your organisation as reviewed code.

    Units, teams, employees and their roles live in YAML; `plan` shows what would change
    in each connected HR system, `apply` makes exactly those changes.

    Exit codes: 0 success or no changes, 1 error, 2 changes present (plan
    --detailed-exitcode), 3 refused by a safety rule.
    """
    ctx.obj = {"no_color": no_color}
    _setup_logging(verbose, log_format)


def _setup_logging(verbose: int, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if log_format == "json":
        import json

        class JsonFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return json.dumps({"level": record.levelname.lower(), "logger": record.name,
                                   "message": record.getMessage()})

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("orgctl")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    root.propagate = False


# -- shared options -------------------------------------------------------------------------

def sandbox_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--sandbox", "sandbox", is_flag=False, flag_value=SANDBOX_BUILTIN, default=None,
        metavar="[ENDPOINTS]",
        help="Run against the sandbox emulators instead of the configured URLs. Alone: start "
             "them in-process, seeded with the built-in Acme live state. With a file: connect "
             "to a running `orgctl sandbox serve` (its --endpoints-file).")(f)


@contextmanager
def _sandbox_endpoints(sandbox: str | None, seed: Path | None) -> Iterator[Any]:
    """The sandbox's endpoints (None without `--sandbox`), started here for a bare
    `--sandbox` and stopped after the command."""
    from orgctl.engine.workflow import read_endpoints

    if sandbox is None:
        yield None
    elif sandbox != SANDBOX_BUILTIN:
        yield read_endpoints(Path(sandbox))
    else:
        from orgctl.sandbox import Sandbox, load_fixture

        with Sandbox(load_fixture(seed)) as box:
            yield box.endpoints()


@contextmanager
def _target_org(path: Path, sandbox: str | None, seed: Path | None = None) -> Iterator[Any]:
    """The loaded org, pointed at the sandbox when asked (started here for `--sandbox`)."""
    from orgctl.engine.workflow import load_org, point_at

    if sandbox is None:
        yield load_org(path)
        return
    org = load_org(path, resolve_env=False)  # the sandbox has its own throw-away credentials
    with _sandbox_endpoints(sandbox, seed) as endpoints:
        yield point_at(org, endpoints)


def _read_progress(enabled: bool) -> Callable[[str, int, int | None], None] | None:
    if not enabled:
        return None

    def report(provider: str, done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        click.echo(f"\rreading {provider}: {done}{of}   ", err=True, nl=False)

    return report


# -- validate -------------------------------------------------------------------------------

@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--no-env", is_flag=True,
              help="Do not resolve ${ENV} credentials (check their syntax only): for CI jobs "
                   "that validate without secrets.")
def validate(path: Path, no_env: bool) -> None:
    """Check the configuration at PATH: schema, references, cycles, all errors at once."""
    from orgctl.engine.workflow import load_org

    with _errors():
        org = load_org(path, resolve_env=not no_env)
        click.echo(f"valid: {org.summary()}")


# -- plan and show --------------------------------------------------------------------------

FORMATS = click.Choice(["text", "json", "markdown"])


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Write the plan file (JSON, with checksum and live fingerprint) for "
                   "`orgctl apply PLAN` and `orgctl show PLAN`.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Plan only this provider (repeatable).")
@click.option("--target", "targets", multiple=True, metavar="ADDRESS",
              help="Plan only changes at this address or below it, e.g. "
                   "workelo.employee.EMP-001 or worklete.team (repeatable; globs allowed).")
@click.option("--no-removals", is_flag=True, help="Leave every delete and deactivation out.")
@click.option("--force", is_flag=True, help="Do not refuse plans over the safety thresholds.")
@sandbox_option
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="With --sandbox: the live state to seed the emulators with.")
@click.pass_context
def plan(ctx: click.Context, path: Path, out: Path | None, fmt: str, detailed_exitcode: bool,
         providers: tuple[str, ...], targets: tuple[str, ...], no_removals: bool, force: bool,
         sandbox: str | None, seed: Path | None) -> None:
    """Read every provider's live state, diff it against PATH, and show the plan."""
    from orgctl.engine import safety
    from orgctl.engine.render import render
    from orgctl.engine.workflow import close_all, open_providers, plan_org

    with _errors(), _target_org(path, sandbox, seed) as org:
        opened = open_providers(org, providers)

        async def run() -> Any:
            try:
                return await plan_org(org, opened, path, list(targets),
                                      _read_progress(sys.stderr.isatty()))
            finally:
                await close_all(opened)

        the_plan, _live = asyncio.run(run())
        if sys.stderr.isatty():
            click.echo("\r\033[K", err=True, nl=False)
        if no_removals:
            safety.drop_removals(the_plan)
        if out:
            the_plan.write(out)
        click.echo(render(the_plan, fmt, color=_color(ctx)), nl=False)
        if out:
            against = "" if sandbox is None else " --sandbox" + (
                "" if sandbox == SANDBOX_BUILTIN else f" {sandbox}")
            click.echo(f"Plan saved to {out}. Apply it with: orgctl apply {out}{against}",
                       err=True)
        safety.check(the_plan, org, force=force)
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("planfile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_context
def show(ctx: click.Context, planfile: Path, fmt: str) -> None:
    """Render a saved plan file (checks its checksum first)."""
    from orgctl.engine.plan import Plan
    from orgctl.engine.render import render

    with _errors():
        click.echo(render(Plan.read(planfile), fmt, color=_color(ctx)), nl=False)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--plan", "planfile", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Graph a saved plan's change dependencies instead of the org.")
def graph(path: Path, planfile: Path | None) -> None:
    """Print the org structure (or a plan's dependencies) as Graphviz DOT.

    Render it with: orgctl graph examples/acme | dot -Tsvg > org.svg
    """
    from orgctl.engine.graph import org_dot, plan_dot
    from orgctl.engine.plan import Plan
    from orgctl.engine.workflow import load_org

    with _errors():
        if planfile:
            click.echo(plan_dot(Plan.read(planfile)), nl=False)
        else:
            click.echo(org_dot(load_org(path, resolve_env=False)), nl=False)


# -- apply ----------------------------------------------------------------------------------

@cli.command()
@click.argument("source", type=click.Path(path_type=Path), default=".", metavar="PATH|PLAN")
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking (required when not on a terminal).")
@click.option("--force", is_flag=True, help="Apply plans over the safety thresholds.")
@click.option("--no-removals", is_flag=True, help="Leave every delete and deactivation out.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Concurrent changes per provider.")
@click.option("--journal", type=click.Path(path_type=Path),
              help="Where to write the JSON-lines journal (default .orgctl/journal-TIME.jsonl "
                   "beside the config).")
@click.option("--progress/--no-progress", default=None,
              help="Show done/total, rate and ETA on stderr (default: when it is a terminal).")
@click.option("--config", "config_override", type=click.Path(path_type=Path),
              help="With a plan file: the config to re-plan from, when it moved since.")
@sandbox_option
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="With --sandbox: the live state to seed the emulators with.")
@click.pass_context
def apply(ctx: click.Context, source: Path, auto_approve: bool, force: bool, no_removals: bool,
          parallelism: int, journal: Path | None, progress: bool | None,
          config_override: Path | None, sandbox: str | None, seed: Path | None) -> None:
    """Make the changes: re-plan PATH and ask, or apply a saved PLAN without asking.

    A saved plan is refused as stale when the live state moved or the re-computed plan
    differs from it.
    """
    from orgctl.engine import safety
    from orgctl.engine.apply import Journal, ProgressLine, apply_changes
    from orgctl.engine.lock import apply_lock
    from orgctl.engine.plan import Plan
    from orgctl.engine.render import render
    from orgctl.engine.workflow import close_all, open_providers, plan_org

    saved: Plan | None = None
    with _errors():
        if source.is_file() and source.suffix == ".json":
            saved = Plan.read(source)
            config_path = config_override or Path(saved.config_path)
        else:
            config_path = source
        if saved is None and not auto_approve and not sys.stdin.isatty():
            raise OrgctlError("refusing to apply without confirmation: stdin is not a "
                              "terminal. Review with `orgctl plan -o plan.json`, then run "
                              "`orgctl apply plan.json` or add --auto-approve.")
        with _target_org(config_path, sandbox, seed) as org, apply_lock(config_path):
            names = sorted(saved.fingerprints) if saved else []
            opened = open_providers(org, names)
            by_name = {p.name: p for p in opened}

            async def run() -> Any:
                try:
                    fresh, live = await plan_org(org, opened, config_path)
                    if no_removals or (saved and _held_back(saved)):
                        safety.drop_removals(fresh)
                    if saved is not None:
                        _check_stale(saved, fresh)
                    else:
                        click.echo(render(fresh, "text", color=_color(ctx)), nl=False)
                    safety.check(fresh, org, force=force)
                    if not fresh.has_changes:
                        return fresh, None
                    if saved is None and not auto_approve:
                        click.confirm("Apply these changes?", abort=True, err=True)
                    todo = [c for c in fresh.changes]
                    line = ProgressLine(sum(c.action != "manual" for c in todo),
                                        sys.stderr.isatty() if progress is None else progress)
                    log = Journal(journal or _journal_path(config_path))
                    try:
                        log.write(event="apply_started", checksum=fresh.checksum,
                                  changes=len(todo))
                        result = await apply_changes(todo, by_name, live, fresh.ids,
                                                     parallelism, log, line)
                        log.write(event="apply_finished", summary=result.summary())
                    except (KeyboardInterrupt, asyncio.CancelledError):
                        log.write(event="apply_interrupted",
                                  detail="stopped before the end: re-run to finish")
                        raise
                    finally:
                        log.close()
                    return fresh, result
                finally:
                    await close_all(opened)

            fresh, result = asyncio.run(run())
        if result is None:
            click.echo("No changes. The live systems match the configuration.")
            return
        for outcome in result.outcomes:
            if outcome.status in ("failed", "skipped", "pending"):
                click.echo(f"  {outcome.status}: {outcome.address}: {outcome.detail}", err=True)
        click.echo(result.summary())
        if not result.ok:
            raise OrgctlError("some changes were not applied; fix the cause and re-run: "
                              "only what is left will be applied")


def _held_back(saved: Any) -> bool:
    return any(f.code == "held-back" for f in saved.findings)


def _check_stale(saved: Any, fresh: Any) -> None:
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


def _journal_path(config_path: Path) -> Path:
    from datetime import datetime, timezone

    base = config_path if config_path.is_dir() else config_path.parent
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return base / ".orgctl" / f"journal-{stamp}.jsonl"


# -- import ---------------------------------------------------------------------------------

@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--from", "system", required=True,
              type=click.Choice(["workelo", "hrms", "workleap", "worklete"]),
              help="The system whose live state to write as configuration.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Directory to write the configuration into.")
@click.option("--url", help="The system's API base URL, when no PATH gives its provider "
                            "block; credentials then come from the environment: "
                            "WORKELO_CLIENT_ID and WORKELO_CLIENT_SECRET, HRMS_TOKEN, "
                            "WORKLEAP_API_KEY, or WORKLETE_USERNAME, WORKLETE_PASSWORD and "
                            "WORKLETE_ORGANIZATION.")
@click.option("--force", is_flag=True, help="Write into a directory that holds YAML already.")
@click.option("--progress/--no-progress", default=None,
              help="Report reading and writing on stderr (default: when it is a terminal).")
@sandbox_option
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="With --sandbox: the live state to seed the emulators with.")
def import_(path: Path | None, system: str, out: Path, url: str | None, force: bool,
            progress: bool | None, sandbox: str | None, seed: Path | None) -> None:
    """Write a configuration from a system's live state, to start a repository from.

    PATH is a config whose provider block for the system says where it is and how to sign
    in; that block is written as it is (${ENV} placeholders, policies). Without PATH, give
    --url (or --sandbox). Values that cannot be mapped are noted as # comments. A plan of
    the written configuration against the same system shows no changes.
    """
    from orgctl.engine import importer
    from orgctl.engine.workflow import load_org

    with _errors(), _sandbox_endpoints(sandbox, seed) as endpoints:
        name, block = importer.provider_block(system, path, url, endpoints)
        config = importer.connect(name, block, endpoints)
        show = sys.stderr.isatty() if progress is None else progress
        imported = asyncio.run(importer.read(config, _import_read_progress(system, show)))
        files = importer.write(out, name, block, imported, force=force,
                               written=_import_write_progress(out) if show else None)
        try:
            org = load_org(out, resolve_env=False)
        except ConfigError as exc:
            raise OrgctlError(f"the configuration written to {out} does not validate; fix "
                              f"these values by hand:\n{exc}") from None
        click.echo(f"wrote {len(files)} files to {out}: {org.summary()}")
        if imported.note_count:
            n = imported.note_count
            click.echo(f"{n} note{'s' * (n != 1)} on values that could not be mapped or "
                       f"objects left out: see the # comments in the files")
        click.echo(f"next: orgctl plan {out}")


def _import_read_progress(system: str, enabled: bool) -> Callable[[int, int | None], None] | None:
    if not enabled:
        return None
    tty = sys.stderr.isatty()
    last = [0]

    def report(done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        if tty:
            click.echo(f"\rreading {system}: {done}{of}   ", err=True, nl=False)
        elif not last[0] or done == total or done - last[0] >= 1000:
            last[0] = done
            click.echo(f"reading {system}: {done}{of}", err=True)

    return report


def _import_write_progress(out: Path) -> Callable[[Path, int, int], None]:
    def report(path: Path, done: int, total: int) -> None:
        count = f" ({done}/{total} employees)" if done else ""
        click.echo(f"wrote {path.relative_to(out)}{count}", err=True)

    return report


# -- sandbox --------------------------------------------------------------------------------

@cli.group()
def sandbox() -> None:
    """Local emulators of Workelo, HRMS, Workleap and Worklete, for trying orgctl safely."""


@sandbox.command("serve")
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="Seed fixture (YAML or JSON, keyed by system). Default: the built-in "
                   "Acme live state.")
@click.option("--empty", is_flag=True, help="Start with no live objects at all.")
@click.option("--latency", type=float, default=0.0, help="Milliseconds added to each request.")
@click.option("--faults", default="", metavar="SPEC",
              help="e.g. 5xx=0.1,429=0.05,drop=0.02,commit_fail=0.02,jitter=5,seed=1")
@click.option("--endpoints-file", type=click.Path(path_type=Path), default=DEFAULT_ENDPOINTS,
              show_default=True, help="Where to write the URLs and throw-away credentials.")
@click.option("--host", default="127.0.0.1", show_default=True)
def sandbox_serve(seed: Path | None, empty: bool, latency: float, faults: str,
                  endpoints_file: Path, host: str) -> None:
    """Run the four emulators on loopback until interrupted.

    Then point any orgctl command at them with `--sandbox ENDPOINTS-FILE`.
    """
    import json
    import signal
    import threading

    from orgctl.sandbox import Sandbox, load_fixture
    from orgctl.sandbox.core import Faults

    with _errors():
        try:
            spec = Faults.parse(faults)
        except ValueError as exc:
            raise OrgctlError(f"--faults: {exc}") from None
        spec.latency_ms = latency or spec.latency_ms
        fixture = {} if empty else load_fixture(seed)
        box = Sandbox(fixture, spec, host=host).start()
        endpoints = box.endpoints()
        endpoints_file.parent.mkdir(parents=True, exist_ok=True)
        endpoints_file.write_text(json.dumps(endpoints, indent=2) + "\n")
        for name, endpoint in endpoints.items():
            click.echo(f"{name:9} {endpoint['url']}")
        click.echo(f"endpoints and throw-away credentials: {endpoints_file}")
        click.echo(f"try: orgctl plan examples/acme --sandbox {endpoints_file}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            box.stop()


# -- completion -----------------------------------------------------------------------------

@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (click's own, as
    `_ORGCTL_COMPLETE=SHELL_source orgctl` prints it).

    \b
    bash: eval "$(orgctl completion bash)"   in ~/.bashrc
    zsh:  eval "$(orgctl completion zsh)"    in ~/.zshrc
    fish: orgctl completion fish > ~/.config/fish/completions/orgctl.fish
    """
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)
    assert script is not None  # click ships all three
    root = ctx.find_root().command
    click.echo(script(root, {}, "orgctl", "_ORGCTL_COMPLETE").source())


def main() -> None:
    cli(prog_name="orgctl")
