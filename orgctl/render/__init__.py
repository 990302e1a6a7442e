"""Plan renderers: they only print a computed plan, never compute one.

    text      for a terminal, Terraform-like: by system (default) or by person
    markdown  for a pull-request comment: by person (default) or by system, size-bounded
    json      the plan file's document, for machines
    people    the by-person view's groups, headlines, per-system counts and impact
    mask      a plan with personal data masked, for comments and logs

None of them sees a secret: plans hold none.
"""

from __future__ import annotations

from collections.abc import Collection

from orgctl.engine.plan import Plan
from orgctl.render.common import FOLD_AFTER, MARKER, summary_line
from orgctl.render.json import render_json
from orgctl.render.markdown import render_markdown
from orgctl.render.mask import masked
from orgctl.render.text import render_text

__all__ = ["FOLD_AFTER", "MARKER", "render", "render_json", "render_markdown",
           "render_text", "summary_line"]

def render(plan: Plan, fmt: str, color: bool = False, *, by: str | None = None,
           mask: bool = False, forced: bool = False, allowed: Collection[str] = ()) -> str:
    """`plan` in `fmt` (text, json, markdown). `by`: group changes by person or by
    system (default: by person in Markdown, by system in text). `mask`: personal data
    masked (text and Markdown; the JSON plan is the full record). `forced`: the run had
    --force, so the thresholds the plan breaks are shown as overridden, not refusing;
    `allowed`: the other overrides the run had (--allow-orphans)."""
    if fmt == "json":
        if mask:
            raise ValueError("the JSON plan is the full record: it is never masked")
        return render_json(plan)
    shown = masked(plan) if mask else plan
    if fmt == "markdown":
        return render_markdown(shown, by=by or "person", forced=forced, allowed=allowed)
    return render_text(shown, color=color, by=by or "system", forced=forced,
                       allowed=allowed)
