"""The command line: parse the options, call `orgctl.commands`, render what they return,
turn the outcome into an exit code. Nothing else lives here."""

from __future__ import annotations

import io
import logging
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from orgctl import __version__, inert
from orgctl.errors import ConfigError, OrgctlError
from orgctl.providers import TYPES as PROVIDER_TYPES
from orgctl.redact import RedactingFilter, redact

if TYPE_CHECKING:
    from datetime import datetime

    from orgctl.engine.plan import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
# A usage error (unknown option, bad value) is an error like any other: exit 1. Click's 2
# would read as "changes present" to a CI step using --detailed-exitcode.
click.exceptions.UsageError.exit_code = EXIT_ERROR
SANDBOX_BUILTIN = "builtin"
DEFAULT_ENDPOINTS = Path(".orgctl/sandbox.json")


def _color(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj or {}
    # no-color.org: NO_COLOR disables colour when it is set and not empty.
    return sys.stdout.isatty() and not obj.get("no_color") and not os.environ.get("NO_COLOR")


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    # Each line inert: a message can quote a config value or a server's answer.
    click.echo("\n".join(map(inert.terminal, redact(message).split("\n"))), err=True)
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
    except BrokenPipeError:
        _reader_left()
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
        from datetime import datetime, timezone

        class JsonFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                when = datetime.fromtimestamp(record.created, timezone.utc)
                return json.dumps({"time": when.isoformat(timespec="milliseconds"),
                                   "level": record.levelname.lower(), "logger": record.name,
                                   "message": record.getMessage()})

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("orgctl")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    root.propagate = False
    # One line per change as an apply ends it, whatever the verbosity: off a terminal it
    # is how a CI log shows the apply's work (on one, the progress line does).
    logging.getLogger("orgctl.apply").setLevel(logging.INFO)


class _TextFormatter(logging.Formatter):
    """A log line with its message inert (`inert.terminal`): a line of the apply's names
    the address of a live object, whose key came from the system. A traceback that
    follows it (-v) keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return inert.terminal(super().formatMessage(record))


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
    from orgctl import commands

    if sandbox is None:
        yield None
        return
    with commands.sandbox(None if sandbox == SANDBOX_BUILTIN else Path(sandbox),
                          seed) as endpoints:
        yield endpoints


def _read_progress(enabled: bool) -> Callable[[str, int, int | None], None] | None:
    if not enabled:
        return None

    def report(provider: str, done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        click.echo(f"\rreading {provider}: {done}{of}   ", err=True, nl=False)

    return report


class RegisteredType(click.Choice):
    """One of the provider types in the registry, as it is when the command runs (a type
    registered after this module was imported counts too)."""

    def __init__(self) -> None:
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(sorted(PROVIDER_TYPES))

    @choices.setter
    def choices(self, _value: object) -> None:
        pass


# -- validate -------------------------------------------------------------------------------

@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--no-env", is_flag=True,
              help="Do not resolve ${ENV} credentials (check their syntax only): for CI jobs "
                   "that validate without secrets.")
def validate(path: Path, no_env: bool) -> None:
    """Check the configuration at PATH: schema, references, cycles, all errors at once."""
    from orgctl import commands

    with _errors():
        org = commands.load(path, resolve_env=not no_env)
        click.echo(f"valid: {org.summary()}")


# -- plan and show --------------------------------------------------------------------------

FORMATS = click.Choice(["text", "json", "markdown"])


def view_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """How `plan` and `show` lay a plan out: grouped by person or by system, and with
    personal data masked."""
    f = click.option(
        "--mask-personal-data", "mask", is_flag=True,
        help="Show initials for names and hide the part of emails before the @ (text and "
             "markdown, e.g. a pull-request comment); the plan file keeps every detail.")(f)
    return click.option(
        "--by", type=click.Choice(["person", "system"]), default=None,
        help="Group changes by the person, unit or team they concern, with names, or by "
             "system. Default: person for markdown, system for text.")(f)


def dated_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The day a plan is of, and the refusal of orphans an operator may lift."""
    f = click.option(
        "--allow-orphans", is_flag=True,
        help="Do not refuse a plan that leaves an active person with a departed manager, "
             "HR, administrative owner or buddy (better: reassign them in the config).")(f)
    return click.option(
        "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
        metavar="YYYY-MM-DD",
        help="Evaluate the config on this day: starts, leaves and dated changes due by then "
             "apply. Default: today in the config's lifecycle.timezone.")(f)


def _day(value: Any) -> Any:
    return value.date() if value is not None else None


def _allowances(allow_orphans: bool) -> list[str]:
    return ["--allow-orphans"] if allow_orphans else []


def _view(fmt: str, mask: bool) -> None:
    if mask and fmt == "json":
        raise click.UsageError("--mask-personal-data masks text and markdown: the JSON plan "
                               "is the full record (write it with -o, keep it private)")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Write the plan file (JSON, with checksum and live fingerprint) for "
                   "`orgctl apply PLAN` and `orgctl show PLAN`.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are (or when the plan "
                   "holds an error finding, such as duplicates), 1 on error.")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Plan only this provider (repeatable).")
