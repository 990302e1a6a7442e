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
    together,
)


def test_every_command_keeps_the_secrets_out(served: Served, env: dict[str, str],
                                             tmp_path: Path) -> None:
    org = pointed_config(tmp_path / "org", served.endpoints)
    orgctl = Runner(tmp_path, env)

    _, _, text, _ = together(
        lambda: orgctl("validate", org),
        lambda: orgctl("validate", org, "--no-env"),
        lambda: orgctl("-v", "plan", org, "-o", "plan.json"),
        # Credentials from the endpoints file instead of the environment; JSON log lines.
        lambda: orgctl("-v", "--log-format", "json", "plan", org, "--sandbox",
                       served.endpoints_file, "--format", "markdown", "--detailed-exitcode",
                       code=2),
    )
    assert "GET http://127.0.0.1" in text.stderr  # the HTTP log is on, so it was checked
    together(*(lambda fmt=fmt: orgctl("show", "plan.json", "--format", fmt)
               for fmt in ("text", "json", "markdown")),
             lambda: orgctl("graph", org),
             lambda: orgctl("graph", "--plan", "plan.json"))

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

    def refused(name: str, provider: str) -> None:
        result = orgctl("-v", "plan", org, "--provider", provider, code=1,
                        env={**env, name: WRONG[name]})
        assert "401" in result.stderr, result.stderr

    def missing_variable() -> None:
        missing = {k: v for k, v in env.items() if k != "WORKLEAP_API_KEY"}
        assert "WORKLEAP_API_KEY is not set" in orgctl("validate", org, code=1,
                                                       env=missing).stderr

    def unreachable() -> None:
        closed = {name: "http://127.0.0.1:9" + e["url"].split(":", 2)[2].lstrip("0123456789")
                  for name, e in served.endpoints.items()}
        nowhere = pointed_config(tmp_path / "nowhere", served.endpoints, overrides=closed)
        # Not workelo: an unreachable Workelo is retried once per waiting request (~40 s).
        failed = orgctl("-v", "plan", nowhere, "--provider", "hrms", "--provider", "workleap",
                        "--provider", "worklete", code=1)
        assert "cannot reach http://127.0.0.1:9" in failed.stderr

    def stale() -> None:
        moved = pointed_config(tmp_path / "moved", served.endpoints)
        orgctl("-v", "plan", moved, "-o", "stale.json")
        engineering = moved / "people" / "engineering.yaml"
        engineering.write_text(engineering.read_text().replace("Head of Frontend", "VP"))
        assert "stale plan" in orgctl("-v", "apply", "stale.json", code=1).stderr

    def over_threshold() -> None:
        renamed = pointed_config(tmp_path / "renamed", served.endpoints)
        for people in (renamed / "people").glob("*.yaml"):
            people.write_text(people.read_text().replace("@acme.example", "@acme.io"))
        assert "refused by safety rules" in orgctl("-v", "plan", renamed, code=3).stderr

    def in_clear() -> None:
        config = tmp_path / "in-clear.yaml"
        config.write_text("version: 1\nproviders:\n  workleap:\n    url: https://w.example\n"
                          f"    api_key: {SECRETS['WORKLEAP_API_KEY']}\n")
        assert "never written in the config" in orgctl("validate", config, code=1).stderr

    together(unreachable, stale, over_threshold, missing_variable, in_clear,
             *(lambda n=n, p=p: refused(n, p) for n, p in (
                 ("WORKELO_CLIENT_SECRET", "workelo"), ("HRMS_TOKEN", "hrms"),
                 ("WORKLEAP_API_KEY", "workleap"), ("WORKLETE_PASSWORD", "worklete"))))


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
