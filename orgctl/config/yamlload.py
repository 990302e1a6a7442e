"""Strict, line-aware YAML: one file's text -> plain data and where every value was written.

Built on the parser's event stream (libyaml's when available) rather than on PyYAML's
constructors: only safe scalars, no aliases, no custom tags, duplicate keys reported, and
a span (key and value position) kept for every value so later errors can point at it.
Walking events keeps this linear and non-recursive; 10,000 employees parse in about a
second, against four with `yaml.load` (its Python resolver is the slow part). libyaml's C
parser (`yaml.CSafeLoader`) gives the events when PyYAML was built with it; otherwise its
pure-Python parser does, with the same events and marks, only slower.

Positions are kept packed in one integer per value (`Spans`), not as the parser's mark
objects: 200,000 values would otherwise keep 200,000 marks and tuples alive, which the
cyclic garbage collector then scans again and again after the load. `config.load` keeps
only the collections' positions (`parse(scalars=False)`): a valid config needs no other,
and a value's own is had by parsing its file again when an error must point at it.

Dates are kept as the text written (`2026-06-01`): the schema checks them as `format: date`
and the model builder turns them into `datetime.date`, so a quoted and an unquoted date
behave the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from orgctl.errors import ConfigIssue, Location

if yaml.__with_libyaml__:
    from yaml import CSafeLoader as _Loader
else:  # pragma: no cover - PyYAML built without libyaml: the same events, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 32
"""Deeper nesting than any real config needs; refused so a hostile file cannot exhaust
the stack of a later recursive consumer."""

Path = tuple[Any, ...]


class Mark(Protocol):
    """A position as the parser reports it: 0-based `line` and `column`."""

    line: int
    column: int


class Position(NamedTuple):
    """A 0-based position, as the parser's marks give it."""

    line: int
    column: int


Span = tuple[Position, Position]
"""(key position, value position) of one value. A list item's key position is its value
position."""

_BITS = 26  # a file is at most 20 MiB: fewer than 2**26 lines, columns
_MASK = (1 << _BITS) - 1
_VALUE = (1 << 2 * _BITS) - 1


def _unpack(packed: int) -> Span:
    key, value = packed >> 2 * _BITS, packed & _VALUE
    return (Position(key >> _BITS, key & _MASK), Position(value >> _BITS, value & _MASK))


class Spans(Mapping[Path, Span]):
    """Where every value of a file was written: path -> (key position, value position).

    Stored per collection: `children[path of a mapping or list][key or index]` is one int,
    `(key line, key column, value line, value column)` at 26 bits each; `root` is the top
    collection's. Dicts of ints are not tracked by the garbage collector, and no tuple is
    made per value: 200,000 values kept as the parser's marks, with a path tuple each,
    took more memory than the data and a garbage collection after the load scanned them
    all. `location` reads one position without unpacking both.

    When only the collections' positions are kept (`parse(scalars=False)`), they are in
    `flat` instead, path -> int (a dict per collection would cost more than the positions
    it holds: most objects hold only scalars), and `digest` is the `hash` of the text they
    come from, so the file can be read and parsed again for the others (`SourceMap`) and
    its text need not be kept meanwhile."""

    __slots__ = ("children", "digest", "flat", "root")

    def __init__(self) -> None:
        self.children: dict[Path, dict[Any, int]] = {}
        self.flat: dict[Path, int] = {}
        self.root: int | None = None
        self.digest: int | None = None

    def _packed(self, path: Path) -> int | None:
        if not path:
            return self.root
        if self.flat:
            return self.flat.get(path)
        children = self.children.get(path[:-1])
        return None if children is None else children.get(path[-1])

    def __getitem__(self, path: Path) -> Span:
        packed = self._packed(path)
        if packed is None:
            raise KeyError(path)
        return _unpack(packed)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self._packed(path) is not None

    def __iter__(self) -> Iterator[Path]:
        if self.root is not None:
            yield ()
        for parent, children in self.children.items():
            for key in children:
                yield parent + (key,)
        yield from self.flat

    def __len__(self) -> int:
        return ((self.root is not None) + sum(map(len, self.children.values()))
                + len(self.flat))

    def location(self, path: Path, key: bool) -> tuple[int, int] | None:
        """1-based (line, column) of the key (or value) at `path`; None if not written."""
        packed = self._packed(path)
        if packed is None:
            return None
        position = packed >> 2 * _BITS if key else packed & _VALUE
        return (position >> _BITS) + 1, (position & _MASK) + 1


_YAML = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
_TIMESTAMP = _YAML + "timestamp"
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP}
_IMPLICIT = yaml.SafeLoader.yaml_implicit_resolvers
_CONSTRUCT = SafeConstructor()
_TRUE = {"yes", "true", "on"}


class _Stop(Exception):
    """The rest of the file cannot be read meaningfully; the issue is already recorded."""


