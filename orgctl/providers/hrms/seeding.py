"""The HRMS emulator's seed (`orgctl.sandbox.hrms`) for a desired org: HRMS agreeing with
the config on every employee, department and position.

Department ids are the unit keys (`dept_<unit>`: HRMS-sourced configs key units by
them); user and position ids are left to the emulator, so a strict profile gives them
its own (large, uneven, or uuids) as a real server would."""

from __future__ import annotations

from typing import Any

from orgctl.model import Org

__all__ = ["seed"]


def seed(org: Org) -> dict[str, Any]:
    departments = [{"id": f"dept_{k}", "name": u.name} for k, u in org.units.items()]
    positions = sorted({e.job_position for e in org.employees.values() if e.job_position})
    users = []
    for e in org.employees.values():
        user: dict[str, Any] = {"staffId": e.key, "email": e.email,
                                "name": f"{e.first_name} {e.last_name}", "status": e.status}
        if e.unit:
            user["department"] = org.units[e.unit].name
        if e.job_position:
            user["position"] = e.job_position
        users.append(user)
    return {"departments": departments,
            "positions": [{"title": p} for p in positions],
            "users": users}
