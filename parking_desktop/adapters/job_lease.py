"""Leases that say "a live process is working on this job".

A process holds a job's lease while it runs the job; the operating system or the database
drops it when the process dies. At start-up, a job still marked running whose lease is free was
left behind by a crash, while a job whose lease is held is still running elsewhere (the desktop,
the kiosk and the CLI can share one database).

* SQLite (one machine): an exclusive ``flock``/``msvcrt`` lock on a small file next to the
  exports.
* PostgreSQL (several machines): a session-level advisory lock on a dedicated connection."""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from parking_desktop.files import ensure_private_dir

_NAMESPACE = 0x5044_4558  # 'PDEX': keeps our advisory locks apart from anyone else's


class Lease(Protocol):
    def release(self) -> None: ...


class LeaseBusyError(Exception):
    """Someone else holds the lease."""


def _key(name: str) -> int:
    """A signed 32-bit key for the advisory lock."""
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class _FileLease:
    def __init__(self, path: Path, fd: int) -> None:
        self._path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd < 0:
            return
        # Unlink while still holding the lock, so no one can lock a file that is going away.
        with contextlib.suppress(OSError):
            os.unlink(self._path)
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = -1


class _AdvisoryLease:
    def __init__(self, connection: Connection, key: int) -> None:
        self._connection: Connection | None = connection
        self._key = key

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": _NAMESPACE, "key": self._key}
            )
            self._connection.commit()
        except DBAPIError as exc:
            # The lease's session is gone (a server restart, a failover to a standby): its
            # advisory lock went with it, which is what releasing asks for. The next acquire
            # takes a fresh connection from the pool, on whichever server is primary now.
            if not exc.connection_invalidated and not isinstance(exc, OperationalError):
                raise
        finally:
            with contextlib.suppress(Exception):  # a dead connection: nothing left to close
                self._connection.close()
            self._connection = None


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


class JobLeases:
    """Take and probe leases named after a job id."""

    def __init__(self, engine: Engine, lock_dir: Path) -> None:
        self._engine = engine
        self._lock_dir = lock_dir
        self._advisory = engine.dialect.name == "postgresql"

    def _lock_path(self, name: str) -> Path:
        return self._lock_dir / f".lease-{name}.lock"

    def acquire(self, name: str) -> Lease:
        """Take the lease or raise LeaseBusyError."""
        if self._advisory:
            connection = self._engine.connect()
            try:
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:ns, :key)"),
                    {"ns": _NAMESPACE, "key": _key(name)},
                ).scalar()
                connection.commit()
            except BaseException:
                connection.close()
                raise
            if not got:
                connection.close()
                raise LeaseBusyError(name)
            return _AdvisoryLease(connection, _key(name))
        ensure_private_dir(self._lock_dir)
        path = self._lock_path(name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            raise LeaseBusyError(name)
        return _FileLease(path, fd)

    def is_free(self, name: str) -> bool:
        """True when no live process holds the lease (it is taken and dropped to find out)."""
        if not self._advisory and not self._lock_path(name).exists():
            return True
        try:
            lease = self.acquire(name)
        except LeaseBusyError:
            return False
        lease.release()
        return True
