"""Where the config comes from: find the files, read them safely, merge them into one tree,
and remember for every value which file, line and column it was written at.

A config is one YAML file or a directory of them (`*.yaml`, `*.yml`, recursively, in
sorted order, hidden files and directories skipped so `.github/` workflows are not read).
Top-level sections (`providers`, `units`, `teams`, `employees`) merge by key; the same
object in two files is an error at the second naming the first.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orgctl.config.yamlload import Document, Spans, Texts, dotted, parse
from orgctl.config.yamlload import Path as ValuePath
from orgctl.errors import ConfigIssue, Location, OrgctlError
from orgctl.files import read_regular

log = logging.getLogger("orgctl.config")

MAX_FILE_BYTES = 20 * 1024 * 1024
SECTIONS = ("providers", "units", "teams", "employees")
TOP_KEYS = frozenset({"version", *SECTIONS})  # a YAML file holding none is not orgctl's
SUFFIXES = (".yaml", ".yml")


class SourceMap:
    """Answers "where was this value written?" for any path into the merged tree.

    Each file keeps its own spans; the map only records which file owns each top-level
    section and each object in it. A path with no span of its own (a missing key, say)
    resolves to its nearest written ancestor.
    """

    def __init__(self) -> None:
        self._files: list[tuple[str, Spans]] = []
        self._owner: dict[ValuePath, int] = {}

    def add_file(self, doc: Document) -> int:
        self._files.append((doc.file, doc.spans))
        return len(self._files) - 1

    def own(self, path: ValuePath, file_index: int) -> None:
        self._owner.setdefault(path, file_index)

    def add_origin(self, name: str, paths: list[ValuePath]) -> None:
        """Objects written by no file (a source of truth added them): located at `name`."""
        index = len(self._files)
        self._files.append((name, Spans()))
        for path in paths:
            self._owner[path] = index

    def value(self, path: ValuePath) -> Location:
        """Where the value at `path` starts."""
        return self._locate(path, key=False)

    def key(self, path: ValuePath) -> Location:
        """Where the key of the value at `path` is written (the item, for list items)."""
        return self._locate(path, key=True)

    def written(self, path: ValuePath) -> bool:
        """Whether `path` itself was written (not just an ancestor)."""
        if not self._files:
            return False
        index = self._owner.get(path[:2], self._owner.get(path[:1], 0))
        spans = self._files[index][1]
        return path in spans or (spans.digest is not None and path in self._full(index))

    def _full(self, index: int) -> Spans:
        """The spans of file `index` with every scalar's position: a file loaded with its
        collections' positions only (`parse(scalars=False)`) is read and parsed again,
        once. Should it have changed since (or be gone), its collections' positions are
        all there is: a value is then located at the object that holds it."""
        file, spans = self._files[index]
        if spans.digest is not None:
            text = _text(Path(file))
            if text is not None and hash(text) == spans.digest:
                spans = parse(text, file).spans
            else:
                spans.digest = None
            self._files[index] = (file, spans)
        return spans

    def _locate(self, path: ValuePath, key: bool) -> Location:
        if not self._files:
            return Location("<config>", 1, 1)
        index = self._owner.get(path[:2])
        if index is None:
            index = self._owner.get(path[:1], 0)
        file, spans = self._files[index]
        if spans.digest is not None:
            found = spans.location(path, key)
            if found is not None:  # an object, a list: kept by the first reading
                return Location(file, *found)
            spans = self._full(index)
        location = spans.location
        probe = path
        while True:
            found = location(probe, key)
            if found is not None:
                return Location(file, *found)
            if not probe:
                return Location(file, 1, 1)
            probe = probe[:-1]


@dataclass
class Tree:
    """The merged config before validation. `fatal`: some file could not be read whole,
    so only `issues` may be reported, nothing checked further."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: SourceMap = field(default_factory=SourceMap)
    issues: list[ConfigIssue] = field(default_factory=list)
    fatal: bool = False


def discover(path: Path) -> list[Path]:
    """The config files at `path`, in the order they are merged. Raises OrgctlError when
    there is nothing to read."""
    if not path.exists():
        raise OrgctlError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise OrgctlError(f"{path}: not a file or a directory")
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root, f) for f in files
                     if f.endswith(SUFFIXES) and not f.startswith("."))
    if not found:
        raise OrgctlError(f"{path}: no *.yaml or *.yml files in this directory")
    return sorted(found, key=lambda p: p.relative_to(path).parts)


