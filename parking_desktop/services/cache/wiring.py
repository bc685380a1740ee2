"""Which service reads go through the cache, and under which keys. Called once by bootstrap.

The service classes are not changed: the read methods of the *instances* are replaced by
wrappers. A key holds every argument that changes the result, including who asks, as far as
the role checks can tell apart: staff see the same thing per role, a driver only their own. A
call the key function does not recognise (returns None) runs uncached, so the service's own
checks and errors are untouched; nothing is stored for a call that raises."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.cache import codec as cache_codec
from parking_desktop.services.cache.caching import (
    DASHBOARD,
    DRIVER_STATS,
    LOTS,
    USER_RESERVATIONS,
    CacheService,
    lots_key,
)
from parking_desktop.services.timing import Timings

KeyFunction = Callable[[Mapping[str, Any]], str | None]


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


def _for_user_key(method: str) -> KeyFunction:
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


def cache_method(
    cache: CacheService, service: object, method: str, family: str, key: KeyFunction,
    *, timings: Timings | None = None, label: str = "",
) -> None:
    """Replace ``service.method`` by a cached version. With ``timings``, the real
    computations are recorded as ``label:uncached``."""
    original = getattr(service, method)
    signature = inspect.signature(original)
    compute = timings.wrap(f"{label}:uncached", original) if timings is not None else original

    @functools.wraps(original)
    def cached(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            part = key(bound.arguments)
        except (TypeError, ValueError):  # bad call or unencodable argument: let the service say
            part = None
        if part is None:
            return compute(*args, **kwargs)
        return cache.get_or_compute(family, part, lambda: compute(*args, **kwargs))

    setattr(service, method, cached)


def install(
    cache: CacheService, *, lots: object, stats: object, search: object, parking: object,
    timings: Timings | None = None,
) -> None:
    """Route the reads that screens and the kiosk board use through ``cache``."""
    cache_method(cache, lots, "search", LOTS, lots_search_key, timings=timings,
                 label="lots.search")
    cache_method(cache, stats, "dashboard", DASHBOARD, dashboard_key, timings=timings,
                 label="stats.dashboard")
    cache_method(cache, stats, "driver_summary", DRIVER_STATS, _for_user_key("driver_summary"),
                 timings=timings, label="stats.driver_summary")
    cache_method(cache, search, "reservations", USER_RESERVATIONS, user_reservations_key,
                 timings=timings, label="search.reservations")
    cache_method(cache, parking, "open_reservation", USER_RESERVATIONS,
                 _for_user_key("open_reservation"), timings=timings,
                 label="parking.open_reservation")
