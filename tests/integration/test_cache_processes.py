"""The cache is one folder per machine: every process on it sees the others' entries and
their invalidations at once (both databases)."""

from __future__ import annotations

from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.integration.cache_support import run_other_process


def uncached_calls(app: App, name: str) -> int:
    return {row.name: row.count for row in app.timings.snapshot()}.get(f"{name}:uncached", 0)


def test_a_write_in_another_process_shows_at_once(app: App, manager: Actor, db_url: str,
                                                  tmp_path: Path) -> None:
    lot = app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.50", number_of_spots=4)
    assert [x.name for x in app.lots.search()] == ["Central"]
    assert app.stats.dashboard(manager).spots == 4
    assert [x.name for x in app.lots.search()] == ["Central"]  # cached
    assert uncached_calls(app, "lots.search") == 1

    run_other_process(tmp_path / "data", db_url, f"""
        app.lots.create(SYSTEM, name="Harbour", address="2 Quay", pin_code="HAR02",
                        price_per_hour="1.00", number_of_spots=2)
        app.lots.resize(SYSTEM, {lot.id}, 6)
    """)

    # The service clock has not moved: only the other process's invalidation explains this.
    assert [x.name for x in app.lots.search()] == ["Central", "Harbour"]
    assert app.stats.dashboard(manager).spots == 8
    assert uncached_calls(app, "lots.search") == 2


def test_an_entry_filled_by_another_process_is_read_here(app: App, manager: Actor,
                                                         db_url: str, tmp_path: Path) -> None:
    app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                    price_per_hour="2.50", number_of_spots=4)
    out = run_other_process(tmp_path / "data", db_url, """
        print(len(app.lots.search()), app.stats.dashboard(SYSTEM).spots)
    """)
    assert out.split() == ["1", "4"]
    assert app.lots.search()[0].name == "Central"
    assert app.stats.dashboard(manager).spots == 4
    assert uncached_calls(app, "lots.search") == 0
    assert uncached_calls(app, "stats.dashboard") == 0
    info = app.cache.info(manager)  # counters are the machine's: the other process's too
    # the other process missed the lots, the dashboard and the dashboard's closed-hours charts
    assert info.misses == 3 and info.hits == 2
