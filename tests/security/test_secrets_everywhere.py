"""A value that came from `${...}` is a secret wherever it sits, and a URL is printed
without its userinfo or query values (issue 14 item 9): before, an `${ENV}` in `url` or
`organization`, a `user:pass@` or a `?token=` in a URL, were printed in errors and logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgctl import config, redact
from orgctl.errors import ConfigError

CONFIG = """version: 1
providers:
  wt:
    type: worklete
    url: "{url}"
    username: "${{WT_USER}}"
    password: "${{WT_PASS}}"
    organization: "${{WT_ORG}}"
"""
ENV = {"WT_USER": "bot", "WT_PASS": "pw-1234", "WT_ORG": "org-name-from-env-77",
       "WT_HOST": "tenant-secret-host-55.example"}


def load(tmp_path: Path, url: str):
    (tmp_path / "org.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    return config.load(tmp_path, environ=ENV)


def test_a_placeholder_value_in_any_key_is_masked_everywhere(tmp_path: Path) -> None:
    load(tmp_path, "https://${WT_HOST}/api/v1")
    said = redact.redact("cannot reach https://tenant-secret-host-55.example/api/v1; "
                         "organization 'org-name-from-env-77' is not an organization")
    assert "tenant-secret-host-55" not in said and "org-name-from-env-77" not in said


def test_a_url_password_and_query_values_are_masked(tmp_path: Path) -> None:
    load(tmp_path, "https://ci:url-pass-9876@api.example/v1?token=qtok-5432")
    assert "url-pass-9876" not in redact.redact("GET https://ci:url-pass-9876@api.example")
    assert "qtok-5432" not in redact.redact("?token=qtok-5432")


def test_a_url_is_printed_without_userinfo_or_query_values() -> None:
    shown = redact.url("https://ci:pw@api.example/v1/users?token=abc&page=2")
    assert shown == "https://***@api.example/v1/users?token=***&page=***"


def test_a_bad_literal_url_in_a_config_error_hides_its_userinfo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "http://ci:literal-pw-4242@api.example/v1")
    assert "literal-pw-4242" not in str(caught.value)
    assert "must use https" in str(caught.value) or "https" in str(caught.value)
