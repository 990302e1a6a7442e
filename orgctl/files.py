"""Reading and writing files the way a tool run in CI on untrusted checkouts must.

- Reads take regular files only, a bounded number of bytes, and never block: a FIFO or a
  device (`${file:/dev/zero}`, a named pipe in the config directory) is refused, not read
  forever.
- Writes never follow a symlink at the final component (a symlinked `.orgctl/apply.lock`
  or plan file would otherwise truncate whatever it points at) and create files 0600: plan
  files, journals, locks and imported YAML hold names and emails.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from orgctl.errors import OrgctlError


def read_regular(path: Path, limit: int) -> bytes:
    """Up to `limit` + 1 bytes of the regular file at `path` (symlinks followed, as mounted
    secrets are); OSError for anything else (a FIFO, a device, a directory), so the caller
    words it for where the path came from."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """`path` opened for writing text ("w" truncates, "a" appends, "a+" also reads),
    created 0600, refusing a symlink or anything but a regular file at `path`."""
    flags = os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    flags |= {"w": os.O_WRONLY | os.O_TRUNC, "a": os.O_WRONLY | os.O_APPEND,
              "a+": os.O_RDWR | os.O_APPEND}[mode]
    try:
        fd = os.open(path, flags | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if Path(path).is_symlink():
            raise OrgctlError(f"{path} is a symbolic link: orgctl does not write through "
                              f"one (remove it, or write somewhere else)") from None
        raise OrgctlError(f"cannot write {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OrgctlError(f"{path} is not a regular file: orgctl does not write to it")
    os.set_blocking(fd, True)
    return os.fdopen(fd, mode, encoding="utf-8")


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as `open_private` opens it."""
    with open_private(path) as handle:
        handle.write(text)
