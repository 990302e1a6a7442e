"""The Workelo emulator's seed (`orgctl.sandbox.workelo`) for a desired org: what Workelo
holds after a perfect apply of it."""

from __future__ import annotations

from typing import Any

from orgctl.model import IMPLICATIONS, Org
from orgctl.providers.seeding import parents_first

__all__ = ["seed"]

# The emulator's own levels and templates, kept so a fixture does not lose them.
DEFAULT_LEVELS = ["Group", "Division", "Department", "Site"]
DEFAULT_TEMPLATES = {"Standard onboarding": "onboarding", "Manager onboarding": "onboarding",
                     "Internal mobility": "crossboarding",
                     "Standard offboarding": "offboarding"}


def seed(org: Org) -> dict[str, Any]:
    levels = sorted({u.level for u in org.units.values()})
    units = []
    for key in parents_first(org.units):
        u = org.units[key]
        unit: dict[str, Any] = {"external_id": key, "name": u.name, "level": u.level,
                                "parent": u.parent}
        if u.language:
            unit["language"] = u.language
        units.append(unit)
    employees, scopes, tracks = [], [], []
    for e in org.employees.values():
        row: dict[str, Any] = {"external_id": e.key, "first_name": e.first_name,
                               "last_name": e.last_name, "email": e.email, "role": e.role}
        if e.job_position:
            row["job_position"] = e.job_position
        if e.unit:
            row["unit"] = e.unit
        if e.identifications:
            row["identifications"] = dict(e.identifications)
        employees.append(row)
        scopes += [{"employee": e.key, "unit": u} for u in e.unit_scopes]
        for j in e.journeys:
            implications = {r: e.relation(r) for r in IMPLICATIONS if e.relation(r)}
            implications.update(j.implications)
            track: dict[str, Any] = {
                "employee": e.key, "mobility": j.mobility,
                "start_date": j.start_date.isoformat(),
                "templates": list(j.templates), "implications": implications,
                "status": "invitation_sent" if j.start else "draft",
            }
            if j.end_date:
                track["end_date"] = j.end_date.isoformat()
            if j.invite_at:
                track["invite_at"] = j.invite_at.isoformat()
            tracks.append(track)
    identification_names = sorted({n for e in org.employees.values() for n in e.identifications})
    out: dict[str, Any] = {
        "level_organizations": levels or DEFAULT_LEVELS,
        "unit_organizations": units,
        "employees": employees,
        "unit_organization_managements": scopes,
        "tracks": tracks,
    }
    if identification_names:
        out["identification_resources"] = sorted({"badge", *identification_names})
    templates = _templates(org)
    if templates:
        out["templates"] = templates
    return out


def _templates(org: Org) -> list[dict[str, Any]]:
    """Every template the journeys name, with the mobility they are used for, plus the
    emulator's defaults."""
    found: dict[str, str] = {}
    for j in org.journeys:
        for name in j.templates:
            found.setdefault(name, j.mobility)
    for name, mobility in DEFAULT_TEMPLATES.items():
        found.setdefault(name, mobility)
    return [{"name": n, "mobility": m} for n, m in sorted(found.items())]
