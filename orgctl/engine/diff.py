"""Identity matching and diffing of one provider's desired and live resources.

O(n): live resources are indexed once by key and by identity; each desired resource is
matched with dictionary lookups; equality of the managed attributes is checked with plain
`==` first, and field-level detail (deepdiff, for nested values) is computed only for the
pairs that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any

from deepdiff import DeepDiff

from orgctl.resources import Action, Change, Finding, Resource

RemovalRule = Callable[[Resource], "tuple[Action | None, str]"]
"""For a live resource absent from the config: (action or None to leave it, reason)."""


@dataclass
class DiffResult:
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # live resources matched by identity (their key is not the desired one) or kept among
    # duplicates, by the desired address: a lone match by key has that address already.
    matched: dict[str, Resource] = field(default_factory=dict)
    # live resources whose attributes equal their desired match's: nearly all of them, and
    # the plan's fingerprint writes them short (see `orgctl.engine.plan.fingerprint`).
    same: list[Resource] = field(default_factory=list)
    # live resources holding every attribute of their desired match, equal, and more (fields
    # the server keeps that the config does not set), with the desired attributes: the
    # fingerprint writes them short too, with those other fields.
    covered: list[tuple[Resource, dict[str, Any]]] = field(default_factory=list)


def diff(provider: str, desired: Iterable[Resource], live: Iterable[Resource],
         removal: RemovalRule,
         remove_duplicate: Callable[[Resource], Action | None] | None = None) -> DiffResult:
    """Match desired to live by key, then by identity; emit creates, updates, removals.

    Several live objects matching one desired object (by its key or any of its identities)
    are duplicates: the oldest (lowest remote id) is the match, the others are an error
    finding naming every remote id and are neither changed nor pruned, unless
    `remove_duplicate` says how to remove them (`--remove-duplicates`)."""
    result = DiffResult()
    desired = list(desired)
    live = list(live)
    # The desired keys by kind, made when first needed: only an identity that finds
    # another live object than the key did asks for them.
    desired_keys: dict[str, set[str]] | None = None
    by_key, by_identity = _indexes(live)
    claimed: set[int] = set()
    changes, matched = result.changes, result.matched
    same, covered = result.same.append, result.covered.append

    def candidates(d: Resource, there: Any, idents: dict[str, Any]) -> list[Resource]:
        """Every unclaimed live object `d` matches: by its key (`there`, what the key
        index holds), then by each identity, leaving out a live object that carries
        another desired key (that object is the other desired one's, not a duplicate)."""
        nonlocal desired_keys
        if there is None:
            found = []
        elif type(there) is list:
            found = [r for r in there if id(r) not in claimed]
        else:
            found = [] if id(there) in claimed else [there]
        if not d.identities or not idents:
            return found
        one = found[0] if len(found) == 1 else None
        for ident in d.identities:
            there = idents.get(ident)
            if there is None or there is one:
                continue
            if desired_keys is None:
                desired_keys = {}
                for other in desired:
                    desired_keys.setdefault(other.kind, set()).add(other.key)
            theirs = desired_keys.get(d.kind, ())
            for c in there if type(there) is list else (there,):
                if id(c) not in claimed and not _among(c, found) and c.key not in theirs:
                    found.append(c)
        return found

    def compare(d: Resource, match: Resource, how: str, kind: str) -> None:
        """The update `d` needs of `match`, its live object (matched by `how`), if any."""
        wanted = d.attrs
        if match.unknown:  # what the read could not see is never drift, never rewritten
            wanted = {k: v for k, v in d.attrs.items() if k not in match.unknown}
        if wanted.items() <= match.attrs.items():
            # every wanted attribute there, equal (live has more: server fields)
            if not match.unknown:
                covered((match, wanted))
            return
        before = {k: match.attrs.get(k) for k in wanted}
        if before == wanted:  # a null wanted, the field absent: no change either
            return
        fields = field_changes(before, wanted)
        action: Action = "update"
        reason = "differs from config"
        if d.attrs.get("status") == "inactive" and before.get("status") != "inactive":
            action, reason = "deactivate", "status inactive in config"
        if how != "key":
            reason += f" (matched by {how})"
        changes.append(Change(
            action=action, provider=provider, kind=kind, key=d.key, before=before,
            after=wanted, fields=fields, reason=reason, remote_id=match.remote_id,
            refs=dict(d.refs), source=d.source))

    def elsewhere(d: Resource, there: Any, idents: dict[str, Any], kind: str) -> None:
        """Match `d` when its key alone does not (`there`: what the key index holds):
        by identity, among duplicates, or nothing (a create)."""
        found = candidates(d, there, idents)
        if not found:
            if d.attrs.get("status") != "inactive":  # nothing to create for a leaver
                changes.append(Change(
                    action="create", provider=provider, kind=kind, key=d.key,
                    after=d.attrs, reason="absent from live state", refs=dict(d.refs),
                    source=d.source))
            return
        address = f"{provider}.{kind}.{d.key}"
        if len(found) > 1:
            match = _duplicates(provider, d, found, remove_duplicate, result)
            for r in found:
                claimed.add(id(r))
            matched[address] = match  # the oldest, whichever shares its key
        else:
            match = found[0]
            claimed.add(id(match))
        if match.key == d.key:
            how = "key"
        else:
            matched[address] = match
            how = next((i for i in d.identities if i in match.identities), "identity")
            result.findings.append(Finding(
                provider, d.kind, d.key,
                f"matched live object {match.key!r} by {how} (it has no key of its own)",
                level="info"))
        if match.attrs == d.attrs and not match.unknown:
            same(match)
        else:
            compare(d, match, how, kind)

    nothing: dict[str, Any] = {}
    claim = claimed.add
    for kind, group in groupby(desired, KIND):  # desired resources come grouped by kind
        keyed = by_key.get(kind, nothing).get
        idents = by_identity.get(kind, nothing)
        ident_of = idents.get
        for d in group:
            there = keyed(d.key)
            if there is not None and type(there) is not list and id(there) not in claimed:
                # Nearly always: one live object has the key...
                for ident in d.identities:
                    other = ident_of(ident)
                    if other is not None and other is not there:
                        break  # ...unless an identity names another: see `candidates`
                else:
                    claim(id(there))
                    if there.attrs == d.attrs and not there.unknown:
                        same(there)  # the cheapest path: the same attributes, nothing unknown
                    else:
                        compare(d, there, "key", kind)
                    continue
            elsewhere(d, there, idents, kind)

    for r in live:
        if id(r) in claimed:
            continue
        action, reason = removal(r)
        if action is None:
            result.findings.append(Finding(provider, r.kind, r.key, reason, level="info"))
            continue
        result.changes.append(Change(
            action=action, provider=provider, kind=r.kind, key=r.key, before=r.attrs,
            reason=reason, remote_id=r.remote_id, source=r.source))
    return result


KIND, KEY = attrgetter("kind"), attrgetter("key")
IDENTITIES = attrgetter("identities")
FIRST = itemgetter(0)


def _indexes(live: list[Resource]) -> tuple[dict[str, dict[str, Any]],
                                            dict[str, dict[str, Any]]]:
    """Live resources by kind, then by key, and by kind, then by identity: a resource, or
    a list of them (in live order) when several share it. No tuple or list per resource:
    with 100,000s of them, those allocations cost more than the matching (and set the
    garbage collector scanning the heap). Each kind's indexes are made by `dict` from
    the keys (and the one identity most objects have) when none is shared, the usual case,
    at C speed; else one resource at a time."""
    kinds: dict[str, list[Resource]] = {}
    for kind, run in groupby(live, KIND):
        group = kinds.get(kind)
        if group is None:
            kinds[kind] = list(run)
        else:
            group.extend(run)
    by_key: dict[str, dict[str, Any]] = {}
    by_identity: dict[str, dict[str, Any]] = {}
    for kind, group in kinds.items():
        index = dict(zip(map(KEY, group), group, strict=True))
        if len(index) != len(group):
            index = {}
            for r in group:
                _add(index, r.key, r)
        by_key[kind] = index
        identities = list(map(IDENTITIES, group))
        counts = set(map(len, identities))
        if counts == {0}:
            continue
        if counts == {1}:
            index = dict(zip(map(FIRST, identities), group, strict=True))
            if len(index) == len(group):
                by_identity[kind] = index
                continue
        index = by_identity[kind] = {}
        for r in group:
            for ident in r.identities:
                _add(index, ident, r)
    return by_key, by_identity


def _add(index: dict[str, Any], name: str, r: Resource) -> None:
    there = index.get(name)
    if there is None:
        index[name] = r
    elif type(there) is list:
        there.append(r)
    else:
        index[name] = [there, r]


def _among(resource: Resource, found: list[Resource]) -> bool:
    """Whether this very object (not an equal one) is in `found`."""
    for other in found:
        if other is resource:
            return True
    return False


def _age(r: Resource) -> tuple[int, int, str]:
    """Oldest first: numeric remote ids by value, others as text, none last."""
    rid = r.remote_id or ""
    return (0, int(rid), "") if rid.isdigit() else (1 if rid else 2, 0, rid)


def _duplicates(provider: str, d: Resource, found: list[Resource],
                remove: Callable[[Resource], Action | None] | None,
                result: DiffResult) -> Resource:
    """Report (or plan the removal of) every live object but the oldest that matches `d`;
    return the oldest."""
    ordered = sorted(found, key=_age)
    keep, others = ordered[0], ordered[1:]
    ids = ", ".join(r.remote_id or r.key for r in ordered)
    message = (f"{len(ordered)} live objects match this one ({ids}): duplicates. orgctl "
               f"changes only the oldest ({keep.remote_id or keep.key})")
    if remove is None:
        result.findings.append(Finding(
            provider, d.kind, d.key,
            f"{message} and leaves the others alone: remove them by hand, or plan their "
            f"removal with --remove-duplicates", level="error", code="duplicate"))
        return keep
    result.findings.append(Finding(provider, d.kind, d.key,
                                   f"{message}; --remove-duplicates removes the others",
                                   level="warning", code="duplicate"))
    for r in others:
        action = remove(r)
        if action is None:
            result.findings.append(Finding(
                provider, d.kind, d.key,
                f"duplicate {r.remote_id or r.key} cannot be removed here (a rule of the "
                f"system): remove it by hand", level="error", code="duplicate"))
            continue
        result.changes.append(Change(
            action=action, provider=provider, kind=r.kind,
            key=f"{d.key}~{r.remote_id or r.key}", before=r.attrs,
            reason=f"duplicate of {d.key} (kept the oldest, "
                   f"{keep.remote_id or keep.key}); --remove-duplicates",
            remote_id=r.remote_id))
    return keep


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
    for path, change in delta.get("type_changes", {}).items():
        if change["old_value"] is None or change["new_value"] is None:
            # a value set or cleared (`buddy: null`): as readable as any other change
            out[_dotted(name, path)] = [change["old_value"], change["new_value"]]
        else:
            return {name: [old, new]}
    for kind in ("iterable_item_added", "iterable_item_removed"):
        if kind in delta:  # lists inside dicts: show the whole value, not list indices
            return {name: [old, new]}
    return out or {name: [old, new]}


def _dotted(name: str, path: str) -> str:
    # deepdiff paths look like root['badge'] or root['a']['b']
    inner = path.removeprefix("root").replace("']['", ".").strip("[]'")
    return f"{name}.{inner}" if inner else name
