"""What every provider's `to_config` (live state -> configuration, for `orgctl import`)
shares: the `Imported` result and the making of config keys for live objects.

A provider's own mapping lives in its package (`orgctl.providers.<system>.importer`);
reading, completing and writing the files is `orgctl.engine.importer`'s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orgctl.config.schema import schema_document
from orgctl.resources import Resource

__all__ = ["NO_KEY", "ConfigKeys", "Imported", "assign_keys", "by_kind", "email_name",
           "key_pattern", "parents_first", "slug", "sort_team_people"]

# How every provider keys a live object that has no key of its own ("id:<remote id>"):
# the importer then makes a config key for it from its name.
NO_KEY = "id:"


@dataclass(repr=False)  # returned through asyncio.run: see commands.PlanResult
class Imported:
    """A live state as config data (section -> key -> object, in `write` order) and the
    notes that go above objects as comments; ("", "") holds notes for the whole import."""

    system: str
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    employees: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def note(self, section: str, key: str, text: str) -> None:
        self.notes.setdefault((section, key), []).append(text)

    @property
    def note_count(self) -> int:
        return sum(len(n) for n in self.notes.values())


def key_pattern() -> re.Pattern[str]:
    """What a config key may be, as the JSON Schema says."""
    return re.compile(schema_document()["$defs"]["key"]["pattern"])


class ConfigKeys:
    """Config keys for live objects: the live key where it is a valid config key, else one
    made from a name, unique within its section."""

    def __init__(self) -> None:
        self.valid = key_pattern()
        self.taken: set[str] = set()

    def keep(self, key: str) -> bool:
        if self.valid.match(key) and key not in self.taken:
            self.taken.add(key)
            return True
        return False

    def make(self, text: str) -> str:
        base = slug(text)
        key, n = base, 2
        while key in self.taken:
            key, n = f"{base}-{n}", n + 1
        self.taken.add(key)
        return key


def slug(text: str) -> str:
    """A key made from a name: "Sales & Marketing" -> "sales-marketing"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower()).strip("-_")[:90] or "x"


def assign_keys(resources: list[Resource], name_of: Callable[[Resource], str],
                section: str, imported: Imported, what: str) -> dict[str, str]:
    """Live key -> config key for `resources`; a made key is noted on its object."""
    keys = ConfigKeys()
    out = {r.key: r.key for r in resources if keys.keep(r.key)}
    for r in resources:
        if r.key in out:
            continue
        out[r.key] = keys.make(name_of(r))
        had = (f"no {what}" if r.key.startswith(NO_KEY) or "@" in r.key
               else f"{what} {r.key!r} is not a valid key")
        imported.note(section, out[r.key],
                      f"{had} in {imported.system}: key made from its name; the plan will "
                      f"show {what} set to {out[r.key]!r}")
    return out


def email_name(r: Resource) -> str:
    """The part of a person's email before the @ (their key when they have none), to make
    a key from."""
    return str(r.attrs.get("email") or r.key).split("@", 1)[0]


def by_kind(live: list[Resource]) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for r in live:
        out.setdefault(r.kind, []).append(r)
    return out


def parents_first(resources: list[Resource]) -> list[Resource]:
    """Resources with a `parent` attribute (a live key), parents first, then by key."""
    by_key = {r.key: r for r in resources}
    children: dict[str | None, list[Resource]] = {}
    for r in resources:
        parent = r.attrs.get("parent")
        children.setdefault(parent if parent in by_key else None, []).append(r)
    out: list[Resource] = []
    seen: set[str] = set()
    stack = sorted(children.get(None, []), key=lambda r: r.key, reverse=True)
    while stack:
        r = stack.pop()
        if r.key in seen:
            continue
        seen.add(r.key)
        out.append(r)
        stack.extend(sorted(children.get(r.key, []), key=lambda c: c.key, reverse=True))
    out.extend(r for r in resources if r.key not in seen)  # a parent cycle: never expected
    return out


def sort_team_people(imported: Imported) -> None:
    """Each team's managers and members sorted, without repeats."""
    for team in imported.teams.values():
        for name in ("managers", "members"):
            if name in team:
                team[name] = sorted(dict.fromkeys(team[name]))
