"""Text from a live system or a config, made inert for where it is printed.

A key, a name or a reason can carry anything a vendor's database or a config file holds:
`ESC[2K ESC[1A` that erases the line above on a terminal, a newline that forges a plan
line, bidi overrides that reorder what a reviewer reads, three backticks that close a
Markdown code block, `<img onerror=…>` that GitHub would render, an email GitHub would turn
into a link or an `@name` that would notify someone. Every renderer passes such text through
these functions; a string that needs nothing comes back unchanged (the common case costs one
regex search).
"""

from __future__ import annotations

import html as _html
import json
import re
from collections.abc import Callable
from typing import Any

import msgspec

# C0 and C1 controls, DEL, zero-width and bidi controls, line/paragraph separators, BOM,
# and surrogates: one in a str is alone (JSON may escape one: a server that cut a name
# inside an emoji's UTF-16 pair sends it), and no terminal or UTF-8 file can take it.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ud800-\udfff\ufeff]")
# Characters Markdown (GitHub's) gives a meaning to inside a line (no text printed here
# starts a line, and a newline never survives `terminal`); <, > and & are HTML-escaped.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
# What GitHub turns into a link or a notification in text outside code: an email or an
# @mention, a URL, an issue reference (#12, GH-12, owner/repo#12). In code it stays text.
_LINKING = re.compile(r"\S*@\S+|\S*://\S*|\bwww\.\S+|\S*#\d\S*|\bGH-\d+", re.IGNORECASE)


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal(text: str) -> str:
    """`text` with every control or invisible formatting character shown as \\uXXXX: it
    prints as one line, moves no cursor, and reads in the order it is stored."""
    return _UNSAFE.sub(_visible, text) if _UNSAFE.search(text) else text


LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate in a str is always alone: Python joins an escaped pair into one character."""


def json_text(value: Any, *, indent: int | None = None,
              default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=indent, default=default)`, with each
    lone surrogate written as JSON's `\\uXXXX` escape, which reads back as the same
    string: UTF-8 (a file, a pipe, a terminal) cannot hold one, and the standard library
    leaves it raw.

    Indented, the text is written compact by the standard library's C encoder and indented
    by msgspec: the same text in about a third of the CPU (`json.dumps` indents in pure
    Python: most of the render of a 100,000-person plan's JSON). What msgspec does not
    read (NaN, Infinity: `json.dumps` writes them, JSON has neither) is indented by
    `json.dumps` itself."""
    if indent is None:
        return escape_surrogates(json.dumps(value, ensure_ascii=False, default=default))
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)
    try:
        return msgspec.json.format(escape_surrogates(compact).encode(), indent=indent).decode()
    except msgspec.DecodeError:
        return escape_surrogates(json.dumps(value, ensure_ascii=False, indent=indent,
                                            default=default))


def escape_surrogates(text: str) -> str:
    """JSON text with each lone surrogate written as its `\\uXXXX` escape (`json_text`)."""
    return LONE_SURROGATE.sub(_visible, text) if LONE_SURROGATE.search(text) else text


def markdown(text: str) -> str:
    """`text` for Markdown outside code: inert for a terminal, HTML escaped, and every
    character Markdown gives a meaning to escaped, so it renders as the text it is."""
    return _MARKDOWN.sub(r"\\\1", _escape(terminal(text)))


def code(text: str) -> str:
    """`text` as a Markdown code span no backtick inside can end (nor HTML render in)."""
    shown = terminal(text)
    ticks = "`" * (max((len(r) for r in re.findall("`+", shown)), default=0) + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{ticks}{pad}{shown}{pad}{ticks}"


def fence(lines: list[str]) -> str:
    """A code fence longer than any run of backticks in `lines`: no line can close it."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def prose(text: str) -> str:
    """`text` for Markdown outside code, as `markdown` makes it, with every email, @name,
    URL or issue reference in a code span: GitHub neither links nor notifies it there."""
    shown = terminal(text)
    if not _LINKING.search(shown):
        return markdown(shown)
    out: list[str] = []
    start = 0
    for match in _LINKING.finditer(shown):
        out += [markdown(shown[start:match.start()]), code(match.group())]
        start = match.end()
    out.append(markdown(shown[start:]))
    return "".join(out)


def html(text: str) -> str:
    """`text` inside raw HTML (a `<summary>`: Markdown is not read there), escaped, with
    every email, @name, URL or issue reference in `<code>` for the reason `prose` gives."""
    shown = terminal(text)
    out: list[str] = []
    start = 0
    for match in _LINKING.finditer(shown):
        out += [_escape(shown[start:match.start()]),
                f"<code>{_escape(match.group())}</code>"]
        start = match.end()
    out.append(_escape(shown[start:]))
    return "".join(out)


def _escape(text: str) -> str:
    return _html.escape(text, quote=False)