@click.option("--target", "targets", multiple=True, metavar="ADDRESS",
              help="Plan only changes at this address or below it, e.g. "
                   "PROVIDER.employee.EMP-001 or PROVIDER.team (repeatable; globs allowed).")
@click.option("--no-removals", is_flag=True, help="Leave every delete and deactivation out.")
@click.option("--force", is_flag=True, help="Do not refuse plans over the safety thresholds.")
@click.option("--remove-duplicates", is_flag=True,
              help="Where several live objects match one in the config, plan the removal of "
                   "all but the oldest (without it they are reported as errors).")
@dated_options
@click.option("--horizon", type=click.IntRange(0, 366), default=None, metavar="DAYS",
              help="List what comes due in this many days after the plan's day, in a "
                   "section of its own. Default: lifecycle.horizon_days, or 30.")
@view_options
@sandbox_option
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="With --sandbox: the live state to seed the emulators with.")
@click.pass_context
def plan(ctx: click.Context, path: Path, out: Path | None, fmt: str, detailed_exitcode: bool,
         providers: tuple[str, ...], targets: tuple[str, ...], no_removals: bool, force: bool,
         remove_duplicates: bool, as_of: Any, allow_orphans: bool, horizon: int | None,
         by: str | None, mask: bool, sandbox: str | None, seed: Path | None) -> None:
    """Read every provider's live state, diff it against PATH, and show the plan.

    A plan that breaks a safety rule is shown with the rule at the top (markdown, json)
    or above the summary (text), then refused with exit 3.
    """
    from orgctl import commands
    from orgctl.render import render

    _view(fmt, mask)

    def show(the_plan: Plan) -> None:
        if sys.stderr.isatty():
            click.echo("\r\033[K", err=True, nl=False)
        click.echo(render(the_plan, fmt, color=_color(ctx), by=by, mask=mask,
                          forced=force, allowed=_allowances(allow_orphans)), nl=False)
        if out:
            against = "" if sandbox is None else " --sandbox" + (
                "" if sandbox == SANDBOX_BUILTIN else f" {sandbox}")
            click.echo(f"Plan saved to {out}. Apply it with: orgctl apply {out}{against}",
                       err=True)

    with _errors(), _sandbox_endpoints(sandbox, seed) as endpoints:
        result = commands.plan(path, sandbox_endpoints=endpoints, providers=providers,
                               targets=targets, no_removals=no_removals, out=out, force=force,
                               progress=_read_progress(sys.stderr.isatty()), show=show,
                               remove_duplicates=remove_duplicates, as_of=_day(as_of),
                               horizon=horizon, allow=_allowances(allow_orphans))
    if detailed_exitcode and (result.plan.has_changes or result.plan.has_errors):
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("planfile", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@view_options
@click.pass_context
def show(ctx: click.Context, planfile: Path, fmt: str, by: str | None, mask: bool) -> None:
    """Render a saved plan file (checks its checksum first)."""
    from orgctl import commands
    from orgctl.render import render

    _view(fmt, mask)
    with _errors():
        click.echo(render(commands.read_plan(planfile), fmt, color=_color(ctx),
                          by=by, mask=mask), nl=False)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--plan", "planfile", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Graph a saved plan's change dependencies instead of the org.")
def graph(path: Path, planfile: Path | None) -> None:
    """Print the org structure (or a plan's dependencies) as Graphviz DOT.

    Render it with: orgctl graph examples/acme | dot -Tsvg > org.svg
    """
    from orgctl import commands
    from orgctl.engine.graph import org_dot, plan_dot

    with _errors():
        if planfile:
            click.echo(plan_dot(commands.read_plan(planfile)), nl=False)
        else:
            click.echo(org_dot(commands.load(path, resolve_env=False)), nl=False)


