"""A server's error page in orgctl's message: a proxy's 502 page is long HTML over many
lines, and any server's text can hold terminal control sequences. The message quotes it on
one line, shortened, with every control character shown as \\uXXXX. Before, a text body was
quoted whole and raw: escape sequences reached the terminal and a page filled the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgctl.errors import ApiError
from tests.security.conftest import SECRETS, Handler, Runner, base_env, hrms_at, loopback

PAGE = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "\x1b[2J\x1b[1;1HAll good: nothing was changed\x07\r\n" + "<p>upstream</p>\n" * 400
        + "</body>\r\n</html>\r\n")


class BadGateway(Handler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send(502, PAGE.encode(), "text/html")


@pytest.fixture
def gateway_url() -> Iterator[str]:
    with loopback(BadGateway) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"


def test_an_error_page_is_quoted_on_one_short_inert_line(gateway_url: str,
                                                        tmp_path: Path) -> None:
    config = hrms_at(tmp_path, gateway_url)
    orgctl = Runner(tmp_path, base_env(HRMS_TOKEN=SECRETS["HRMS_TOKEN"]))
    failed = orgctl("plan", config, code=1)
    [line] = [x for x in failed.stderr.splitlines() if "answered 502" in x]
    assert "\x1b" not in failed.stderr and "\x07" not in failed.stderr
    assert ("answered 502: <html> <head><title>502 Bad Gateway</title></head> <body> "
            "\\u001b[2J\\u001b[1;1HAll good: nothing was changed\\u0007 <p>upstream</p>") in line
    assert len(line) < 500 and line.endswith("...")
    assert "</html>" not in failed.stderr


def test_a_json_error_body_is_shortened_and_inert() -> None:
    error = ApiError("hrms", "GET", "/v1/users", 400,
                     {"error": "bad\x1b[2J", "detail": "\ud83d" + "x" * 500})
    said = str(error)
    assert "\x1b" not in said and "\ud83d" not in said
    assert '{"error": "bad\\u001b[2J", "detail": "\\ud83dxxx' in said and said.endswith("...")
