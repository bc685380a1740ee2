"""When people arrive and how long they stay: commuters in the morning for a working day,
errands in the daytime, evenings out.

The times are drawn once into two tables; a booking then picks one entry of each with a single
random() (a million gauss() calls would cost seconds)."""

from __future__ import annotations

import math
import random

from parking_desktop.services.demo.timeline import HOUR

STAY_TABLE = 4096


class Stays:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

        def clamp(seconds: float) -> int:
            return int(min(22.5 * HOUR, max(6 * HOUR, seconds)))

        commute = []
        other = []
        for _ in range(STAY_TABLE):
            commute.append((clamp(rng.gauss(8.25, 0.6) * HOUR),
                            max(10, int(rng.gauss(8.5, 1.0) * 60))))
            v = rng.random()
            if v < 0.45:  # daytime errands
                arrival = (9 + 7 * rng.random()) * HOUR
            elif v < 0.8:  # evening
                arrival = rng.gauss(18.5, 1.5) * HOUR
            else:
                arrival = (7 + 14 * rng.random()) * HOUR
            other.append((clamp(arrival), max(10, int(rng.lognormvariate(math.log(100), 0.7)))))
        self.commute, self.other = commute, other

    def arrival(self, commuter: bool) -> tuple[int, int]:
        """(seconds after local midnight, minutes parked)."""
        rng = self.rng
        table = self.commute if commuter and rng.random() < 0.6 else self.other
        arrival, minutes = table[int(rng.random() * STAY_TABLE)]
        return arrival + int(rng.random() * 300), minutes
