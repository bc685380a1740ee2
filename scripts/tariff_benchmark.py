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
once (the engine alone, from memory).

Then the what-if repricing as a manager runs it: ``--db-stays`` completed stays (default a
million) are loaded into a scratch SQLite file and a scratch PostgreSQL database
(``pd_bench_tariffs_<pid>``, dropped at the end; see scripts/benchlib.py), and
``TariffService.simulate`` reprices them all with the day/night draft, ``--db-runs`` times
(min and median), as shipped (worker processes) and in one process, alternately. Next to
it, the same SELECT read to the end without pricing (the reference: what the database alone
costs). The aim is under 10 s for a million stays on this 2-core
machine. The load average is printed because other work on the machine shows in the figures.
Figures only: this never fails on time."""

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

import benchlib  # noqa: E402

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
    parser.add_argument("--db-stays", type=int, default=1_000_000,
                        help="completed stays repriced from the database by simulate (0: skip)")
    parser.add_argument("--db-runs", type=int, default=3, help="simulate runs per database")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
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


# --- what-if repricing from the database: TariffService.simulate on a million stays ---------
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # the scratch databases' clock
SPOTS = 500


def db_stays(count: int, seed: int) -> list[Stay]:
    """Stays that arrived in the 30 days before NOW minus a week, on whole seconds (the
    storage form used below), all left before NOW."""
    rng = random.Random(seed + 2)
    first = int((NOW - timedelta(days=37)).timestamp())
    stays: list[Stay] = []
    for _ in range(count):
        arrived = first + rng.randrange(30 * 86_400)
        kind = rng.random()
        if kind < 0.75:
            minutes = rng.expovariate(1 / 150)
        elif kind < 0.97:
            minutes = rng.uniform(8 * 60, 20 * 60)
        else:
            minutes = rng.uniform(24 * 60, 6 * 24 * 60)
        stays.append((arrived, arrived + int(minutes * 60)))
    return stays


def load_database(url: str, count: int, seed: int) -> int:
    """Migrate, add one lot of SPOTS spots with its flat version, and ``count`` completed
    reservations charged by today's rule at 2.50/h; returns the lot's id."""
    from sqlalchemy import text

    from parking_desktop.adapters.db import migrate
    from parking_desktop.adapters.db.bulk import StorageFormat, bulk_insert, bulk_load
    from parking_desktop.adapters.db.engine import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    flat = pricer(flat_tariff(PRICE), ZoneInfo("Europe/Paris"))
    with engine.begin() as conn:
        form = StorageFormat(conn.dialect.name)
        created = form.timestamp(int((NOW - timedelta(days=400)).timestamp()))
        conn.execute(text("INSERT INTO parking_lots (id, name, address, pin_code, "
                          "price_per_hour, number_of_spots, created_at) VALUES (1, 'Bench', "
                          "'1 Main St', 'B0001', 2.50, :spots, :at)"),
                     {"spots": SPOTS, "at": created})
        bulk_insert(conn, "parking_spots", ["id", "lot_id", "number", "position", "status"],
                    [(i, 1, f"P{i:04d}", i, "A") for i in range(1, SPOTS + 1)])
        rows = (
            (1 + i % SPOTS, f"B{i}", "completed", form.timestamp(arrived),
             form.timestamp(arrived), form.timestamp(left), form.money(250),
             form.money(flat.cents(arrived * 1_000_000, left * 1_000_000)))
            for i, (arrived, left) in enumerate(db_stays(count, seed))
        )
        with bulk_load(conn, "reservations"):
            bulk_insert(conn, "reservations",
                        ["spot_id", "vehicle_number", "status", "reserved_at", "parked_at",
                         "left_at", "price_per_hour", "cost"], rows)
    with engine.connect() as conn:  # fresh statistics for the planner, as a live site has
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    return 1


def time_simulate(
    url: str, lot_id: int, runs: int
) -> tuple[list[float], list[float], list[float], int]:
    """``runs`` simulate() calls as shipped (worker processes), ``runs`` in one process
    (alternating, so both see the same load), and ``runs`` plain reads of the same SELECT."""
    import tempfile

    from parking_desktop.adapters.db.stream import stream_rows
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.clock import FixedClock
    from parking_desktop.services.tariffs.simulation import stays_query

    draft = tariff_from_json(DAY_NIGHT)
    with tempfile.TemporaryDirectory(prefix="pd-bench-tariffs-") as folder:
        settings = load_settings(data_dir=Path(folder), database_url=url,
                                 environ={"APP_TIMEZONE": "Europe/Paris",
                                          "SCHEDULER_ENABLED": "false"},
                                 dotenv_path=Path(folder) / "none.env")
        app = build_app(settings, clock=FixedClock(NOW))
        try:
            simulated: list[float] = []
            alone: list[float] = []
            stays = 0
            procs = app.tariffs.procs
            for _ in range(runs):
                for times, count in ((simulated, procs), (alone, 1)):
                    app.tariffs.procs = count
                    started = time.perf_counter()
                    result = app.tariffs.simulate(lot_id, draft, 40)
                    times.append(time.perf_counter() - started)
                    stays = result.stays
            app.tariffs.procs = procs
            read: list[float] = []
            query = stays_query(app.db.is_sqlite, scan=True)
            params = {"since": NOW - timedelta(days=40), "until": NOW, "lot_id": lot_id}
            for _ in range(runs):
                started = time.perf_counter()
                with app.db.read() as session:
                    for _batch in stream_rows(session.connection(), query, params, 50_000):
                        pass
                read.append(time.perf_counter() - started)
        finally:
            app.close()
    return simulated, alone, read, stays


def database_run(kind: str, count: int, runs: int, seed: int) -> None:
    import tempfile

    print(f"{kind}: loading {count:,} completed stays ...", flush=True)
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pd-bench-tariffs-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            started = time.perf_counter()
            lot_id = load_database(url, count, seed)
            loaded = time.perf_counter() - started
            simulated, alone, read, stays = time_simulate(url, lot_id, runs)
    else:
        with benchlib.scratch_pg("tariffs") as server_url:
            url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
            started = time.perf_counter()
            lot_id = load_database(url, count, seed)
            loaded = time.perf_counter() - started
            simulated, alone, read, stays = time_simulate(url, lot_id, runs)
    low, mid = benchlib.min_median(simulated)
    one_low, one_mid = benchlib.min_median(alone)
    read_low, read_mid = benchlib.min_median(read)
    print(f"{kind}: {stays:,} stays (loaded in {loaded:.1f} s); simulate() with the day/night "
          f"draft: min {low:.2f} s, median {mid:.2f} s ({stays / low:,.0f} stays/s); in one "
          f"process: min {one_low:.2f} s, median {one_mid:.2f} s; the same "
          f"SELECT read without pricing: min {read_low:.2f} s, median {read_mid:.2f} s; "
          f"aim: under 10 s for a million; load average {load()}", flush=True)


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
    if args.db_stays:
        for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
            database_run(kind, args.db_stays, args.db_runs, args.seed)
    print(f"load average at the end {load()}")


if __name__ == "__main__":
    main()
