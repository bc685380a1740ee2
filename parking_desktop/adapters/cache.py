"""The machine's cache folder: diskcache holding bytes and integers only — never pickles.

diskcache pickles by default, and unpickling runs code (CVE-2025-69872: whoever can write the
cache folder can run code as the user). ``SafeDisk`` refuses to write or read a pickle, so a
row or file planted in the folder is reported as unsafe and never loaded. On top of that a
folder the program creates is private (0700), its database files are created 0600, and a folder
other users can write to is not used (an existing folder's mode is never changed).

Two stores live side by side: ``data`` (cached values; ``len`` and ``volume`` describe exactly
the cached entries) and ``meta`` (family generations, hit/miss counters, stampede locks and
published timings). Every failure surfaces as ``CacheUnavailable`` so the caller can degrade."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
from diskcache.core import MODE_BINARY, MODE_RAW, UNKNOWN

from parking_desktop.files import create_private_file, ensure_private_dir

DB_FILES = ("cache.db", "cache.db-wal", "cache.db-shm")
DEFAULT_TIMEOUT = 1.0  # seconds to wait for the cache's write lock before giving up on it
DATA_SIZE_LIMIT = 256 * 2**20


class CacheUnavailable(Exception):
    """The cache folder cannot be used right now; str() says why, in plain words."""


class CacheCorrupt(CacheUnavailable):
    """The cache's files are damaged; clearing the cache rebuilds them."""


class UnsafeCacheEntry(Exception):
    """An entry that is not plain bytes (e.g. a planted pickle). It is never loaded."""


class SafeDisk(diskcache.Disk):  # type: ignore[misc]  # diskcache has no type hints
    """A diskcache Disk for str keys and bytes/int values; pickles are refused both ways."""

    def __init__(self, directory: str, min_file_size: int = 2**15, pickle_protocol: int = 0,
                 **_ignored: Any) -> None:
        super().__init__(directory, min_file_size=min_file_size, pickle_protocol=0)

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError("cache keys must be str")
        return key, True

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise UnsafeCacheEntry("a cache key is stored as a pickle")
        return super().get(key, True)

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[Any, ...]:
        if read or type(value) not in (bytes, int):
            raise TypeError("only bytes and integers are stored in the cache")
        return tuple(super().store(value, False, key=key))

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if read or mode not in (MODE_RAW, MODE_BINARY):
            raise UnsafeCacheEntry(f"a cache entry has storage mode {mode}, not plain bytes")
        return super().fetch(mode, filename, value, False)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, diskcache.Timeout):
        return "it is locked by another program"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@contextlib.contextmanager
def _guard(directory: Path) -> Iterator[None]:
    """Turn whatever the folder, SQLite or diskcache throws into CacheUnavailable."""
    try:
        yield
    except (sqlite3.OperationalError, OSError, diskcache.Timeout) as exc:
        raise CacheUnavailable(f"The cache folder {directory} is unusable "
                               f"({_describe(exc)}).") from exc
    except sqlite3.Error as exc:  # DatabaseError: "file is not a database", malformed image
        raise CacheCorrupt(f"The cache in {directory} is damaged ({_describe(exc)}); "
                           "clear the cache to rebuild it.") from exc


@contextlib.contextmanager
def _guard_open(directory: Path) -> Iterator[None]:
    """Opening also reads diskcache's Settings table, which a damaged or planted database
    can fill with values diskcache chokes on (unknown eviction policy, odd types...)."""
    with _guard(directory):
        try:
            yield
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise CacheCorrupt(f"The cache in {directory} is damaged ({_describe(exc)}); "
                               "clear the cache to rebuild it.") from exc


