"""The redacting log filter masks secrets in messages and in logged tracebacks (-v)."""

from __future__ import annotations

import io
import logging

from orgctl.redact import RedactingFilter, register


def test_secret_in_a_logged_traceback_is_masked():
    secret = "tb-secret-9f8e7d"
    register(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("orgctl.test-redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        raise ValueError(f"server said {secret}")
    except ValueError:
        logger.debug("internal error with %s", secret, exc_info=True)
    logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert secret not in text and "***" in text
