"""Seed fixtures from a desired org: the live state each emulator would hold after a perfect
apply of it. Used to build the quick-start fixture (with some drift added on purpose) and
the large no-change states of the benchmarks, without thousands of API calls.

Each provider writes its own emulator's seed (`Provider.seed`, in
`orgctl.providers.<system>.seeding`); `seed_from_org` gathers them per provider type, the
shape `Sandbox` and `load_fixture` take.
"""

from __future__ import annotations

from typing import Any

from orgctl.model import Org
from orgctl.providers import TYPES, provider_class


def seed_from_org(org: Org, organization: str = "Acme") -> dict[str, Any]:
    """Per provider type, its emulator's seed for `org` in a company named `organization`:
    the live state a perfect apply leaves today (an org with dates is evaluated on today,
    with each system's default joiner lead time: see orgctl.lifecycle)."""
    from orgctl import lifecycle

    def on_today(type_name: str) -> Org:
        if org.as_of is not None or not lifecycle.has_dates(org):
            return org
        lead = provider_class(type_name).LEAD_DAYS.get("joiners", 0)
        return lifecycle.evaluate(org, lifecycle.today(org), lead)

    return {type_name: provider_class(type_name).seed(on_today(type_name),
                                                      organization=organization)
            for type_name in TYPES}


# The quick-start fixture's unit-specific Workelo templates (template name -> unit keys), so
# `GET /templates?mobility=onboarding&unit_organization_id=` answers per unit there.
ACME_TEMPLATE_UNITS = {"Engineering onboarding": ["eng"], "Sales onboarding": ["sales"]}


def acme_templates(seed: dict[str, Any]) -> dict[str, Any]:
    """`seed` with the Workelo templates of `ACME_TEMPLATE_UNITS` tied to their units; the
    others stay available to every unit."""
    import copy

    seed = copy.deepcopy(seed)
    for template in seed["workelo"].get("templates", []):
        if template["name"] in ACME_TEMPLATE_UNITS:
            template["units"] = list(ACME_TEMPLATE_UNITS[template["name"]])
    return seed


def acme_drift(seed: dict[str, Any]) -> dict[str, Any]:
    """The live state of examples/acme "last month": what the quick start plans against.

    Every kind of change a reviewer meets shows up once: a new hire to create everywhere, a
    renamed unit and team, a changed email (declared with `previously:`), a moved job, a
    missing scope and team admin, a leaver still active in Workleap, live objects the
    config does not mention (left alone), and HRMS disagreeing with the config.
    """
    import copy

    seed = copy.deepcopy(seed)
    new_hire = "EMP-031"
    wl = seed["workelo"]
    wl["employees"] = [e for e in wl["employees"] if e["external_id"] != new_hire]
    wl["tracks"] = [t for t in wl["tracks"] if t["employee"] != new_hire]
    wl["unit_organization_managements"] = [
        s for s in wl["unit_organization_managements"] if s["employee"] != new_hire]
    for unit in wl["unit_organizations"]:
        if unit["external_id"] == "data":
            unit["name"] = "Business Intelligence"
    for e in wl["employees"]:
        if e["external_id"] == "EMP-002":
            e["email"] = "marie.durand@acme.example"
        if e["external_id"] == "EMP-014":
            e["job_position"] = "Junior Engineer"
    if wl["unit_organization_managements"]:
        wl["unit_organization_managements"].pop()
    wl["employees"].append({"external_id": "EMP-099", "first_name": "Pat", "last_name": "Former",
                            "email": "pat.former@acme.example", "unit": "finance"})

    hrms = seed["hrms"]
    for user in hrms["users"]:
        if user["staffId"] == "EMP-030":
            user["status"] = "inactive"
        if user["staffId"] == "EMP-021":
            user["department"] = "Backend"

    wp = seed["workleap"]
    wp["members"] = [m for m in wp["members"] if m["externalMemberId"] != new_hire]
    wp["mappings"] = [m for m in wp["mappings"] if m.get("externalMemberId") != new_hire]
    for m in wp["members"]:
        if m["externalMemberId"] == "EMP-022":
            m["languagePreferences"] = "en" if m.get("languagePreferences") == "fr" else "fr"
    wp["members"].append({"externalMemberId": "EMP-019", "email": "leaver@acme.example",
                          "firstName": "Still", "lastName": "Active", "status": "active"})
    wp["members"].append({"email": "it-admin@acme.example", "firstName": "IT",
                          "lastName": "Admin", "status": "active", "isAdmin": True})

    wt = seed["worklete"]
    for team in wt["teams"]:
        if team["name"] == "Platform":
            team["name"] = "Infrastructure"
        if team["parent"] == "Platform":
            team["parent"] = "Infrastructure"
    for m in wt["memberships"]:
        m["teams"] = ["Infrastructure" if t == "Platform" else t for t in m.get("teams", [])]
    wt["team_admins"] = [a for a in wt["team_admins"] if a["team"] != "Web Experience"]
    wt["memberships"] = [m for m in wt["memberships"] if m.get("employee_id") != new_hire]
    for admin in wt["team_admins"]:
        if admin["team"] == "Platform":
            admin["team"] = "Infrastructure"
    return seed


if __name__ == "__main__":
    # Regenerate the quick-start fixture: python -m orgctl.sandbox.seeding
    from pathlib import Path

    import yaml

    from orgctl.config import load

    org = load(Path("examples/acme"), resolve_env=False)
    out = Path(__file__).parent / "fixtures" / "acme-live.yaml"
    out.parent.mkdir(exist_ok=True)
    header = ("# The live state the quick start plans examples/acme against: "
              "generated by\n# `python -m orgctl.sandbox.seeding` (seed_from_org + "
              "acme_templates + acme_drift).\n# Do not edit by hand.\n")
    seed = acme_drift(acme_templates(seed_from_org(org)))
    out.write_text(header + yaml.safe_dump(seed, sort_keys=False, allow_unicode=True))
    print(out)
