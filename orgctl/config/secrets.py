"""`${ENV_VAR}` and `${file:PATH}` placeholders in provider blocks, and the rule that
secrets stay secret.

Placeholders are resolved from the environment when the config is loaded. A missing or
empty variable is a config error that names the variable, never a value; resolved values
go only into `ProviderConfig.settings`, and those of secret keys are registered for
redaction (`orgctl.redact`). `$$` writes a literal `$`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from orgctl.files import read_regular

MAX_SECRET_BYTES = 64 * 1024  # a token, a key, a certificate: never more
"""The most a `${file:}` secret may hold; read with no more than that in memory."""

SECRET_KEYS = frozenset({"client_secret", "token", "api_key", "password"})
"""Provider keys holding secrets: the schema requires them as `${ENV_VAR}` and their
resolved values are registered with `orgctl.redact`, so no output ever shows them."""

PRIVATE_KEYS = SECRET_KEYS | {"client_id", "username"}
"""Provider keys whose values no config error message prints."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _read_secret_file(path: str, environ: Mapping[str, str] | None
                      ) -> tuple[str | None, str | None]:
    """`${file:PATH}`: a secret mounted as a file (Docker/Kubernetes secrets, CI files)."""
    if not path.strip():
        return None, "malformed placeholder '${file:}': name the file holding the secret"
    if environ is None:
        return None, None  # validation without secrets: the syntax is all we check
    try:
        raw = read_regular(Path(path).expanduser(), MAX_SECRET_BYTES)
        if len(raw) > MAX_SECRET_BYTES:
            return None, (f"secret file {path} is larger than {MAX_SECRET_BYTES // 1024} KiB: "
                          f"is it the right file?")
        value = raw.decode("utf-8")
    except OSError as exc:
        why = "not a regular file" if "regular" in str(exc) else type(exc).__name__
        return None, f"secret file {path} cannot be read ({why})"
    except UnicodeDecodeError:
        return None, f"secret file {path} is not UTF-8 text"
    value = value[:-1] if value.endswith("\n") else value
    if not value:
        return None, f"secret file {path} is empty"
    return value, None


def has_placeholder(text: str) -> bool:
    return "${" in text


def expand(text: str, environ: Mapping[str, str] | None,
           values: list[str] | None = None) -> tuple[str, list[str]]:
    """`text` with every `${NAME}` replaced from `environ`, and the problems found; each
    value put in is appended to `values` when given (they are secrets wherever they sit).

    With `environ` None only the placeholder syntax is checked and `text` comes back as it
    is (validation without secrets, `validate --no-env`). Problems never contain values.
    """
    out: list[str] = []
    problems: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        nxt = text[j + 1:j + 2]
        if nxt == "$":
            out.append("$")
            i = j + 2
            continue
        if nxt != "{":
            out.append("$")
            i = j + 1
            continue
        end = text.find("}", j + 2)
        if end < 0:
            problems.append(f"unterminated placeholder '{text[j:j + 40]}': close it with '}}'")
            break
        name = text[j + 2:end]
        i = end + 1
        if name.startswith("file:"):
            value, problem = _read_secret_file(name[5:], environ)
            if problem:
                problems.append(problem)
            elif value is not None:
                out.append(value)
                if values is not None:
                    values.append(value)
            continue
        if not _NAME.match(name):
            problems.append(f"malformed placeholder '${{{name}}}': a variable name is "
                            "letters, digits and '_', not starting with a digit")
            continue
        if environ is None:
            continue
        value = environ.get(name)
        if value is None:
            problems.append(f"environment variable {name} is not set")
        elif value == "":
            problems.append(f"environment variable {name} is empty")
        else:
            out.append(value)
            if values is not None:
                values.append(value)
    if environ is None:
        return text, problems
    return "".join(out), problems
