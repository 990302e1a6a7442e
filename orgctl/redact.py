"""Secret redaction: every secret value orgctl resolves is registered here, and every log
line, error message and journal entry passes through `redact()` before it leaves the process.

Registration is global on purpose: a secret read from the environment in the config loader
must be hidden from an HTTP log line written three layers down, without threading it through.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words; no real credential is that short

_lock = threading.Lock()
_secrets: set[str] = set()


def register(value: str | None) -> None:
    """Remember a secret so `redact` hides it everywhere from now on."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    if not _secrets or not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def url(text: str) -> str:
    """A URL as orgctl prints it: no `user:password@`, every query value masked, and any
    registered secret masked (a host or path from `${ENV}`)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact(text)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = urlencode([(k, MASK) for k, _ in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


def register_url(text: str) -> None:
    """Register the secrets a URL may carry: its password and its query values."""
    try:
        parts = urlsplit(text)
        register(parts.password)
        for _, value in parse_qsl(parts.query):
            register(value)
    except ValueError:
        return


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record, and its
    traceback: an exception's message may quote a value a system answered with."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            # Formatters print exc_text when it is set, instead of formatting exc_info.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
