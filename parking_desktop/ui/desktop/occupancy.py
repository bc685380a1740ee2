"""Occupancy per lot as the dashboard shows it: percent full, fullest first, the lots that do
not fit the chart's height folded into one "others" row, lots at or over the threshold marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parking_desktop.services.views import LotOccupancy

FULL_THRESHOLD = 90.0  # percent: a lot this full is shown in red


@dataclass(frozen=True)
class OccupancyRow:
    label: str
    percent: float
    full: bool  # at or over the threshold
    lots: int = 1  # > 1 for the "others" row


def percent_full(lot: LotOccupancy) -> float:
    total = lot.available + lot.reserved + lot.occupied
    return 0.0 if total == 0 else 100.0 * (lot.reserved + lot.occupied) / total


def occupancy_rows(lots: Sequence[LotOccupancy], limit: int,
                   threshold: float = FULL_THRESHOLD) -> list[OccupancyRow]:
    """At most ``limit`` rows (at least 2): the fullest lots, then "N other lots" with their
    combined occupancy. Full lots are never folded away while there is room for them."""
    ranked = sorted(lots, key=lambda lot: (-percent_full(lot), lot.name.lower()))
    limit = max(2, limit)
    if len(ranked) <= limit:
        shown, rest = ranked, []
    else:
        shown, rest = ranked[: limit - 1], ranked[limit - 1:]
    rows = [OccupancyRow(lot.name, percent_full(lot), percent_full(lot) >= threshold)
            for lot in shown]
    if rest:
        spots = sum(lot.available + lot.reserved + lot.occupied for lot in rest)
        busy = sum(lot.reserved + lot.occupied for lot in rest)
        share = 0.0 if spots == 0 else 100.0 * busy / spots
        rows.append(OccupancyRow(f"{len(rest)} other lots", share, share >= threshold,
                                 lots=len(rest)))
    return rows
