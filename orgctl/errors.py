"""The one exception tree of orgctl, and the source location every config error carries.

    OrgctlError                  an error orgctl reports to a user (message, exit code)
    ├── ConfigError              the configuration is invalid: every ConfigIssue at once
    ├── StalePlanError           a saved plan no longer matches live state or config
    ├── SafetyError              a safety rule refused the plan (exit code 3)
    └── ProviderError            a system could not be read or written
        ├── ApiError             it answered a definite error status
        ├── UnknownOutcome       a non-idempotent write may or may not have taken effect
        ├── UnexpectedAnswer     it answered in a shape the provider does not recognise
        └── IncompleteRead       a collection could not be read whole (paging broke down)

The CLI turns an `OrgctlError` into a message on stderr and its `exit_code`. Anything
else that escapes to the CLI is a bug in orgctl: it is reported as one, with the
traceback under `-v`, never blamed on a vendor. `UnexpectedAnswer` is raised only by an
explicit check of an answer's shape (`expect_*` below), not by catching `KeyError`
around a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orgctl.inert import json_text, terminal
from orgctl.redact import redact

__all__ = [
    "ApiError", "ConfigError", "ConfigIssue", "IncompleteRead", "Location", "OrgctlError",
    "ProviderError",
    "SafetyError", "StalePlanError", "UnexpectedAnswer", "UnknownOutcome", "expect_list",
    "expect_mapping",
]


@dataclass(frozen=True, order=True)
class Location:
    """Where a value was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class OrgctlError(Exception):
    """Base of every error orgctl reports to a user. `exit_code` is what the CLI returns."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem in the configuration, at one place."""

    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        return f"{self.location}: {prefix}{self.message}"


MAX_ISSUES_SHOWN = 200
"""A config error message lists this many problems, then counts the rest: a file of 500,000
mistakes (repeated lines) must not print 36 MB."""


class ConfigError(OrgctlError):
    """The configuration is invalid. Holds every issue found, sorted by location; its
    message shows the first `MAX_ISSUES_SHOWN`."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = sorted(issues)
        shown = [str(i) for i in self.issues[:MAX_ISSUES_SHOWN]]
        if len(self.issues) > MAX_ISSUES_SHOWN:
            shown.append(f"... and {len(self.issues) - MAX_ISSUES_SHOWN} more problems "
                         f"(fix these first)")
        super().__init__("\n".join(shown))


class ProviderError(OrgctlError):
    """A provider could not read or write: unreachable, auth refused, unexpected answer."""

    def __init__(self, provider: str, message: str):
        self.provider = provider
        super().__init__(f"{provider}: {message}")


class ApiError(ProviderError):
    """The system answered with a definite error status."""

    def __init__(self, provider: str, method: str, path: str, status: int, body: Any):
        self.method = method
        self.path = path
        self.status = status
        # Masked before anyone shortens it: a cut through an echoed secret would leave a
        # piece that redact() no longer recognises.
        self.body = redacted(body)
        detail = short(self.body)
        super().__init__(provider, redact(f"{method} {path} answered {status}: {detail}"))


class UnknownOutcome(ProviderError):
    """A non-idempotent request may or may not have taken effect."""


class UnexpectedAnswer(ProviderError):
    """An answer lacks what the provider relies on (a field, a list, a paging key)."""

    def __init__(self, provider: str, what: str, problem: str, sample: Any = None):
        self.what = what
        self.problem = problem
        tail = "" if sample is None else f"; the answer began: {short(redacted(sample), 200)}"
        super().__init__(provider, redact(f"unexpected answer from the API: {what}: "
                                          f"{problem}{tail}"))


class IncompleteRead(ProviderError):
    """A collection could not be read whole: its pages stopped before the total the server
    announced, overlapped, or never ended. A plan from part of a collection would create
    what exists and delete what it did not see, so nothing is planned from it."""

    def __init__(self, provider: str, what: str, problem: str):
        self.what = what
        self.problem = problem
        super().__init__(provider, redact(f"could not read all of {what}: {problem}; "
                                          f"nothing was planned or written from a partial "
                                          f"read"))


class SafetyError(OrgctlError):
    """A safety rule refused the plan (threshold, protected object, lock). Exit code 3."""

    exit_code = 3


class StalePlanError(OrgctlError):
    """A saved plan no longer matches the live state it was made from."""


# -- answer-shape checks: the only way an answer becomes an UnexpectedAnswer ------------------

def expect_mapping(provider: str, what: str, body: Any) -> dict[str, Any]:
    """`body` when it is a JSON object, else an `UnexpectedAnswer` naming `what`."""
    if not isinstance(body, dict):
        raise UnexpectedAnswer(provider, what, f"expected an object, got "
                                               f"{type(body).__name__}", body)
    return body


def expect_list(provider: str, what: str, body: Any) -> list[Any]:
    """`body` when it is a JSON array, else an `UnexpectedAnswer` naming `what`."""
    if not isinstance(body, list):
        raise UnexpectedAnswer(provider, what, f"expected a list, got "
                                               f"{type(body).__name__}", body)
    return body


def redacted(body: Any) -> Any:
    """A parsed answer body with every registered secret masked, keys and values."""
    if isinstance(body, str):
        return redact(body)
    if isinstance(body, dict):
        return {redacted(k): redacted(v) for k, v in body.items()}
    if isinstance(body, list):
        return [redacted(v) for v in body]
    return body


def short(body: Any, limit: int = 300) -> str:
    """An answer's body for a message: JSON, or its text on one line (an error page's
    whitespace runs as one space); at most `limit` characters of it; every control or
    invisible character it holds shown as \\uXXXX (`inert.terminal`): it comes from the
    server, and goes to a terminal or a log."""
    text = " ".join(body.split()) if isinstance(body, str) else json_text(body, default=str)
    return terminal(text if len(text) <= limit else text[:limit] + "...")
