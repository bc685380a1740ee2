"""`cache info [--json]`, `cache clear`; `print_timings` serves `stats --timings`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from parking_desktop.cli.base import EXIT_OK, AppFactory, print_json, print_table
from parking_desktop.domain.roles import SYSTEM

if TYPE_CHECKING:
    from parking_desktop.bootstrap import App


def register(sub: Any) -> None:
    cache = sub.add_parser("cache", help="inspect or clear this machine's cache")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = cache_sub.add_parser("info", help="entries, size, hits, misses, hit ratio")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=_info)
    clear = cache_sub.add_parser("clear", help="remove every cached entry (rebuilds a damaged "
                                               "cache)")
    clear.set_defaults(func=_clear)


def _info(args: argparse.Namespace, app_factory: AppFactory) -> int:
    from parking_desktop.services.cache.caching import FAMILY_TTL

    app = app_factory()
    info = app.cache.info(SYSTEM)
    if args.json:
        print_json({
            "directory": info.directory, "ok": info.ok, "status": info.message,
            "entries": info.entries, "size_bytes": info.size_bytes, "hits": info.hits,
            "misses": info.misses, "uncached": info.uncached,
            "hit_ratio": round(info.hit_ratio, 4), "sync": info.sync,
            "ttl_seconds": {family: int(ttl) for family, ttl in FAMILY_TTL.items()},
        })
        return EXIT_OK
    print_table(["Figure", "Value"], [
        ["Folder", info.directory],
        ["Status", info.message],
        ["Entries", f"{info.entries:,}"],
        ["Size", _size(info.size_bytes)],
        ["Hits", f"{info.hits:,}"],
        ["Misses", f"{info.misses:,}"],
        ["Hit ratio", f"{info.hit_ratio * 100:.1f} %"],
        ["Served uncached", f"{info.uncached:,}"],
        ["Other machines", info.sync],
    ])
    return EXIT_OK


def _clear(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    removed = app.cache.clear(SYSTEM)
    print(f"Cache cleared: {removed:,} entr{'y' if removed == 1 else 'ies'} removed.")
    return EXIT_OK


def print_timings(app: App, *, as_json: bool = False) -> int:
    """Per-operation timings of the processes on this machine (the last day's)."""
    rows = app.cache.timings_report()
    if as_json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("No timings recorded yet.")
        return EXIT_OK
    print_table(
        ["Operation", "Calls", "Errors", "Median ms", "95% ms", "Max ms"],
        [[r.name, f"{r.count:,}", r.errors, f"{r.median_ms:.3f}", f"{r.p95_ms:.3f}",
          f"{r.max_ms:.3f}"] for r in rows],
    )
    return EXIT_OK


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
