"""`orgctl import`: a system's live state written as a configuration to start from.

Three steps, each its own function so the CLI stays thin:

1. `provider_block` decides how to reach the system: the provider block of an existing
   config (as written, `${ENV}` placeholders and policies kept), or `--url` with the
   provider's `IMPORT_SETTINGS` (credentials as `${ENV}` placeholders), or the sandbox's
   endpoints. `connect` turns that block into a resolved `ProviderConfig` through the
   config loader itself, so it is validated, and its secrets redacted, like any config.
2. `read` reads the live state (with progress) and has the provider map it into
   config-shaped data (`Provider.to_config`, giving `Imported`): the same attributes
   `desired()` would produce again, so planning the imported config against the same
   system shows no changes. A value that cannot be mapped is left out or replaced, never
   guessed silently: it gets a `#` note above its object saying what the plan will show
   because of it. `read` then completes what every config employee needs.
3. `write` streams the files out one by one, in a stable order: providers.yaml,
   units.yaml, teams.yaml, people/<unit>.yaml (at most `PEOPLE_PER_FILE` per file), and
   the JSON Schema they point editors at.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from orgctl.config import load, point_at
from orgctl.config.schema import schema_document
from orgctl.config.secrets import PRIVATE_KEYS
from orgctl.config.sources import discover
from orgctl.errors import OrgctlError
from orgctl.files import write_private
from orgctl.inert import LONE_SURROGATE
from orgctl.model import Org, ProviderConfig
from orgctl.providers import create, provider_class
from orgctl.providers.base import Progress
from orgctl.providers.importing import Imported

__all__ = ["PEOPLE_PER_FILE", "SCHEMA_FILE", "FileWritten", "Imported", "connect",
           "provider_block", "read", "scalar", "write"]

PEOPLE_PER_FILE = 1000  # a file a reviewer can still open; CODEOWNERS splits by unit anyway
SCHEMA_FILE = "orgctl.schema.json"


# -- 1. connecting --------------------------------------------------------------------------

def provider_block(system: str, configured: Org | None, config_path: Path | None,
                   url: str | None,
                   endpoints: dict[str, dict[str, Any]] | None) -> tuple[str, dict[str, Any]]:
    """(name, block) of the provider to import from, as it will be written: the block of
    `system` in `configured` (the config loaded from `config_path`, credentials not
    resolved), else one made from `url` or the sandbox's `endpoints`."""
    if configured is not None:
        found = [p for p in configured.providers.values() if p.type == system]
        if not found:
            raise OrgctlError(f"{config_path}: no {system} provider block to import with; "
                              f"add one, or give --url")
        if len(found) > 1:
            named = [p for p in found if p.name == system]
            if not named:
                raise OrgctlError(f"{config_path}: several {system} provider blocks "
                                  f"({', '.join(p.name for p in found)}); keep one")
            found = named
        config = found[0]
        block = {"type": config.type} if config.name != config.type else {}
        block.update(url=url or config.url, **config.settings)
        return config.name, block
    endpoint = (endpoints or {}).get(system) or {}
    url = url or endpoint.get("url")
    if url is None:
        raise OrgctlError(f"say where {system} is: give a config that has its provider block "
                          f"(orgctl import --from {system} PATH), or --url with the "
                          f"credentials in {', '.join(_env_names(system))}, or --sandbox")
    block: dict[str, Any] = {"url": url}
    for key, value in provider_class(system).IMPORT_SETTINGS.items():
        # The sandbox's non-secret settings (environment, organization) are worth keeping.
        keep = key in endpoint and key not in PRIVATE_KEYS
        block[key] = endpoint[key] if keep else value
    return system, block


def _env_names(system: str) -> list[str]:
    settings = provider_class(system).IMPORT_SETTINGS
    return re.findall(r"\$\{(\w+)\}", " ".join(settings.values()))


def connect(name: str, block: dict[str, Any],
            endpoints: dict[str, dict[str, Any]] | None) -> ProviderConfig:
    """The block loaded as a config of its own (schema, `${ENV}`s, URL rules, redaction),
    pointed at the sandbox when `endpoints` are given."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp, f"import-from-{name}.yaml")
        file.write_text(_providers_text(name, block, ""), encoding="utf-8")
        org = load(file, resolve_env=endpoints is None)
    if endpoints is not None:
        org = point_at(org, endpoints)
    return org.providers[name]


# -- 2. reading and mapping -----------------------------------------------------------------

async def read(config: ProviderConfig, progress: Progress | None = None) -> Imported:
    """Read `config`'s system and map its live state (see the module docstring)."""
    provider = create(config)
    try:
        live = await provider.read(progress)
    finally:
        await provider.aclose()
    imported = provider.to_config(live)
    _fill_required(imported)
    _mend_cut_characters(imported)
    return imported


