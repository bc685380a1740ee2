#!/usr/bin/env python3
"""Cache benchmark: dashboard statistics and the lot list, uncached against
cached through the machine's disk cache, and the same value through Redis when a server is
reachable — all in one run, on one data set.

Make a data set of about a million reservations first, then run:

    python main.py --data-dir /tmp/bench demo --drivers 10000 --days 365
    python scripts/cache_performance_test.py --data-dir /tmp/bench

It prints medians and 95th percentiles, and ratios against the uncached reference measured in
the same run. Aim: a cached dashboard read under 200 µs median and at least 500x faster than
uncached. It never fails on time (exit 0 whatever the figures); exit 2 when there is no data.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from parking_desktop.adapters.db.engine import describe_url
from parking_desktop.adapters.db.models import Reservation
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.cache import codec as cache_codec
from parking_desktop.services.cache.caching import DASHBOARD, LOTS
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.stats import StatsService

try:  # optional: only for the comparison
    import redis
except ImportError:  # pragma: no cover
    redis = None

AIM_MEDIAN_US = 200.0
AIM_SPEEDUP = 500.0


def measure(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[float]:
    """Durations in seconds of ``runs`` calls (after ``warmup`` unmeasured ones)."""
    for _ in range(warmup):
        fn()
    gc.collect()
    durations = []
    clock = time.perf_counter
    for _ in range(runs):
        start = clock()
        fn()
        durations.append(clock() - start)
    return durations


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]


def show(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.3f} s "


def row(label: str, durations: list[float] | None, reference: float | None = None) -> str:
    if not durations:
        return f"  {label:<44} {'—':>11} {'—':>11}"
    median = statistics.median(durations)
    ratio = f"{reference / median:>12,.0f}x" if reference else ""
    return f"  {label:<44} {show(median)} {show(p95(durations))} {ratio}"


def connect_redis(url: str) -> Any:
    if redis is None:
        return None, "the redis package is not installed (pip install redis)"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:
        return None, f"no Redis server at {url} ({exc})"
    return client, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="data folder (demo data)")
    parser.add_argument("--db", help="database URL (default: the folder's SQLite file)")
    parser.add_argument("--uncached-runs", type=int, default=15)
    parser.add_argument("--cached-runs", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15",
                        help="Redis URL for the comparison (database 15 is used and cleaned)")
    args = parser.parse_args(argv)

    settings = load_settings(data_dir=args.data_dir, database_url=args.db)
    app = build_app(settings)
    try:
        with app.db.read() as session:
            reservations = session.scalar(select(func.count(Reservation.id))) or 0
        if not reservations:
            print(f"No reservations in {describe_url(settings.database_url)}: create a data set "
                  f"first, e.g.\n  python main.py --data-dir {args.data_dir} demo "
                  "--drivers 10000 --days 365")
            return 2
        print(f"Data: {reservations:,} reservations, {len(app.lots.search())} lots in "
              f"{describe_url(settings.database_url)}")
        print(f"Cache: {settings.cache_dir} (status: {app.cache.status().message})")
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; the machine may be "
              "shared, so compare ratios within this run.\n")

        plain_stats, plain_lots = StatsService(app.ctx), LotService(app.ctx)
        results: dict[str, dict[str, list[float] | None]] = {}
        values: dict[str, Any] = {}
        cases: list[tuple[str, str, Callable[[], Any], Callable[[], Any]]] = [
            ("dashboard statistics", DASHBOARD, lambda: plain_stats.dashboard(SYSTEM),
             lambda: app.stats.dashboard(SYSTEM)),
            ("lot list", LOTS, lambda: plain_lots.search(), lambda: app.lots.search()),
        ]
        client, why_not = connect_redis(args.redis)
        for name, family, uncached, cached in cases:
            print(f"Measuring {name}...", flush=True)
            figures: dict[str, list[float] | None] = {}
            figures["uncached"] = measure(uncached, args.uncached_runs)
            app.cache.clear(SYSTEM)
            values[name] = cached()  # fills the cache
            figures["cached"] = measure(cached, args.cached_runs, warmup=50)
            # The same read without the in-process memo of decoded bytes: disk read + decode.
            backend = app.cache._backend  # the benchmark looks behind the service on purpose
            stored = backend.data.keys(app.cache.full_key(family, "")) if backend else []
            figures["no_memo"] = None
            if backend is not None and stored:
                get, key = backend.data.get, stored[0]
                figures["no_memo"] = measure(
                    lambda get=get, key=key: cache_codec.decode(get(key)), args.cached_runs,
                    warmup=50)
            figures["redis_json"] = figures["redis_pickle"] = None
            if client is not None:
                key = f"parking-bench:{name}"
                data = cache_codec.encode(values[name])
                client.set(key, data, ex=300)
                figures["redis_json"] = measure(
                    lambda key=key: cache_codec.decode(client.get(key)), args.cached_runs,
                    warmup=50)
                pickled = pickle.dumps(values[name])  # what a Flask-Caching + Redis setup stores
                client.set(key + ":pickle", pickled, ex=300)
                figures["redis_pickle"] = measure(
                    lambda key=key: pickle.loads(client.get(key + ":pickle")),
                    args.cached_runs, warmup=50)
                client.delete(key, key + ":pickle")
            results[name] = figures

        topics = frozenset({"spots", "reservations", "lots", "users", "activity"})
        invalidation = measure(lambda: app.cache.on_change(topics), 200, warmup=5)

        print(f"\n  {'':<44} {'median':>11} {'95th pct':>11} {'vs uncached':>13}")
        for name, figures in results.items():
            reference = statistics.median(figures["uncached"] or [0.0])
            size = len(cache_codec.encode(values[name]))
            print(f"{name} ({size:,} bytes as JSON)")
            print(row("uncached (database)", figures["uncached"]))
            print(row("cached (diskcache, JSON, through the wrapper)", figures["cached"],
                      reference))
            print(row("diskcache GET + JSON decode (no memo)", figures["no_memo"], reference))
            if client is not None:
                print(row("Redis GET + same JSON decode", figures["redis_json"], reference))
                print(row("Redis GET + pickle.loads (Flask-Caching)", figures["redis_pickle"],
                          reference))
        if client is None:
            print(f"  (Redis comparison skipped: {why_not})")
        print(row("invalidation after a write (all families)", invalidation))

        dashboard = results["dashboard statistics"]
        cached_median = statistics.median(dashboard["cached"] or [0.0]) * 1e6
        speedup = statistics.median(dashboard["uncached"] or [0.0]) * 1e6 / cached_median
        print(f"\nAim: cached dashboard median {cached_median:.0f} µs "
              f"(< {AIM_MEDIAN_US:.0f} µs: {'met' if cached_median < AIM_MEDIAN_US else 'NOT met'})"
              f", {speedup:,.0f}x faster than uncached "
              f"(>= {AIM_SPEEDUP:.0f}x: {'met' if speedup >= AIM_SPEEDUP else 'NOT met'}).")
        return 0
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
