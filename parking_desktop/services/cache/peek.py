"""The lot list for a one-shot command, before any SQLAlchemy code is loaded.

``main.py lots --json`` used to spend most of its life importing SQLAlchemy, the ORM and the
models (about 0.3 s of a 0.5 s process) to return a list the cache often holds, and that two
small SELECTs make when it does not. ``quick_lot_list`` opens the cache alone: a hit is
served from it; a miss is read over the plain DB-API (``parking.lot_list``) and stored for
the next run, as the App's cached ``LotService.search()`` would store it (same entry, lifetime
and invalidation by every write). None when the App must do it: the cache folder does not
exist yet (the App creates it, privately), or the plain read cannot serve this database
(a new one, a schema to upgrade or refuse, a URL form it leaves to SQLAlchemy)."""

from __future__ import annotations

from parking_desktop.config import Settings
from parking_desktop.domain.clock import SystemClock
from parking_desktop.services.cache.caching import LOTS, CacheService, lots_key, namespace_for
from parking_desktop.services.views import LotView


class _AppNeeded(Exception):
    """The plain read cannot serve this database: nothing is stored, the App reads it."""


def quick_lot_list(settings: Settings) -> list[LotView] | None:
    """The active-lot list (``LotService.search()``) from the cache or the plain read."""
    if settings.cache_dir is not None and not settings.cache_dir.is_dir():
        return None  # never create the folder here: the App does that, privately
    clock = SystemClock()
    cache = CacheService(
        settings.cache_dir,
        clock,
        namespace=namespace_for(settings.database_url, settings.app_timezone),
    )

    def compute() -> list[LotView]:
        from parking_desktop.services.parking.lot_list import read_active_lots

        lots = read_active_lots(settings.database_url, currency=settings.currency, clock=clock)
        if lots is None:
            raise _AppNeeded
        return lots

    try:
        return cache.get_or_compute(LOTS, lots_key(), compute)
    except _AppNeeded:
        return None
    finally:
        # Adds this hit (or miss) to the machine's counters. No timings are published: one
        # entry per run of a command called in a loop would crowd the Cache screen's list.
        cache.close()
