"""The plan as a pull-request comment (GitHub-flavoured Markdown).

What a reviewer sees first: the hidden marker CI finds its one comment by, the summary line
(line 4, always), the safety rules the plan breaks, a table of what each system gets, the
reporting lines and rights that move, then every change by person (or by system), folded
when long, then the findings, repeated ones folded into one line.

How it stays readable and unbreakable on GitHub:

- Changes are in ```diff blocks, where GitHub colours a line by its first character: `+`
  green, `-` red, `!` orange (the context-diff "changed" line). A `~` line would not be
  coloured at all, so an update is written `!` here (the text view keeps Terraform's `~`),
  a manual change `?` (plain: orgctl does not make it), and every line of a change starts
  with its symbol so its fields are coloured too. Reasons are folded to lines of 100.
- Text from the config or a live system goes through `orgctl.inert`: inside a fence no
  longer than any backtick run can close it; outside code it is escaped, and an email, an
  @name or a URL is put in a code span, where GitHub neither links nor notifies it.
- A comment never exceeds `MAX_COMMENT` characters (GitHub refuses 65,536): what does not
  fit is cut at a change, every open block closed, and a note says how much is shown and
  that the plan file holds everything.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from orgctl import inert
from orgctl.engine.plan import Plan, Refusal
from orgctl.render import people
from orgctl.render.common import (
    FOLD_AFTER,
    KEY_MARK,
    MARKER,
    FindingGroup,
    Names,
    change_lines,
    dated_line,
    finding_groups,
    impact_text,
    is_lifted,
    scheduled_days,
    summary_line,
    tagged,
)
from orgctl.resources import Action, Change, Finding

__all__ = ["COMMENT_LIMIT", "MAX_COMMENT", "render_markdown"]

COMMENT_LIMIT = 65_536  # GitHub's limit on an issue or pull-request comment
# Ours, with room for what a CI job adds around the plan (and under the 65,000 at which
# the example workflow would replace the comment with a link).
MAX_COMMENT = 60_000
WRAP = 100  # reasons are folded to this width inside a diff block
SYMBOLS: dict[Action, str] = {"create": "+", "update": "!", "delete": "-", "deactivate": "-",
                              "manual": "?"}
LEGEND = ("<sub>`+` add · `!` change · `-` remove or deactivate · `?` to do by hand "
          "(orgctl does not make it)</sub>")


# -- blocks that can be cut -------------------------------------------------------------------

def size(text: str) -> int:
    """Length as GitHub and JavaScript count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Leaf:
    """Text that is shown whole or not at all, holding `changes` changes."""

    text: str
    changes: int = 0


@dataclass
class Block:
    """An opening, children and a closing (a fence, a <details>): cut anywhere between
    children, the closing is still written."""

    opening: str
    children: list[Leaf | Block] = field(default_factory=list)
    closing: str = ""

    @property
    def changes(self) -> int:
        return sum(child.changes for child in self.children)


def fit(block: Block, budget: int) -> tuple[str, int, bool]:
    """As much of `block` as `budget` holds: (text, changes shown, whether all of it)."""
    used = size(block.opening) + size(block.closing)
    if used > budget:
        return "", 0, not block.children and not block.opening
    parts, shown = [block.opening], 0
    for child in block.children:
        if isinstance(child, Leaf):
            cost = size(child.text)
            if used + cost > budget:
                return "".join([*parts, block.closing]), shown, False
            parts.append(child.text)
            used, shown = used + cost, shown + child.changes
            continue
        text, n, complete = fit(child, budget - used)
        if text and (n or not child.changes):  # never a header without any of its changes
            parts.append(text)
            used, shown = used + size(text), shown + n
        if not complete:
            return "".join([*parts, block.closing]), shown, False
    return "".join([*parts, block.closing]), shown, True


# -- the comment ------------------------------------------------------------------------------