# -- apply ----------------------------------------------------------------------------------

@cli.command()
@click.argument("source", type=click.Path(path_type=Path), default=".", metavar="PATH|PLAN")
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking (required when not on a terminal).")
@click.option("--force", is_flag=True, help="Apply plans over the safety thresholds.")
@click.option("--no-removals", is_flag=True, help="Leave every delete and deactivation out.")
@click.option("--remove-duplicates", is_flag=True,
              help="Where several live objects match one in the config, plan the removal of "
                   "all but the oldest (without it they are reported as errors).")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Apply only this provider's changes (repeatable; not with a saved plan).")
@click.option("--target", "targets", multiple=True, metavar="ADDRESS",
              help="Apply only changes at this address or below it, and what they depend on "
                   "(repeatable; globs allowed; not with a saved plan).")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Concurrent changes per provider.")
@click.option("--journal", type=click.Path(path_type=Path),
              help="Where to write the JSON-lines journal (default .orgctl/journal-TIME.jsonl "
                   "beside the config).")
@click.option("--progress/--no-progress", default=None,
              help="Show done/total, rate and ETA on stderr (default: when it is a terminal).")
@click.option("--config", "config_override", type=click.Path(path_type=Path),
              help="With a plan file: the config to re-plan from, when it moved since.")
@dated_options
@sandbox_option
@click.option("--seed", type=click.Path(path_type=Path, exists=True),
              help="With --sandbox: the live state to seed the emulators with.")
@click.pass_context
def apply(ctx: click.Context, source: Path, auto_approve: bool, force: bool, no_removals: bool,
          remove_duplicates: bool, providers: tuple[str, ...], targets: tuple[str, ...],
          parallelism: int, journal: Path | None, progress: bool | None,
          config_override: Path | None, as_of: Any, allow_orphans: bool, sandbox: str | None,
          seed: Path | None) -> None:
    """Make the changes: re-plan PATH and ask, or apply a saved PLAN without asking.

    A saved plan is refused as stale when the live state moved or the re-computed plan
    differs from it.
    """
    from orgctl import commands
    from orgctl.render import render, summary_line

    def show(fresh: Plan) -> None:
        click.echo(render(fresh, "text", color=_color(ctx), forced=force,
                          allowed=_allowances(allow_orphans)), nl=False)

    def confirm(fresh: Plan) -> bool:
        # The prompt runs inside the apply's event loop, whose SIGINT handler only cancels
        # the task once the loop runs again: a Ctrl-C went unseen until the next line was
        # typed, and that line became the answer. Python's own handler raises, but only in
        # the main thread and only when it runs: the kernel may hand the signal to another
        # thread (the sandbox's servers, the resolver's), and a main thread blocked reading
        # never runs. So the answer is waited for in short selects, between which Python
        # runs the handler.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            click.echo("Apply these changes? [y/N]: ", err=True, nl=False)
            try:
                while not select.select([sys.stdin], [], [], 0.2)[0]:
                    pass
            except (OSError, ValueError, io.UnsupportedOperation):
                pass  # stdin is no file (a test's runner): read it as it is
            answer = sys.stdin.readline()
            if not answer:  # end of input: a no
                raise click.Abort
            return answer.strip().lower() in ("y", "yes")
        except (click.Abort, KeyboardInterrupt):  # Ctrl-C or end of input: a no
            click.echo("", err=True)
            return False
        finally:
            signal.signal(signal.SIGINT, previous)

    with _errors():
        if (not commands.is_plan_file(source) and not auto_approve
                and not sys.stdin.isatty()):
            raise OrgctlError("refusing to apply without confirmation: stdin is not a "
                              "terminal. Review with `orgctl plan -o plan.json`, then run "
                              "`orgctl apply plan.json` or add --auto-approve.")
        with _sandbox_endpoints(sandbox, seed) as endpoints:
            report = commands.apply(
                source, config=config_override, sandbox_endpoints=endpoints,
                no_removals=no_removals, force=force, parallelism=parallelism,
                remove_duplicates=remove_duplicates, providers=providers, targets=targets,
                journal=journal,
                progress=sys.stderr.isatty() if progress is None else progress,
                show=show, confirm=None if auto_approve else confirm, as_of=_day(as_of),
                allow=_allowances(allow_orphans))
        if report.status == "declined":
            _fail("Apply cancelled.")
        if report.result is None:
            click.echo(summary_line(report.plan))
            return
        for outcome in report.result.outcomes:
            if outcome.status in ("failed", "skipped", "pending", "unknown"):
                click.echo(inert.terminal(f"  {outcome.status}: {outcome.address}: "
                                          f"{outcome.detail}"), err=True)
        click.echo(report.result.summary())
        if not report.result.ok:
            raise OrgctlError("some changes were not applied; fix the cause and re-run: "
                              "only what is left will be applied")


