"""${ENV_VAR} placeholders: resolved from the environment, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgctl import config, redact
from orgctl.config.secrets import expand
from tests.config.conftest import problems


def test_expand_replaces_every_placeholder():
    assert expand("https://${HOST}:${PORT}/v1", {"HOST": "h", "PORT": "8"}) == (
        "https://h:8/v1", [])


def test_double_dollar_is_a_literal_dollar_and_a_lone_dollar_stays():
    assert expand("a$$b $c", {}) == ("a$b $c", [])


def test_expand_names_missing_and_empty_variables_only():
    text, found = expand("${A}${B}${C}", {"A": "secret-a", "B": ""})
    assert found == ["environment variable B is empty", "environment variable C is not set"]
    assert "secret-a" not in " ".join(found)


def test_syntax_is_checked_without_an_environment():
    assert expand("${1X} ${OK}", None) == ("${1X} ${OK}", [
        "malformed placeholder '${1X}': a variable name is letters, digits and '_', not "
        "starting with a digit"])


def _provider_file(tmp_path: Path, url: str) -> Path:
    (tmp_path / "org.yaml").write_text(
        f"version: 1\nproviders:\n  workleap:\n    url: {url}\n    api_key: ${{WL_KEY}}\n")
    return tmp_path


def test_url_from_the_environment_is_checked_but_not_printed(tmp_path: Path):
    path = _provider_file(tmp_path, "${WL_URL}")
    messages = problems(path, environ={"WL_URL": "http://internal.acme.example/x",
                                       "WL_KEY": "key-123456"})
    assert messages == [
        f"{path}/org.yaml:4:10: providers.workleap.url: the url from the environment must use "
        "https:// (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])"]


def test_loopback_http_is_allowed_but_not_a_lookalike_host(tmp_path: Path):
    env = {"WL_KEY": "key-123456"}
    assert config.load(_provider_file(tmp_path, "http://127.0.0.42:9000"), environ=env)
    [message] = problems(_provider_file(tmp_path, "http://127.0.0.1.evil.example"),
                         environ=env)
    assert message.endswith("must use https:// (http:// is allowed only for localhost, "
                            "127.0.0.0/8 and [::1])")


def test_resolved_secrets_are_registered_for_redaction(tmp_path: Path):
    config.load(_provider_file(tmp_path, "https://api.workleap.com"),
                environ={"WL_KEY": "wl-secret-98765"})
    assert redact.redact("sent wl-secret-98765") == "sent ***"


def test_no_secret_value_appears_in_any_message(tmp_path: Path):
    (tmp_path / "org.yaml").write_text(
        "version: 1\nproviders:\n"
        "  worklete:\n    url: https://w.example\n    username: 12345\n"
        "    password: hunter2-clear\n    organization: Acme\n"
        "  workleap:\n    url: ${URL}\n    api_key: ${KEY}\n")
    messages = problems(tmp_path, environ={"URL": "ftp://files.acme.example", "KEY": "k-1234"})
    assert [m.split(": ")[1] for m in messages] == [
        "providers.worklete.username", "providers.worklete.password", "providers.workleap.url"]
    text = "\n".join(messages)
    assert "hunter2-clear" not in text and "12345" not in text
    assert "ftp://files.acme.example" not in text
    assert "providers.worklete.username: expected text, got a value (not shown)" in text


def test_validation_without_env_still_needs_well_formed_placeholders(
        monkeypatch: pytest.MonkeyPatch):
    for name in ("WORKELO_CLIENT_ID", "WORKELO_CLIENT_SECRET", "HRMS_TOKEN",
                 "WORKLEAP_API_KEY", "WORKLETE_USERNAME", "WORKLETE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert config.load("examples/acme", resolve_env=False).summary().startswith("12 units")
    assert problems("examples/invalid/malformed-placeholder.yaml", resolve_env=False)


def test_a_secret_can_come_from_a_file(tmp_path: Path):
    secret_file = tmp_path / "workleap_key"
    secret_file.write_text("wl-file-secret-4242\n")  # mounted secrets end with a newline
    (tmp_path / "org.yaml").write_text(
        "version: 1\nproviders:\n  workleap:\n    url: https://api.workleap.com\n"
        f"    api_key: ${{file:{secret_file}}}\n")
    org = config.load(tmp_path / "org.yaml", environ={})
    assert org.providers["workleap"].settings["api_key"] == "wl-file-secret-4242"
    assert redact.redact("key wl-file-secret-4242") == "key ***"


def test_an_unreadable_secret_file_is_named_not_shown(tmp_path: Path):
    (tmp_path / "org.yaml").write_text(
        "version: 1\nproviders:\n  workleap:\n    url: https://api.workleap.com\n"
        "    api_key: ${file:/nonexistent/key}\n")
    messages = problems(tmp_path, environ={})
    assert len(messages) == 1
    assert messages[0].endswith("secret file /nonexistent/key cannot be read "
                                "(FileNotFoundError)")
    assert messages[0].startswith(f"{tmp_path}/org.yaml:5:14")
