"""A fifth system, defined outside orgctl: a directory of units and people held in memory.

It implements only what the contract in `orgctl.providers.base` requires (`desired`,
`read`, `apply`) plus `to_config` for import, and is registered with one line in
`orgctl.providers.TYPES`. `tests/engine/test_fifth_system.py` plans, applies and imports
through it; nothing in the engine, the CLI or the model knows it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from orgctl.model import Org
from orgctl.providers.base import Capability, Progress, Provider
from orgctl.providers.importing import Imported
from orgctl.resources import Change, Resource

TYPE = "memory"
TARGET = "tests.engine.memory_provider:MemoryProvider"
# The "servers": one directory per provider url, (kind, key) -> (remote id, attrs).
DIRECTORIES: dict[str, dict[tuple[str, str], tuple[str, dict[str, Any]]]] = {}


class MemoryProvider(Provider):
    type: ClassVar[str] = TYPE
    KINDS: ClassVar[tuple[str, ...]] = ("unit", "person")
    CAPABILITIES: ClassVar[tuple[Capability, ...]] = (
        Capability("read the directory", "GET", "(memory)", "documented", "this module"),
        Capability("write an entry", "PUT", "(memory)", "documented", "this module"),
    )

    @property
    def directory(self) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
        return DIRECTORIES.setdefault(self.config.url, {})

    def desired(self, org: Org) -> list[Resource]:
        out = [Resource("unit", key, {"name": u.name, "parent": u.parent},
                        refs={"parent": self.address("unit", u.parent)} if u.parent else {})
               for key, u in org.units.items()]
        out += [Resource("person", key, {"first_name": e.first_name, "last_name": e.last_name,
                                         "email": e.email, "unit": e.unit},
                         refs={"unit": self.address("unit", e.unit)} if e.unit else {})
                for key, e in org.employees.items() if e.active]
        return out

    async def read(self, progress: Progress | None = None) -> list[Resource]:
        return [Resource(kind, key, dict(attrs), remote_id=remote_id)
                for (kind, key), (remote_id, attrs) in self.directory.items()]

    async def apply(self, change: Change, ids: Mapping[str, str]) -> str | None:
        entry = (change.kind, change.key)
        if change.action == "create":
            remote_id = f"m-{len(self.directory) + 1}"
            self.directory[entry] = (remote_id, dict(change.after or {}))
            return remote_id
        if change.action == "update":
            self.directory[entry][1].update(change.after or {})
            return None
        del self.directory[entry]
        return None

    def to_config(self, live: list[Resource]) -> Imported:
        imported = Imported(TYPE)
        for r in live:
            if r.kind == "unit":
                unit = {"name": r.attrs["name"], "level": "Unit"}
                if r.attrs.get("parent"):
                    unit["parent"] = r.attrs["parent"]
                imported.units[r.key] = unit
            else:
                imported.employees[r.key] = {
                    name: r.attrs[name] for name in ("first_name", "last_name", "email", "unit")
                    if r.attrs.get(name)}
        return imported
