"""An unusable cache folder never breaks the program: it works uncached, says so (status and
`health`), and comes back when the folder is usable again (both databases)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.health import check_health
from tests.integration.cache_support import TIMEZONE, build, read_only, run_other_process


def uncached_calls(app: App) -> int:
    rows = {row.name: row.count for row in app.timings.snapshot()}
    return rows.get("lots.search:uncached", 0)


def exercise(app: App) -> None:
    """Reads and writes give the right answers, several times over."""
    lot = app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.50", number_of_spots=4)
    assert [x.name for x in app.lots.search()] == ["Central"]
    app.parking.check_in(SYSTEM, lot.id, "AB123")
    assert app.lots.search()[0].occupied == 1
    assert app.stats.dashboard(SYSTEM).occupied == 1
    app.parking.check_out(SYSTEM, "AB123")
    assert app.lots.search()[0].occupied == 0
    assert app.stats.dashboard(SYSTEM).occupied == 0


def health_of(data_dir: Path, db_url: str, name: str = "cache") -> tuple[bool, str]:
    settings = load_settings(data_dir=data_dir, database_url=db_url,
                             environ={"APP_TIMEZONE": TIMEZONE}, dotenv_path=data_dir / "x")
    (check,) = [c for c in check_health(settings).checks if c.name == name]
    return check.ok, check.detail


def test_damaged_cache_files_fall_back_to_uncached_then_clear_rebuilds(
    tmp_path: Path, db_url: str, clock: FixedClock
) -> None:
    data = tmp_path / "data"
    build(data, db_url, clock).close()  # a working cache exists...
    db_file = data / "cache" / "data" / "cache.db"
    db_file.write_bytes(b"this is not a database" * 500)  # ...and then gets damaged
    for name in ("cache.db-wal", "cache.db-shm"):
        (db_file.parent / name).unlink(missing_ok=True)
    assert health_of(data, db_url)[0] is False

    app = build(data, db_url, clock)
    try:
        status = app.cache.status()
        assert not status.ok
        assert "damaged" in status.message and "clear the cache" in status.message
        exercise(app)
        assert uncached_calls(app) == 3  # every read computed, none from the cache
        info = app.cache.info(SYSTEM)
        assert not info.ok and info.uncached >= 3

        app.cache.clear(SYSTEM)  # the manager's "Clear cache" rebuilds it
        assert app.cache.status().ok
        app.lots.search()
        app.lots.search()
        assert uncached_calls(app) == 4
    finally:
        app.close()
    assert health_of(data, db_url) == (True, f"{data / 'cache'} usable")


def test_files_damaged_under_a_running_app(tmp_path: Path, db_url: str,
                                           clock: FixedClock) -> None:
    app = build(tmp_path / "data", db_url, clock)
    try:
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
        app.lots.search()
        app.cache.close()  # forget open connections, as a new thread would
        folder = tmp_path / "data" / "cache" / "data"
        for name in ("cache.db", "cache.db-wal", "cache.db-shm"):
            if (folder / name).exists():
                (folder / name).write_bytes(b"\0garbage" * 4096)
        assert app.lots.search()[0].name == "Central"
        assert not app.cache.status().ok
        app.lots.update(SYSTEM, app.lots.search()[0].id, address="Moved")
        assert app.lots.search()[0].address == "Moved"
    finally:
        app.close()


def test_read_only_cache_folder_falls_back_to_uncached(tmp_path: Path, db_url: str,
                                                      clock: FixedClock) -> None:
    data = tmp_path / "data"
    build(data, db_url, clock).close()
    with read_only(data / "cache"):
        app = build(data, db_url, clock)
        try:
            status = app.cache.status()
            assert not status.ok and "unusable" in status.message
            exercise(app)
            assert uncached_calls(app) == 3
        finally:
            app.close()
        ok, detail = health_of(data, db_url, "cache folder")
        assert not ok and "not writable" in detail
    app = build(data, db_url, clock)  # writable again: the cache is used again
    try:
        assert app.cache.status().ok
    finally:
        app.close()


def test_cache_path_that_is_a_file(tmp_path: Path, db_url: str, clock: FixedClock) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = build(tmp_path / "data", db_url, clock, CACHE_DIR=str(blocker))
    try:
        assert not app.cache.status().ok
        exercise(app)
    finally:
        app.close()


@contextmanager
def locked(db_file: Path) -> Iterator[None]:
    """Another program holds the write lock of a cache database."""
    con = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_locked_cache_degrades_then_recovers_without_stale_entries(
    app: App, tmp_path: Path
) -> None:
    lot = app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.50", number_of_spots=4)
    assert app.lots.search()[0].address == "1 Main St"  # cached
    cache_dir = tmp_path / "data" / "cache"
    with locked(cache_dir / "meta" / "cache.db"), locked(cache_dir / "data" / "cache.db"):
        # The write succeeds; its invalidation cannot reach the cache (locked)...
        app.lots.update(SYSTEM, lot.id, address="Moved")
        status = app.cache.status()
        assert not status.ok and "locked" in status.message
        # ...so the cache is not trusted: reads are computed, and right.
        assert app.lots.search()[0].address == "Moved"
        app.lots.update(SYSTEM, lot.id, address="Moved again")
        assert app.lots.search()[0].address == "Moved again"
    app.cache.retry_after = 0.0
    app.cache._retry_at = 0.0  # the retry would come after retry_after seconds
    assert app.cache.status().ok
    # The entry from before the lock was dropped on recovery, not served.
    assert app.lots.search()[0].address == "Moved again"
    assert app.lots.search()[0].address == "Moved again"
    rows = {row.name: row.count for row in app.timings.snapshot()}
    assert rows["lots.search:uncached"] == 4


def test_many_threads_on_a_failing_cache_all_get_answers(
    tmp_path: Path, db_url: str, clock: FixedClock
) -> None:
    data = tmp_path / "data"
    build(data, db_url, clock).close()
    (data / "cache" / "meta" / "cache.db").write_bytes(b"junk" * 1000)
    app = build(data, db_url, clock)
    try:
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
        answers: list[int] = []
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(5):
                    answers.append(app.stats.dashboard(SYSTEM).spots)
            except BaseException as exc:  # pragma: no cover - the failure we look for
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert answers == [4] * 30
    finally:
        app.close()


@pytest.mark.parametrize("junk", [b"", b"\x00" * 10])
def test_a_damaged_entry_is_discarded_not_fatal(app: App, junk: bytes) -> None:
    app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                    price_per_hour="2.50", number_of_spots=4)
    app.lots.search()
    from parking_desktop.services.cache.caching import LOTS, lots_key

    key = app.cache.full_key(LOTS, lots_key())
    backend = app.cache._backend
    assert backend is not None
    backend.data.set(key, junk or b"{}", tag=LOTS)
    assert app.lots.search()[0].name == "Central"
    assert app.cache.status().ok  # one bad entry does not take the cache down


def test_a_write_the_disk_refuses_falls_back_to_uncached(
    tmp_path: Path, db_url: str, clock: FixedClock
) -> None:
    """A full disk, played by a file-size limit in another process (writes past 1 MB fail
    with EFBIG as they would with ENOSPC on a full disk)."""
    build(tmp_path / "data", db_url, clock).close()
    out = run_other_process(tmp_path / "data", db_url, """
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, resource.RLIM_INFINITY))
        big = app.cache.cached_response(timeout=60)(lambda n: "x" * n)
        print(len(big(3_000_000)))
        status = app.cache.status()
        print(status.ok)
        print(status.message)
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
        print(app.lots.search()[0].name, app.lots.search()[0].available)
    """)
    size, ok, message, lots = out.splitlines()
    assert size == "3000000"
    assert ok == "False" and "unusable" in message and "too large" in message.lower()
    assert lots == "Central 4"


def test_a_process_that_gave_up_on_the_cache_still_invalidates_for_the_others(
    tmp_path: Path, db_url: str, clock: FixedClock
) -> None:
    data = tmp_path / "data"
    first, second = build(data, db_url, clock), build(data, db_url, clock)
    try:
        lot = first.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                                price_per_hour="2.50", number_of_spots=4)
        assert second.lots.search()[0].address == "1 Main St"  # cached for everyone
        with locked(data / "cache" / "meta" / "cache.db"):
            first.cache.invalidate(["dashboard"])  # a moment of contention: first gives up
        assert not first.cache.status().ok  # ...and will only retry in a while
        first.lots.update(SYSTEM, lot.id, address="Moved")
        assert second.lots.search()[0].address == "Moved"
    finally:
        first.close()
        second.close()
