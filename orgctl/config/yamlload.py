"""Strict, line-aware YAML: one file's text -> plain data and where every value was written.

Built on the parser's event stream (libyaml's when available) rather than on PyYAML's
constructors: only safe scalars, no aliases, no custom tags, duplicate keys reported, and
a span (key and value position) kept for every value so later errors can point at it.
One method per collection reads its events (`_Parser`), recursing no deeper than
`MAX_DEPTH`; 10,000 employees parse in a quarter of a second, against four with
`yaml.load` (its Python resolver is the slow part). libyaml's C parser
(`yaml.CSafeLoader`) gives the events when PyYAML was built with it; otherwise its
pure-Python parser does, with the same events and marks, only slower. A file written in
the common shape (block mappings and lists, one scalar per line: what people and
`orgctl import` write) is read without the events, in 70% of the time, when only its
collections' positions are wanted (`_read_block`); any other goes through libyaml.

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

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn, Protocol

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
the stack of the reader or of a later recursive consumer."""

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
_KEY = 2 * _BITS  # the key's position is shifted past the value's
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


class Texts:
    """What the files of one config share while they are parsed: one str object per
    distinct text (`strings`), and each plain scalar's value by its text (`plain`), so
    `yes`, `0x1F` or a manager's key is resolved once however often it is written."""

    __slots__ = ("plain", "strings")

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.plain = _PlainValues(self.strings)


class _PlainValues(dict[str, Any]):
    """Plain scalars' values by their text. `plain[text]` resolves a text not seen yet,
    and raises `_NotBlock` if it is not a valid scalar (`0b_`): only the block reading
    asks that way; the event reading resolves with `_scalar`, which reports the problem."""

    def __init__(self, strings: dict[str, str]):
        super().__init__()
        self.strings = strings

    def __missing__(self, text: str) -> Any:
        if text[:1] not in _IMPLICIT:  # text whatever follows: most names, keys, emails
            value = self.strings.setdefault(text, text)
            self[value] = value
            return value
        try:
            value = _construct(_implicit_tag(text), text)
        except (ValueError, ConstructorError) as e:
            raise _NotBlock from e
        if value.__class__ is str:
            value = self.strings.setdefault(value, value)
        self[value if value.__class__ is str else text] = value
        return value


def parse(text: str, file: str, *, scalars: bool = True, texts: Texts | None = None
          ) -> Document:
    """Parse one YAML document. Never raises for bad input: problems become issues.

    With `scalars` False, `spans` keeps the positions of collections only (mappings and
    lists: every object, journey, change) and the `hash` of `text`, so the positions of
    scalars can be had later by parsing the file again, when an error needs one: a
    valid config never needs them, and they were most of the memory of a load. A file
    with any problem is parsed whole at once.

    Equal texts, keys and values, are given as one str object through `texts` (one for
    all the files of a config), so 100,000 people keep one "active", one "colleague",
    one of each unit key and one of each person's key however many name them as manager,
    not one of each per mention."""
    if texts is None:
        texts = Texts()
    if scalars:
        return _Parser(file, True, texts).run(text)
    block = _read_block(text, texts)
    if block is not None:
        doc = Document(file, *block)
    else:
        doc = _Parser(file, False, texts).run(text)
        if doc.issues:
            return _Parser(file, True, texts).run(text)
    doc.spans.digest = hash(text)
    return doc


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


_UNSEEN = object()
"""Stands for a plain scalar's text not resolved yet (its value may be None)."""


def _implicit_tag(text: str) -> str:
    """The tag YAML 1.1 gives a plain scalar written `text`."""
    for tag, regexp in _IMPLICIT.get(text[:1], ()):
        if regexp.match(text):
            return tag
    return _STR


def _construct(tag: str, text: str) -> Any:
    """The value of a scalar of a known tag: only str, int, float, bool and null;
    timestamps stay text (see module doc), and so do other implicit tags (`=`). Raises
    ValueError or ConstructorError when `text` is not one (`!!int x`, `0b_`)."""
    if tag == _STR or tag == _TIMESTAMP:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() in _TRUE
    if tag == _INT:
        return _CONSTRUCT.construct_yaml_int(ScalarNode(tag, text))
    if tag == _FLOAT:
        return _CONSTRUCT.construct_yaml_float(ScalarNode(tag, text))
    return text


