"""Issue #6, transport: every non-loopback URL must be https://, TLS certificates are verified,
and a redirect is never followed (it would carry the credentials to another address)."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from orgctl.config import load
from orgctl.errors import ConfigError, ProviderError
from orgctl.providers.http import Http, StaticHeaders
from tests.security.conftest import SECRETS, Handler, Runner, base_env, loopback

KEY = SECRETS["WORKLEAP_API_KEY"]


def workleap_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "org.yaml"
    config.write_text(f"version: 1\nproviders:\n  workleap:\n    url: {url}\n"
                      "    api_key: ${WORKLEAP_API_KEY}\n")
    return config


@pytest.mark.parametrize("url", [
    "http://api.workleap.com",
    "HTTP://api.workleap.com/v1",
    "http://10.0.0.5/api",
    "http://localhost.attacker.example",
    "http://127.0.0.1.nip.io/api",
    "http://0.0.0.0:8080",
])
def test_plain_http_to_anything_but_loopback_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="must use https://|is not a URL"):
        load(workleap_config(tmp_path, url), environ={"WORKLEAP_API_KEY": KEY})


@pytest.mark.parametrize("url", [
    "https://api.workleap.com", "http://127.0.0.1:8080/api", "http://127.8.9.10",
    "http://localhost:1/x", "http://[::1]:8080/",
])
def test_https_and_loopback_http_are_accepted(tmp_path: Path, url: str) -> None:
    assert load(workleap_config(tmp_path, url), environ={"WORKLEAP_API_KEY": KEY}).providers


def test_an_insecure_url_from_the_environment_is_refused_without_showing_it(
        tmp_path: Path) -> None:
    config = workleap_config(tmp_path, "${WORKLEAP_URL}")
    env = base_env(WORKLEAP_API_KEY=KEY,
                   WORKLEAP_URL=f"http://internal.example/api?key={KEY}")
    failed = Runner(tmp_path, env)("validate", config, code=1)
    assert "the url from the environment must use https://" in failed.stderr


class Recorder(Handler):
    """Answers every request with a redirect to `target`, and records what it was sent."""

    target = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append(f"{self.path} {self.headers.get('workleap-subscription-key')}")
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    with loopback(Recorder) as httpd:
        yield httpd


def test_a_redirect_is_not_followed(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    port = server.server_address[1]
    Recorder.seen = []
    Recorder.target = f"http://127.0.0.1:{port}/elsewhere"
    config = workleap_config(tmp_path, f"http://127.0.0.1:{port}")
    failed = Runner(tmp_path, base_env(WORKLEAP_API_KEY=KEY))("plan", config, code=1)
    assert "answered 302" in failed.stderr
    assert Recorder.seen and not [s for s in Recorder.seen if s.startswith("/elsewhere")]


def test_a_certificate_that_does_not_verify_is_refused_before_anything_is_sent(
        server: ThreadingHTTPServer, tmp_path: Path) -> None:
    """At the HTTP layer every provider talks through (its retries off: a certificate does
    not verify better the second time)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Recorder.seen = []

    async def get() -> None:
        http = Http("workleap", f"https://127.0.0.1:{server.server_address[1]}",
                    auth=StaticHeaders({"workleap-subscription-key": KEY}), retries=0)
        try:
            await http.get("/provisioning/members")
        finally:
            await http.aclose()

    with pytest.raises(ProviderError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(get())
    assert Recorder.seen == []
