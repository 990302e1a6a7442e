"""Files a run reads and writes cannot be turned against the runner (issue 14 items 8 and
12): `${file:}` reads only a bounded regular file and never blocks; a config directory's
symlink to the outside is not read; plan files, journals, locks and imported YAML are
never written through a symlink and are created 0600."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from orgctl import config
from orgctl.engine.lock import apply_lock, lock_path
from orgctl.engine.plan import Plan
from orgctl.errors import ConfigError, OrgctlError

BLOCK = """version: 1
providers:
  hr:
    type: hrms
    url: https://hr.example/api
    token: "${{file:{path}}}"
    environment: staging
"""


def load_with_secret(tmp_path: Path, secret: Path) -> list[str]:
    (tmp_path / "cfg").mkdir(exist_ok=True)
    (tmp_path / "cfg" / "org.yaml").write_text(BLOCK.format(path=secret), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path / "cfg", environ={})
    return [str(i) for i in caught.value.issues]


def in_time(fn, seconds: float = 5.0):
    """Run `fn` in a thread; fail if it does not return in time (it would hang)."""
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.update(result=_call(fn)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung"
    return box["result"]


def _call(fn):
    try:
        return fn()
    except BaseException as exc:  # noqa: BLE001 - handed back to the test
        return exc


def test_a_secret_file_on_dev_zero_is_refused_not_read_forever(tmp_path: Path) -> None:
    issues = in_time(lambda: load_with_secret(tmp_path, Path("/dev/zero")))
    assert any("secret file /dev/zero cannot be read (not a regular file)" in i
               for i in issues), issues


def test_a_secret_file_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    issues = in_time(lambda: load_with_secret(tmp_path, fifo))
    assert any("not a regular file" in i for i in issues), issues


def test_a_huge_secret_file_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (1 << 20))
    issues = load_with_secret(tmp_path, big)
    assert any("larger than 64 KiB" in i for i in issues), issues


def test_a_secret_file_behind_a_symlink_is_read_as_mounted_secrets_are(
        tmp_path: Path) -> None:
    real = tmp_path / "real-token"
    real.write_text("tok-123\n", encoding="utf-8")
    link = tmp_path / "token"
    link.symlink_to(real)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "org.yaml").write_text(BLOCK.format(path=link), encoding="utf-8")
    org = config.load(tmp_path / "cfg", environ={})
    assert org.providers["hr"].settings["token"] == "tok-123"


def test_a_fifo_in_the_config_directory_does_not_hang_validate(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text("version: 1\n", encoding="utf-8")
    os.mkfifo(tmp_path / "units.yaml")
    result = in_time(lambda: config.load(tmp_path, resolve_env=False))
    assert isinstance(result, ConfigError) and "units.yaml:1:1" in str(result)


def test_a_symlinked_yaml_file_pointing_outside_is_not_read_or_quoted(
        tmp_path: Path) -> None:
    outside = tmp_path / "private.txt"
    outside.write_text("root:SECRET-HASH:0:0\n", encoding="utf-8")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "org.yaml").write_text("version: 1\n", encoding="utf-8")
    (cfg / "units.yaml").symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        config.load(cfg, resolve_env=False)
    assert "symbolic link to a file outside the configuration directory" in str(caught.value)
    assert "SECRET-HASH" not in str(caught.value)


def test_a_plan_file_is_not_written_through_a_symlink_and_is_private(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "plan.json"
    link.symlink_to(victim)
    with pytest.raises(OrgctlError, match="symbolic link"):
        Plan().write(link)
    assert victim.read_text(encoding="utf-8") == "precious\n"
    plain = tmp_path / "plan2.json"
    Plan().write(plain)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600


def test_a_symlinked_apply_lock_does_not_truncate_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    path = lock_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.symlink_to(victim)
    with pytest.raises(OrgctlError, match="symbolic link"):
        with apply_lock(tmp_path):
            pass
    assert victim.read_text(encoding="utf-8") == "precious\n"
