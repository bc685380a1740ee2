"""CacheService: service results cached on the machine's disk, as JSON (docs/cache.md).

Key families and lifetimes (``FAMILY_TTL``): parking lots 5 min, a user's reservations 2 min,
dashboard statistics (manager, per driver) 5 min. Lifetimes are measured on the service
clock: the expiry is stored inside each entry and checked against ``clock.now()``.

Invalidation: after each successful write the service context announces topics ("lots",
"spots", ...); ``on_change`` maps them to families (``TOPIC_FAMILIES``) and deletes those
families at once. The cache lives on disk, so every process on this machine sees it. A value
computed while a write happened is not stored: each family has a generation number, read before
the computation and checked after storing (a concurrent invalidation bumps it).

Stampede protection (dashboard families): callers that miss the same key queue on a lock (a
thread lock inside the process, an atomic ``add`` in the cache across processes); the first
recomputes, the others then read its result.

Degrades, never breaks: if the folder cannot be used, calls run uncached, ``status()`` says
why, and the cache is retried every ``retry_after`` seconds. While it is unusable invalidations
may be lost, so on recovery every family is dropped before anything is served again."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from parking_desktop.adapters.cache import (
    DEFAULT_TIMEOUT,
    CacheBackend,
    CacheCorrupt,
    CacheUnavailable,
    UnsafeCacheEntry,
    wipe,
)
from parking_desktop.domain.clock import Clock
from parking_desktop.domain.errors import DomainError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.cache import codec as cache_codec
from parking_desktop.services.guards import require_manager
from parking_desktop.services.timing import OperationTiming, Timings, summarise
from parking_desktop.services.views import LotView

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

LOTS = "lots"
USER_RESERVATIONS = "user_reservations"
DASHBOARD = "dashboard"
# The dashboard's charts over closed quarter hours: keyed by a sum of the rows they are read
# from (stats.py), so no topic needs to drop them; they age out with their window.
DASHBOARD_HISTORY = "dashboard_history"
DRIVER_STATS = "driver_stats"
RESPONSES = "responses"  # anything cached with the generic cached_response decorator

FAMILY_TTL: dict[str, float] = {
    LOTS: 5 * 60.0,
    USER_RESERVATIONS: 2 * 60.0,
    DASHBOARD: 5 * 60.0,
    DASHBOARD_HISTORY: 15 * 60.0,
    DRIVER_STATS: 5 * 60.0,
    RESPONSES: 5 * 60.0,
}
ALL_FAMILIES = frozenset(FAMILY_TTL)
# What each change topic can make stale. Lot names appear in reservations and summaries;
# spot statuses feed the lot counts and the dashboard; usernames appear in reservation views.
TOPIC_FAMILIES: dict[str, frozenset[str]] = {
    "lots": frozenset({LOTS, USER_RESERVATIONS, DASHBOARD, DRIVER_STATS, RESPONSES}),
    "spots": frozenset({LOTS, DASHBOARD, RESPONSES}),
    "reservations": frozenset({LOTS, USER_RESERVATIONS, DASHBOARD, DRIVER_STATS, RESPONSES}),
    "users": frozenset({USER_RESERVATIONS, DASHBOARD, DRIVER_STATS, RESPONSES}),
    "activity": frozenset(),
}
# Not DASHBOARD_HISTORY: it is read while a dashboard is being filled, under that lock.
STAMPEDE_FAMILIES = frozenset({DASHBOARD, DRIVER_STATS})

LOCK_TTL = 60.0  # a crashed lock holder frees the lock after this long
FLUSH_EVERY = 2.0  # seconds between writes of this process's counters and timings
TIMINGS_TTL = 24 * 3600.0
_STRIPES = 64
DECODED_MEMO = 256  # keys whose last decoded value is kept in memory


@dataclass(frozen=True)
class CacheStatus:
    ok: bool
    message: str
    directory: str


@dataclass(frozen=True)
class CacheInfo:
    directory: str
    ok: bool
    message: str
    entries: int
    size_bytes: int
    hits: int
    misses: int
    uncached: int  # calls served without the cache because it was unusable
    hit_ratio: float  # hits / (hits + misses), 0.0 before any lookup
    sync: str


class Sync(Protocol):
    def status(self) -> tuple[bool, str]: ...
    def stop(self) -> None: ...


def namespace_for(database_url: str, timezone: str) -> str:
    """Keys depend on the database (one data folder may be pointed at another database), the
    site's time zone (dashboards bucket by local day) and the shape of the cached views."""
    url = _without_password(database_url)
    digest = hashlib.sha256(f"{url}|{timezone}".encode()).hexdigest()[:10]
    return f"{cache_codec.fingerprint()}.{digest}:"


