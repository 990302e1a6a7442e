"""HRMS as the org's source of truth (`mode: source`, issue #7): which fields it owns, and
the stand-ins that let overlays validate before HRMS is read.

HRMS knows who works here: its users become employees keyed by staffId, its departments
units keyed by department id (`org_from_hrms` gives that data after a read). The engine
merges it under the YAML overlays (`orgctl.engine.sources`) following `SOURCE_SPEC`.
"""

from __future__ import annotations

from typing import Any

from orgctl.providers.base import SourceSpec

__all__ = ["SOURCE_SPEC", "UNIT_LEVEL"]

UNIT_LEVEL = "department"  # ASSUMED: HRMS departments are flat; their level in the config


def _employee_placeholder(key: str) -> dict[str, Any]:
    return {"first_name": "(from HRMS)", "last_name": "(from HRMS)",
            "email": f"{key.lower()}@hrms.invalid"}


def _unit_placeholder(key: str) -> dict[str, Any]:
    return {"name": key, "level": UNIT_LEVEL}


SOURCE_SPEC = SourceSpec(
    system="HRMS",
    owned={"employees": ("first_name", "last_name", "email", "status", "unit",
                         "job_position"),
           "units": ("name",)},
    # A unit's level is not owned (HRMS departments have none) but a unit needs one:
    # `org_from_hrms` gives UNIT_LEVEL, which an overlay may change.
    required={"employees": ("first_name", "last_name", "email"),
              "units": ("name", "level")},
    finding_kind={"employees": "user", "units": "department"},
    key_noun={"employees": "staffId", "units": "department id"},
    placeholders={"employees": _employee_placeholder, "units": _unit_placeholder},
)
