"""Which service reads go through the cache, and under which keys.

Each cached service is a subclass that names its cached reads in its class body::

    class CachedStats(ReadsThroughCache, StatsService):
        dashboard = cached_read(StatsService.dashboard, DASHBOARD, dashboard_key, "stats.dashboard")
    # Read by dashboard() on every recomputation: a check-in drops the dashboard, not this.
    chart_history = cached_read(StatsService.chart_history, DASHBOARD_HISTORY,
                                chart_history_key, "stats.chart_history")

and bootstrap builds ``CachedStats(ctx, reads)`` instead of ``StatsService(ctx)``. Everything
else (the writes, which announce their changes so the cache can drop what they touch) is
inherited unchanged.

A key holds every argument that changes the result, including who asks, as far as the role
checks can tell apart: staff see the same thing per role, a driver only their own. A call the
key function does not recognise (returns None) runs uncached, so the service's own checks and
errors are untouched; nothing is stored for a call that raises."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.cache import codec as cache_codec
from parking_desktop.services.cache.caching import (
    DASHBOARD,
    DASHBOARD_HISTORY,
    DRIVER_STATS,
    LOTS,
    USER_RESERVATIONS,
    CacheService,
    lots_key,
)
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import SearchService
from parking_desktop.services.parking.stats import StatsService
from parking_desktop.services.timing import Timings

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

KeyFunction = Callable[[Mapping[str, Any]], str | None]


# --- keys: from the call's arguments (by parameter name, defaults filled in) ------------------
def principal(actor: Actor) -> str:
    return actor.role.value if actor.is_staff else f"driver:{actor.user_id}"


def _encode(values: Mapping[str, Any]) -> str:
    plain = {
        name: (dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type)
               and type(v) not in cache_codec.VIEW_TYPES.values() else v)
        for name, v in values.items()
    }
    return cache_codec.encode(plain).decode()


def _actor(args: Mapping[str, Any]) -> Actor | None:
    actor = args.get("actor")
    return actor if isinstance(actor, Actor) else None


def lots_search_key(args: Mapping[str, Any]) -> str | None:
    text = args.get("text", "")
    return lots_key(text, bool(args.get("include_archived", False))) if isinstance(
        text, str) else None


def dashboard_key(args: Mapping[str, Any]) -> str | None:
    actor = _actor(args)
    if actor is None or not actor.is_staff:
        return None  # refused by the service; never cached
    rest = {k: v for k, v in args.items() if k != "actor"}
    return f"dashboard:{actor.role.value}:{_encode(rest)}"


def chart_history_key(args: Mapping[str, Any]) -> str | None:
    """The closed quarter hours' charts are the same for every staff member; the check (a sum
    of their rows) is in the key, so a write into the past makes a new key."""
    actor, since, until = _actor(args), args.get("since"), args.get("until")
    if actor is None or not actor.is_staff or not isinstance(since, datetime) or not isinstance(
            until, datetime):
        return None
    return f"chart:{since.isoformat()}:{until.isoformat()}:{args.get('check', '')}"


def for_user_key(method: str) -> KeyFunction:
    """Key for ``method(actor, user_id=None, ...)``: None means the actor's own account."""
    def key(args: Mapping[str, Any]) -> str | None:
        actor = _actor(args)
        if actor is None:
            return None
        user_id = args.get("user_id")
        uid = actor.user_id if user_id is None else user_id
        rest = {k: v for k, v in args.items() if k not in ("actor", "user_id")}
        return f"{method}:{principal(actor)}:{uid}:{_encode(rest)}"
    return key


def user_reservations_key(args: Mapping[str, Any]) -> str | None:
    """Only a search narrowed to one user is "a user's reservations"; others run uncached."""
    actor = _actor(args)
    flt = args.get("flt")
    if actor is None or flt is None:
        return None
    uid = actor.user_id if actor.role is Role.DRIVER else getattr(flt, "user_id", None)
    if uid is None:
        return None
    rest = {k: v for k, v in args.items() if k != "actor"}
    return f"reservations:{principal(actor)}:{uid}:{_encode(rest)}"


# --- the mechanism ------------------------------------------------------------------------------
class CachedReads:
    """The cache the reads go through and, when given, where the real computations (the
    misses and the uncached calls) are timed, as ``label:uncached``."""

    def __init__(self, cache: CacheService, timings: Timings | None = None) -> None:
        self.cache = cache
        self.timings = timings

    def read(self, family: str, key: str | None, label: str, compute: Callable[[], R]) -> R:
        if self.timings is not None:
            compute = functools.partial(_timed, self.timings, f"{label}:uncached", compute)
        if key is None:
            return compute()
        return self.cache.get_or_compute(family, key, compute)


def _timed(timings: Timings, name: str, compute: Callable[[], R]) -> R:
    start = time.perf_counter()
    failed = True
    try:
        result = compute()
        failed = False
        return result
    finally:
        timings.record(name, time.perf_counter() - start, failed=failed)


class ReadsThroughCache:
    """Base of the cached service subclasses: holds their ``CachedReads``."""

    cache_reads: CachedReads


def cached_read(
    method: Callable[Concatenate[S, P], R], family: str, key: KeyFunction, label: str,
) -> Callable[Concatenate[S, P], R]:
    """``method`` (a service method) read through the cache in ``family``, under the key
    ``key`` makes of its arguments; for a class body of a ``ReadsThroughCache`` subclass."""
    parameters = list(inspect.signature(method).parameters.values())
    signature = inspect.Signature(parameters[1:])  # without self

    @functools.wraps(method)
    def read(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            part = key(bound.arguments)
        except (TypeError, ValueError):  # bad call or unencodable argument: let the service say
            part = None
        reads = cast(ReadsThroughCache, self).cache_reads
        return reads.read(family, part, label, lambda: method(self, *args, **kwargs))

    return read


# --- the cached services: the reads that screens and the kiosk board use ---------------------
class CachedLots(ReadsThroughCache, LotService):
    def __init__(self, ctx: ServiceContext, reads: CachedReads) -> None:
        super().__init__(ctx)
        self.cache_reads = reads

    search = cached_read(LotService.search, LOTS, lots_search_key, "lots.search")


class CachedStats(ReadsThroughCache, StatsService):
    def __init__(self, ctx: ServiceContext, reads: CachedReads) -> None:
        super().__init__(ctx)
        self.cache_reads = reads

    dashboard = cached_read(StatsService.dashboard, DASHBOARD, dashboard_key, "stats.dashboard")
    # Read by dashboard() on every recomputation: a check-in drops the dashboard, not this.
    chart_history = cached_read(StatsService.chart_history, DASHBOARD_HISTORY,
                                chart_history_key, "stats.chart_history")
    driver_summary = cached_read(StatsService.driver_summary, DRIVER_STATS,
                                 for_user_key("driver_summary"), "stats.driver_summary")


class CachedSearch(ReadsThroughCache, SearchService):
    def __init__(self, ctx: ServiceContext, reads: CachedReads) -> None:
        super().__init__(ctx)
        self.cache_reads = reads

    reservations = cached_read(SearchService.reservations, USER_RESERVATIONS,
                               user_reservations_key, "search.reservations")


class CachedParking(ReadsThroughCache, ParkingService):
    def __init__(self, ctx: ServiceContext, reads: CachedReads) -> None:
        super().__init__(ctx)
        self.cache_reads = reads

    open_reservation = cached_read(ParkingService.open_reservation, USER_RESERVATIONS,
                                   for_user_key("open_reservation"), "parking.open_reservation")