def _without_password(database_url: str) -> str:
    """The URL with its password masked (the key must not hold it). Plain ``urllib``: the
    cache is also opened before SQLAlchemy is loaded (``peek.py``)."""
    try:
        parts = urlsplit(database_url)
        if parts.password is None:
            return database_url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:  # an odd URL still gets its own namespace
        return database_url


def lots_key(text: str = "", include_archived: bool = False) -> str:
    """Key of LotService.search(text, include_archived=...) results in the LOTS family."""
    return "search:" + json.dumps([text, bool(include_archived)])


class _Miss:
    pass


MISS: Any = _Miss()


class CacheService:
    """The cache as the rest of the program sees it. Safe to call from any thread."""

    def __init__(
        self,
        directory: Path | None,
        clock: Clock,
        *,
        namespace: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = 10.0,
        lock_wait: float = 30.0,
        timings: Timings | None = None,
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.retry_after = retry_after
        self.lock_wait = lock_wait
        self.timings = timings
        self.instance = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.sync: Sync | None = None
        self._ns = namespace
        self._timeout = timeout
        self._state = threading.RLock()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._counts = {"hits": 0, "misses": 0, "uncached": 0}
        self._next_flush = time.monotonic() + FLUSH_EVERY
        self._warned_unencodable: set[str] = set()
        # Decoding is most of a hit's cost. The disk is still read on every lookup (that is
        # what keeps processes coherent), but bytes identical to the last ones seen for a key
        # are not decoded again; callers get a private copy of the mutable parts.
        self._decoded: dict[str, tuple[bytes, float, Any]] = {}
        self._backend: CacheBackend | None = None
        self._problem: str | None = "The cache is turned off." if directory is None else None
        self._retry_at = float("inf") if directory is None else 0.0
        if directory is not None:
            try:
                self._backend = CacheBackend(directory, timeout=timeout)
            except CacheUnavailable as exc:
                self._fail(exc)

    @classmethod
    def disabled(cls, clock: Clock | None = None) -> CacheService:
        from parking_desktop.domain.clock import SystemClock

        return cls(None, clock or SystemClock())

    # --- reading through the cache ------------------------------------------------------------
    def get_or_compute(
        self, family: str, key: str, compute: Callable[[], R], *, ttl: float | None = None
    ) -> R:
        """The cached value of ``key`` in ``family``, or ``compute()`` (then stored)."""
        backend = self._backend if self._problem is None else self._recover()
        if backend is None:
            self._count("uncached")
            return compute()
        if time.monotonic() >= self._next_flush:
            self._flush(backend)
            if self._problem is not None:  # the flush found the cache unusable
                self._count("uncached")
                return compute()
        full_key = self._ns + family + ":" + key
        value = self._lookup(backend, full_key)
        if value is not MISS:
            self._count("hits")
            return value  # type: ignore[no-any-return]
        ttl = FAMILY_TTL.get(family, FAMILY_TTL[RESPONSES]) if ttl is None else ttl
        if family in STAMPEDE_FAMILIES:
            return self._fill_exclusive(backend, family, full_key, compute, ttl)
        self._count("misses")
        return self._fill(backend, family, full_key, compute, ttl)

    def cached_response(
        self, timeout: float | None = None, *, family: str = RESPONSES,
        key: Callable[..., str | None] | None = None,
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator caching a function's result for ``timeout`` seconds
        (``@cache.cached_response(timeout=...)``). The key is the function's name plus its arguments
        (they must be JSON-encodable views or scalars), or what ``key(*args, **kwargs)``
        returns; a key of None means "do not cache this call"."""
        def decorator(fn: Callable[P, R]) -> Callable[P, R]:
            name = f"{fn.__module__}.{fn.__qualname__}"

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    part = (key(*args, **kwargs) if key is not None
                            else cache_codec.encode([args, kwargs]).decode())
                except cache_codec.CodecError:
                    part = None
                if part is None:
                    return fn(*args, **kwargs)
                return self.get_or_compute(family, f"{name}:{part}",
                                           lambda: fn(*args, **kwargs), ttl=timeout)
            return wrapper
        return decorator

    def full_key(self, family: str, key: str) -> str:
        """The key as stored on disk (namespace, family, key)."""
        return self._ns + family + ":" + key

    # --- explicit operations -----------------------------------------------------------------
    def cache_parking_lots(self, data: list[LotView]) -> None:
        """Store the active-lot list (what LotService.search() returns) for 5 minutes."""
        backend = self._backend if self._problem is None else self._recover()
        if backend is None:
            return
        full_key = self._ns + LOTS + ":" + lots_key()
        generation = self._generation(backend, LOTS)
        if generation is not None:
            self._store(backend, LOTS, full_key, list(data), FAMILY_TTL[LOTS], generation)

    def get_cached_parking_lots(self) -> list[LotView] | None:
        backend = self._backend if self._problem is None else self._recover()
        if backend is None:
            return None
        value = self._lookup(backend, self._ns + LOTS + ":" + lots_key())
        self._count("misses" if value is MISS else "hits")
        return None if value is MISS else list(value)

    # --- invalidation -------------------------------------------------------------------------
    def on_change(self, topics: frozenset[str]) -> None:
        """Listener for ServiceContext.changed: drop what the written topics make stale.
        Unknown topics drop everything (better a recomputation than a stale screen)."""
        families: set[str] = set()
        for topic in topics:
            families |= TOPIC_FAMILIES.get(topic, ALL_FAMILIES)
        if families:
            self.invalidate(families)

    def invalidate(self, families: Iterable[str]) -> None:
        """Drop every entry of ``families`` now. Never raises (listeners must not).
        Tried even while this process considers the cache unusable: other processes on the
        machine may still be reading it (this process drops everything when it recovers)."""
        names = sorted(set(families))
        backend = self._backend
        if backend is None or not names:
            return
        try:
            backend.meta.incr_many({_gen_key(f): 1 for f in names})
            backend.data.evict(*names)
        except Exception as exc:
            self._fail(exc)

    def clear(self, actor: Actor) -> int:
        """Remove every cached entry (hit/miss counters are kept). A damaged cache is
        rebuilt. Returns how many entries were removed."""
        require_manager(actor, "clear the cache")
        if self.directory is None:
            raise DomainError("The cache is turned off; there is nothing to clear.")
        with self._state:
            try:
                if self._backend is None:
                    self._backend = CacheBackend(self.directory, timeout=self._timeout)
                removed = self._backend.data.clear()
                self._backend.meta.incr_many({_gen_key(f): 1 for f in ALL_FAMILIES})
            except CacheCorrupt:
                removed = 0
                self._rebuild()
            except CacheUnavailable as exc:
                self._fail(exc)
                raise DomainError(f"{exc} The cache could not be cleared.") from None
            self._problem = None
        log.info("cache cleared by %s: %d entries", actor.username, removed)
        return removed

    def forget_everything(self) -> None:
        """Drop every entry and compact the store, so no deleted entry's bytes remain on disk
        (after an erasure). Never raises: the erasure is already committed; a cache that
        cannot be compacted now is logged."""
        backend = self._backend
        if backend is None:
            return
        with self._state:
            try:
                backend.data.clear()
                backend.meta.incr_many({_gen_key(f): 1 for f in ALL_FAMILIES})
                backend.data.compact()
            except Exception as exc:
                log.warning("the cache could not be emptied and compacted: %s", exc)
            self._decoded.clear()

    def _rebuild(self) -> None:
        assert self.directory is not None
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        try:
            wipe(self.directory)
            self._backend = CacheBackend(self.directory, timeout=self._timeout)
        except CacheUnavailable as exc:
            self._fail(exc)
            raise DomainError(f"{exc} The cache could not be rebuilt.") from None
        log.warning("the damaged cache in %s was rebuilt", self.directory)

    # --- figures ------------------------------------------------------------------------------
    def status(self) -> CacheStatus:
        """For health checks: is the cache in use, and if not, why."""
        if self._problem is not None:
            self._recover()
        problem = self._problem
        where = str(self.directory or "")
        if problem is None:
            return CacheStatus(True, f"The cache in {where} is working.", where)
        suffix = "" if self.directory is None else " The program works without it meanwhile."
        return CacheStatus(False, problem + suffix, where)

    def sync_status(self) -> tuple[bool, str]:
        if self.sync is None:
            return True, "Not needed (one machine)."
        return self.sync.status()

    def info(self, actor: Actor) -> CacheInfo:
        require_manager(actor, "see the cache figures")
        state = self.status()
        backend = self._backend if state.ok else None
        counts = dict(self._counts)
        entries = size = 0
        if backend is not None:
            try:
                self._flush(backend)
                counts = {name: backend.meta.get_int(_count_key(name)) for name in counts}
                entries, size = backend.data.count(), backend.data.volume()
            except Exception as exc:
                self._fail(exc)
                state = self.status()
        looked_up = counts["hits"] + counts["misses"]
        _, sync = self.sync_status()
        return CacheInfo(
            directory=state.directory, ok=state.ok, message=state.message, entries=entries,
            size_bytes=size, hits=counts["hits"], misses=counts["misses"],
            uncached=counts["uncached"],
            hit_ratio=counts["hits"] / looked_up if looked_up else 0.0, sync=sync,
        )

    def timings_report(self) -> list[OperationTiming]:
        """Timings of every process on this machine that recorded some in the last day
        (this one included); only this process's when the cache is unusable."""
        own = self.timings.export() if self.timings is not None else {}
        backend = self._backend if self._problem is None else None
        if backend is None:
            return summarise(own)
        try:
            self._flush(backend)
            exports = []
            for key in backend.meta.keys("timings:"):
                raw = backend.meta.get(key)
                if raw is not None:
                    exports.append(json.loads(raw))
            return summarise(*exports)
        except (UnsafeCacheEntry, ValueError, TypeError, AttributeError):
            return summarise(own)
        except Exception as exc:
            self._fail(exc)
            return summarise(own)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.stop()
        backend = self._backend
        if backend is not None and self._problem is None:
            self._flush(backend)
        if backend is not None:
            backend.close()

    # --- internals ----------------------------------------------------------------------------
    def _count(self, name: str) -> None:
        with self._state:
            self._counts[name] += 1

    def _lookup(self, backend: CacheBackend, full_key: str) -> Any:
        try:
            raw = backend.data.get(full_key)
            if raw is None:
                return MISS
            memo = self._decoded.get(full_key)
            if memo is not None and memo[0] == raw:  # the very bytes decoded before
                expires, value = memo[1], memo[2]
            else:
                envelope = cache_codec.decode(raw)
                expires, value = envelope["x"], envelope["v"]
                if len(self._decoded) >= DECODED_MEMO:
                    self._decoded.clear()
                self._decoded[full_key] = (raw, expires, value)
        except (UnsafeCacheEntry, cache_codec.CodecError, KeyError, TypeError) as exc:
            log.warning("Discarded a cache entry that is not data we wrote (%s); it was not "
                        "loaded.", exc)
            self._discard(backend, full_key)
            return MISS
        except Exception as exc:
            self._fail(exc)
            return MISS
        if self.clock.now().timestamp() >= expires:
            return MISS
        return cache_codec.private_copy(value)

    def _discard(self, backend: CacheBackend, full_key: str) -> None:
        try:
            backend.data.delete(full_key)
        except Exception as exc:
            self._fail(exc)

    def _generation(self, backend: CacheBackend, family: str) -> int | None:
        try:
            return backend.meta.get_int(_gen_key(family))
        except Exception as exc:
            self._fail(exc)
            return None

    def _fill(self, backend: CacheBackend, family: str, full_key: str,
              compute: Callable[[], R], ttl: float) -> R:
        generation = self._generation(backend, family)
        value = compute()
        if generation is not None and self._problem is None:
            self._store(backend, family, full_key, value, ttl, generation)
        return value

    def _store(self, backend: CacheBackend, family: str, full_key: str, value: Any,
               ttl: float, generation: int) -> None:
        try:
            expires = self.clock.now().timestamp() + ttl
            data = b'{"x":%r,"v":%s}' % (expires, cache_codec.encode(value))
        except cache_codec.CodecError as exc:
            if family not in self._warned_unencodable:
                self._warned_unencodable.add(family)
                log.warning("A %s result cannot be cached (%s); it is served uncached.",
                            family, exc)
            return
        try:
            # diskcache also expires it on the wall clock, so old entries get culled.
            backend.data.set(full_key, data, expire=ttl + 1.0, tag=family)
            if backend.meta.get_int(_gen_key(family)) != generation:
                backend.data.delete(full_key)  # written while we computed: maybe stale
        except Exception as exc:
            self._fail(exc)

    def _fill_exclusive(self, backend: CacheBackend, family: str, full_key: str,
                        compute: Callable[[], R], ttl: float) -> R:
        with self._stripes[hash(full_key) % _STRIPES]:
            value = self._lookup(backend, full_key)
            if value is not MISS:  # another thread of this process just filled it
                self._count("hits")
                return value  # type: ignore[no-any-return]
            lock_key = "lock:" + full_key
            owned = False
            deadline = time.monotonic() + self.lock_wait
            while self._problem is None:
                try:
                    owned = backend.meta.add(lock_key, b"1", expire=LOCK_TTL)
                except Exception as exc:
                    self._fail(exc)
                    break
                if owned:
                    break
                time.sleep(0.005)  # another process is computing it
                value = self._lookup(backend, full_key)
                if value is not MISS:
                    self._count("hits")
                    return value  # type: ignore[no-any-return]
                if time.monotonic() > deadline:
                    log.warning("Waited %.0f s for another process to compute %s; computing "
                                "it here.", self.lock_wait, family)
                    break
            try:
                if owned:
                    value = self._lookup(backend, full_key)
                    if value is not MISS:
                        self._count("hits")
                        return value  # type: ignore[no-any-return]
                self._count("misses")
                return self._fill(backend, family, full_key, compute, ttl)
            finally:
                if owned:
                    try:
                        backend.meta.delete(lock_key)
                    except Exception as exc:
                        self._fail(exc)

    def _flush(self, backend: CacheBackend) -> None:
        """Add this process's counters to the machine's totals; publish its timings."""
        with self._state:
            deltas = {_count_key(n): c for n, c in self._counts.items() if c}
            for name in self._counts:
                self._counts[name] = 0
            self._next_flush = time.monotonic() + FLUSH_EVERY
        try:
            if deltas:
                backend.meta.incr_many(deltas)
            if self.timings is not None:
                export = self.timings.export()
                if export:
                    backend.meta.set("timings:" + self.instance, json.dumps(export).encode(),
                                     expire=TIMINGS_TTL)
        except Exception as exc:
            with self._state:  # keep the figures for the next flush
                for key, count in deltas.items():
                    self._counts[key.removeprefix("count:")] += count
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, CacheUnavailable) else (
            f"The cache failed unexpectedly ({type(exc).__name__}: {exc}).")
        with self._state:
            if self._problem is None:
                if isinstance(exc, CacheUnavailable):
                    log.warning("%s Working without the cache.", message)
                else:
                    log.error("Cache failure; working without the cache.", exc_info=exc)
            self._problem = message
            self._retry_at = time.monotonic() + self.retry_after
            if isinstance(exc, CacheCorrupt) and self._backend is not None:
                self._backend.close()
                self._backend = None

    def _recover(self) -> CacheBackend | None:
        """Try the cache again once ``retry_after`` has passed since the last failure."""
        if time.monotonic() < self._retry_at:
            return None
        with self._state:
            if self._problem is None:
                return self._backend
            if time.monotonic() < self._retry_at or self.directory is None:
                return None
            self._retry_at = time.monotonic() + self.retry_after
            try:
                if self._backend is None:
                    self._backend = CacheBackend(self.directory, timeout=self._timeout)
                # Invalidations were lost while the cache was unusable: start afresh.
                self._backend.meta.incr_many({_gen_key(f): 1 for f in ALL_FAMILIES})
                self._backend.data.evict(*sorted(ALL_FAMILIES))
            except CacheUnavailable as exc:
                self._problem = str(exc)
                if isinstance(exc, CacheCorrupt) and self._backend is not None:
                    self._backend.close()
                    self._backend = None
                return None
            except Exception as exc:
                self._problem = f"The cache failed unexpectedly ({type(exc).__name__}: {exc})."
                return None
            log.warning("The cache in %s works again.", self.directory)
            self._problem = None
            return self._backend


def _gen_key(family: str) -> str:
    return "gen:" + family


def _count_key(name: str) -> str:
    return "count:" + name

