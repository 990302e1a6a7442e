"""Workleap (seed 003): members, teams and team mappings, written by full-replacement
CSV syncs.

`provider` maps the model to Workleap and back and submits syncs; `importer` turns a live
Workleap into configuration; `seeding` writes the sandbox emulator's seed for an org;
`vocabulary` lists the languages and products an employee's `workleap:` block may hold,
and `schema.json` is Workleap's part of the config's JSON Schema.
"""

from orgctl.providers.workleap.provider import (
    PAGE_SIZE,
    WorkleapProvider,
    live_resources,
    render_sync,
)
from orgctl.providers.workleap.vocabulary import WORKLEAP_LANGUAGES, WORKLEAP_PRODUCTS

__all__ = ["PAGE_SIZE", "WORKLEAP_LANGUAGES", "WORKLEAP_PRODUCTS", "WorkleapProvider",
           "live_resources", "render_sync"]
