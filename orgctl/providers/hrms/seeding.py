"""The HRMS emulator's seed (`orgctl.sandbox.hrms`) for a desired org: HRMS agreeing with
the config on every employee, department and position."""

from __future__ import annotations

from typing import Any

from orgctl.model import Org

__all__ = ["seed"]


def seed(org: Org) -> dict[str, Any]:
    departments = [{"id": f"dept_{k}", "name": u.name} for k, u in org.units.items()]
    positions = sorted({e.job_position for e in org.employees.values() if e.job_position})
    users = []
    for i, e in enumerate(org.employees.values(), 1):
        user: dict[str, Any] = {"id": f"user_{i:05d}", "staffId": e.key, "email": e.email,
                                "name": f"{e.first_name} {e.last_name}", "status": e.status}
        if e.unit:
            user["department"] = org.units[e.unit].name
        if e.job_position:
            user["position"] = e.job_position
        users.append(user)
    return {"departments": departments,
            "positions": [{"title": p} for p in positions],
            "users": users}
