"""The config: YAML files in, the desired-state model (`orgctl.model.Org`) out.

`load(path)` runs the whole pipeline and raises `ConfigError` with every problem found,
each at its file, line and column:

1. `sources`: find and read the files (size cap, UTF-8), parse them strictly
   (`yamlload`) and merge them, keeping a `SourceMap` of where each value was written;
2. `schema`: validate against the JSON Schema (`schemas/orgctl.schema.json` for the
   built-in provider types);
3. `build`: turn the valid objects into the model, resolving `${ENV_VAR}`s (`secrets`);
4. `checks`: references, cycles, duplicates and journey rules across the whole org.

A `Source` (a provider in `mode: source`, see `orgctl.engine.sources`) may complete the merged
YAML between steps 1 and 2: the objects it adds are then validated and checked like the
rest, located at the source's name instead of a file.

A file that cannot be read whole stops the pipeline after step 1 (later checks would
report its objects as missing); otherwise every step runs and all problems are reported
at once.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orgctl.config import checks, schema
from orgctl.config.build import build
from orgctl.config.sources import SECTIONS, SourceMap, load_tree
from orgctl.errors import ConfigError, ConfigIssue, OrgctlError
from orgctl.model import Org

__all__ = ["Completion", "Source", "load"]


@dataclass
class Completion:
    """What a `Source` made of the YAML: the data to validate instead, the problems it
    found on the way, and the sections whose references it cannot vouch for yet (the
    source was not read: any key may exist there)."""

    data: dict[str, Any]
    issues: list[ConfigIssue] = field(default_factory=list)
    unchecked: frozenset[str] = frozenset()


class Source(Protocol):
    """A system of record that completes the YAML before it is validated."""

    name: str
    """Where the values it adds are said to be written, in messages (e.g. "<PROVIDER>")."""

    def complete(self, data: dict[str, Any], where: SourceMap) -> Completion:
        """The merged YAML `data` (never modified) completed with the source's objects."""
        ...


def load(path: str | os.PathLike[str], *, resolve_env: bool = True,
         environ: Mapping[str, str] | None = None, source: Source | None = None,
         providers: Collection[str] | None = None) -> Org:
    """Load, validate and build the config at `path` (a file or a directory).

    With `resolve_env` False, `${ENV_VAR}` placeholders are checked for syntax only and
    left unresolved in `ProviderConfig.settings` (validation in CI without secrets).
    `environ` defaults to `os.environ`. `source` completes the YAML first (see the module
    docstring). `providers`: resolve only these providers' `${ENV}` (and the source of
    truth's). Raises `ConfigError` listing every problem, or `OrgctlError` when `path`
    holds no config at all.
    """
    with gc_paused():
        org = _load(Path(path), resolve_env, environ, source, providers)
        settle()
        return org


FREEZE_AFTER = 50_000
"""New objects the collector would have to scan (`gc.get_count()[0]`) before `settle`
freezes them: a 10,000-person org leaves about 95,000, a 30,000-person plan about 1.2
million, a 1,000-person plan about 44,000. Less is left to the collector as any other
data."""


def settle() -> None:
    """Move what a large load or plan kept while the collector was paused (`gc_paused`)
    out of its reach (`gc.freeze`): otherwise the first collection once it is on again
    scans every object kept (0.5 s of CPU after a 30,000-person plan, issue 18), and every
    full collection after scans them again, though an org, its resources and changes hold
    no reference cycle to collect (plain data: released, they are freed by their
    reference counts as before). The price: cyclic garbage left from before is never
    collected either, so it is paid only past `FREEZE_AFTER` new objects, by the load and
    the plan a process makes once or twice."""
    if gc.get_count()[0] >= FREEZE_AFTER:
        gc.freeze()


def _load(path: Path, resolve_env: bool, environ: Mapping[str, str] | None,
          source: Source | None, providers: Collection[str] | None) -> Org:
    """`load` without pausing the collector: the parsed YAML and its positions are
    released when this returns, before the model is settled."""
    tree = load_tree(path)
    issues = list(tree.issues)
    if tree.fatal:
        raise ConfigError(issues)
    data, unchecked = tree.data, frozenset[str]()
    if source is not None:
        done = source.complete(tree.data, tree.sources)
        issues += done.issues
        data, unchecked = done.data, done.unchecked
        tree.sources.add_origin(source.name, [
            (section, key) for section in SECTIONS for key in data.get(section) or ()
            if key not in (tree.data.get(section) or {})])
    schema_issues, invalid = schema.validate(data, tree.sources)
    issues += schema_issues
    env = (os.environ if environ is None else environ) if resolve_env else None
    # An object the source left out is still declared: one problem, reported once.
    declared = {section: {*(data.get(section) or ()), *(tree.data.get(section) or ())}
                for section in SECTIONS}
    org, build_issues = build(data, tree.sources, invalid, env, providers)  # empties data
    issues += build_issues
    issues += checks.check(org, tree.sources, declared, unchecked)
    if issues:
        raise ConfigError(issues)
    return org


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading allocates a few hundred thousand small objects and frees almost none:
    the cyclic collector would rescan them over and over (it doubled the load time of a
    10,000-employee config) for nothing to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def point_at(org: Org, endpoints: Mapping[str, Mapping[str, Any]],
             only: Collection[str] | None = None) -> Org:
    """The same org with every provider's url and credentials replaced by the sandbox's
    endpoints for its type, so a real config can be tried against the emulators. With
    `only`, the others (never opened in this run) are left as written, with or without an
    endpoint; the source of truth is always pointed."""
    providers = {}
    for name, config in org.providers.items():
        endpoint = endpoints.get(config.type)
        if (only is not None and name not in only
                and config.settings.get("mode") != "source"):
            providers[name] = config
            continue
        if endpoint is None:
            raise OrgctlError(f"provider {name}: the sandbox has no {config.type} emulator")
        settings = {**config.settings, **{k: v for k, v in endpoint.items() if k != "url"}}
        providers[name] = dataclasses.replace(config, url=endpoint["url"], settings=settings)
    return dataclasses.replace(org, providers=providers)
