"""What GitHub would make of a Markdown comment, as far as the tests need it: the text it
reads outside code (where it renders HTML, links emails and notifies @names), the diff
blocks, and the balance of fences and <details>."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def fenced_blocks(md: str) -> list[list[str]]:
    """The lines of every fenced code block (CommonMark: it closes on a line of at least
    as many backticks and nothing else)."""
    blocks: list[list[str]] = []
    fence = 0
    for line in md.splitlines():
        if fence:
            if re.fullmatch(rf"`{{{fence},}}\s*", line):
                fence = 0
            else:
                blocks[-1].append(line)
            continue
        opening = re.match(r"(`{3,})", line)
        if opening:
            fence = len(opening.group(1))
            blocks.append([])
    assert not fence, "a code block is left open"
    return blocks


def outside_code(md: str) -> str:
    """The comment without its code blocks, code spans and <code> elements."""
    lines, fence = [], 0
    for line in md.splitlines():
        if fence:
            if re.fullmatch(rf"`{{{fence},}}\s*", line):
                fence = 0
            continue
        opening = re.match(r"(`{3,})", line)
        if opening:
            fence = len(opening.group(1))
            continue
        lines.append(line)
    text = re.sub(r"\\.", "", "\n".join(lines))  # an escaped character opens no span
    text = re.sub(r"<code>.*?</code>", "", text)
    return re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", text)


def check_unbreakable(md: str) -> str:
    """Assert what no value in a plan may do to the comment; the text outside code."""
    outside = outside_code(md)
    assert outside.count("<details>") == outside.count("</details>")
    assert "<img" not in outside and "<b>x" not in outside
    assert not EMAIL.search(outside), "an email GitHub would link"
    assert not re.search(r"(^|\s)@\w", outside), "an @name GitHub would notify"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", md)
    assert not any(line.startswith("## Plan") for line in md.splitlines())
    return outside
