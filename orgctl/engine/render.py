"""Plan renderers: text for humans (Terraform-like), JSON for machines, Markdown for a PR
comment. All three show the same plan; none of them sees a secret (plans hold none)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby
from typing import Any

from orgctl import inert
from orgctl.engine.plan import Plan
from orgctl.resources import Change, Finding

MARKER = "<!-- orgctl-plan -->"
FOLD_AFTER = 20  # a provider section with more changes than this folds into <details>

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "deactivate": "-", "manual": "!"}
COLORS = {"create": "green", "update": "yellow", "delete": "red", "deactivate": "red",
          "manual": "magenta"}

Style = Callable[..., str]


def _plain(text: str, **_: Any) -> str:
    return text


def value(v: Any) -> str:
    """A value as JSON, inert on a terminal (JSON escapes C0 controls, not C1 or bidi)."""
    return inert.terminal(json.dumps(v, ensure_ascii=False, default=str))


def summary_line(plan: Plan) -> str:
    n = plan.counts()
    errors = sum(f.level == "error" for f in plan.findings)
    if not plan.changes and errors:
        return (f"No changes, but {errors} error{'s' if errors != 1 else ''} above "
                f"need{'s' if errors == 1 else ''} attention: the live systems do not match "
                f"the configuration.")
    if not plan.changes:
        return "No changes. The live systems match the configuration."
    parts = [f"{n['create']} to add", f"{n['update']} to change", f"{n['delete']} to destroy"]
    if n["deactivate"]:
        parts.append(f"{n['deactivate']} to deactivate")
    if n["manual"]:
        parts.append(f"{n['manual']} manual")
    return "Plan: " + ", ".join(parts) + "."


def tagged(plan: Plan) -> bool:
    """Whether changes show where they come from: when any comes from a source of truth
    (source mode); a plan of YAML alone stays as it always read."""
    return any(c.source != "yaml" for c in plan.changes)


def change_lines(c: Change, tag: bool = False) -> list[str]:
    """The change as text lines: a head line, then only what differs."""
    verb = "" if c.action in ("create", "update", "delete") else f"{c.action} "
    head = f"{SYMBOLS[c.action]} {verb}{inert.terminal(c.kind)} {inert.terminal(c.key)}"
    if tag:
        head += f" (from {c.source})"
    lines = [head]
    if c.action == "create":
        lines += [f"    {inert.terminal(k)}: {value(v)}"
                  for k, v in sorted((c.after or {}).items()) if v not in (None, [], {})]
    elif c.action in ("update", "deactivate") or (c.action == "manual" and c.fields):
        lines += [f"    {inert.terminal(k)}: {value(old)} → {value(new)}"
                  for k, (old, new) in sorted(c.fields.items())]
    if c.reason and c.action != "create":
        lines.append(f"    # {inert.terminal(c.reason)}")
    return lines


def render_text(plan: Plan, color: bool = False) -> str:
    import click

    style: Style = click.style if color else _plain
    out: list[str] = []
    tag = tagged(plan)
    for provider, changes in groupby(plan.changes, key=lambda c: c.provider):
        out.append(style(inert.terminal(provider), bold=True))
        for c in changes:
            lines = change_lines(c, tag)
            out.append("  " + style(lines[0], fg=COLORS[c.action]))
            out.extend("  " + line for line in lines[1:])
        out.append("")
    errors = [f for f in plan.findings if f.level == "error"]
    warnings = [f for f in plan.findings if f.level == "warning"]
    reads = [f for f in plan.findings if f.code == "read"]
    infos = [f for f in plan.findings if f.level == "info" and f.code != "read"]
    if errors:
        out.append(style("Errors:", fg="red", bold=True))
        out.extend(_finding_line("✗", f) for f in errors)
        out.append("")
    if warnings:
        out.append(style("Warnings:", fg="yellow", bold=True))
        out.extend(_finding_line("!", f) for f in warnings)
        out.append("")
    if reads:  # never folded: they say what the plan could and could not see
        out.append("How live state was read:")
        out.extend(f"  · {inert.terminal(f.provider)}: {inert.terminal(f.message)}"
                   for f in reads)
        out.append("")
    if infos:
        out.append(f"Notes ({len(infos)}):")
        shown = infos[:FOLD_AFTER]
        out.extend(_finding_line("·", f) for f in shown)
        if len(infos) > len(shown):
            out.append(f"  · ... and {len(infos) - len(shown)} more (see --format json)")
        out.append("")
    out.append(style(summary_line(plan), bold=True))
    return "\n".join(out) + "\n"


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n"


def render_markdown(plan: Plan) -> str:
    """A PR comment: the hidden marker first (CI finds and updates the one comment),
    a summary, then one section per provider, folded when long."""
    out = [MARKER, "## orgctl plan", "", f"**{summary_line(plan)}**", ""]
    tag = tagged(plan)
    for provider, group in groupby(plan.changes, key=lambda c: c.provider):
        changes = list(group)
        counts = ", ".join(f"{n} {a}" for a, n in _counts(changes).items())
        lines = [line for c in changes for line in change_lines(c, tag)]
        fence = inert.fence(lines)  # no value can close the block
        body = [f"{fence}diff", *lines, fence]
        if len(changes) > FOLD_AFTER:
            out += [f"<details><summary><b>{inert.markdown(provider)}</b>: {counts}</summary>",
                    "", *body, "",
                    "</details>", ""]
        else:
            out += [f"### {inert.markdown(provider)} ({counts})", "", *body, ""]
    errors = [f for f in plan.findings if f.level == "error"]
    if errors:
        out += [f"### Errors ({len(errors)})", ""]
        out += [_finding_item(f) for f in errors]
        out.append("")
    warnings = [f for f in plan.findings if f.level == "warning"]
    if warnings:
        out += [f"### Warnings ({len(warnings)})", ""]
        out += [_finding_item(f) for f in warnings]
        out.append("")
    reads = [f for f in plan.findings if f.code == "read"]
    if reads:
        out += ["### How live state was read", ""]
        out += [f"- **{inert.markdown(f.provider)}**: {inert.markdown(f.message)}"
                for f in reads]
        out.append("")
    out.append(f"<sub>checksum `{plan.checksum}`</sub>")
    return "\n".join(out) + "\n"


def _finding_line(mark: str, f: Finding) -> str:
    return f"  {mark} {inert.terminal(f.address)}: {inert.terminal(f.message)}"


def _finding_item(f: Finding) -> str:
    return f"- {inert.code(f.address)}: {inert.markdown(f.message)}"


def _counts(changes: list[Change]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.action] = counts.get(c.action, 0) + 1
    return counts


def render(plan: Plan, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=color)
