"""The engine knows no system: adding a fifth HR system is one folder under
`orgctl/providers/` and one registry line, nothing in the engine, the CLI, the command layer
or the model (issue 12, "Must show").

Checked modules: everything under `orgctl/engine/`, `orgctl/render/` and
`orgctl/config/`, and `orgctl/cli.py`, `commands.py`, `model.py`, `resources.py`,
`inert.py`, `files.py`. Each must not

- import a provider package (`orgctl.providers.<system>` or anything in it, however
  written: `import`, `from … import`, relative). The registry (`orgctl.providers`) and the
  shared plumbing beside the packages (`base`, `http`, `importing`, …) are allowed;
- name a system: the name of a provider package, in any case, anywhere in the source,
  comments and docstrings included. A comment or help text that names a system is the
  engine knowing about it too, and goes stale when a fifth system arrives; say "a provider",
  "the source of truth", or ask the registry.

The systems are the provider packages on disk (`orgctl/providers/<system>/__init__.py`), so a
new one is covered without editing this test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORGCTL = ROOT / "orgctl"
PROVIDERS = "orgctl.providers"
SYSTEMS = sorted(p.parent.name for p in (ORGCTL / "providers").glob("*/__init__.py"))
CHECKED = sorted([*(ORGCTL / "engine").rglob("*.py"), *(ORGCTL / "render").rglob("*.py"),
                  *(ORGCTL / "config").rglob("*.py"),
                  *(ORGCTL / name for name in ("cli.py", "commands.py", "model.py",
                                               "inert.py", "files.py", "resources.py")
                    if (ORGCTL / name).exists())])


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every module an `import` in `path` brings in; for `from X
    import a`, both X and X.a (a may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else (
        module_name(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_provider_package(name: str) -> bool:
    return any(name == f"{PROVIDERS}.{s}" or name.startswith(f"{PROVIDERS}.{s}.")
               for s in SYSTEMS)


def test_the_systems_are_found() -> None:
    assert {"workelo", "hrms", "workleap", "worklete"} <= set(SYSTEMS)
    assert any(p.parent.name == "engine" for p in CHECKED) and ORGCTL / "cli.py" in CHECKED


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_no_provider_package(path: Path) -> None:
    offending = sorted({f"line {line}: {name}" for line, name in imported(path)
                        if is_provider_package(name)})
    assert not offending, (f"{path.relative_to(ROOT)} imports a provider package; go "
                           f"through the registry ({PROVIDERS}) and the Provider contract:\n"
                           + "\n".join(offending))


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_names_no_system(path: Path) -> None:
    system = re.compile("|".join(map(re.escape, SYSTEMS)), re.IGNORECASE)
    lines = path.read_text(encoding="utf-8").splitlines()
    offending = [f"line {n}: {line.strip()}" for n, line in enumerate(lines, 1)
                 if system.search(line)]
    assert not offending, (f"{path.relative_to(ROOT)} names a system "
                           f"({', '.join(SYSTEMS)}):\n" + "\n".join(offending))