class DiskStore:
    """One diskcache.Cache in ``directory`` with the safe disk."""

    def __init__(self, directory: Path, *, timeout: float = DEFAULT_TIMEOUT,
                 size_limit: int = DATA_SIZE_LIMIT) -> None:
        self.directory = directory
        with _guard_open(directory):
            _check_private(ensure_private_dir(directory))
            # Created 0600 before SQLite opens it: its -wal and -shm files copy that mode.
            create_private_file(directory / DB_FILES[0])
            _check_not_locked(directory, timeout)
            self._cache = diskcache.Cache(
                str(directory), disk=SafeDisk, timeout=timeout, tag_index=True,
                size_limit=size_limit, eviction_policy="least-recently-stored", statistics=0,
            )

    # Reads -----------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None. Raises UnsafeCacheEntry for a non-bytes entry."""
        with _guard(self.directory):
            value = self._cache.get(key)
        if value is None or isinstance(value, bytes):
            return value
        raise UnsafeCacheEntry(f"cache entry {key!r} is not bytes")

    def get_int(self, key: str) -> int:
        """An integer entry (0 when absent). A planted non-integer is deleted, unread."""
        try:
            with _guard(self.directory):
                value = self._cache.get(key, 0)
        except UnsafeCacheEntry:
            self.delete(key)
            return 0
        return value if type(value) is int else 0

    def keys(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``. Read straight from the table so that a planted
        pickled key is skipped rather than unpickled (diskcache's iterator would load it)."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with _guard(self.directory):
            rows = self._cache._sql(
                "SELECT key FROM Cache WHERE raw = 1 AND key LIKE ? ESCAPE '\\'", (pattern,)
            ).fetchall()
        return [k for (k,) in rows if isinstance(k, str)]

    def count(self) -> int:
        with _guard(self.directory):
            return len(self._cache)

    def volume(self) -> int:
        with _guard(self.directory):
            return int(self._cache.volume())

    # Writes ----------------------------------------------------------------------------------
    def set(self, key: str, value: bytes, *, expire: float | None = None,
            tag: str | None = None) -> None:
        with _guard(self.directory):
            self._cache.set(key, value, expire=expire, tag=tag)

    def add(self, key: str, value: bytes, *, expire: float | None = None) -> bool:
        """Store only if absent (atomic across processes): the basis of a lock."""
        with _guard(self.directory):
            return bool(self._cache.add(key, value, expire=expire))

    def delete(self, key: str) -> None:
        with _guard(self.directory):
            self._cache.delete(key)

    def incr(self, key: str, delta: int = 1) -> int:
        with _guard(self.directory), self._cache.transact():
            return self._incr(key, delta)

    def incr_many(self, deltas: dict[str, int]) -> None:
        """Several increments in one transaction (one disk sync instead of many)."""
        with _guard(self.directory), self._cache.transact():
            for key, delta in deltas.items():
                self._incr(key, delta)

    def _incr(self, key: str, delta: int) -> int:
        try:
            return int(self._cache.incr(key, delta))
        except TypeError:  # not an integer (damaged or planted): start the counter again
            self._cache.delete(key)
            return int(self._cache.incr(key, delta))

    def evict(self, *tags: str) -> int:
        """Remove every entry carrying one of ``tags``, in one transaction."""
        with _guard(self.directory), self._cache.transact():
            return sum(int(self._cache.evict(tag)) for tag in tags)

    def clear(self) -> int:
        with _guard(self.directory):
            return int(self._cache.clear())

    def compact(self) -> None:
        """Rewrite the store's database without its free pages and empty its write-ahead log:
        a deleted entry's bytes stay in both until then (an erased driver must not)."""
        with _guard(self.directory):
            self._cache._sql("VACUUM")
            self._cache._sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._cache.close()


class CacheBackend:
    """The cache folder: ``data`` and ``meta`` stores."""

    def __init__(self, directory: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.directory = directory
        with _guard_open(directory):
            _check_private(ensure_private_dir(directory))
        self.data = DiskStore(directory / "data", timeout=timeout)
        try:
            self.meta = DiskStore(directory / "meta", timeout=timeout, size_limit=64 * 2**20)
        except CacheUnavailable:
            self.data.close()
            raise

    def close(self) -> None:
        self.data.close()
        self.meta.close()


def wipe(directory: Path) -> None:
    """Delete what diskcache keeps in ``directory`` (used to rebuild a corrupt cache).
    Only diskcache's own files are touched: cache.db* and its two-hex-digit value folders."""
    with _guard(directory):
        for store in ("data", "meta"):
            folder = directory / store
            if not folder.is_dir():
                continue
            for name in DB_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
            for child in folder.iterdir():
                if child.is_dir() and len(child.name) == 2 and _is_hex(child.name):
                    shutil.rmtree(child)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _check_private(directory: Path) -> None:
    if os.name == "nt":  # ACLs, not mode bits; the folder is under the user's profile
        return
    info = directory.stat()
    if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheUnavailable(
            f"The cache folder {directory} is not private to this user; it will not be used."
        )


def _check_not_locked(directory: Path, timeout: float) -> None:
    """diskcache's own start-up retries a locked database for 60 s; find out sooner."""
    path = directory / DB_FILES[0]
    if not path.exists():
        return
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
    finally:
        con.close()


def inspect_folder(directory: Path) -> str | None:
    """A read-only look at the cache folder (for `health`): None when usable, else the problem
    in plain words. Nothing is created or changed, and no entry is loaded."""
    if not directory.exists():
        return None  # created at the first start
    if not directory.is_dir():
        return f"The cache folder {directory} is not a folder."
    try:
        _check_private(directory)
    except CacheUnavailable as exc:
        return str(exc)
    for store in ("data", "meta"):
        path = directory / store / DB_FILES[0]
        if not path.exists():
            continue
        try:
            con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=DEFAULT_TIMEOUT)
            try:
                verdict = [row[0] for row in con.execute("PRAGMA quick_check").fetchall()]
                (unsafe,) = con.execute(
                    "SELECT count(*) FROM Cache WHERE raw = 0 OR mode NOT IN (?, ?)",
                    (MODE_RAW, MODE_BINARY),
                ).fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            return (f"The cache in {directory} cannot be read ({_describe(exc)}); clear the "
                    "cache to rebuild it.")
        if verdict != ["ok"]:
            return f"The cache in {directory} is damaged; clear the cache to rebuild it."
        if unsafe:
            return (f"The cache in {directory} holds {unsafe} entr{'y' if unsafe == 1 else 'ies'}"
                    " that are not plain data (never loaded); clear the cache.")
    return None