# -- import ---------------------------------------------------------------------------------

@cli.command("import")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--from", "system", required=True,
              type=RegisteredType(),
              help="The system whose live state to write as configuration.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Directory to write the configuration into.")
@click.option("--url", help="The system's API base URL, when no PATH gives its provider "
                            "block; credentials then come from the environment variables "
                            "that block names (see docs/providers/SYSTEM.md).")
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
    from orgctl import commands

    with _errors(), _sandbox_endpoints(sandbox, seed) as endpoints:
        show = sys.stderr.isatty() if progress is None else progress
        result = commands.import_config(
            system, out, path=path, url=url, sandbox_endpoints=endpoints, force=force,
            progress=_import_read_progress(system, show),
            written=_import_write_progress(out) if show else None)
        click.echo(f"wrote {len(result.files)} files to {out}: {result.org.summary()}")
        if result.notes:
            n = result.notes
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
    """Local emulators of every system orgctl connects to, for trying orgctl safely."""


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
@click.option("--profile", type=click.Choice(["permissive", "strict"]), default="permissive",
              show_default=True,
              help="strict: serve only what each system's API documentation shows, and "
                   "choose differently wherever it is silent (smaller pages, no paging keys "
                   "where none are documented, large ids, another field order): how a "
                   "vendor's own server may behave.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              metavar="YYYY-MM-DD",
              help="The emulators' date (default: the real one): journeys are scheduled, "
                   "in progress or closed as of it. Move it later with "
                   "POST /_sandbox/clock {\"today\": \"YYYY-MM-DD\"} on any emulator's port.")
def sandbox_serve(seed: Path | None, empty: bool, latency: float, faults: str,
                  endpoints_file: Path, host: str, profile: str,
                  today: datetime | None) -> None:
    """Run the four emulators on loopback until interrupted.

    Then point any orgctl command at them with `--sandbox ENDPOINTS-FILE`.
    """
    import json
    import signal
    import threading

    with _errors():
        from orgctl.commands import sandbox_module

        Sandbox, load_fixture = sandbox_module("Sandbox", "load_fixture")
        (Faults,) = sandbox_module("Faults", module="orgctl.sandbox.core")
        try:
            spec = Faults.parse(faults)
        except ValueError as exc:
            raise OrgctlError(f"--faults: {exc}") from None
        spec.latency_ms = latency or spec.latency_ms
        fixture = {} if empty else load_fixture(seed)
        box = Sandbox(fixture, spec, host=host, profile=profile,
                      today=today.date() if today else None).start()
        endpoints = box.endpoints()
        endpoints_file.parent.mkdir(parents=True, exist_ok=True)
        endpoints_file.write_text(json.dumps(endpoints, indent=2) + "\n")
        for name, endpoint in endpoints.items():
            click.echo(f"{name:9} {endpoint['url']}")
        click.echo(f"profile: {profile}")
        click.echo(f"today: {box.calendar.today().isoformat()}"
                   + ("" if today else " (the real date)"))
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


# -- schema ---------------------------------------------------------------------------------

@cli.command()
def schema() -> None:
    """Print the config's JSON Schema (its `$id`: urn:orgctl:config:1).

    Save it beside your config and point editors at it from each file's first line:

    \b
    orgctl schema > org/orgctl.schema.json
    # yaml-language-server: $schema=orgctl.schema.json
    """
    import json

    from orgctl.config.schema import schema_document

    click.echo(json.dumps(schema_document(), indent=2, ensure_ascii=False))


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


def _reader_left() -> None:
    """`orgctl plan | head`: the reader of stdout left. Point stdout at /dev/null so the
    interpreter's last flush does not fail again, and end quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests capture it): nothing to redirect
        pass
    sys.exit(EXIT_ERROR)


def main() -> None:
    try:
        cli(prog_name="orgctl")
    except BrokenPipeError:
        _reader_left()
