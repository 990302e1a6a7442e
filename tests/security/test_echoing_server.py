"""Systems that echo the credential they were sent: in a long error body (the message orgctl
prints quotes a shortened body, and no part of the secret may survive the shortening), or in
a field orgctl cannot read (the internal error's traceback, logged with -v, quotes it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.conftest import SECRETS, Handler, Runner, base_env, hrms_at, loopback

TOKEN = SECRETS["HRMS_TOKEN"]
CLIENT_SECRET = SECRETS["WORKELO_CLIENT_SECRET"]


class Echo(Handler):
    """Refuses every request with a verbose body quoting the Authorization header, placed
    where a 200-character cut falls inside it."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        sent = self.headers.get("Authorization", "")
        self.send(401, json.dumps({"error": "unauthenticated", "detail": "x" * 150 + sent,
                                   "hint": "y" * 300}).encode())

    def do_POST(self) -> None:  # noqa: N802
        """Workelo's token endpoint, answering the client secret where a number belongs."""
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send(200, json.dumps({"access_token": "t0k", "expires_in": CLIENT_SECRET}).encode())


@pytest.fixture
def echo_url() -> Iterator[str]:
    with loopback(Echo) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"


def test_a_shortened_error_body_shows_no_part_of_the_secret(echo_url: str,
                                                            tmp_path: Path) -> None:
    config = hrms_at(tmp_path, echo_url)
    orgctl = Runner(tmp_path, base_env(HRMS_TOKEN=TOKEN))
    failed = orgctl("-v", "plan", config, code=1)
    assert "answered 401" in failed.stderr
    shown = failed.stdout + failed.stderr
    pieces = {TOKEN[i:i + 8] for i in range(len(TOKEN) - 7)}
    assert not [p for p in pieces if p in shown], shown


def test_an_unexpected_answer_quoting_the_secret_is_redacted(
        echo_url: str, tmp_path: Path) -> None:
    config = tmp_path / "org.yaml"
    config.write_text(f"version: 1\nproviders:\n  workelo:\n    url: {echo_url}\n"
                      "    client_id: leaktest\n    client_secret: ${WORKELO_CLIENT_SECRET}\n")
    orgctl = Runner(tmp_path, base_env(WORKELO_CLIENT_SECRET=CLIENT_SECRET))
    failed = orgctl("-v", "plan", config, code=1)
    # The token answer echoes the secret where a number belongs: a clear provider error,
    # with the secret masked in it.
    assert ("workelo: unexpected answer from the API: POST /tokens: expires_in is not a "
            "number of seconds") in failed.stderr
