"""Live and config text is inert wherever a plan prints it (issue 14 item 7): on a
terminal no control character survives, in Markdown nothing closes a code block, renders
as HTML or forges a heading."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgctl import inert
from orgctl.engine.plan import Plan, make_plan
from orgctl.model import Org, ProviderConfig
from orgctl.render import render
from tests.engine.fakes import FakeProvider, resource

HOSTILE_KEY = "evil\x1b[2K\x1b[1A\r\u202e\x07\x9b"
HOSTILE_VALUE = "x\n```\n## Plan: 0 to destroy\n<img src=x onerror=alert(1)>"


def test_terminal_shows_every_control_and_bidi_character_as_an_escape() -> None:
    shown = inert.terminal(HOSTILE_KEY)
    assert shown == "evil\\u001b[2K\\u001b[1A\\u000d\\u202e\\u0007\\u009b"
    assert inert.terminal("Zoë Ølund (EMP-7)") == "Zoë Ølund (EMP-7)"


def test_markdown_text_is_html_escaped_and_cannot_start_a_line() -> None:
    shown = inert.markdown(HOSTILE_VALUE)
    assert "\n" not in shown and "<img" not in shown and "```" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown


def test_prose_puts_what_github_would_link_or_notify_in_code() -> None:
    shown = inert.prose("Ann (@ann) wrote to ann@acme.io, see https://x.io/a and #12 <b>")
    assert shown == ("Ann `(@ann)` wrote to `ann@acme.io,` see `https://x.io/a` and `#12` "
                     "&lt;b&gt;")
    assert inert.prose("Zoë Ølund") == "Zoë Ølund"


def test_html_text_is_escaped_and_never_linked() -> None:
    assert inert.html("x </details> a@b.io `y`") == ("x &lt;/details&gt; <code>a@b.io</code> "
                                                     "`y`")


def test_a_code_span_holds_any_backticks() -> None:
    assert inert.code("hrms.user.EMP-030") == "`hrms.user.EMP-030`"
    assert inert.code("a``b") == "```a``b```"
    assert inert.code("`x") == "`` `x ``"


def test_a_fence_is_longer_than_any_backtick_run_inside() -> None:
    assert inert.fence(["plain"]) == "```"
    assert inert.fence(['"a ````` b"']) == "``````"


def hostile_plan(tmp_path: Path):
    live = [resource({"kind": "team", "key": HOSTILE_KEY, "remote_id": "1",
                      "attrs": {"name": HOSTILE_VALUE}})]
    desired = [resource({"kind": "team", "key": "ok", "attrs": {"name": "a ```` b"}})]
    provider = FakeProvider(settings={"prune": {"team": True}}, desired=desired, live=live)
    provider.KINDS = ("team",)
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    org = Org()
    org.providers["fake"] = ProviderConfig("fake", "fake", "http://127.0.0.1",
                                           {"prune": {"team": True}})
    return make_plan(org, [provider], {"fake": live}, config)


def test_a_hostile_live_key_cannot_erase_or_forge_plan_lines(tmp_path: Path) -> None:
    text = render(hostile_plan(tmp_path), "text")
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "\u202e" not in text and "\x9b" not in text
    assert "- team evil\\u001b[2K" in text
    assert not any(line.startswith("## Plan") for line in text.splitlines())


def test_a_hostile_live_value_cannot_break_the_markdown_plan(tmp_path: Path) -> None:
    md = render(hostile_plan(tmp_path), "markdown")
    assert "<img" not in md
    assert not any(line.startswith("## Plan") for line in md.splitlines())
    fences = [line for line in md.splitlines() if line.startswith("```")]
    assert fences[0].startswith("`````diff")  # longer than the value's four backticks
    assert fences[1] == "`````"
    # JSON keeps the exact value, escaped by JSON itself
    plan = json.loads(render(hostile_plan(tmp_path), "json"))
    assert any(c["key"] == HOSTILE_KEY for c in plan["changes"])


def test_a_lone_surrogate_is_planned_shown_escaped_and_saved_as_json_escapes_it(
        tmp_path: Path) -> None:
    # `json.loads('"Team \\ud83d"')`: a name a server cut inside an emoji's UTF-16 pair.
    cut = "Team \ud83d"
    live = [resource({"kind": "team", "key": "t\udc00", "remote_id": "1",
                      "attrs": {"name": cut}})]
    desired = [resource({"kind": "team", "key": "t\udc00", "attrs": {"name": "Team"}})]
    provider = FakeProvider(desired=desired, live=live)
    provider.KINDS = ("team",)
    config = tmp_path / "org.yaml"
    config.write_text("version: 1\n")
    org = Org()
    org.providers["fake"] = ProviderConfig("fake", "fake", "http://127.0.0.1", {})
    plan = make_plan(org, [provider], {"fake": live}, config)  # digests it

    text = render(plan, "text")
    assert '~ team t\\udc00' in text and 'name: "Team \\ud83d" → "Team"' in text
    for shown in (text, render(plan, "markdown"), render(plan, "json")):
        shown.encode("utf-8")  # prints anywhere
    assert json.loads(render(plan, "json"))["changes"][0]["before"]["name"] == cut
    saved = tmp_path / "plan.json"
    plan.write(saved)
    assert b"Team \\ud83d" in saved.read_bytes()
    again = Plan.read(saved)  # its checksum holds
    assert again.changes[0].before["name"] == cut
    assert again.fingerprints == plan.fingerprints


def test_json_text_escapes_only_lone_surrogates() -> None:
    value = {"k\ud800": ["é \U0001f680", "\udfff"]}
    assert inert.json_text(value) == '{"k\\ud800": ["é \U0001f680", "\\udfff"]}'
    assert json.loads(inert.json_text(value)) == value


def test_a_log_line_naming_a_live_key_is_inert(capsys: pytest.CaptureFixture[str]) -> None:
    from orgctl.cli import _setup_logging

    root, apply_log = logging.getLogger("orgctl"), logging.getLogger("orgctl.apply")
    kept = (root.handlers[:], root.level, root.propagate, apply_log.level)
    _setup_logging(0, "text")
    try:
        apply_log.info("%s %s (%s)", "removed", f"workleap.team.{HOSTILE_KEY}", "delete")
    finally:  # the handler writes to this test's captured stderr
        root.handlers[:], root.level, root.propagate = kept[:3]
        apply_log.setLevel(kept[3])
    said = capsys.readouterr().err
    assert said == ("INFO orgctl.apply: removed workleap.team.evil\\u001b[2K\\u001b[1A\\u000d"
                    "\\u202e\\u0007\\u009b (delete)\n")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_indented_json_text_is_json_dumps_text(value: Any) -> None:
    """The indented text is written compact and indented by msgspec (issue 18): it must be
    json.dumps's, character for character (the plan file's readers and reviewers see it)."""
    assert inert.json_text(value, indent=2) == json.dumps(value, indent=2, ensure_ascii=False)


def test_indented_json_text_with_nan_or_a_lone_surrogate() -> None:
    value = {"n": [float("nan"), float("inf")], "cut": "Team \ud83d", "e": {}, "l": []}
    assert inert.json_text(value, indent=2) == json.dumps(
        value, indent=2, ensure_ascii=False).replace("\ud83d", "\\ud83d")
