"""Reads served straight from this machine's cache, before any database code is loaded.

A one-shot command such as ``main.py lots --json`` spends most of its life importing
SQLAlchemy and the models (about 0.3 s of a 0.5 s process) only to return a list the cache
already holds. ``cached_lot_list`` opens the cache alone and returns that list, or None on a
miss, a cache that is off or unusable, or a folder that does not exist yet; the caller then
builds the whole App, which reads the database (and upgrades its schema if needed).

What a hit may serve is exactly what ``LotService.search()`` through the App would serve from
the same cache: the entry, its lifetime and its invalidation by every write are the same."""

from __future__ import annotations

from parking_desktop.config import Settings
from parking_desktop.domain.clock import SystemClock
from parking_desktop.services.cache.caching import CacheService, namespace_for
from parking_desktop.services.views import LotView


def cached_lot_list(settings: Settings) -> list[LotView] | None:
    """The active-lot list (``LotService.search()``) if this machine's cache holds it."""
    if settings.cache_dir is None or not settings.cache_dir.is_dir():
        return None  # never create the folder here: the App does that, privately
    cache = CacheService(
        settings.cache_dir,
        SystemClock(),
        namespace=namespace_for(settings.database_url, settings.app_timezone),
    )
    try:
        return cache.get_cached_parking_lots()
    finally:
        cache.close()  # adds this hit (or miss) to the machine's counters
