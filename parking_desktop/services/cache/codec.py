"""JSON encoding of service results for the cache, faithful on the way back.

Tagged single-key objects carry the types JSON lacks:
``{"$d": "12.50"}`` Decimal, ``{"$dt": [iso, zone]}`` datetime, ``{"$date": iso}`` date,
``{"$t": [...]}`` tuple, ``{"$e": [enum, value]}`` enum, ``{"$v": [view, [fields...]]}`` a
registered frozen dataclass (fields in declaration order). A plain dict whose key starts with
"$" has that key escaped with one more "$", so user data can never pose as a tag.

Only the registered view classes and enums can come out of ``decode``: nothing here imports or
calls anything named by the data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from parking_desktop.domain.money import PaymentKind, PaymentMethod
from parking_desktop.domain.roles import Role
from parking_desktop.domain.states import BookingStatus, SpotStatus
from parking_desktop.services import views
from parking_desktop.services.money.views import PaymentView

CODEC_VERSION = 3  # 2: booking and spot statuses are enums; 3: receipts carry their payment

VIEW_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        views.UserView, views.LotView, views.SpotView, views.ReservationView,
        views.CheckoutQuote, views.Receipt, views.FeeLine, views.ActivityView, views.Page,
        views.DriverSummary, views.LotOccupancy, views.DashboardStats, views.ChartHistory,
        PaymentView,
    )
}
ENUM_TYPES: dict[str, type[Enum]] = {
    cls.__name__: cls for cls in (Role, BookingStatus, SpotStatus, PaymentKind, PaymentMethod)
}
_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in VIEW_TYPES.values()
}


# Fields that can hold something mutable (a list or dict), per view class; the other views are
# immutable all the way down and can be shared between callers as they are.
_MUTABLE_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)
               if any(word in str(f.type) for word in ("list", "dict", "Any", "set")))
    for cls in VIEW_TYPES.values()
}


# Types whose values can be handed to several callers: nothing in them can change.
_SHARED: frozenset[type[Any]] = frozenset([
    str, int, float, bool, type(None), Decimal, datetime, date, *ENUM_TYPES.values(),
    *(cls for cls, fields in _MUTABLE_FIELDS.items() if not fields),
])


def private_copy(value: Any) -> Any:
    """A copy of a decoded value that shares nothing mutable with ``value``: lists and dicts
    are copied, views holding them are rebuilt, and immutable parts (scalars, Decimal,
    datetime, enums, views without lists) are shared. Much cheaper than decoding again."""
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is list:
        return [v if type(v) in _SHARED else private_copy(v) for v in value]
    if kind is tuple:
        if _SHARED.issuperset(map(type, value)):
            return value
        return tuple(private_copy(v) for v in value)
    if kind is dict:
        return {k: private_copy(v) for k, v in value.items()}
    fields = _MUTABLE_FIELDS.get(kind)
    if fields is None:  # not something the codec produces: leave it alone
        return value
    return dataclasses.replace(value, **{f: private_copy(getattr(value, f)) for f in fields})


class CodecError(ValueError):
    """A value cannot be cached as JSON, or stored bytes are not a value we wrote."""


def fingerprint() -> str:
    """Changes whenever a view's fields change, so entries written by another version miss."""
    shape = json.dumps([CODEC_VERSION, sorted((n, _FIELDS[c]) for n, c in VIEW_TYPES.items())])
    return hashlib.sha256(shape.encode()).hexdigest()[:10]


def _enc(value: Any) -> Any:
    if value is None or (isinstance(value, bool | int | float | str) and not isinstance(
        value, Enum
    )):
        return value
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return {"$dt": [value.isoformat(), zone]}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Enum):
        name = type(value).__name__
        if ENUM_TYPES.get(name) is not type(value):
            raise CodecError(f"enum {name} is not registered for caching")
        return {"$e": [name, value.value]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": [_enc(v) for v in value]}
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CodecError("only text keys can be cached")
            out["$" + key if key.startswith("$") else key] = _enc(item)
        return out
    cls = type(value)
    if cls in _FIELDS:
        return {"$v": [cls.__name__, [_enc(getattr(value, f)) for f in _FIELDS[cls]]]}
    raise CodecError(f"{cls.__name__} values cannot be cached")


def _hook(obj: dict[str, Any]) -> Any:
    # Called by json for every object, innermost first: keep the common path short.
    if len(obj) == 1:
        for tag, payload in obj.items():
            untag = _UNTAG.get(tag)
            if untag is not None:
                try:
                    return untag(payload)
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                    raise CodecError(f"stored value has a bad {tag} part") from exc
    for key in obj:
        if key.startswith("$"):
            if not key.startswith("$$"):
                raise CodecError(f"stored value has an unknown tag {key}")
            return {k[1:] if k.startswith("$$") else k: v for k, v in obj.items()}
    return obj


def _datetime(payload: list[Any]) -> datetime:
    text, zone = payload
    moment = datetime.fromisoformat(text)
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def _enum(payload: list[Any]) -> Enum:
    name, raw = payload
    return ENUM_TYPES[name](raw)


def _view(payload: list[Any]) -> Any:
    name, values = payload
    return VIEW_TYPES[name](*values)


_UNTAG: dict[str, Callable[[Any], Any]] = {
    "$d": Decimal,
    "$dt": _datetime,
    "$date": date.fromisoformat,
    "$t": tuple,
    "$e": _enum,
    "$v": _view,
}


def encode(value: Any) -> bytes:
    """Bytes for ``value`` (views, lists, tuples, dicts, Decimal, datetime, enums, scalars)."""
    try:
        return json.dumps(_enc(value), separators=(",", ":"), allow_nan=False).encode()
    except ValueError as exc:  # NaN/infinity, or a CodecError raised above
        raise CodecError(str(exc)) from exc


def decode(data: bytes) -> Any:
    try:
        return json.loads(data, object_hook=_hook)
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        raise CodecError("stored value is not valid cache JSON") from exc
