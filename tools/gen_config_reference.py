"""Generate docs/config-reference.md from the JSON Schema of the config.

The schema (`schemas/orgctl.schema.json`, written by tools/gen_schema.py) is the one source
of truth for the config's shape; this page is its readable form, so it is written by this
script, never by hand:

    python tools/gen_config_reference.py           # rewrite docs/config-reference.md
    python tools/gen_config_reference.py --check   # exit 1 when the page is out of date

tests/docs/test_config_reference.py runs the check.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import generated

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "orgctl.schema.json"
OUTPUT = ROOT / "docs" / "config-reference.md"

Schema = dict[str, Any]

# Shared definitions documented once, in "Value types", and linked from every table.
VALUE_TYPES = ("key", "email", "date", "url", "secret", "rate_limit", "thresholds", "selectors")
# Definitions rendered inline as plain words rather than linked.
PLAIN = {"text": "text", "keys": "list of [key](#key)", "names": "list of text"}
# Definitions that have a section of their own: a mapping of them links there.
SECTIONS = {"unit": "units", "team": "teams", "employee": "employees", "provider": "providers",
            "journey": "journeys"}
JSON_TYPES = {"string": "text", "integer": "integer", "number": "number",
              "boolean": "`true` / `false`", "object": "mapping", "array": "list",
              "null": "`null` (clears it)"}


class Reference:
    """The page, built section by section from one schema document."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.defs: dict[str, Schema] = schema["$defs"]
        self.provider_types: list[str] = self.defs["provider"]["properties"]["type"]["enum"]

    # -- types and cells ----------------------------------------------------------------------
    def resolve(self, node: Schema) -> tuple[str | None, Schema]:
        """The definition name a node refers to (if any) and the schema it stands for."""
        ref = node.get("$ref")
        if not ref:
            return None, node
        name = ref.rsplit("/", 1)[-1]
        return name, self.defs[name]

    def type_of(self, node: Schema) -> str:
        name, target = self.resolve(node)
        if name in PLAIN:
            return PLAIN[name]
        if name in SECTIONS:
            return f"[{name}](#{SECTIONS[name]})"
        if name in VALUE_TYPES:
            return f"[{name}](#{name.replace('_', '-')})"
        if "const" in target:
            return f"`{json.dumps(target['const'])}`"
        if "enum" in target:
            return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
        kinds = target.get("type")
        if isinstance(kinds, list):
            if set(kinds) == {"object", "boolean"} and "propertyNames" in target:
                keys = ", ".join(f"`{v}`" for v in target["propertyNames"]["enum"])
                return f"`true` / `false`, or a mapping of kind ({keys}) to `true` / `false`"
            return " or ".join(JSON_TYPES[k] for k in kinds)
        if kinds == "array":
            items = target.get("items", {})
            if "enum" in items:
                return "list of any of " + ", ".join(f"`{v}`" for v in items["enum"])
            return "list of " + self.type_of(items)
        if kinds == "object" and isinstance(target.get("additionalProperties"), dict):
            keys = self.type_of(target["propertyNames"]) if "$ref" in target.get(
                "propertyNames", {}) else "name"
            return f"mapping of {keys} to " + self.type_of(target["additionalProperties"])
        return JSON_TYPES.get(kinds or "", "any")

    def description(self, node: Schema) -> str:
        """The node's own description; a linked value type explains itself in its section."""
        name, target = self.resolve(node)
        text = node.get("description")
        if text is None and name not in VALUE_TYPES:
            text = target.get("description", "")
        notes = []
        for key, label in (("minimum", "at least"), ("exclusiveMinimum", "more than"),
                           ("maximum", "at most")):
            if key in target and target.get("type") in ("integer", "number"):
                notes.append(f"{label} {target[key]}")
        if "pattern" in target and name is None:
            notes.append(f"pattern `{target['pattern']}`")
        if notes:
            text = (text + " " if text else "") + "(" + ", ".join(notes) + ")"
        return (text or "").replace("|", "\\|").replace("\n", " ")

    def nested(self, prop: Schema) -> Schema | None:
        """The fixed-key mapping a property holds, to flatten into dotted rows; else None."""
        name, target = self.resolve(prop)
        fixed = "properties" in target and target.get("additionalProperties") is False
        return target if fixed and name not in VALUE_TYPES else None

    def rows(self, node: Schema, prefix: str = "") -> list[tuple[str, Schema, bool]]:
        """(dotted name, schema, required) for each property, nested mappings flattened."""
        out = []
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            out.append((prefix + name, prop, name in required))
            inner = self.nested(prop)
            if inner is not None:
                out.extend(self.rows(inner, prefix + name + "."))
        return out

    def table(self, node: Schema, prefix: str = "") -> list[str]:
        lines = ["| key | type | required | default | description |", "|---|---|---|---|---|"]
        for name, prop, required in self.rows(node, prefix):
            _, target = self.resolve(prop)
            kind = "mapping (keys below)" if self.nested(prop) is not None else self.type_of(prop)
            default = prop.get("default", target.get("default"))
            shown = "" if default is None else f"`{json.dumps(default)}`"
            lines.append(f"| `{name}` | {kind} | {'yes' if required else ''} | {shown} | "
                         f"{self.description(prop)} |")
        return lines

    # -- sections ------------------------------------------------------------------------------
    def page(self) -> str:
        top = self.schema["properties"]
        out = [
            "# Configuration reference",
            "",
            "<!-- Generated from schemas/orgctl.schema.json by tools/gen_config_reference.py."
            " Do not edit: change orgctl/schema/core.schema.json or a provider's schema.json,"
            " then run tools/gen_schema.py and tools/gen_config_reference.py. -->",
            "",
            f"{self.schema['description']}",
            "",
            "Every file may start with the line below, so editors with a YAML language server "
            "complete and check it as you type (adjust the relative path):",
            "",
            "```yaml",
            "# yaml-language-server: $schema=../schemas/orgctl.schema.json",
            "```",
            "",
            "`orgctl validate PATH` checks everything this page describes, and more (references, "
            "cycles, duplicates), and reports every problem with its file, line and column. "
            "Unknown keys are errors everywhere.",
            "",
            "## Top level",
            "",
            *self.table(self.schema),
            "",
            "## providers",
            "",
            top["providers"]["description"] + " An instance named after a system "
            f"({', '.join(f'`{t}`' for t in self.provider_types)}) needs no `type`; any other "
            "name needs one, for example two Workleap tenants `workleap-eu` and `workleap-us`, "
            "each with `type: workleap`.",
            "",
            "Secrets (`client_secret`, `token`, `api_key`, `password`) must be written as "
            "`${ENV_VAR}`; every value read from the environment is redacted from all output. "
            "See [safety](safety.md) for what `prune`, `ignore`, `protected` and `thresholds` "
            "do, and the provider pages for what each system supports.",
            "",
        ]
        for name in self.provider_types:
            node = self.defs[name]
            out += [f"### providers.{name}", "", node["description"] + f" See [the {name} "
                    f"provider](providers/{name}.md).", "", *self.table(node), ""]
        for section in ("units", "teams", "employees"):
            item = top[section]["additionalProperties"]
            _, node = self.resolve(item)
            out += [f"## {section}", "", top[section]["description"] + f" Each entry is "
                    f"`{section}.<key>`, where the key is a [key](#key).", "",
                    node["description"], "", *self.table(node), ""]
        journey_list = self.defs["employee"]["properties"]["journeys"]
        _, journey = self.resolve(journey_list["items"])
        out += ["### journeys", "", f"Each item of `employees.<key>.journeys`. "
                f"{journey['description']}", "", *self.table(journey), ""]
        out += ["## Value types", ""]
        for name in VALUE_TYPES:
            node = self.defs[name]
            out += [f"### {name}", ""]
            if node.get("description"):
                out += [node["description"], ""]
            if "pattern" in node:
                out += [f"Pattern: `{node['pattern']}`.", ""]
            if node.get("properties"):
                out += self.table(node) + [""]
            elif node.get("items", {}).get("properties"):
                out += ["A list of rules, each a mapping of:", "", *self.table(node["items"]),
                        ""]
        return "\n".join(out).rstrip("\n") + "\n"


def render(schema_path: Path = SCHEMA) -> str:
    return Reference(json.loads(schema_path.read_text(encoding="utf-8"))).page()


def main(argv: list[str] | None = None) -> int:
    return generated.main(argv, description=__doc__.splitlines()[0], output=OUTPUT,
                          render=render,
                          check_help="exit 1 if the committed page differs from the schema's")


if __name__ == "__main__":
    sys.exit(main())