@dataclass
class Document:
    """One parsed file. `fatal` means the data is incomplete (a syntax error or a refused
    construct): its issues are reported but the data must not be checked further."""

    file: str
    data: dict[str, Any] = field(default_factory=dict)
    spans: Spans = field(default_factory=Spans)
    issues: list[ConfigIssue] = field(default_factory=list)
    fatal: bool = False


def dotted(path: Path) -> str:
    """`employees.EMP-001.journeys[0].start_date`: how a path is written in messages."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse(text: str, file: str, *, scalars: bool = True,
          strings: dict[str, str] | None = None) -> Document:
    """Parse one YAML document. Never raises for bad input: problems become issues.

    With `scalars` False, `spans` keeps the positions of collections only (mappings and
    lists: every object, journey, change) and the `hash` of `text`, so the positions of
    scalars can be had later by parsing the file again, when an error needs one: a
    valid config never needs them, and they were most of the memory of a load. A file
    with any problem is parsed whole at once.

    Equal texts, keys and values, are given as one str object through `strings` (one dict
    for all the files of a config), so 100,000 people keep one "active", one "colleague",
    one of each unit key and one of each person's key however many name them as manager,
    not one of each per mention."""
    if strings is None:
        strings = {}
    doc = _Parser(file, scalars, strings).run(text)
    if not scalars:
        if doc.issues:
            return _Parser(file, True, strings).run(text)
        doc.spans.digest = hash(text)
    return doc


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


class _Parser:
    def __init__(self, file: str, scalars: bool, strings: dict[str, str]):
        self.doc = Document(file)
        self.file = file
        self.scalars = scalars
        self.strings = strings

    def issue(self, mark: Any, path: Path, message: str, fatal: bool = True) -> None:
        """Record a problem at a parser mark (None: the start of the file)."""
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        self.doc.issues.append(
            ConfigIssue(Location(self.file, line, column), dotted(path), message))
        if fatal:
            self.doc.fatal = True

    def run(self, text: str) -> Document:
        loader = _Loader(text)
        try:
            self._walk(loader)
        except _Stop:
            pass
        except yaml.MarkedYAMLError as e:
            self._syntax_error(e)
        except yaml.YAMLError as e:  # reader errors: control characters and the like
            self.issue(_offset_mark(text, getattr(e, "position", 0)), (),
                       f"invalid YAML: {getattr(e, 'reason', e)}")
        finally:
            loader.dispose()
        return self.doc

    def _syntax_error(self, e: yaml.MarkedYAMLError) -> None:
        message = f"invalid YAML: {e.problem or e.context}"
        if e.context and e.problem and e.context_mark:
            message += f" ({e.context} at line {e.context_mark.line + 1})"
        self.issue(e.problem_mark or e.context_mark, (), message)

    def _walk(self, loader: Any) -> None:
        spans = self.doc.spans
        children, flat = spans.children, spans.flat
        # The innermost open collection lives in locals (the hot path); enclosing ones are
        # pushed on `stack`. `path` None marks the value of a duplicate key: read, dropped
        # (`at` is then None too). `at` holds the positions of the collection's values (see
        # `Spans`); `key_mark` the position of the key awaiting its value.
        stack: list[tuple[Any, Path | None, bool, Any, Any, dict[Any, int] | None]] = []
        container: Any = None
        path: Path | None = ()
        at: dict[Any, int] | None = None
        is_map = False
        key: Any = None  # the key awaiting its value, in a mapping
        key_mark: Any = None  # where it is written
        root: Any = None
        documents = 0
        get_event = loader.get_event
        implicit_first = _IMPLICIT
        bits, key_shift = _BITS, 2 * _BITS
        scalars = self.scalars
        same = self.strings.setdefault  # one str object per distinct value (see `parse`)
        resolved: dict[str, Any] = {}  # plain scalar's text -> its value, once resolved
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                mark = event.start_mark
                if is_map and key is None:
                    key = event.value
                    key = same(key, key)
                    key_mark = mark
                    if event.tag is not None and event.tag not in ("!", _STR):
                        # A key is text: `!!int 5:` or `!custom k:` would be read as the
                        # text and the tag silently dropped.
                        self.issue(mark, path or (), f"unsupported tag {_tag_name(event.tag)} "
                                                     f"on the key '{key}': keys are text")
                    if key in container:
                        key = self._duplicate(path, key, mark)
                    continue
                value = event.value
                value = same(value, value)
                tag = event.tag
                if tag is not None or (event.implicit[0] and value[:1] in implicit_first):
                    if tag is None and value in resolved:  # plain, and seen before
                        value = resolved[value]
                    else:
                        if container is None:
                            child: Path | None = ()
                        elif path is None or key is _DISCARDED:
                            child = None
                        else:
                            child = path + (key,) if is_map else path + (len(container),)
                        problems = len(self.doc.issues)
                        text = value
                        value = self._scalar(event, child, mark)
                        if value.__class__ is str:  # text after all (`Officevibe`, `fr`)
                            value = same(value, value)
                        if tag is None and len(self.doc.issues) == problems:
                            resolved[text] = value  # a plain scalar is what its text says
                if container is None:
                    root = value
                elif is_map:
                    if at is not None and key is not _DISCARDED:
                        container[key] = value
                        if scalars:
                            at[key] = ((key_mark.line << bits | key_mark.column) << key_shift
                                       | mark.line << bits | mark.column)
                    key = None
                else:
                    if at is not None and scalars:
                        here = mark.line << bits | mark.column
                        at[len(container)] = here << key_shift | here
                    container.append(value)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                mark = event.start_mark
                here = mark.line << bits | mark.column
                new: Any = {} if cls is MappingStartEvent else []
                if container is None:
                    new_path: Path | None = ()
                    root = new
                    spans.root = here << key_shift | here
                elif is_map:
                    if key is None:
                        self.issue(mark, path or (),
                                   "keys must be plain text, not a mapping or a list")
                        raise _Stop
                    if at is None or key is _DISCARDED:
                        new_path = None
                    else:
                        new_path = path + (key,)  # type: ignore[operator]
                        container[key] = new
                        packed = (key_mark.line << bits | key_mark.column) << key_shift | here
                        if scalars:
                            at[key] = packed
                        else:
                            flat[new_path] = packed
                else:
                    new_path = None if at is None else path + (len(container),)  # type: ignore[operator]
                    if at is not None:
                        if scalars:
                            at[len(container)] = here << key_shift | here
                        else:
                            flat[new_path] = here << key_shift | here  # type: ignore[index]
                    container.append(new)
                if event.tag is not None:
                    self._collection_tag(event, new_path or (), mark)
                if len(stack) >= MAX_DEPTH:
                    self.issue(mark, new_path or (), f"nested deeper than {MAX_DEPTH} levels")
                    raise _Stop
                stack.append((container, path, is_map, key, key_mark, at))
                container, path, is_map, key = new, new_path, cls is MappingStartEvent, None
                at = (None if new_path is None else children.setdefault(new_path, {})
                      if scalars else flat)  # coarse: any dict, to say "kept"
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                container, path, is_map, key, key_mark, at = stack.pop()
                key = None  # the collection just closed was that key's value
            elif cls is AliasEvent:
                # Refused outright, never expanded: the first alias stops the reading of
                # the file, so an alias bomb costs nothing.
                child = () if path is None else (path + (key,) if is_map and key is not None
                                                 else path)
                self.issue(event.start_mark, child,
                           f"aliases (*{event.anchor}) are not allowed: write the value out")
                raise _Stop
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.issue(event.start_mark, (),
                               "only one YAML document per file (remove the second '---')")
                    raise _Stop
            elif cls is StreamEndEvent:
                break
        if root is None:
            return
        if not isinstance(root, dict):
            self.issue(spans.get((), (None, None))[1], (),
                       "the top level of a config file must be a mapping "
                       "(version, providers, units, teams, employees)")
            return
        self.doc.data = root

    def _duplicate(self, path: Path | None, key: str, mark: Any) -> Any:
        if path is not None:
            if not self.scalars:  # the first one's position may not be kept: parsed again
                self.issue(mark, path + (key,), f"duplicate key '{key}'", fatal=False)
                return _DISCARDED
            first = self.doc.spans[path + (key,)][0]
            self.issue(mark, path + (key,),
                       f"duplicate key '{key}' (first at line {first.line + 1})", fatal=False)
        return _DISCARDED

    def _scalar(self, event: ScalarEvent, path: Path | None, mark: Any) -> Any:
        """The value of a scalar that is not plain text: resolved like YAML 1.1 does, but
        only to str, int, float, bool and null. Timestamps stay text (see module doc)."""
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value  # quoted or block text
            resolvers = _IMPLICIT.get(value[:1])
            if not resolvers:
                return value
            tag = _STR
            for candidate, regexp in resolvers:
                if regexp.match(value):
                    tag = candidate
                    break
        elif tag not in _SCALAR_TAGS:
            self.issue(mark, path or (), f"unsupported tag {_tag_name(tag)}")
            return None
        if tag == _STR or tag == _TIMESTAMP:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() in _TRUE
        try:
            if tag == _INT:
                return _CONSTRUCT.construct_yaml_int(ScalarNode(tag, value))
            if tag == _FLOAT:
                return _CONSTRUCT.construct_yaml_float(ScalarNode(tag, value))
        except (ValueError, ConstructorError):
            self.issue(mark, path or (), f"'{value}' is not a valid {_tag_name(tag)}")
            return None
        return value  # other implicit tags (`=`) are plain text in a config

    def _collection_tag(self, event: Any, path: Path, mark: Any) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag == _YAML + "map" or tag == _YAML + "seq":
            return
        self.issue(mark, path, f"unsupported tag {_tag_name(tag)}")


_DISCARDED = object()
"""Stands for the key of a duplicate entry, whose value is read and thrown away."""


def _offset_mark(text: str, offset: int) -> yaml.Mark:
    """The mark of a character offset (reader errors give only that)."""
    before = text[: max(offset, 0)]
    line = before.count("\n")
    return yaml.Mark("", offset, line, len(before) - (before.rfind("\n") + 1), None, None)
