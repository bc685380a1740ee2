#!/usr/bin/env python3
"""Rate engine throughput: stays priced per second by the tariff engine, against the flat fee
function ``domain.fee.compute_fee`` measured in the same run.

    .venv/bin/python scripts/tariff_benchmark.py [--stays 200000] [--runs 5] [--million 1000000]

Stays are generated from a seed: arrivals spread over 2026 (both clock changes of the zone),
durations mostly a few hours, some overnight, a few of several days. Measured, each as the min
and median of ``--runs`` runs:

* ``compute_fee``: today's rule on the stay's timedelta (the reference);
* the engine's flat tariff (``flat_tariff``, which must give the same cents: checked on every
  stay, the script stops with an error if one differs);
* the engine on a day/night tariff with 15-minute steps, a 10-minute grace period, a daily
  maximum and a holiday (the example of docs/tariffs.md).

Then ``--million`` stays are repriced with the day/night tariff by ``--procs`` processes at
once (what-if repricing on this machine; the aim is under 10 s for a million on 2 cores). The
repricing from the database is not part of this script yet. The load average is printed because
other work on the machine shows in the figures. Figures only: this never fails on time."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parking_desktop.domain.fee import compute_fee  # noqa: E402
from parking_desktop.domain.tariffs import (  # noqa: E402
    Pricer,
    TariffVersion,
    flat_tariff,
    pricer,
    tariff_from_json,
)

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
DAY_NIGHT = {
    "currency": "EUR",
    "increment_minutes": 15,
    "minimum_minutes": 60,
    "grace_minutes": 10,
    "daily_maximum": "20.00",
    "holidays": ["2026-12-25"],
    "bands": [
        {"name": "day rate", "days": WEEKDAYS, "start": "08:00", "end": "20:00",
         "price_per_hour": "3.50"},
        {"name": "night rate", "days": WEEKDAYS, "start": "20:00", "end": "24:00",
         "price_per_hour": "1.20"},
        {"name": "night rate", "days": WEEKDAYS, "start": "00:00", "end": "08:00",
         "price_per_hour": "1.20"},
        {"name": "night rate", "days": ["Sat", "Sun"], "start": "00:00", "end": "24:00",
         "price_per_hour": "1.20"},
    ],
}
PRICE = Decimal("2.50")
Stay = tuple[int, int]  # arrival and departure, UTC microseconds since 1970


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=200_000, help="stays per measured run")
    parser.add_argument("--runs", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--zone", default="Europe/Paris")
    parser.add_argument("--million", type=int, default=1_000_000,
                        help="stays for the parallel repricing run (0: skip it)")
    parser.add_argument("--procs", type=int, default=2, help="processes for that run")
    return parser.parse_args()


def make_stays(count: int, seed: int) -> list[Stay]:
    rng = random.Random(seed)
    year = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
    stays: list[Stay] = []
    for _ in range(count):
        arrived = year + rng.randrange(365 * 86_400 * 1_000_000)
        kind = rng.random()
        if kind < 0.75:  # shopping, work: minutes to hours
            minutes = rng.expovariate(1 / 150)
        elif kind < 0.97:  # overnight
            minutes = rng.uniform(8 * 60, 20 * 60)
        else:  # several days
            minutes = rng.uniform(24 * 60, 6 * 24 * 60)
        stays.append((arrived, arrived + int(minutes * 60_000_000)))
    return stays


def reference(stays: Sequence[Stay]) -> int:
    total = Decimal(0)
    for arrived, left in stays:
        total += compute_fee(timedelta(microseconds=left - arrived), PRICE).cost
    return int(total * 100)


def engine(price: Pricer) -> Callable[[Sequence[Stay]], int]:
    cents = price.cents

    def run(stays: Sequence[Stay]) -> int:
        return sum(cents(arrived, left) for arrived, left in stays)

    return run


def measure(work: Callable[[Sequence[Stay]], int], stays: Sequence[Stay],
            runs: int) -> tuple[list[float], int]:
    seconds: list[float] = []
    result = 0
    for _ in range(runs):
        started = time.perf_counter()
        result = work(stays)
        seconds.append(time.perf_counter() - started)
    return seconds, result


def check_flat_equals_compute_fee(flat: Pricer, stays: Sequence[Stay]) -> None:
    for arrived, left in stays:
        expected = compute_fee(timedelta(microseconds=left - arrived), PRICE).cost
        got = Decimal(flat.cents(arrived, left)).scaleb(-2)
        if got != expected:
            sys.exit(f"error: flat tariff gives {got} for a stay compute_fee prices {expected}")


# --- the parallel repricing run: each process prices its share of the same seeded stays ---
_SHARED: dict[str, object] = {}


def _share(bounds: tuple[int, int]) -> int:
    stays = _SHARED["stays"]
    price = _SHARED["pricer"]
    assert isinstance(stays, list) and isinstance(price, Pricer)
    start, end = bounds
    cents = price.cents
    return sum(cents(arrived, left) for arrived, left in stays[start:end])


def parallel(version: TariffVersion, zone: ZoneInfo, count: int, procs: int,
             seed: int) -> tuple[float, int]:
    _SHARED["stays"] = make_stays(count, seed + 1)
    _SHARED["pricer"] = pricer(version, zone)
    step = -(-count // procs)
    shares = [(i, min(i + step, count)) for i in range(0, count, step)]
    # fork: the children see the stays without copying them through a pipe.
    context = multiprocessing.get_context("fork")
    with context.Pool(procs) as pool:
        started = time.perf_counter()
        total = sum(pool.map(_share, shares))
        seconds = time.perf_counter() - started
    return seconds, total


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    args = parse()
    zone = ZoneInfo(args.zone)
    flat = pricer(flat_tariff(PRICE), zone)
    day_night = pricer(tariff_from_json(DAY_NIGHT), zone)
    stays = make_stays(args.stays, args.seed)
    print(f"{len(stays)} stays, {args.runs} runs each, zone {args.zone}, "
          f"{os.cpu_count()} CPUs, load average {load()}")
    check_flat_equals_compute_fee(flat, stays)
    print("flat tariff = compute_fee on every stay: yes")
    # Warm the zone's offset table outside the timings (done once per zone in a process).
    day_night.cents(stays[0][0], stays[0][1])
    rows = [
        ("compute_fee (reference)", reference),
        ("engine, flat tariff", engine(flat)),
        ("engine, day/night 15 min + cap", engine(day_night)),
    ]
    best_reference = 0.0
    print(f"{'':34}{'min s':>8}{'median s':>10}{'stays/s':>12}{'vs ref':>8}{'revenue':>14}")
    for name, work in rows:
        seconds, cents = measure(work, stays, args.runs)
        best = min(seconds)
        best_reference = best_reference or best
        print(f"{name:34}{best:8.3f}{statistics.median(seconds):10.3f}"
              f"{len(stays) / best:12,.0f}{best_reference / best:7.2f}x"
              f"{Decimal(cents).scaleb(-2):>14}")
    if args.million:
        seconds, cents = parallel(tariff_from_json(DAY_NIGHT), zone, args.million, args.procs,
                                  args.seed)
        print(f"repricing {args.million:,} stays (day/night) with {args.procs} processes: "
              f"{seconds:.2f} s ({args.million / seconds:,.0f} stays/s, "
              f"revenue {Decimal(cents).scaleb(-2)}); aim: under 10 s for a million")
    print(f"load average at the end {load()}")


if __name__ == "__main__":
    main()