def _fill_required(imported: Imported) -> None:
    """A config employee needs a first and last name and an email; a system may not have
    them. The stand-in is noted: the plan will show the system's value replaced by it."""
    for key, employee in imported.employees.items():
        stand_ins = {"first_name": str(employee.get("email", key)).split("@")[0] or key,
                     "last_name": "-", "email": f"{key.lower()}@unknown.invalid"}
        for name, stand_in in stand_ins.items():
            if not employee.get(name):
                employee[name] = stand_in
                imported.note("employees", key, f"no {name} in {imported.system}: "
                                                f"{stand_in!r} written instead; correct it")


def _mend_cut_characters(imported: Imported) -> None:
    """A text holding a lone surrogate (a server that cut a name inside an emoji's UTF-16
    pair escapes the half it kept) cannot be written in a UTF-8 file, nor read back from
    YAML: it is written with U+FFFD in its place, and noted, since the plan will then
    show the system's value replaced by it. A key so cut is mended alike."""
    for section in ("units", "teams", "employees"):
        mended: dict[str, dict[str, Any]] = {}
        for was, data in getattr(imported, section).items():
            key, mended[key] = _mended(was), _mended(data)
            if key != was or mended[key] != data:
                imported.note(section, key, f"a character {imported.system} holds cut in "
                                            f"half was written as \ufffd; correct it")
        setattr(imported, section, mended)


def _mended(value: Any) -> Any:
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_mended(k): _mended(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map(_mended, value))
    return value


# -- 3. writing -----------------------------------------------------------------------------

FileWritten = Callable[[Path, int, int], None]
"""Called as written(path, employees written so far, employees in all)."""