def render_markdown(plan: Plan, by: str = "person", forced: bool = False,
                    limit: int = MAX_COMMENT, allowed: Collection[str] = ()) -> str:
    """The comment: at most `limit` characters (UTF-16 code units, as GitHub counts)."""
    names = Names(plan)
    head = "\n".join([MARKER, "## orgctl plan", "", f"**{summary_line(plan)}**", "", ""])
    top = _refusals(plan, forced, allowed) + _dated(plan, names) + _table(plan)
    if plan.changes:
        top += LEGEND + "\n\n"
    footer = f"<sub>checksum `{plan.checksum}`</sub>\n"
    impact = _impacts(plan, names)
    changes = _by_person(plan, names) if by == "person" else _by_system(plan, names)
    tail = Block("", [_scheduled(plan, names), _findings(plan, names)])

    budget = limit - size(head + top + footer) - size(_cut_note(plan, len(plan.changes))) * 2
    reserve_impact = min(_full(impact), budget // 4)
    reserve_tail = min(_full(tail), budget // 4)
    changes_text, shown, changes_whole = fit(changes, budget - reserve_impact - reserve_tail)
    left = budget - size(changes_text)
    impact_text, _, impact_whole = fit(impact, left - reserve_tail)
    left -= size(impact_text)
    tail_text, _, tail_whole = fit(tail, left)
    note = "" if changes_whole and impact_whole and tail_whole else _cut_note(plan, shown)
    if not changes_whole:
        changes_text += note
    return head + note + top + impact_text + changes_text + tail_text + footer


def _full(block: Block) -> int:
    return size(fit(block, 1 << 40)[0])


def _cut_note(plan: Plan, shown: int) -> str:
    return (f"> [!NOTE]\n> This comment shows {shown:,} of {len(plan.changes):,} changes: a "
            f"pull-request comment holds {COMMENT_LIMIT:,} characters at most. The plan file "
            f"holds them all (the `plan.json` artifact of the CI run): read it with "
            f"`orgctl show plan.json --by person`.\n\n")


def _dated(plan: Plan, names: Names) -> str:
    """The plan's day, and what it changes in relations."""
    if not plan.as_of:
        return ""
    out = [inert.prose(dated_line(plan))]
    today = [i for i in plan.impacts if i.day.isoformat() == plan.as_of]
    if today and (text := impact_text(today[0], lambda k: _person(names, k, ""))):
        out.append(f"Relations on {plan.as_of}: {text}")
    return "\n\n".join(out) + "\n\n"


def _scheduled(plan: Plan, names: Names) -> Block:
    """What comes due in the horizon, a section per day, folded when long."""
    days = scheduled_days(plan)
    if not days:
        return Block("", [])
    impacts = {i.day.isoformat(): i for i in plan.impacts}
    tag = tagged(plan)
    children: list[Leaf | Block] = []
    for on, why, changes in days:
        header = f"**{on}**" + (f" — {inert.prose(why)}" if why else "") + "\n\n"
        if on in impacts and (text := impact_text(impacts[on], lambda k: _person(names, k, ""))):
            header += f"Relations: {text}\n\n"
        children.append(_diff(header, changes, names, tag, provider=True))
    n = len(plan.scheduled)
    return _section(f"Scheduled in the next {plan.horizon} days",
                    f"{_count(n, 'change')}, not applied by this plan", children, n)


def _refusals(plan: Plan, forced: bool, allowed: Collection[str] = ()) -> str:
    if not plan.refusals:
        return ""
    lifted = [r for r in plan.refusals if is_lifted(r, forced, allowed)]
    held = [r for r in plan.refusals if r not in lifted]
    out = []
    if held:
        out += ["> [!CAUTION]",
                "> **Refused by safety rules: nothing of this plan is applied** (exit 3)."]
        out += [f"> - {_refusal(r)}" for r in held[:FOLD_AFTER]]
        if len(held) > FOLD_AFTER:
            out.append(f"> - … and {len(held) - FOLD_AFTER} more (see the plan file)")
        out.append("")
    if lifted:
        how = ", ".join(f"`{o}`" for o in sorted({str(r.override) for r in lifted}))
        out += ["> [!WARNING]", f"> **Safety rules overridden by {how}:**"]
        out += [f"> - {_refusal(r)}" for r in lifted[:FOLD_AFTER]]
        if len(lifted) > FOLD_AFTER:
            out.append(f"> - … and {len(lifted) - FOLD_AFTER} more (see the plan file)")
        out.append("")
    return "\n".join(out) + "\n"


def _refusal(r: Refusal) -> str:
    scope = inert.code(r.scope)
    if r.rule == "protected":
        what = f"{scope} is protected: {inert.prose(r.message.partition(': ')[2])}"
    elif r.rule == "max-removals":
        what = f"**{r.count} removals** in {scope}, over the cap of {_number(r.limit)} per run"
    else:
        label = "removals" if r.rule == "removals-percent" else "updates"
        what = (f"**{label}: {_number(r.ratio, '.2f')}%** of {scope} ({r.count} of "
                f"{_number(r.existing)}), over the limit of {_number(r.limit, '.2f')}%")
    lift = (f"Lifted by {inert.code(r.override)}." if r.override
            else "Nothing lifts it, not even `--force`.")
    return f"{what}. {lift}"


def _number(n: float | None, spec: str = "g") -> str:
    """A count or percent as shown; "?" where a saved plan left it out (null)."""
    return "?" if n is None else format(n, spec)


def _table(plan: Plan) -> str:
    counts = people.system_counts(plan)
    if not plan.changes or not counts:
        return ""
    rows = ["| system | add | change | remove | manual |", "| --- | ---: | ---: | ---: | ---: |"]
    rows += [f"| {inert.prose(p)} | {n['add']} | {n['change']} | {n['remove']} | "
             f"{n['manual']} |" for p, n in counts.items()]
    total = {k: sum(n[k] for n in counts.values()) for k in ("add", "change", "remove",
                                                             "manual")}
    rows.append(f"| **total** | **{total['add']}** | **{total['change']}** | "
                f"**{total['remove']}** | **{total['manual']}** |")
    return "\n".join(rows) + "\n\n"


def _impacts(plan: Plan, names: Names) -> Block:
    found = people.impacts(plan, names)
    sections = []
    if found.reporting:
        sections.append(_listing(
            f"Reporting lines that change ({len(found.reporting)})",
            [f"{_person(names, r.person)}: {inert.prose(r.role)} {_who(names, r.old)} → "
             f"{_who(names, r.new)} ({inert.prose(', '.join(r.systems))})"
             for r in found.reporting]))
    for title, rights in (("Rights gained", found.gained), ("Rights lost", found.lost)):
        if rights:
            sections.append(_listing(
                f"{title} ({len(rights)})",
                [f"{_person(names, r.person)}: {inert.prose(r.what)} "
                 f"({inert.prose(r.place)})" for r in rights]))
    return Block("", sections)


def _listing(title: str, items: list[str]) -> Block:
    """A bold title and a bulleted list, the items past FOLD_AFTER folded."""
    shown = [Leaf(f"- {item}\n") for item in items[:FOLD_AFTER]]
    children: list[Leaf | Block] = list(shown)
    if len(items) > FOLD_AFTER:
        children.append(Block(
            f"\n<details><summary>{len(items) - FOLD_AFTER} more</summary>\n\n",
            [Leaf(f"- {item}\n") for item in items[FOLD_AFTER:]], "\n</details>\n"))
    return Block(f"**{title}**\n\n", children, "\n")


def _person(names: Names, key: str, kind: str = "employee") -> str:
    """The name and key of the `kind` (first; "": any) `key` is, or the key alone."""
    subject = names.named(key, kind)
    if subject is None:
        return inert.code(key)
    return f"{inert.prose(subject.name)} ({inert.code(subject.key)})"


def _who(names: Names, key: object) -> str:
    if key is None:
        return "(none)"
    return _person(names, key) if isinstance(key, str) else inert.code(str(key))


# -- changes ----------------------------------------------------------------------------------

def _diff(header: str, changes: list[Change], names: Names, tag: bool,
          provider: bool) -> Block:
    """A header line and a diff block of `changes`, one leaf per change."""
    lines = [change_lines(c, tag=tag, names=names, provider=provider, symbols=SYMBOLS,
                          symbol_each_line=True, wrap=WRAP) for c in changes]
    fence = inert.fence([line for group in lines for line in group])
    return Block(f"{header}{fence}diff\n",
                 [Leaf("\n".join(group) + "\n", 1) for group in lines], f"{fence}\n\n")


def _section(title: str, detail: str, children: list[Leaf | Block], changes: int) -> Block:
    """A titled section, folded into <details> past FOLD_AFTER changes."""
    if changes > FOLD_AFTER:
        return Block(f"<details><summary><b>{inert.html(title)}</b>: {inert.html(detail)}"
                     f"</summary>\n\n", children, "</details>\n\n")
    return Block(f"### {inert.prose(title)} ({inert.prose(detail)})\n\n", children)


def _by_person(plan: Plan, names: Names) -> Block:
    tag = tagged(plan)
    sections: dict[str, list[people.Group]] = {}
    for group in people.by_subject(plan, names):
        kind = group.subject.kind if group.subject else "other"
        title = {"employee": "People", "unit": "Units", "team": "Teams"}.get(kind, "Other")
        sections.setdefault(title, []).append(group)
    out: list[Leaf | Block] = []
    for title, groups in sections.items():
        children: list[Leaf | Block] = []
        for group in groups:
            if group.subject is None:
                header = "**Other**: objects that are no person, unit or team of the " \
                         "configuration\n\n"
            else:
                header = (f"**{inert.prose(group.subject.name)}** "
                          f"({inert.code(group.subject.key)}) — "
                          f"{inert.prose(people.summary(group, names))}\n\n")
            children.append(_diff(header, group.changes, names, tag, provider=True))
        n = sum(len(g.changes) for g in groups)
        counted = "" if title == "Other" else f"{_count(len(groups), SINGULAR[title])}, "
        out.append(_section(title, f"{counted}{_count(n, 'change')}", children, n))
    return Block("", out)


SINGULAR = {"People": "person", "Units": "unit", "Teams": "team"}


def _count(n: int, noun: str) -> str:
    plural = "people" if noun == "person" else f"{noun}s"
    return f"{n} {noun if n == 1 else plural}"


def _by_system(plan: Plan, names: Names) -> Block:
    tag = tagged(plan)
    providers: dict[str, list[Change]] = {}
    for c in plan.changes:
        providers.setdefault(c.provider, []).append(c)
    out: list[Leaf | Block] = []
    for provider, changes in providers.items():
        counts: dict[str, int] = {}
        for c in changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        detail = ", ".join(f"{n} {a}" for a, n in counts.items())
        out.append(_section(provider, detail, [_diff("", changes, names, tag, False)],
                            len(changes)))
    return Block("", out)


# -- findings ---------------------------------------------------------------------------------

def _findings(plan: Plan, names: Names) -> Block:
    out: list[Leaf | Block] = []
    reads = [f for f in plan.findings if f.code == "read"]
    others = [f for f in plan.findings if f.code != "read"]
    for level, title in (("error", "Errors"), ("warning", "Warnings")):
        found = [f for f in others if f.level == level]
        if found:
            out.append(Block(f"### {title} ({len(found)})\n\n",
                             _finding_items(found, names), "\n"))
    notes = [f for f in others if f.level == "info"]
    if notes:
        out.append(Block(f"<details><summary>Notes ({len(notes)})</summary>\n\n",
                         _finding_items(notes, names), "\n</details>\n\n"))
    if reads:  # never folded: they say what the plan could and could not see
        out.append(Block("### How live state was read\n\n",
                         [Leaf(f"- **{inert.prose(f.provider)}**: {inert.prose(f.message)}\n")
                          for f in reads], "\n"))
    return Block("", out)


def _finding_items(findings: list[Finding], names: Names) -> list[Leaf | Block]:
    """One line per finding, a group of findings that say the same thing folded into one
    line with a count and the list of what they concern."""
    items: list[Leaf | Block] = []
    for group in finding_groups(findings):
        if len(group.findings) == 1:
            f = group.findings[0]
            items.append(Leaf(f"- {_address(f, names)}: {inert.prose(f.message)}\n"))
        else:
            items.append(Block(
                f"\n<details><summary>{_group_summary(group)}</summary>\n\n",
                [Leaf(f"- {_address(f, names)}\n") for f in group.findings],
                "\n</details>\n\n"))
    return items


def _group_summary(group: FindingGroup) -> str:
    message = "<i>key</i>".join(inert.html(part) for part in group.template.split(KEY_MARK))
    return (f"<b>{len(group.findings)} ×</b> "
            f"<code>{inert.html(f'{group.provider}.{group.kind}')}</code>: {message}")


def _address(f: Finding, names: Names) -> str:
    subject = names.of(f.key)
    shown = inert.code(f.address)
    return f"{shown} ({inert.prose(subject.name)})" if subject else shown
