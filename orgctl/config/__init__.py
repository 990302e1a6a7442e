"""The config: YAML files in, the desired-state model (`orgctl.model.Org`) out.

`load(path)` runs the whole pipeline and raises `ConfigError` with every problem found,
each at its file, line and column:

1. `sources`: find and read the files (size cap, UTF-8), parse them strictly
   (`yamlload`) and merge them, keeping a `SourceMap` of where each value was written;
2. `schema`: validate against `schemas/orgctl.schema.json`;
3. `build`: turn the valid objects into the model, resolving `${ENV_VAR}`s (`secrets`);
4. `checks`: references, cycles, duplicates and journey rules across the whole org.

A file that cannot be read whole stops the pipeline after step 1 (later checks would
report its objects as missing); otherwise every step runs and all problems are reported
at once.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from orgctl.config import checks, schema
from orgctl.config.build import build
from orgctl.config.sources import SECTIONS, load_tree
from orgctl.errors import ConfigError
from orgctl.model import Org

__all__ = ["load"]


def load(path: str | os.PathLike[str], *, resolve_env: bool = True,
         environ: Mapping[str, str] | None = None) -> Org:
    """Load, validate and build the config at `path` (a file or a directory).

    With `resolve_env` False, `${ENV_VAR}` placeholders are checked for syntax only and
    left unresolved in `ProviderConfig.settings` (validation in CI without secrets).
    `environ` defaults to `os.environ`. Raises `ConfigError` listing every problem, or
    `OrgctlError` when `path` holds no config at all.
    """
    with _gc_paused():
        tree = load_tree(Path(path))
        issues = list(tree.issues)
        if tree.fatal:
            raise ConfigError(issues)
        schema_issues, invalid = schema.validate(tree.data, tree.sources)
        issues += schema_issues
        env = (os.environ if environ is None else environ) if resolve_env else None
        org, build_issues = build(tree.data, tree.sources, invalid, env)
        issues += build_issues
        declared = {section: set(tree.data.get(section) or ()) for section in SECTIONS}
        issues += checks.check(org, tree.sources, declared)
        if issues:
            raise ConfigError(issues)
        return org


@contextmanager
def _gc_paused() -> Iterator[None]:
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
