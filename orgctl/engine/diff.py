"""Identity matching and diffing of one provider's desired and live resources.

O(n): live resources are indexed once by key and by identity; each desired resource is
matched with dictionary lookups; equality of the managed attributes is checked with plain
`==` first, and field-level detail (deepdiff, for nested values) is computed only for the
pairs that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from orgctl.resources import Action, Change, Finding, Resource

RemovalRule = Callable[[Resource], "tuple[Action | None, str]"]
"""For a live resource absent from the config: (action or None to leave it, reason)."""


@dataclass
class DiffResult:
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # live resources paired with the desired resource they matched, by desired address
    matched: dict[str, Resource] = field(default_factory=dict)


def diff(provider: str, desired: Iterable[Resource], live: Iterable[Resource],
         removal: RemovalRule) -> DiffResult:
    """Match desired to live by key, then by identity; emit creates, updates, removals."""
    result = DiffResult()
    desired = list(desired)
    live = list(live)
    desired_keys = {(d.kind, d.key) for d in desired}
    by_key: dict[tuple[str, str], Resource] = {(r.kind, r.key): r for r in live}
    by_identity: dict[tuple[str, str], Resource] = {}
    for r in live:
        for ident in r.identities:
            by_identity.setdefault((r.kind, ident), r)
    claimed: set[int] = set()

    for d in desired:
        match = by_key.get((d.kind, d.key))
        how = "key"
        if match is None or id(match) in claimed:
            match = None
            for ident in d.identities:
                cand = by_identity.get((d.kind, ident))
                # A live object that carries another desired key is that object's, not ours.
                if (cand is not None and id(cand) not in claimed
                        and (cand.kind, cand.key) not in desired_keys):
                    match, how = cand, ident
                    break
        address = f"{provider}.{d.kind}.{d.key}"
        if match is None:
            if d.attrs.get("status") == "inactive":
                continue  # nothing to create for someone who has left
            result.changes.append(Change(
                action="create", provider=provider, kind=d.kind, key=d.key,
                after=d.attrs, reason="absent from live state", refs=dict(d.refs),
                source=d.source))
            continue
        claimed.add(id(match))
        result.matched[address] = match
        if how != "key":
            result.findings.append(Finding(
                provider, d.kind, d.key,
                f"matched live object {match.key!r} by {how} (it has no key of its own)",
                level="info"))
        wanted = d.attrs
        if match.unknown:  # what the read could not see is never drift, never rewritten
            wanted = {k: v for k, v in d.attrs.items() if k not in match.unknown}
        before = {k: match.attrs.get(k) for k in wanted}
        if before == wanted:  # the cheap path: nearly every pair ends here
            continue
        fields = field_changes(before, wanted)
        action: Action = "update"
        reason = "differs from config"
        if d.attrs.get("status") == "inactive" and before.get("status") != "inactive":
            action, reason = "deactivate", "status inactive in config"
        if how != "key":
            reason += f" (matched by {how})"
        result.changes.append(Change(
            action=action, provider=provider, kind=d.kind, key=d.key, before=before,
            after=wanted, fields=fields, reason=reason, remote_id=match.remote_id,
            refs=dict(d.refs), source=d.source))

    for r in live:
        if id(r) in claimed:
            continue
        action, reason = removal(r)
        if action is None:
            result.findings.append(Finding(provider, r.kind, r.key, reason, level="info"))
            continue
        result.changes.append(Change(
            action=action, provider=provider, kind=r.kind, key=r.key, before=r.attrs,
            reason=reason, remote_id=r.remote_id))
    return result


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Only the attributes that differ, as name -> [old, new]; nested dicts are expanded
    into dotted names so a reviewer sees `identifications.badge`, not two whole dicts."""
    fields: dict[str, list[Any]] = {}
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            fields.update(_nested(name, old, new))
        else:
            fields[name] = [old, new]
    return fields


def _nested(name: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    delta = DeepDiff(old, new, ignore_order=True, verbose_level=2)
    out: dict[str, list[Any]] = {}
    for path, change in delta.get("values_changed", {}).items():
        out[_dotted(name, path)] = [change["old_value"], change["new_value"]]
    for path, value in delta.get("dictionary_item_added", {}).items():
        out[_dotted(name, path)] = [None, value]
    for path, value in delta.get("dictionary_item_removed", {}).items():
        out[_dotted(name, path)] = [value, None]
    for kind in ("type_changes", "iterable_item_added", "iterable_item_removed"):
        if kind in delta:  # lists inside dicts: show the whole value, not list indices
            return {name: [old, new]}
    return out or {name: [old, new]}


def _dotted(name: str, path: str) -> str:
    # deepdiff paths look like root['badge'] or root['a']['b']
    inner = path.removeprefix("root").replace("']['", ".").strip("[]'")
    return f"{name}.{inner}" if inner else name
