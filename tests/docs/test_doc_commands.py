"""Every command README.md and docs/*.md show in a ```sh or ```console block is run, with the
exit code (and, for transcripts, the output) the page promises. See doctest_runner for the
convention."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from orgctl.sandbox import Sandbox, load_fixture
from tests.docs.doctest_runner import (
    DOCS,
    NOT_RUN,
    ROOT,
    Session,
    normalise,
    output_matches,
    parse,
    without_comment,
)

# README's "Using it" block shows production commands on examples/acme: they run against a
# stand-in for production, the sandbox served at the URLs of a copy of examples/acme, with
# its credentials in the environment as a CI job has them.
STANDIN_DOCS = {"README.md"}
RUNNABLE = [p for p in DOCS if parse(p).commands]


def point_examples_at(box: Sandbox, workdir: Path) -> dict[str, str]:
    """Point the copied examples/acme at the sandbox; the credentials it wants, as env."""
    providers = workdir / "examples" / "acme" / "providers.yaml"
    text = providers.read_text(encoding="utf-8")
    endpoints = box.endpoints()
    for name, endpoint in endpoints.items():
        text = re.sub(rf"(\n  {name}:\n(?:    .*\n)*?    url: )\S+", rf"\g<1>{endpoint['url']}",
                      text)
    providers.write_text(text, encoding="utf-8")
    return {
        "WORKELO_CLIENT_ID": endpoints["workelo"]["client_id"],
        "WORKELO_CLIENT_SECRET": endpoints["workelo"]["client_secret"],
        "HRMS_TOKEN": endpoints["hrms"]["token"],
        "WORKLEAP_API_KEY": endpoints["workleap"]["api_key"],
        "WORKLETE_USERNAME": endpoints["worklete"]["username"],
        "WORKLETE_PASSWORD": endpoints["worklete"]["password"],
    }


def run_document(doc: Path, workdir: Path) -> str | None:
    """Run a page's commands in order; the first broken promise, or None."""
    session = Session(workdir)
    with contextlib.ExitStack() as stack:
        stack.callback(session.close)
        if doc.name in STANDIN_DOCS:
            box = stack.enter_context(Sandbox(load_fixture(None),
                                              options={"worklete": {"upload_delay": 0.05}}))
            session.env.update(point_examples_at(box, workdir))
        for command in parse(doc).commands:
            code, output = session.run(command)
            if code != command.exit_code:
                return (f"{command.where}: `{command.text}` exited {code}, the page says "
                        f"{command.exit_code}\n{output}")
            if (command.expected_output is not None
                    and not output_matches(command.expected_output, normalise(output))):
                return (f"{command.where}: `{command.text}` printed something else than the "
                        f"page shows:\n--- page\n" + "\n".join(command.expected_output) +
                        "\n--- real\n" + output)
    return None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Path, Future[str | None]]]:
    """Every page run at once, each in its own directory: pages wait on sandboxes and
    subprocesses, so running them side by side keeps the suite fast."""
    with ThreadPoolExecutor(max_workers=len(RUNNABLE)) as pool:
        yield {doc: pool.submit(run_document, doc, tmp_path_factory.mktemp(doc.stem))
               for doc in RUNNABLE}


@pytest.mark.parametrize("doc", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_do_what_the_page_says(
        doc: Path, outcomes: dict[Path, Future[str | None]]) -> None:
    broken = outcomes[doc].result()
    assert broken is None, broken


def test_every_command_not_run_is_still_shown_somewhere() -> None:
    shown = {without_comment(c.text) for p in DOCS for c in parse(p).skipped}
    assert shown == set(NOT_RUN), "remove commands no page shows from NOT_RUN"


def test_output_matching_understands_ellipsis_and_ports() -> None:
    real = normalise("a\nwork http://127.0.0.1:4711/v1\nb\nc\n")
    assert output_matches(["a", "...", "c"], real)
    assert output_matches(["a", "work http://127.0.0.1:9/v1", "b", "c"], real)
    assert not output_matches(["a", "c"], real)
