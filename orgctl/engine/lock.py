"""The local apply lock: two applies against the same organisation cannot interleave.

The lock is an flock on `.orgctl/apply.lock` beside the configuration, held for the whole
apply and released by the kernel if the process dies. In CI, where runs do not share a
disk, the stale-plan check does this job (see docs/ci.md).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orgctl.errors import SafetyError
from orgctl.files import open_private


def lock_path(config_path: Path) -> Path:
    base = config_path if config_path.is_dir() else config_path.parent
    return base / ".orgctl" / "apply.lock"


@contextmanager
def apply_lock(config_path: Path) -> Iterator[Path]:
    path = lock_path(config_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open_private(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise SafetyError(f"another apply holds the lock {path} ({holder}); wait for it to "
                          f"finish, or remove the lock only if no apply is running") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield path
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
