"""Worklete (seed 004): teams, memberships, team admins and organisation admins.

`provider` maps the model to Worklete and back and writes to it; `importer` turns a live
Worklete into configuration; `seeding` writes the sandbox emulator's seed for an org.
"""

from orgctl.providers.worklete.provider import PAGE_SIZE, WorkleteProvider

__all__ = ["PAGE_SIZE", "WorkleteProvider"]
