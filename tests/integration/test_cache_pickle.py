"""A pickle planted in the cache folder is never executed (CVE-2025-69872): not as a row, not
as a value file, not as a pickled key, not in the bookkeeping store. Each planted payload is
first shown to be live: plain diskcache would run it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import diskcache
import pytest

from parking_desktop.bootstrap import App
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.cache.caching import LOTS, lots_key
from parking_desktop.services.health import check_health
from tests.conftest import START
from tests.integration.cache_support import (
    TIMEZONE,
    build,
    pickle_payload,
    plant_row,
    row_count,
)


def prime(app: App, manager: Actor) -> str:
    """A lot, its list cached once; returns the on-disk key of that list."""
    app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                    price_per_hour="2.50", number_of_spots=4)
    app.lots.search()
    return app.cache.full_key(LOTS, lots_key())


def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cache"


def test_the_payload_is_live_with_plain_diskcache(tmp_path: Path) -> None:
    """The control for the tests below: default diskcache unpickles and runs the payload."""
    folder = tmp_path / "plain"
    marker = tmp_path / "pwned-by-plain-diskcache"
    plain = diskcache.Cache(str(folder))
    plain.set("k", 0)
    plant_row(folder / "cache.db", "k", value=pickle_payload(marker))
    plain.get("k")
    plain.close()
    assert marker.exists()


def test_a_planted_pickle_row_is_never_loaded(app: App, manager: Actor,
                                              tmp_path: Path) -> None:
    key = prime(app, manager)
    marker = tmp_path / "pwned-row"
    db_file = cache_dir(tmp_path) / "data" / "cache.db"
    plant_row(db_file, key, value=pickle_payload(marker), tag=LOTS)

    lots = app.lots.search()
    assert [x.name for x in lots] == ["Central"]  # recomputed from the database
    assert not marker.exists()
    assert app.cache.status().ok
    # The planted row was thrown away and replaced by a JSON entry.
    assert app.lots.search() == lots
    assert row_count(db_file, key) == 1
    assert not marker.exists()


def test_a_planted_pickle_file_is_never_loaded(app: App, manager: Actor,
                                               tmp_path: Path) -> None:
    key = prime(app, manager)
    marker = tmp_path / "pwned-file"
    store = cache_dir(tmp_path) / "data"
    (store / "ab" / "cd").mkdir(parents=True)
    (store / "ab" / "cd" / "evil.val").write_bytes(pickle_payload(marker))
    plant_row(store / "cache.db", key, value=None, filename="ab/cd/evil.val", tag=LOTS)

    assert [x.name for x in app.lots.search()] == ["Central"]
    assert not marker.exists()


def test_pickles_in_the_bookkeeping_store_and_pickled_keys_are_never_loaded(
    app: App, manager: Actor, tmp_path: Path
) -> None:
    prime(app, manager)
    meta = cache_dir(tmp_path) / "meta" / "cache.db"
    markers = [tmp_path / f"pwned-meta-{i}" for i in range(4)]
    plant_row(meta, "gen:lots", value=pickle_payload(markers[0]))
    plant_row(meta, "count:hits", value=pickle_payload(markers[1]))
    plant_row(meta, "timings:evil", value=pickle_payload(markers[2]))
    plant_row(meta, pickle_payload(markers[3]), value=b"1", mode=1, raw=0)  # a pickled key

    app.lots.create(manager, name="Harbour", address="2 Quay", pin_code="HAR02",
                    price_per_hour="1.00", number_of_spots=2)  # bumps generations
    assert [x.name for x in app.lots.search()] == ["Central", "Harbour"]
    info = app.cache.info(manager)
    report = app.cache.timings_report()
    assert info.entries >= 1
    assert any(row.name == "lots.search" for row in report)
    assert not any(m.exists() for m in markers)


def test_health_points_at_planted_entries(app: App, manager: Actor, tmp_path: Path,
                                          db_url: str) -> None:
    key = prime(app, manager)
    plant_row(cache_dir(tmp_path) / "data" / "cache.db", key,
              value=pickle_payload(tmp_path / "pwned-health"), tag=LOTS)
    settings = load_settings(data_dir=tmp_path / "data", database_url=db_url,
                             environ={"APP_TIMEZONE": TIMEZONE}, dotenv_path=tmp_path / "x")
    (check,) = [c for c in check_health(settings).checks if c.name == "cache"]
    assert not check.ok and "not plain data" in check.detail
    assert not (tmp_path / "pwned-health").exists()
    app.cache.clear(SYSTEM)
    (check,) = [c for c in check_health(settings).checks if c.name == "cache"]
    assert check.ok


def test_the_cache_folder_and_files_are_private(app: App, manager: Actor,
                                                tmp_path: Path) -> None:
    prime(app, manager)
    folder = cache_dir(tmp_path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for store in ("data", "meta"):
        assert stat.S_IMODE((folder / store).stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / store / "cache.db").stat().st_mode) == 0o600


def test_a_cache_folder_others_can_write_is_not_used(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else's folder (we cannot chmod it) that others may write: refused."""
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    os.chmod(shared, 0o777)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    app = build(tmp_path / "data", db_url, FixedClock(START), CACHE_DIR=str(shared))
    try:
        status = app.cache.status()
        assert not status.ok and "not private" in status.message
        assert not (shared / "data").exists()  # nothing was written there
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
        assert app.lots.search()[0].name == "Central"
    finally:
        app.close()
