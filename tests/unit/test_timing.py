"""Performance monitoring: count, median, 95th percentile and maximum per operation."""

from __future__ import annotations

import threading

import pytest

from parking_desktop.services.timing import (
    Timings,
    median,
    percentile,
    summarise,
    timed_service,
)


def test_figures_per_operation() -> None:
    timings = Timings()
    for ms in range(1, 101):  # 1 ms .. 100 ms
        timings.record("lots.search", ms / 1000)
    timings.record("stats.dashboard", 0.250)

    rows = {row.name: row for row in timings.snapshot()}
    lots = rows["lots.search"]
    assert lots.count == 100
    assert lots.median_ms == pytest.approx(50.5)
    assert lots.p95_ms == pytest.approx(95.0)
    assert lots.max_ms == pytest.approx(100.0)
    assert lots.total_ms == pytest.approx(5050.0)
    assert rows["stats.dashboard"].count == 1
    assert rows["stats.dashboard"].p95_ms == pytest.approx(250.0)


def test_percentile_and_median_edges() -> None:
    assert percentile([], 0.95) == 0.0
    assert median([]) == 0.0
    assert percentile([3.0], 0.95) == 3.0
    assert median([1.0, 2.0, 10.0]) == 2.0
    values = sorted(float(v) for v in range(1, 21))  # 20 values: the 19th is the 95th pct
    assert percentile(values, 0.95) == 19.0


def test_only_recent_samples_feed_the_percentiles_but_count_and_max_are_exact() -> None:
    timings = Timings(keep=10)
    timings.record("op", 5.0)  # an old outlier
    for _ in range(10):
        timings.record("op", 0.001)
    (row,) = timings.snapshot()
    assert row.count == 11
    assert row.max_ms == pytest.approx(5000.0)
    assert row.p95_ms == pytest.approx(1.0)


def test_wrapped_calls_are_timed_including_failures() -> None:
    timings = Timings()

    @timings.timed("svc.ok")
    def ok(x: int) -> int:
        return x * 2

    def boom() -> None:
        raise ValueError("no")

    failing = timings.wrap("svc.boom", boom)
    assert ok(21) == 42
    with pytest.raises(ValueError, match="no"):
        failing()
    rows = {row.name: row for row in timings.snapshot()}
    assert (rows["svc.ok"].count, rows["svc.ok"].errors) == (1, 0)
    assert (rows["svc.boom"].count, rows["svc.boom"].errors) == (1, 1)
    assert ok.__name__ == "ok"  # functools.wraps keeps the identity for logs


def test_recording_from_many_threads_loses_nothing() -> None:
    timings = Timings(keep=100_000)
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for i in range(2000):
            timings.record("op", i / 1e6)
            if i % 500 == 0:
                timings.snapshot()  # readers run concurrently with writers

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (row,) = timings.snapshot()
    assert row.count == 16_000
    assert row.max_ms == pytest.approx(1999 / 1000)


def test_exports_from_several_processes_merge() -> None:
    a, b = Timings(), Timings()
    for _ in range(3):
        a.record("lots.search", 0.002)
    b.record("lots.search", 0.010)
    b.record("stats.dashboard", 0.100)
    rows = {row.name: row for row in summarise(a.export(), b.export())}
    assert rows["lots.search"].count == 4
    assert rows["lots.search"].median_ms == pytest.approx(2.0)
    assert rows["lots.search"].max_ms == pytest.approx(10.0)
    assert rows["stats.dashboard"].count == 1


class _Service:
    def __init__(self) -> None:
        self.calls = 0

    def public(self, value: int) -> int:
        self.calls += 1
        return value + 1

    def _private(self) -> int:
        return 0


def test_timed_service_times_public_methods_of_one_instance_only() -> None:
    timings = Timings()
    service, other = _Service(), _Service()
    timed = timed_service(timings, "svc", service)
    assert timed.public(1) == 2
    assert other.public(1) == 2  # another instance (and the class) is untouched
    assert service.public(1) == 2  # and so is the wrapped instance itself
    assert timed._private() == 0
    assert [row.name for row in timings.snapshot()] == ["svc.public"]
    assert timings.snapshot()[0].count == 1
    assert service.calls == 2  # both calls reached the service
    timed.calls = 10  # attributes are the service's own
    assert service.calls == 10
