"""Safety rules: what a plan may not do without `--force`, and what it may never do.

Thresholds are counted per provider and kind, against the live objects of that kind:
removals (deletes and deactivations together) and updates, as a share of what exists, once
at least `floor` objects exist; plus an absolute cap on removals per run. Defaults follow
octoDNS (30 %, floor 10) and Entra Connect (500). Protected objects (`protected: true` in the
config, or a provider's `protected:` key patterns) are never removed or deactivated, force
or not.

`assess` writes the rules a plan breaks into the plan itself (`Plan.refusals`), whatever
--force says, so every rendering of the plan, and the saved plan file, says why it is
refused; `enforce` then refuses it (exit 3) unless --force lifts every broken rule.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from orgctl.engine.plan import Plan, Refusal
from orgctl.errors import SafetyError
from orgctl.model import Org
from orgctl.resources import REMOVALS, Finding

MAX_SAFE_REMOVALS_PERCENT = 30.0
MAX_SAFE_UPDATES_PERCENT = 30.0
MIN_EXISTING_OBJECTS = 10
MAX_REMOVALS_PER_RUN = 500


@dataclass(frozen=True)
class Thresholds:
    removals_percent: float = MAX_SAFE_REMOVALS_PERCENT
    updates_percent: float = MAX_SAFE_UPDATES_PERCENT
    floor: int = MIN_EXISTING_OBJECTS
    max_removals: int = MAX_REMOVALS_PER_RUN

    @classmethod
    def from_settings(cls, settings: dict[str, object] | None) -> Thresholds:
        known = {k: v for k, v in (settings or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


def drop_removals(plan: Plan) -> None:
    """--no-removals: take every delete and deactivation out of the plan, saying so."""
    kept = []
    for change in plan.changes:
        if change.action in REMOVALS:
            plan.findings.append(Finding(change.provider, change.kind, change.key,
                                         f"{change.action} held back by --no-removals",
                                         level="info", code="held-back"))
        else:
            kept.append(change)
    plan.changes = kept
    plan.checksum = plan.compute_checksum()


def protected_violations(plan: Plan, org: Org) -> list[Refusal]:
    protected = {k for k, u in org.units.items() if u.protected}
    protected |= {k for k, t in org.teams.items() if t.protected}
    protected |= {k for k, e in org.employees.items() if e.protected}
    refusals = []
    for change in plan.changes:
        if change.action not in REMOVALS:
            continue
        config = org.providers.get(change.provider)
        patterns = (config.settings.get("protected") or []) if config else []
        if change.key in protected or any(fnmatch.fnmatchcase(change.key, str(p))
                                          for p in patterns):
            refusals.append(Refusal(
                "protected", change.address, 1, override=None,
                message=f"{change.address} is protected: refusing to {change.action} it "
                        f"(remove `protected` from its config first; --force does not "
                        f"override this)"))
    return refusals


def threshold_violations(plan: Plan, org: Org,
                         resumed: set[str] = frozenset()) -> list[Refusal]:
    """Thresholds broken by the plan, not counting changes to the addresses in `resumed`:
    what an interrupted apply set out to do was checked when it started."""
    removals: Counter[tuple[str, str]] = Counter()
    updates: Counter[tuple[str, str]] = Counter()
    for change in plan.changes:
        if resumed and change.address in resumed:
            continue
        scope = (change.provider, change.kind)
        if change.action in REMOVALS:
            removals[scope] += 1
        elif change.action == "update":
            updates[scope] += 1
    refusals = []
    per_provider_removals: Counter[str] = Counter()
    for (provider, _kind), n in removals.items():
        per_provider_removals[provider] += n
    for provider, n in sorted(per_provider_removals.items()):
        limits = _limits(org, provider)
        if n > limits.max_removals:
            refusals.append(Refusal(
                "max-removals", provider, n, limit=limits.max_removals,
                message=f"{provider}: too many removals, {n} is over the cap of "
                        f"{limits.max_removals} per run, --force required"))
    for counter, label, attr in ((removals, "removals", "removals_percent"),
                                 (updates, "updates", "updates_percent")):
        for (provider, kind), n in sorted(counter.items()):
            limits = _limits(org, provider)
            existing = plan.existing.get(provider, {}).get(kind, 0)
            if existing < limits.floor:
                continue
            ratio = 100.0 * n / existing
            limit = getattr(limits, attr)
            if ratio > limit:
                refusals.append(Refusal(
                    "removals-percent" if label == "removals" else "updates-percent",
                    f"{provider}.{kind}", n, existing=existing, ratio=round(ratio, 2),
                    limit=limit,
                    message=f"{provider}.{kind}: too many {label}, {ratio:.2f}% is over "
                            f"{limit:.2f}% ({n}/{existing}), --force required"))
    return refusals


def _limits(org: Org, provider: str) -> Thresholds:
    config = org.providers.get(provider)
    return Thresholds.from_settings(config.settings.get("thresholds") if config else None)


def orphan_violations(plan: Plan) -> list[Refusal]:
    """The people the plan's day leaves with a departed (or not yet started) manager, HR,
    administrative owner or buddy: one refusal naming them all and their relations."""
    if not plan.orphans:
        return []
    people = sorted({o.employee for o in plan.orphans})
    lines = "; ".join(o.describe() for o in plan.orphans)
    return [Refusal(
        "orphans", "employees", len(people), override="--allow-orphans",
        message=f"{len(people)} active {'person' if len(people) == 1 else 'people'} would "
                f"be left behind on {plan.as_of}: {lines}. Reassign them in the config (a "
                f"dated change on or before that day), or plan with --allow-orphans")]


def assess(plan: Plan, org: Org, resumed: set[str] = frozenset()) -> None:
    """Write into the plan every safety rule it breaks (`Plan.refusals`), not counting
    what finishes an interrupted apply (`resumed`), and checksum it again."""
    plan.refusals = (protected_violations(plan, org) + orphan_violations(plan)
                     + threshold_violations(plan, org, resumed))
    plan.checksum = plan.compute_checksum()


def enforce(plan: Plan, force: bool = False, allow: Collection[str] = ()) -> None:
    """Raise SafetyError (exit 3) when the plan breaks a rule that neither `force` nor
    an allowance in `allow` lifts (a threshold yields to --force, orphans to
    --allow-orphans, a protected object to nothing)."""
    lifted = {*allow, *(("--force",) if force else ())}
    broken = [r for r in plan.refusals if r.override not in lifted]
    if broken:
        raise SafetyError("refused by safety rules:\n  " +
                          "\n  ".join(r.message for r in broken))


def check(plan: Plan, org: Org, force: bool = False, resumed: set[str] = frozenset(),
          allow: Collection[str] = ()) -> None:
    """`assess`, then `enforce`: raise SafetyError (exit 3) when the plan breaks a rule;
    thresholds yield to force, and do not count what finishes an interrupted apply."""
    assess(plan, org, resumed)
    enforce(plan, force, allow)
