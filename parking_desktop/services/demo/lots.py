"""The demo's lots: varied sizes and prices, and which spot a booking gets.

A booking gets the first free spot of its lot (the lowest number), as the service would choose,
and holds it until the car leaves: two heaps per lot (free positions; busy ones by the time they
are free again) make that a few operations per booking."""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from parking_desktop.adapters.db.bulk import StorageFormat
from parking_desktop.domain import validation
from parking_desktop.services.demo.catalog import LOT_SITES
from parking_desktop.services.demo.timeline import DAY, Ids, Timeline

SPOTS_PER_DRIVER = 0.12


@dataclass
class Lot:
    index: int
    lot_id: int
    name: str
    price_cents: int
    spots: int
    first_spot_id: int
    price: Any = None  # price_per_hour in storage form
    numbers: list[str] = field(default_factory=list)  # spot number by position (index 0 unused)
    free: list[int] = field(default_factory=list)  # heap of free spot positions
    busy: list[tuple[int, int]] = field(default_factory=list)  # heap of (free again at, position)

    def claim(self, start: int, end: int) -> int | None:
        """The first free spot (lowest number) at ``start``, held until ``end``."""
        busy, free = self.busy, self.free
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if not free:
            return None
        position = heapq.heappop(free)
        heapq.heappush(busy, (end, position))
        return position

    def spot_id(self, position: int) -> int:
        return self.first_spot_id + position - 1


def make_lots(rng: random.Random, count: int, drivers: int, ids: Ids,
              fmt: StorageFormat) -> list[Lot]:
    """``count`` lots with about SPOTS_PER_DRIVER spots per driver between them."""
    total = max(10 * count, round(SPOTS_PER_DRIVER * drivers))
    sites = [LOT_SITES[i % len(LOT_SITES)] for i in range(count)]
    weights = [site[4] * (0.8 + 0.4 * rng.random()) for site in sites]
    scale = total / sum(weights)
    first_id = ids.take("parking_lots", count)
    lots = []
    for i, site in enumerate(sites):
        name = site[0] if i < len(LOT_SITES) else f"{site[0]} {i // len(LOT_SITES) + 1}"
        size = min(validation.MAX_SPOTS, max(5, round(weights[i] * scale)))
        first_spot = ids.take("parking_spots", size)
        lots.append(Lot(index=i, lot_id=first_id + i, name=name, price_cents=site[3],
                        spots=size, first_spot_id=first_spot, price=fmt.money(site[3]),
                        numbers=[""] + [validation.spot_number(p) for p in range(1, size + 1)],
                        free=list(range(1, size + 1))))
    return lots


class LotChooser:
    """Draws a lot index, bigger lots more often."""

    def __init__(self, rng: random.Random, lots: list[Lot]) -> None:
        self.rng = rng
        self.weights = list(accumulate(lot.spots for lot in lots))

    def __call__(self) -> int:
        return bisect_right(self.weights, self.rng.random() * self.weights[-1])


def lots_created(rng: random.Random, frame: Timeline, lots: list[Lot]) -> dict[int, int]:
    """When each lot was created (by lot id): long before the window starts."""
    return {lot.lot_id: frame.day_start[0] - int((200 + rng.random() * 400) * DAY)
            for lot in lots}