def read(file: Path, *, scalars: bool = True, texts: Texts | None = None) -> Document:
    """Read and parse one file, refusing oversize and non-UTF-8 files (`parse` says what
    `scalars` and `texts` are for)."""
    name = str(file)
    doc = Document(name)
    try:
        raw = read_regular(file, MAX_FILE_BYTES)
    except OSError as e:
        return _refused(doc, Location(name, 1, 1),
                        f"cannot read: {e.strerror or 'not a regular file'}")
    if len(raw) > MAX_FILE_BYTES:
        return _refused(doc, Location(name, 1, 1),
                        f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: "
                        "split it into several files")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = len(raw[raw.rfind(b"\n", 0, e.start) + 1:e.start].decode("utf-8")) + 1
        return _refused(doc, Location(name, line, column),
                        f"not valid UTF-8 (byte 0x{raw[e.start]:02x}): save the file as UTF-8")
    return parse(text.removeprefix("\ufeff"), name, scalars=scalars, texts=texts)


def _text(file: Path) -> str | None:
    """The text `read` parsed from `file`, read again; None if it cannot be."""
    try:
        raw = read_regular(file, MAX_FILE_BYTES)
        return raw.decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        return None


def _refused(doc: Document, location: Location, message: str) -> Document:
    doc.issues.append(ConfigIssue(location, "", message))
    doc.fatal = True
    return doc


def load_tree(path: Path) -> Tree:
    """Read every file at `path` and merge them into one tree. A file in a config
    directory that is a symlink to somewhere outside it is refused unread: its content
    (a secret, /etc/passwd) would be quoted in error messages."""
    tree = Tree()
    inside = path.resolve() if path.is_dir() else None
    docs: list[Document] = []
    foreign: list[str] = []
    texts = Texts()  # one str object per distinct value, across the files
    for file in discover(path):
        if inside is not None and file.is_symlink() and not _within(file.resolve(), inside):
            tree.issues.append(ConfigIssue(Location(str(file), 1, 1), "", (
                "is a symbolic link to a file outside the configuration directory: not "
                "read (copy the file in, or link to one inside)")))
            tree.fatal = True
            continue
        doc = read(file, scalars=False, texts=texts)
        if (inside is not None and not doc.fatal and isinstance(doc.data, dict)
                and doc.data and not TOP_KEYS.intersection(doc.data)):
            foreign.append(doc.file)  # another tool's YAML (CI, compose, docs) beside it
            continue
        docs.append(doc)
    if foreign and not docs and not tree.issues:
        raise OrgctlError(
            f"{path}: not an orgctl configuration: none of its {len(foreign)} YAML files has "
            f"a top-level `version`, `providers`, `units`, `teams` or `employees` key "
            f"(e.g. {foreign[0]}). Give the directory holding the organisation's files, "
            f"e.g. `orgctl plan org/`")
    for name in foreign:
        log.warning("%s: skipped, it holds no orgctl section (version, providers, units, "
                    "teams, employees)", name)
    for doc in docs:
        tree.issues.extend(doc.issues)
        if doc.fatal:
            tree.fatal = True
            continue
        _merge(tree, doc)
    if not tree.fatal and "version" not in tree.data:
        tree.issues.append(ConfigIssue(tree.sources.value(()), "version",
                                       "missing: add `version: 1` (in any one file)"))
    return tree


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _merge(tree: Tree, doc: Document) -> None:
    index = tree.sources.add_file(doc)
    sources, data = tree.sources, tree.data
    for name, value in doc.data.items():
        top = (name,)
        if name in SECTIONS:
            if not (value is None or isinstance(value, dict)):
                # Fatal: merging around a malformed section would make every reference
                # into it look dangling.
                tree.issues.append(ConfigIssue(
                    _location(sources, index, top, key=False), name,
                    f"must be a mapping of keys to {name}, not {_kind(value)}"))
                tree.fatal = True
                continue
            section = data.setdefault(name, {})
            sources.own(top, index)
            for key, item in (value or {}).items():
                if key in section:
                    first = sources.key((name, key))
                    tree.issues.append(ConfigIssue(
                        _location(sources, index, (name, key)), dotted((name, key)),
                        f"defined twice: first at {first}"))
                    continue
                section[key] = item
                sources.own((name, key), index)
        elif name in data:
            if data[name] != value:
                tree.issues.append(ConfigIssue(
                    _location(sources, index, top), name,
                    f"set again with a different value: first at {sources.key(top)}"))
        else:
            data[name] = value
            sources.own(top, index)


def _location(sources: SourceMap, index: int, path: ValuePath, key: bool = True
              ) -> Location:
    """Where `path` is written in file `index` (its first line when it is not)."""
    file, spans = sources._files[index]
    found = spans.location(path, key)
    if found is None and spans.digest is not None:
        found = sources._full(index).location(path, key)
    line, column = found or (1, 1)
    return Location(file, line, column)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else f"the value {value!r}"
