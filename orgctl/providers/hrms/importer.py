"""A live HRMS as configuration (`orgctl import --from hrms`): its departments as units
and its users as employees, as `source_data()` gives them; what could not be mapped is
noted."""

from __future__ import annotations

from orgctl.providers.hrms.provider import HrmsProvider
from orgctl.providers.importing import Imported
from orgctl.resources import Resource

__all__ = ["to_config"]


def to_config(live: list[Resource], provider: HrmsProvider) -> Imported:
    imported = Imported("hrms")
    data = provider.source_data()
    imported.units = dict(data["units"])
    for key, employee in data["employees"].items():
        # Active is the default: only leavers say so.
        imported.employees[key] = {f: v for f, v in employee.items()
                                   if (f, v) != ("status", "active")}
    for key, text in data["notes"]:
        if key in imported.employees:
            imported.note("employees", key, text)
        else:
            imported.note("", "", f"{key}: {text}" if key else text)
    return imported
