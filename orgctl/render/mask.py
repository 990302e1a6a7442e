"""A plan with its personal data masked, for output that leaves the organisation's hands
(a pull-request comment, a CI log): names become initials, emails lose the part before
the @, and fields that hold a person's name, email, phone, birth date or address are
masked. The plan file keeps every detail; its checksum is the one shown.

What is masked is recognised without knowing any system: the names of the people the plan
concerns (its table of subjects), fields by their name (`first_name`, `email`...; a field
`name` when the change concerns a person), and any text shaped like an email; the message of
a note about a live object the configuration does not know is not shown at all (it may quote
a name). Employee keys, job titles, units, roles and dates stay: they are what a reviewer
checks.
"""

from __future__ import annotations

import dataclasses
import re
from itertools import pairwise
from typing import Any

from orgctl.engine.plan import Plan
from orgctl.engine.subjects import Subject, concerned
from orgctl.resources import Change, Finding

__all__ = ["masked"]

HIDDEN = "•••"
EMAIL = re.compile(r"[\w.+'-]+@([\w-]+(?:\.[\w-]+)+)")
NAME_FIELD = re.compile(r"^((first|last|middle|given|family|full|display|preferred|legal|"
                        r"nick|user)_?name|name)$")
PERSONAL_FIELD = re.compile(r"e?mail|phone|mobile|birth|address")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


def masked(plan: Plan) -> Plan:
    """A copy of `plan` with personal data masked."""
    names = _Names(plan.subjects)
    subjects = {sid: dataclasses.replace(s, name=initials(s.name)) if s.kind == "employee"
                else s for sid, s in plan.subjects.items()}
    changes = [_change(c, names, concerns_person=_person(c.key, plan.subjects))
               for c in plan.changes]
    findings = [dataclasses.replace(f, key=email(f.key), message=_message(f, names, plan))
                for f in plan.findings]
    refusals = [dataclasses.replace(r, scope=email(r.scope), message=names.text(r.message))
                for r in plan.refusals]
    return dataclasses.replace(plan, subjects=subjects, changes=changes,
                               findings=findings, refusals=refusals)


UNSHOWN = "not shown with --mask-personal-data (the plan file has it)"


def _message(f: Finding, names: _Names, plan: Plan) -> str:
    # A note about a live object the configuration does not know may quote whatever the
    # system holds about it (a person's name): nothing here can tell a name from the rest.
    if f.level == "info" and f.code != "read" and concerned(f.key, plan.subjects) is None:
        return UNSHOWN
    return names.text(f.message)


def initials(name: str) -> str:
    """"Lina Bouvier" -> "L. B."."""
    return " ".join(f"{word[0]}." for word in name.split()) or HIDDEN


def email(text: str) -> str:
    """Every email in `text` without its local part: "•••@acme.example"."""
    return EMAIL.sub(lambda m: f"{HIDDEN}@{m.group(1)}", text)


def _person(key: str, subjects: dict[str, Subject]) -> bool:
    sid = concerned(key, subjects)
    return sid is not None and sid.startswith("employee:")


class _Names:
    """Full names of the people the plan names, found in free text word by word."""

    def __init__(self, subjects: dict[str, Subject]) -> None:
        self.full = {s.name.casefold() for s in subjects.values()
                     if s.kind == "employee" and len(s.name.split()) > 1}
        self.longest = max((len(n.split()) for n in self.full), default=0)

    def text(self, text: str) -> str:
        text = email(text)
        if not self.full:
            return text
        words = list(WORD.finditer(text))
        out, start, i = [], 0, 0
        while i < len(words):
            for n in range(min(self.longest, len(words) - i), 1, -1):
                span = words[i:i + n]
                if " ".join(w.group() for w in span).casefold() in self.full and all(
                        text[a.end():b.start()] == " " for a, b in pairwise(span)):
                    out += [text[start:span[0].start()],
                            initials(text[span[0].start():span[-1].end()])]
                    start, i = span[-1].end(), i + n
                    break
            else:
                i += 1
        out.append(text[start:])
        return "".join(out)


def _change(c: Change, names: _Names, concerns_person: bool) -> Change:
    def attrs(values: dict[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {k: _value(v, k, names, concerns_person) for k, v in values.items()}

    return dataclasses.replace(
        c, key=email(c.key), before=attrs(c.before), after=attrs(c.after),
        fields={k: [_value(v, k, names, concerns_person) for v in pair]
                for k, pair in c.fields.items()},
        reason=names.text(c.reason))


def _value(v: Any, name: str, names: _Names, concerns_person: bool) -> Any:
    last = name.rsplit(".", 1)[-1].lower()
    if isinstance(v, dict):
        return {k: _value(item, f"{name}.{k}", names, concerns_person)
                for k, item in v.items()}
    if isinstance(v, list):
        return [_value(item, name, names, concerns_person) for item in v]
    if not isinstance(v, str) or not v:
        return v
    if NAME_FIELD.search(last) and (last != "name" or concerns_person):
        return initials(v)
    if PERSONAL_FIELD.search(last):
        return email(v) if EMAIL.fullmatch(v) else HIDDEN
    return names.text(v)
