"""The one exception hierarchy of orgctl, and the source location every config error carries.

The CLI turns an `OrgctlError` into a message on stderr and an exit code; anything else
escaping to the CLI is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


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


class ConfigError(OrgctlError):
    """The configuration is invalid. Holds every issue found, sorted by location."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class ProviderError(OrgctlError):
    """A provider could not read or write: unreachable, auth refused, unexpected answer."""

    def __init__(self, provider: str, message: str):
        self.provider = provider
        super().__init__(f"{provider}: {message}")


class SafetyError(OrgctlError):
    """A safety rule refused the plan (threshold, protected object, lock). Exit code 3."""

    exit_code = 3


class StalePlanError(OrgctlError):
    """A saved plan no longer matches the live state it was made from."""
