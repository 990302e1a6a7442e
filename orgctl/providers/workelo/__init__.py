"""Workelo (seeds 000 and 001): units, employees, unit scopes and journeys.

`provider` maps the model to Workelo and back and writes to it; `importer` turns a live
Workelo into configuration; `seeding` writes the sandbox emulator's seed for an org.
"""

from orgctl.providers.workelo.provider import PAGE_SIZE, WorkeloProvider

__all__ = ["PAGE_SIZE", "WorkeloProvider"]