class _Parser:
    """Reads one file's events into data, one method per collection: recursion no deeper
    than `MAX_DEPTH`. A `path` of None marks a value that is read only to be dropped (a
    duplicate key's): no position of it is kept, and its problems name no path.

    The positions of a collection's values go to `at` (`children[path]`, see `Spans`) when
    every scalar's is kept, else those of its collections only to `flat`; `at` is None
    otherwise. The work per value is inlined in `_mapping` and `_sequence`: a file of 5,000
    people is half a million events."""

    def __init__(self, file: str, scalars: bool, texts: Texts):
        self.doc = Document(file)
        self.file = file
        self.scalars = scalars
        self.texts = texts
        self.get_event: Any = None

    def issue(self, mark: Any, path: Path, message: str, fatal: bool = True) -> None:
        """Record a problem at a parser mark (None: the start of the file)."""
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        self.doc.issues.append(
            ConfigIssue(Location(self.file, line, column), dotted(path), message))
        if fatal:
            self.doc.fatal = True

    def run(self, text: str) -> Document:
        loader = _Loader(text)
        self.get_event = loader.get_event
        try:
            self._stream()
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

    def _stream(self) -> None:
        get_event = self.get_event
        spans = self.doc.spans
        root: Any = None
        documents = 0
        while True:
            event = get_event()
            cls = event.__class__
            if cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.issue(event.start_mark, (),
                               "only one YAML document per file (remove the second '---')")
                    raise _Stop
                event = get_event()
                if event.__class__ is MappingStartEvent or event.__class__ is SequenceStartEvent:
                    here = event.start_mark.line << _BITS | event.start_mark.column
                    spans.root = here << _KEY | here
                root = self._value(event, (), 0)
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

    def _value(self, event: Any, path: Path | None, depth: int) -> Any:
        """The value `event` starts, at `path`, inside `depth` collections."""
        cls = event.__class__
        if cls is ScalarEvent:
            return self._scalar(event, path)
        if cls is AliasEvent:
            self._alias(event, path or ())
        return self._collection(event, path, depth)

    def _collection(self, event: Any, path: Path | None, depth: int) -> Any:
        """The mapping or list `event` starts, read to its end (its own position is kept
        by the caller, who knows its key's)."""
        mark = event.start_mark
        if event.tag is not None:
            self._collection_tag(event, path or (), mark)
        if depth >= MAX_DEPTH:
            self.issue(mark, path or (), f"nested deeper than {MAX_DEPTH} levels")
            raise _Stop
        at = None
        if self.scalars and path is not None:
            at = self.doc.spans.children[path] = {}
        if event.__class__ is MappingStartEvent:
            return self._mapping(path, at, depth + 1)
        return self._sequence(path, at, depth + 1)

    def _mapping(self, path: Path | None, at: dict[Any, int] | None, depth: int
                 ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        get_event = self.get_event
        same = self.texts.strings.setdefault  # one str object per distinct text
        plain = self.texts.plain.get
        flat = None if path is None or self.scalars else self.doc.spans.flat
        while True:
            event = get_event()
            if event.__class__ is not ScalarEvent:
                if event.__class__ is MappingEndEvent:
                    return data
                self._not_a_key(event, path or ())
            key = event.value
            key = same(key, key)
            key_mark = event.start_mark
            if event.tag is not None and event.tag not in ("!", _STR):
                # A key is text: `!!int 5:` or `!custom k:` would be read as the text
                # and the tag silently dropped.
                self.issue(key_mark, path or (), f"unsupported tag {_tag_name(event.tag)} "
                                                 f"on the key '{key}': keys are text")
            if key in data:
                self._duplicate(path, key, key_mark)
                self._value(get_event(), None, depth)  # read, dropped
                continue
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                value = plain(event.value, _UNSEEN) if event.implicit[0] else _UNSEEN
                if value is _UNSEEN:
                    value = self._scalar(event, None if path is None else path + (key,))
                data[key] = value
                if at is not None:
                    mark = event.start_mark
                    at[key] = ((key_mark.line << _BITS | key_mark.column) << _KEY
                               | mark.line << _BITS | mark.column)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                child = None if path is None else path + (key,)
                mark = event.start_mark
                packed = ((key_mark.line << _BITS | key_mark.column) << _KEY
                          | mark.line << _BITS | mark.column)
                if at is not None:
                    at[key] = packed
                elif flat is not None:
                    flat[child] = packed  # type: ignore[index]
                data[key] = self._collection(event, child, depth)
            else:
                self._alias(event, () if path is None else path + (key,))

    def _sequence(self, path: Path | None, at: dict[Any, int] | None, depth: int
                  ) -> list[Any]:
        items: list[Any] = []
        get_event = self.get_event
        plain = self.texts.plain.get
        flat = None if path is None or self.scalars else self.doc.spans.flat
        while True:
            event = get_event()
            cls = event.__class__
            if cls is ScalarEvent:
                value = plain(event.value, _UNSEEN) if event.implicit[0] else _UNSEEN
                if value is _UNSEEN:
                    value = self._scalar(event, None if path is None else path + (len(items),))
                if at is not None:
                    here = event.start_mark.line << _BITS | event.start_mark.column
                    at[len(items)] = here << _KEY | here
                items.append(value)
            elif cls is SequenceEndEvent:
                return items
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                child = None if path is None else path + (len(items),)
                here = event.start_mark.line << _BITS | event.start_mark.column
                if at is not None:
                    at[len(items)] = here << _KEY | here
                elif flat is not None:
                    flat[child] = here << _KEY | here  # type: ignore[index]
                items.append(self._collection(event, child, depth))
            else:
                self._alias(event, path or ())

    def _not_a_key(self, event: Any, path: Path) -> NoReturn:
        if event.__class__ is AliasEvent:
            self._alias(event, path)
        self.issue(event.start_mark, path, "keys must be plain text, not a mapping or a list")
        raise _Stop

    def _alias(self, event: Any, path: Path) -> NoReturn:
        # Refused outright, never expanded: the first alias stops the reading of the
        # file, so an alias bomb costs nothing.
        self.issue(event.start_mark, path,
                   f"aliases (*{event.anchor}) are not allowed: write the value out")
        raise _Stop

    def _duplicate(self, path: Path | None, key: str, mark: Any) -> None:
        if path is None:
            return
        if not self.scalars:  # the first one's position may not be kept: parsed again
            self.issue(mark, path + (key,), f"duplicate key '{key}'", fatal=False)
            return
        first = self.doc.spans[path + (key,)][0]
        self.issue(mark, path + (key,),
                   f"duplicate key '{key}' (first at line {first.line + 1})", fatal=False)

    def _scalar(self, event: ScalarEvent, path: Path | None) -> Any:
        """A scalar's value, as `_resolved` gives it. A plain scalar's is remembered by
        its text (`Texts.plain`), unless resolving it was a problem."""
        problems = len(self.doc.issues)
        value = self._resolved(event, path or (), event.start_mark)
        if value.__class__ is str:  # text after all (`Officevibe`, `fr`)
            value = self.texts.strings.setdefault(value, value)
        if event.implicit[0] and len(self.doc.issues) == problems:
            self.texts.plain[value if value.__class__ is str else event.value] = value
        return value

    def _resolved(self, event: ScalarEvent, path: Path, mark: Any) -> Any:
        """The value of a scalar, as `_construct` makes it (None after a problem)."""
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value  # quoted or block text
            tag = _implicit_tag(value)
        elif tag not in _SCALAR_TAGS:
            self.issue(mark, path, f"unsupported tag {_tag_name(tag)}")
            return None
        try:
            return _construct(tag, value)
        except (ValueError, ConstructorError):
            self.issue(mark, path, f"'{value}' is not a valid {_tag_name(tag)}")
            return None

    def _collection_tag(self, event: Any, path: Path, mark: Any) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag == _YAML + "map" or tag == _YAML + "seq":
            return
        self.issue(mark, path, f"unsupported tag {_tag_name(tag)}")


# -- the common shape, read directly -----------------------------------------------------
#
# libyaml parses a file of 5,000 people in a few milliseconds; what costs is PyYAML's
# handing over each of its half million events as a Python object (three of them per
# scalar, one built by a Python `__init__`): more than a second for 100,000 people. The
# files people and `orgctl import` write have one shape, though: block mappings and lists,
# one plain or simply quoted scalar per line. `_read_block` reads that shape with regular
# expressions, a run of `key: value` or `- item` lines at a time, and gives up (None) at
# the first line written any other way (flow collections, block scalars, anchors, tags,
# a scalar continued on the next line, tabs, CRLF) or at any problem (a duplicate key, a
# bad number): the file is then read through libyaml, which also words the problem. What
# it accepts, libyaml reads to the same data and positions (tests/config/test_yaml_block.py
# compares the two).

_WORD = r"\w[\w.@/+-]{0,200}"
"""A key written as a plain word (libyaml refuses an implicit key of over 1,024
characters)."""
_UNUSUAL = "\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff"
"""Characters libyaml refuses (control characters), reads as a line break (NEL, U+2028,
U+2029) or as indentation (tab), and CR: no scalar or comment read here holds one."""
_PLAIN_SCALAR = (
    # Not starting with an indicator (`- ` starts a list item; `-1` is a number), not
    # holding `: ` or ` #`, no trailing space, on one line.
    rf"(?:[^\s\-?:,\[\]{{}}#&*!|>'\"%@`{_UNUSUAL}]|-(?=\S))[^\s:{_UNUSUAL}]*+"
    rf"(?:(?::(?=\S)|[ ]++(?=[^\s#]))[^\s:{_UNUSUAL}]*+)*+")
_QUOTED_SCALAR = (  # with no escape but '' in '...'
    rf"'(?:[^'\n{_UNUSUAL}]|'')*+'|\"[^\"\\\n{_UNUSUAL}]*+\"")
_END = rf"(?:[ ]+(?:\#[^\n{_UNUSUAL}]*)?)?\n"  # trailing spaces, a comment

_RUN = 8
"""Lines of a run that one match of `_BLOCK_LINES` reads, each in groups of its own, so
that a run is not scanned a second time for its values (a longer run takes more matches;
the 7 fields most people have take one)."""


def _run(first: str, indent: str, line: str) -> str:
    """A regex for `first`, then up to `_RUN - 1` more `line`s at the indentation `first`
    captured in group `indent`; nested, so that each line is tried once."""
    more = ""
    for _ in range(_RUN - 1):
        more = f"(?:(?P={indent}){line}{more})?"
    return first + more


_BLOCK_LINES = re.compile(rf"""
    (?: {_run(rf"(?P<pairs_indent>[ ]*)({_WORD}):[ ]+({_PLAIN_SCALAR}){_END}",
              "pairs_indent", rf"({_WORD}):[ ]+({_PLAIN_SCALAR}){_END}")}
      | {_run(rf"(?P<items_indent>[ ]*)-[ ]+({_PLAIN_SCALAR}){_END}",
              "items_indent", rf"-[ ]+({_PLAIN_SCALAR}){_END}")} )
    (?:(?P<opener_indent>[ ]*)(?P<opener>{_WORD}):{_END})?
  | (?P<indent>[ ]*)
    (?:
        (?P<dash>-[ ]+)?
        (?: (?P<key>{_WORD}):(?=[ \n])
            (?:[ ]+(?:(?P<plain>{_PLAIN_SCALAR})|(?P<quoted>{_QUOTED_SCALAR})))?
          | (?P<quoted_item>{_QUOTED_SCALAR}) )
        {_END}
      | (?:\#[^\n{_UNUSUAL}]*)?\n
    )
  | (?P<other>[^\n]*\n)
""", re.VERBOSE)
"""What `_read_block` reads a match at a time: a run of `key: plain scalar` lines, or of
`- plain scalar` lines, at one indentation (up to `_RUN` of them), and the `key:` line that
often follows it (`opener`: the key of a mapping or list below, as `providers:` or
`unit_scopes:`, or the next person's key); or one line: `key:` (its value below),
`key: 'quoted'`, `- 'quoted'`, `- key...` (a mapping as a list item), blank, a comment;
or `other`, any other line."""
_PAIRS_INDENT = _BLOCK_LINES.groupindex["pairs_indent"] - 1
_PAIRS = slice(_PAIRS_INDENT + 1, _PAIRS_INDENT + 1 + 2 * _RUN)
_ITEMS_INDENT = _BLOCK_LINES.groupindex["items_indent"] - 1
_ITEMS = slice(_ITEMS_INDENT + 1, _ITEMS_INDENT + 1 + _RUN)
_LINE = slice(_BLOCK_LINES.groupindex["opener_indent"] - 1, None)
"""Where `match.groups()` holds a run's indentation and its keys and values (in turn, None
past the run's last line), and the groups of `opener` and of a line on its own."""


def _read_block(text: str, texts: Texts) -> tuple[dict[str, Any], Spans] | None:
    """The data of a file written in the common shape (see above) and its collections'
    positions, as `parse(scalars=False)` keeps them; None if it is written otherwise."""
    if not text.endswith("\n"):
        text += "\n"  # the end of the file ends its last line alike
    try:
        return _BlockReader(texts).read(text)
    except _NotBlock:
        return None


class _NotBlock(Exception):
    """The file is not written in the common shape, or has a problem: libyaml reads it."""


class _BlockReader:
    """Reads the common shape a match of `_BLOCK_LINES` at a time. The innermost open
    collection is `container`, the enclosing ones are on `stack`; `indent` is the column
    of its keys, or of its items' dashes. `pending` is the key of its last entry when
    written `key:` alone, its value being on the next lines (or null)."""

    def __init__(self, texts: Texts):
        self.same = texts.strings.setdefault
        self.plain = texts.plain.__getitem__
        self.spans = Spans()
        self.container: Any = None
        self.indent = 0
        self.path: Path = ()
        self.is_map = True
        self.stack: list[tuple[Any, int, Path, bool]] = []
        self.pending: tuple[str, int, int] | None = None
        self.line = 0  # where the match starts

    def read(self, text: str) -> tuple[dict[str, Any], Spans]:
        root: dict[str, Any] | None = None
        for match in _BLOCK_LINES.finditer(text):
            groups = match.groups()
            pairs_indent, items_indent = groups[_PAIRS_INDENT], groups[_ITEMS_INDENT]
            (opener_indent, opener, spaces, dash, key, plain, quoted, quoted_item,
             other) = groups[_LINE]
            if other is not None:
                raise _NotBlock
            if (pairs_indent is None and items_indent is None and key is None
                    and quoted_item is None):
                self.line += 1  # blank, or a comment
                continue
            column = len(pairs_indent if pairs_indent is not None else
                         items_indent if items_indent is not None else spaces)
            if root is None:  # at column 0, or `_place` refuses the line
                self.container = root = {}
                self.spans.root = (self.line << _BITS) << _KEY | self.line << _BITS
            if items_indent is not None:
                self._place(column, "-")
                self._items(groups[_ITEMS])
            elif pairs_indent is not None:
                self._place(column, None)
                self._pairs(groups[_PAIRS])
            elif key is None and dash is None:
                raise _NotBlock  # a quoted scalar alone on its line
            else:
                self._place(column, dash)
                self._line(column, dash, key, plain, quoted, quoted_item)
            if opener is not None:
                self._opener(len(opener_indent), opener)
        if root is None:
            raise _NotBlock
        if self.pending is not None:
            self.container[self.pending[0]] = None
        return root, self.spans

    def _place(self, column: int, dash: str | None) -> None:
        """Make `container` the collection a line at `column` belongs to (a list item's
        if `dash`, else a key's): the value of a pending key, an enclosing one, or the one
        it is in."""
        if self.pending is not None:
            key, line, key_column = self.pending
            self.pending = None
            if column > self.indent or (column == self.indent and dash):
                self._open(key, [] if dash else {}, (line, key_column), column)
            else:
                self.container[key] = None  # `key:` and nothing: null
        while column < self.indent:
            self.container, self.indent, self.path, self.is_map = self.stack.pop()
        if column > self.indent:
            raise _NotBlock  # a scalar continued, or an indentation YAML refuses
        if dash:
            if self.is_map:
                raise _NotBlock
        elif not self.is_map:  # a list written at its key's column ends at the next key
            if not self.stack or self.stack[-1][1] != column or not self.stack[-1][3]:
                raise _NotBlock
            self.container, self.indent, self.path, self.is_map = self.stack.pop()

    def _opener(self, column: int, key: str) -> None:
        """A `key:` line after a run (so with no key pending), as `_place` and `_line`
        would read it."""
        while column < self.indent:
            self.container, self.indent, self.path, self.is_map = self.stack.pop()
        if column > self.indent:
            raise _NotBlock
        if not self.is_map:
            self._place(column, None)  # the end of a list at its key's column
        key = self.same(key, key)
        if key in self.container:
            raise _NotBlock
        self.pending = (key, self.line, column)
        self.line += 1

    def _open(self, key: Any, new: Any, at: tuple[int, int], column: int) -> None:
        """Put `new`, a collection whose first line is `self.line` at `column`, at `key`
        of `container` (written at `at`), and make it the container."""
        if len(self.stack) + 1 >= MAX_DEPTH:
            raise _NotBlock
        if self.is_map:
            self.container[key] = new
        else:
            self.container.append(new)
        child = self.path + (key,)
        self.spans.flat[child] = ((at[0] << _BITS | at[1]) << _KEY
                                  | self.line << _BITS | column)
        self.stack.append((self.container, self.indent, self.path, self.is_map))
        self.container, self.indent, self.path, self.is_map = (
            new, column, child, isinstance(new, dict))

    def _pairs(self, found: tuple[str | None, ...]) -> None:
        """`key: plain scalar` lines into `container`: `found` holds their keys and values
        in turn, then None for the lines of `_RUN` that the run does not have."""
        container, same, plain = self.container, self.same, self.plain
        size = len(container)
        lines = _RUN - found.count(None) // 2
        for key, text in zip(found[0:2 * lines:2], found[1:2 * lines:2], strict=True):
            container[same(key, key)] = plain(text)
        if len(container) != size + lines:
            raise _NotBlock  # a duplicate key: libyaml's reading reports it
        self.line += lines

    def _items(self, found: tuple[str | None, ...]) -> None:
        """`- plain scalar` lines onto `container`: `found` holds their values, then None
        for the lines of `_RUN` that the run does not have."""
        plain, append = self.plain, self.container.append
        lines = _RUN - found.count(None)
        for text in found[:lines]:
            append(plain(text))
        self.line += lines

    def _line(self, column: int, dash: str | None, key: str | None, plain: str | None,
              quoted: str | None, quoted_item: str | None) -> None:
        """One line of another form: `- 'quoted'`, `key: ...`, `- key: ...`."""
        if key is None:
            self.container.append(self._quoted(quoted_item))  # type: ignore[arg-type]
            self.line += 1
            return
        if dash:  # a mapping as the item, this key its first
            column += len(dash)
            self._open(len(self.container), {}, (self.line, column), column)
        key = self.same(key, key)
        if key in self.container:
            raise _NotBlock
        if plain is not None:
            self.container[key] = self.plain(plain)
        elif quoted is not None:
            self.container[key] = self._quoted(quoted)
        else:
            self.pending = (key, self.line, column)
        self.line += 1

    def _quoted(self, text: str) -> str:
        """The text of `'...'` (where `''` is a quote) or of `"..."` (with no escape)."""
        unquoted = text[1:-1]
        if text[0] == "'":
            unquoted = unquoted.replace("''", "'")
        return self.same(unquoted, unquoted)


def _offset_mark(text: str, offset: int) -> yaml.Mark:
    """The mark of a character offset (reader errors give only that)."""
    before = text[: max(offset, 0)]
    line = before.count("\n")
    return yaml.Mark("", offset, line, len(before) - (before.rfind("\n") + 1), None, None)
