"""Files and folders the program writes: private when it creates them, and never a change to
anything it did not create.

* ``ensure_private_dir`` creates missing folders 0700, one level at a time. A folder that
  already exists keeps its owner and mode: a shared 2775 folder stays shared, and ``/tmp`` or
  ``/dev`` are never touched.
* ``check_file_target`` accepts a path we are about to write only when it is a regular file or
  does not exist yet: never a device, a FIFO, a folder or (for a destination the user typed) a
  symbolic link.
* ``create_private_file`` makes a new, empty file 0600. SQLite gives its ``-wal`` and ``-shm``
  files the database file's mode, so creating the database this way keeps all three private
  without touching the process-wide umask.
* ``atomic_write`` writes through a hidden temporary file in the destination folder and renames
  it over the destination. The temporary is locked while it is written; one that a killed
  process left behind (unlocked) is removed by the next ``atomic_write`` into that folder.
* ``WriteBehind`` sends a big file to the disk while it is being written, so the fsync that
  ends the write has little left to wait for.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# ".<name>.pd-<8 hex>.part": hidden, next to the destination, and recognisably ours.
_TEMP_RE = re.compile(r"^\..+\.pd-[0-9a-f]{8}\.part$")
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_ALLOWED = {errno.EACCES, errno.EPERM, errno.EROFS}
WRITE_BEHIND_STEP = 32 << 20  # bytes between two pushes to the disk


class UnsafePathError(OSError):
    """A path the program will not write to (or create a folder at); str() says why."""


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a folder", "a FIFO (named pipe)"...)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents, each 0700. Existing folders are left exactly
    as they are; a path (or parent) that exists but is not a folder raises UnsafePathError."""
    missing: list[Path] = []
    current = path
    while True:
        try:
            info = current.stat()  # follows links: a linked data folder is the user's choice
        except (FileNotFoundError, NotADirectoryError):
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafePathError(f"{current} is {kind_of(info.st_mode)}, not a folder.")
        break
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR_MODE)
        except FileExistsError:
            # Created by someone else a moment ago: not ours, so its mode stays as it is.
            if not folder.is_dir():
                raise UnsafePathError(f"{folder} exists and is not a folder.") from None
    return path


def check_file_target(path: Path, *, follow_symlinks: bool = False) -> None:
    """Raise UnsafePathError unless ``path`` is a regular file or does not exist yet.

    ``follow_symlinks=False`` (destinations a person chose) also refuses a symbolic link:
    renaming over it would replace the link, writing through it would change another file."""
    try:
        info = os.stat(path) if follow_symlinks else os.lstat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise UnsafePathError(f"{path}: a part of that path is not a folder.") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{path} is {kind_of(info.st_mode)}, not a regular file.")


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty and 0600; False when it already exists (it is left as it is)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def describe_write_error(exc: OSError, folder: Path, what: str) -> str:
    """One line for a failed write into ``folder`` (``what``: e.g. "the export folder")."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _NO_SPACE:
        return f"no space left on {what} {folder} ({reason})."
    if exc.errno in _NOT_ALLOWED:
        return f"{what} {folder} cannot be written ({reason})."
    return f"{what} {folder} could not be written ({reason})."


@contextlib.contextmanager
def atomic_write(target: Path) -> Iterator[BinaryIO]:
    """Yield a binary handle whose content replaces ``target`` (0600) only when the block ends
    normally. ``target`` must be a regular file or new (UnsafePathError otherwise); on any
    failure the temporary file is removed and ``target`` is as it was."""
    check_file_target(target)
    folder = target.parent
    remove_stale_temporaries(folder)
    temp = folder / f".{target.name}.pd-{secrets.token_hex(4)}.part"
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
             | getattr(os, "O_NOFOLLOW", 0))
    fd = os.open(temp, flags, PRIVATE_FILE_MODE)
    try:
        _lock(fd)
        with os.fdopen(fd, "wb") as handle:
            fd = -1  # owned by the handle now
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            if sys.platform != "win32":  # rename while still locked (Windows: after close)
                _replace(temp, target)
        if sys.platform == "win32":  # pragma: no cover - Windows only
            _replace(temp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class WriteBehind:
    """``handle``'s writes, with the file pushed towards the disk every ``step`` bytes.

    An export of hundreds of MB otherwise leaves it all to its closing fsync (about 0.1 s per
    180 MB here, once per file, while the user waits). POSIX_FADV_DONTNEED starts write-back
    of the dirty pages without waiting for it, and lets the kernel drop the pages already on
    disk (the file is not read back); a write error still reaches the fsync. Where the call
    does not exist this is a plain write."""

    def __init__(self, handle: BinaryIO, step: int = WRITE_BEHIND_STEP) -> None:
        self._handle = handle
        self._step = step
        self._pending = 0
        self._advise = getattr(os, "posix_fadvise", None)

    def write(self, data: bytes, /) -> int:
        written = self._handle.write(data)
        self._pending += len(data)
        if self._pending >= self._step and self._advise is not None:
            self._pending = 0
            self._handle.flush()
            with contextlib.suppress(OSError):  # only a hint
                self._advise(self._handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        return written


def _replace(temp: Path, target: Path) -> None:
    check_file_target(target)  # again: something may have appeared there meanwhile
    os.replace(temp, target)


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the temporaries of ``atomic_write`` in ``folder`` that no running write holds
    (left by a process that was killed); returns how many. Only regular files named like ours
    and owned by this user are considered."""
    removed = 0
    try:
        entries = [e.name for e in os.scandir(folder) if _TEMP_RE.match(e.name)]
    except OSError:
        return 0
    for name in entries:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or (
                    hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
                continue
            if not _try_lock(fd):
                continue  # a write in progress
            os.unlink(path)  # while holding its lock
            removed += 1
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - an open file cannot be deleted there
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - unlink fails while the file is open
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
