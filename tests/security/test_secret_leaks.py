"""Issue #6: with known secret values in the environment, no command shows them — not on
stdout or stderr (with `-v` HTTP logging and JSON logs), not in plan files or journals, not
in error messages when credentials are wrong or a system is unreachable, not in the output
of `sandbox serve`."""

from __future__ import annotations

from pathlib import Path

from tests.security.conftest import (
    IDENTITIES,
    SECRETS,
    WRONG,
    Runner,
    Served,
    assert_files_clean,
    base_env,
    pointed_config,
    serve,
)


def test_every_command_keeps_the_secrets_out(served: Served, env: dict[str, str],
                                             tmp_path: Path) -> None:
    org = pointed_config(tmp_path / "org", served.endpoints)
    orgctl = Runner(tmp_path, env)

    orgctl("validate", org)
    orgctl("validate", org, "--no-env")
    text = orgctl("-v", "plan", org, "-o", "plan.json")
    assert "GET http://127.0.0.1" in text.stderr  # the HTTP log is on, so it was checked
    # Credentials from the endpoints file instead of the environment; JSON log lines.
    orgctl("-v", "--log-format", "json", "plan", org, "--sandbox", served.endpoints_file,
           "--format", "markdown", "--detailed-exitcode", code=2)
    for fmt in ("text", "json", "markdown"):
        orgctl("show", "plan.json", "--format", fmt)
    orgctl("graph", org)
    orgctl("graph", "--plan", "plan.json")

    applied = orgctl("-v", "apply", "plan.json", "--journal", "journal.jsonl")
    assert "applied" in applied.stdout
    orgctl("-v", "--log-format", "json", "apply", org, "--auto-approve")
    orgctl("-v", "plan", org, "--detailed-exitcode")

    checked = assert_files_clean(tmp_path / "plan.json", tmp_path / "journal.jsonl",
                                 org / ".orgctl")
    assert checked >= 3, "the plan file and the journal were written and checked"


def test_error_paths_keep_the_secrets_out(served: Served, env: dict[str, str],
                                          tmp_path: Path) -> None:
    org = pointed_config(tmp_path / "org", served.endpoints)
    orgctl = Runner(tmp_path, env)

    for name, provider in (("WORKELO_CLIENT_SECRET", "workelo"), ("HRMS_TOKEN", "hrms"),
                           ("WORKLEAP_API_KEY", "workleap"), ("WORKLETE_PASSWORD", "worklete")):
        refused = orgctl("-v", "plan", org, "--provider", provider, code=1,
                         env={**env, name: WRONG[name]})
        assert "401" in refused.stderr, refused.stderr

    missing = {k: v for k, v in env.items() if k != "WORKLEAP_API_KEY"}
    assert "WORKLEAP_API_KEY is not set" in orgctl("validate", org, code=1, env=missing).stderr

    orgctl("-v", "plan", org, "-o", "plan.json")
    engineering = org / "people" / "engineering.yaml"
    engineering.write_text(engineering.read_text().replace("Head of Frontend", "VP Frontend"))
    stale = orgctl("-v", "apply", "plan.json", code=1)
    assert "stale plan" in stale.stderr

    for people in (org / "people").glob("*.yaml"):
        people.write_text(people.read_text().replace("@acme.example", "@acme.io"))
    assert "refused by safety rules" in orgctl("-v", "plan", org, code=3).stderr

    in_clear = tmp_path / "in-clear.yaml"
    in_clear.write_text("version: 1\nproviders:\n  workleap:\n    url: https://w.example\n"
                        f"    api_key: {SECRETS['WORKLEAP_API_KEY']}\n")
    assert "never written in the config" in orgctl("validate", in_clear, code=1).stderr


def test_an_unreachable_system_keeps_the_secrets_out(served: Served, env: dict[str, str],
                                                     tmp_path: Path) -> None:
    closed = {name: "http://127.0.0.1:9" + e["url"].split(":", 2)[2].lstrip("0123456789")
              for name, e in served.endpoints.items()}
    org = pointed_config(tmp_path / "org", served.endpoints, overrides=closed)
    # Not workelo: an unreachable Workelo is retried once per waiting request (~40 s).
    failed = Runner(tmp_path, env)("-v", "plan", org, "--provider", "hrms", "--provider",
                                   "workleap", "--provider", "worklete", code=1)
    assert "cannot reach http://127.0.0.1:9" in failed.stderr


def test_sandbox_serve_and_a_faulty_apply_keep_the_secrets_out(tmp_path: Path) -> None:
    faulty = serve(tmp_path, "--faults", "5xx=0.15,429=0.05,drop=0.05,commit_fail=0.05,seed=3")
    try:
        org = pointed_config(tmp_path / "org", faulty.endpoints)
        orgctl = Runner(tmp_path, base_env(**SECRETS, **IDENTITIES))
        orgctl("-v", "apply", org, "--auto-approve", "--journal", "journal.jsonl", code=(0, 1))
        assert_files_clean(tmp_path / "journal.jsonl")
    finally:
        output = faulty.stop()
    assert "endpoints and throw-away credentials" in output
    for value in SECRETS.values():
        assert value not in output, "sandbox serve printed a credential"
