"""The sandbox: local twins of the four HR systems, as real HTTP servers on loopback.

`Sandbox` starts the emulators in a background thread on free ports (the pytest fixture and
`orgctl plan --sandbox` use it in-process); `orgctl sandbox serve` runs the same thing in the
foreground and writes the endpoints file other orgctl commands connect with. `reset` gives a
running sandbox fresh emulators on the same ports, so tests share one per session.

The emulators of a sandbox share one `Calendar` (`sandbox.calendar`): their "today", the
real date unless `Sandbox(today=...)`, `sandbox.calendar.set(...)`, `POST /_sandbox/clock`
on any of their ports or `orgctl sandbox serve --today` sets it.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from orgctl.errors import OrgctlError
from orgctl.sandbox.core import Calendar, Emulator, Faults, Profile, ServerThread

EMULATORS: dict[str, str] = {
    "workelo": "orgctl.sandbox.workelo:WorkeloEmulator",
    "hrms": "orgctl.sandbox.hrms:HrmsEmulator",
    "workleap": "orgctl.sandbox.workleap:WorkleapEmulator",
    "worklete": "orgctl.sandbox.worklete:WorkleteEmulator",
}
# Where each emulator serves its API below the server root (the seeds' base paths).
BASE_PATHS = {"workelo": "/v1", "hrms": "/api", "workleap": "", "worklete": "/api/v1"}
BUILTIN_FIXTURE = Path(__file__).parent / "fixtures" / "acme-live.yaml"


def emulator_class(system: str) -> type[Emulator]:
    module, _, name = EMULATORS[system].partition(":")
    return getattr(import_module(module), name)


class Sandbox:
    """All four emulators, started together. `endpoints()` gives, per system, the base URL
    and throw-away credentials in the shape of a provider block's settings.

    Each port serves whichever emulator `self.emulators` holds for its system when a request
    arrives, so `reset` swaps in new emulators without restarting a server.

    `today` (a `date` or `YYYY-MM-DD`; None: the real date) is the emulators' date, kept in
    `self.calendar`, which all of them share: `sandbox.calendar.set(date(2026, 12, 1))`
    moves every emulator to that day. An emulator's own `today` option overrides it.
    """

    def __init__(self, seed: dict[str, Any] | None = None, faults: Faults | None = None,
                 systems: tuple[str, ...] = tuple(EMULATORS),
                 options: dict[str, dict[str, Any]] | None = None,
                 host: str = "127.0.0.1", ports: dict[str, int] | None = None,
                 profile: str | Profile | None = None, today: date | str | None = None):
        self.profile = Profile.named(profile)
        self.calendar = _calendar(today)
        self.emulators = _emulators(systems, seed, faults, options, self.profile,
                                    self.calendar)
        self.server = ServerThread({name: self._serving(name) for name in self.emulators},
                                   host=host, ports=ports)

    def reset(self, seed: dict[str, Any] | None = None, faults: Faults | None = None,
              options: dict[str, dict[str, Any]] | None = None,
              profile: str | Profile | None = None,
              today: date | str | None = None) -> Sandbox:
        """Replace every emulator with a new one built from `seed`, `faults`, `options` and
        `today`, as `Sandbox(...)` would, keeping the ports. Nothing of the previous
        emulators carries over (state, request log, tokens, rate limits, faults, the clock:
        without `today` the new ones answer as of the real date); an upload or sync they
        still had pending finishes on the discarded emulator. Credentials come from the seed
        (or the emulators' fixed defaults), so `endpoints()` gives the new ones. An invalid
        seed raises and leaves the running emulators as they were. `profile`: None keeps
        the sandbox's profile."""
        if profile is not None:
            self.profile = Profile.named(profile)
        calendar = _calendar(today)
        self.emulators = _emulators(tuple(self.emulators), seed, faults, options,
                                    self.profile, calendar)
        self.calendar = calendar
        return self

    def _serving(self, system: str) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self.emulators[system].app(scope, receive, send)

        return app

    def start(self) -> Sandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, system: str) -> str:
        return self.server.url(system) + BASE_PATHS[system]

    def endpoints(self) -> dict[str, dict[str, Any]]:
        return {name: {"url": self.url(name), **emu.credentials()}
                for name, emu in self.emulators.items()}

    def set_faults(self, faults: Faults) -> None:
        for emu in self.emulators.values():
            emu.faults = faults


def _calendar(today: date | str | None) -> Calendar:
    try:
        return Calendar.of(today)
    except (ValueError, TypeError) as exc:
        raise OrgctlError(f"sandbox today: {exc}") from None


def _emulators(systems: tuple[str, ...], seed: dict[str, Any] | None, faults: Faults | None,
               options: dict[str, dict[str, Any]] | None, profile: Profile,
               calendar: Calendar) -> dict[str, Emulator]:
    seed = seed or {}
    try:
        return {name: emulator_class(name)(seed.get(name), faults=faults or Faults(),
                                           **{"profile": profile, "today": calendar,
                                              **(options or {}).get(name, {})})
                for name in systems}
    except (ValueError, KeyError, TypeError) as exc:
        raise OrgctlError(f"sandbox seed fixture is invalid: {exc}") from None


def load_fixture(path: Path | None) -> dict[str, Any]:
    """A seed fixture (YAML or JSON): a mapping from system name to that emulator's seed."""
    import yaml

    path = path or BUILTIN_FIXTURE
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return data or {}
