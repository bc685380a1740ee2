"""Performance monitoring: how long each service operation takes.

Per operation we keep the exact call count, error count and maximum, and the most recent
``keep`` durations for the median and 95th percentile. Everything is guarded by one lock, so
worker threads can record while the GUI reads a snapshot.

    timings = Timings()
    lots = timed_service(timings, "lots", LotService(ctx))  # every public method, as lots.<name>
    timings.snapshot()                      # [OperationTiming(name, count, median_ms, ...)]
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

DEFAULT_KEEP = 1000


@dataclass(frozen=True)
class OperationTiming:
    name: str
    count: int
    errors: int
    median_ms: float
    p95_ms: float
    max_ms: float
    total_ms: float


class _Series:
    __slots__ = ("count", "errors", "max", "recent", "total")

    def __init__(self, keep: int) -> None:
        self.count = 0
        self.errors = 0
        self.max = 0.0
        self.total = 0.0
        self.recent: deque[float] = deque(maxlen=keep)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    if n == 0:
        return 0.0
    mid = n // 2
    return sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2


class Timings:
    """Thread-safe recorder of operation durations (seconds in, milliseconds out)."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._series: dict[str, _Series] = {}

    def record(self, name: str, seconds: float, *, failed: bool = False) -> None:
        with self._lock:
            series = self._series.get(name)
            if series is None:
                series = self._series[name] = _Series(self.keep)
            series.count += 1
            series.errors += failed
            series.total += seconds
            series.recent.append(seconds)
            if seconds > series.max:
                series.max = seconds

    def wrap(self, name: str, fn: Callable[P, R]) -> Callable[P, R]:
        """``fn`` with every call (including failed ones) recorded under ``name``."""
        clock = time.perf_counter
        record = self.record

        @functools.wraps(fn)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            start = clock()
            failed = True
            try:
                result = fn(*args, **kwargs)
                failed = False
                return result
            finally:
                record(name, clock() - start, failed=failed)

        return timed

    def timed(self, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator form: ``@timings.timed("reports.monthly")`` (default: the qualname)."""
        def decorator(fn: Callable[P, R]) -> Callable[P, R]:
            return self.wrap(name or fn.__qualname__, fn)
        return decorator

    def snapshot(self) -> list[OperationTiming]:
        return summarise(self.export())

    def export(self) -> dict[str, dict[str, Any]]:
        """Raw figures (JSON-friendly) so several processes' timings can be merged."""
        with self._lock:
            return {
                name: {"count": s.count, "errors": s.errors, "max": s.max, "total": s.total,
                       "recent": list(s.recent)}
                for name, s in self._series.items()
            }

    def reset(self) -> None:
        with self._lock:
            self._series.clear()


def summarise(*exports: Mapping[str, Mapping[str, Any]]) -> list[OperationTiming]:
    """Merge exported figures (e.g. from several processes) into one row per operation."""
    merged: dict[str, dict[str, Any]] = {}
    for export in exports:
        for name, figures in export.items():
            row = merged.setdefault(name, {"count": 0, "errors": 0, "max": 0.0, "total": 0.0,
                                           "recent": []})
            row["count"] += int(figures.get("count", 0))
            row["errors"] += int(figures.get("errors", 0))
            row["max"] = max(row["max"], float(figures.get("max", 0.0)))
            row["total"] += float(figures.get("total", 0.0))
            row["recent"].extend(float(v) for v in figures.get("recent", ()))
    out = []
    for name in sorted(merged):
        row = merged[name]
        recent = sorted(row["recent"])
        out.append(OperationTiming(
            name=name, count=row["count"], errors=row["errors"],
            median_ms=median(recent) * 1000, p95_ms=percentile(recent, 0.95) * 1000,
            max_ms=row["max"] * 1000, total_ms=row["total"] * 1000,
        ))
    return out


def public_methods(service: object) -> Iterable[str]:
    for name, member in inspect.getmembers(type(service)):
        if not name.startswith("_") and inspect.isfunction(member):
            yield name


class TimedService:
    """Stands in front of a service: each call of one of its public methods is recorded as
    ``prefix.method``, including failed ones; every other attribute is the service's own.
    The service itself is not changed. Calls it makes to its own methods are part of the outer
    call's figure and are not counted again."""

    def __init__(self, timings: Timings, prefix: str, service: object) -> None:
        object.__setattr__(self, "_service", service)
        object.__setattr__(self, "_methods", frozenset(public_methods(service)))
        for name in self._methods:  # real attributes: no lookup cost per call
            object.__setattr__(self, name, timings.wrap(f"{prefix}.{name}",
                                                        getattr(service, name)))

    def __getattr__(self, name: str) -> Any:  # only for what is not a timed method
        if name in ("_service", "_methods"):  # not set up yet (e.g. a copy being made)
            raise AttributeError(name)
        return getattr(self._service, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._methods:  # replacing a method (tests do): replaces the timed one
            object.__setattr__(self, name, value)
        else:
            setattr(self._service, name, value)

    def __repr__(self) -> str:
        return f"TimedService({self._service!r})"


def timed_service(timings: Timings, prefix: str, service: S) -> S:
    """``service`` behind a ``TimedService``; typed as the service, which it stands in for."""
    return cast(S, TimedService(timings, prefix, service))
