"""Workleap (seed 003): members, teams and team mappings, written by full-replacement
CSV syncs.

`provider` maps the model to Workleap and back and submits syncs; `importer` turns a live
Workleap into configuration; `seeding` writes the sandbox emulator's seed for an org.
"""

from orgctl.providers.workleap.provider import (
    PAGE_SIZE,
    WorkleapProvider,
    live_resources,
    render_sync,
)

__all__ = ["PAGE_SIZE", "WorkleapProvider", "live_resources", "render_sync"]