def write(out: Path, name: str, block: dict[str, Any], imported: Imported, *,
          force: bool = False, written: FileWritten | None = None) -> list[Path]:
    """Write the configuration into `out`, file by file; return the files written.
    Refuses a directory that already holds a config, unless `force`."""
    if out.exists() and not force:
        try:
            existing = discover(out)
        except OrgctlError:
            existing = []
        if existing:
            raise OrgctlError(f"{out} already holds YAML files ({existing[0]}...): import "
                              f"into an empty directory, or add --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    total = len(imported.employees)

    def put(relative: str, text: str, done: int = 0) -> None:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, text)  # never through a symlink; names and emails: 0600
        files.append(path)
        if written:
            written(path, done, total)

    put(SCHEMA_FILE, json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n")
    header = (f"Imported by `orgctl import --from {imported.system}`. Review it, commit it,\n"
              f"# then `orgctl plan` it: against the same system it shows no changes.")
    put("providers.yaml", _providers_text(name, block, header, imported.notes.get(("", ""))))
    if imported.units:
        put("units.yaml", _section_text(
            "units", imported.units, imported, SCHEMA_FILE,
            "The org hierarchy, parents first. A unit's key is its id in the system."))
    if imported.teams:
        put("teams.yaml", _section_text(
            "teams", imported.teams, imported, SCHEMA_FILE,
            "Working groups, parents first. Members and managers are employee keys."))
    done = 0
    for relative, keys in _people_files(imported):
        done += len(keys)
        put(relative, _section_text(
            "employees", {k: imported.employees[k] for k in keys}, imported,
            f"../{SCHEMA_FILE}", _people_header(relative, keys, imported)), done)
    return files


def _people_files(imported: Imported) -> Iterator[tuple[str, list[str]]]:
    """people/<unit key>.yaml per unit (people.yaml without units), sorted by key, cut
    into parts of PEOPLE_PER_FILE: <unit>.2.yaml (a unit key has no dot: no clash)."""
    groups: dict[str, list[str]] = {}
    fallback = "no-unit" if imported.units else "people"
    for key in sorted(imported.employees):
        groups.setdefault(imported.employees[key].get("unit") or fallback, []).append(key)
    for group in sorted(groups):
        keys = groups[group]
        for part, start in enumerate(range(0, len(keys), PEOPLE_PER_FILE), 1):
            suffix = f".{part}" if part > 1 else ""
            yield f"people/{group}{suffix}.yaml", keys[start:start + PEOPLE_PER_FILE]


def _people_header(relative: str, keys: list[str], imported: Imported) -> str:
    unit = imported.employees[keys[0]].get("unit")
    if unit in imported.units:
        return f"People of unit {imported.units[unit]['name']} ({unit}), by employee key."
    if imported.units:
        return "People without a unit, by employee key."
    return f"People of {imported.system}, by employee key."


def _providers_text(name: str, block: dict[str, Any], header: str,
                    notes: list[str] | None = None) -> str:
    lines = [f"# yaml-language-server: $schema={SCHEMA_FILE}"]
    if header:
        lines.append(f"# {header}")
    if notes:
        lines.append("# Not imported:")
        lines += [f"#   - {n}" for n in notes]
    lines += ["version: 1", "", "providers:"]
    lines += _entry(name, block, 1)
    return "\n".join(lines) + "\n"


def _section_text(section: str, entries: dict[str, dict[str, Any]], imported: Imported,
                  schema: str, header: str) -> str:
    lines = [f"# yaml-language-server: $schema={schema}", f"# {header}", f"{section}:"]
    for i, (key, entry) in enumerate(entries.items()):
        if i:
            lines.append("")
        lines += [f"  # {n}" for n in imported.notes.get((section, key), [])]
        lines += _entry(key, _ordered(section[:-1], entry), 1)
    return "\n".join(lines) + "\n"


@cache
def _field_rank(kind: str) -> dict[str, int]:
    return {name: i for i, name in enumerate(schema_document()["$defs"][kind]["properties"])}


def _ordered(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order the schema lists them (name first, relations together...)."""
    rank = _field_rank(kind)
    out = dict(sorted(entry.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    if "journeys" in out:
        out["journeys"] = [_ordered("journey", j) for j in out["journeys"]]
    return out


# -- YAML text ------------------------------------------------------------------------------
# Written by hand, not by yaml.dump: comments above objects, short lists and mappings in
# flow style as people write them, and a scalar formatter that is fast on 100k people.

_PLAIN = re.compile(r"\w(?:[\w .@/+()&'-]*[\w.@/+()&'-])?\Z")
_PLAIN_BLOCK = re.compile(r"[\w$](?:[\w .@/+()&'{}$:,-]*[\w.@/+()&'{}$-])?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_IMPLICIT = yaml.SafeLoader.yaml_implicit_resolvers
FLOW_WIDTH = 96


def scalar(value: Any, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as the same value (plain when safe)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _DATE.match(text):
        return text  # read back as text: the config loader keeps dates as written
    pattern = _PLAIN if flow else _PLAIN_BLOCK
    if pattern.match(text) and ": " not in text and not _resolves(text):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML quoted scalar


def _resolves(text: str) -> bool:
    """Whether YAML would read this plain text as something else (true, null, 12, 1.5)."""
    return any(regexp.match(text) for _tag, regexp in _IMPLICIT.get(text[:1], ()))


def _flow(value: Any) -> str | None:
    """`value` in flow style, when it is small and flat enough to read on one line."""
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            return None
        text = "[" + ", ".join(scalar(v, flow=True) for v in value) + "]"
    elif isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, dict):
                return None
            inner = _flow(v) if isinstance(v, list) else scalar(v, flow=True)
            if inner is None:
                return None
            parts.append(f"{scalar(k, flow=True)}: {inner}")
        text = "{" + ", ".join(parts) + "}"
    else:
        return None
    return text if len(text) <= FLOW_WIDTH else None


def _entry(key: str, value: Any, depth: int) -> list[str]:
    pad = "  " * depth
    head = f"{pad}{scalar(key)}:"
    if not isinstance(value, (dict, list)):
        return [f"{head} {scalar(value)}"]
    if not value:
        return [f"{head} {'{}' if isinstance(value, dict) else '[]'}"]
    flow = _flow(value) if depth > 1 else None
    if flow is not None:
        return [f"{head} {flow}"]
    lines = [head]
    if isinstance(value, dict):
        for k, v in value.items():
            lines += _entry(k, v, depth + 1)
        return lines
    for item in value:
        if isinstance(item, dict):
            inner = [line for k, v in item.items() for line in _entry(k, v, depth + 2)]
            first = inner[0].lstrip()
            lines.append(f"{pad}  - {first}")
            lines += inner[1:]
        else:
            flow_item = _flow(item)
            lines.append(f"{pad}  - {flow_item if flow_item else scalar(item)}")
    return lines
