"""A time zone's UTC offsets as a sorted list of changes, so pricing finds the offset in force
and when it next changes with one bisect instead of asking zoneinfo at every step."""

from __future__ import annotations

import threading
from bisect import bisect_right
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

US = 1_000_000
HOUR_US = 3600 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STEP = 6 * HOUR_US  # no zone changes its offset twice within six hours
_FIRST_YEAR, _LAST_YEAR = 1, 9998


def to_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is needed")
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(micros: int, offset_us: int = 0) -> datetime:
    """The naive wall-clock time ``offset_us`` ahead of UTC at ``micros``."""
    return datetime(1970, 1, 1) + timedelta(microseconds=micros + offset_us)


class ZoneTimeline:
    """Offsets of one zone, loaded a few years at a time as stays need them."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._lock = threading.Lock()
        # (starts, offsets, end): offsets[i] applies from starts[i] (UTC µs) to the next start,
        # the last one up to ``end``. Replaced whole, so a reader never sees half a load.
        self._table: tuple[list[int], list[int], int] = ([], [], 0)

    def at(self, micros: int) -> tuple[int, int]:
        """(offset in µs, the instant it stops applying — a change or the loaded range's end)."""
        starts, offsets, hi = self._table
        if not starts or micros < starts[0] or micros >= hi:
            self._load_around(micros)
            starts, offsets, hi = self._table
        i = bisect_right(starts, micros) - 1
        return offsets[i], starts[i + 1] if i + 1 < len(starts) else hi

    def _offset(self, micros: int) -> int:
        moment = EPOCH + timedelta(microseconds=micros)
        offset = self._zone.utcoffset(moment.astimezone(self._zone))
        return 0 if offset is None else offset // timedelta(microseconds=1)

    def _load_around(self, micros: int) -> None:
        year = (EPOCH + timedelta(microseconds=micros)).year
        first = datetime(max(_FIRST_YEAR, year - 2), 1, 1, tzinfo=UTC)
        last = datetime(min(_LAST_YEAR, year + 3), 1, 1, tzinfo=UTC)
        with self._lock:
            lo, hi = to_us(first), to_us(last)
            old_starts, _, old_hi = self._table
            if old_starts:  # keep what was loaded: one contiguous range
                lo, hi = min(lo, old_starts[0]), max(hi, old_hi)
            starts, offsets = [lo], [self._offset(lo)]
            t = lo
            while t < hi:
                nxt = min(t + _STEP, hi)
                after = self._offset(nxt)
                if after != offsets[-1]:
                    # The change lies in (t, nxt]: bisect to the second (zones change on whole
                    # seconds).
                    low, high = t // US, nxt // US
                    while high - low > 1:
                        mid = (low + high) // 2
                        if self._offset(mid * US) == offsets[-1]:
                            low = mid
                        else:
                            high = mid
                    starts.append(high * US)
                    offsets.append(after)
                t = nxt
            self._table = (starts, offsets, hi)


@lru_cache(maxsize=64)
def timeline(zone: tzinfo) -> ZoneTimeline:
    return ZoneTimeline(zone)
