#!/usr/bin/env python3
"""Retention benchmark: does a kiosk still answer while the nightly retention job masks the
vehicle numbers of a million old stays?

In one run, on SQLite and/or PostgreSQL:

1. data: a lot of 50 spots and ``--rows`` completed walk-in stays that ended 200 days ago
   (one INSERT ... SELECT, so a million rows take seconds, not the demo's minutes);
2. reference: ``--ops`` kiosk check-ins (each checked out again, untimed) through the
   services, with nothing else running: p50 and p99;
3. ours: the same check-ins while ``main.py retention run`` (RETAIN_PLATES_DAYS=90, a separate
   process, as the worker would run it) masks every one of those rows in batches of 2,000;
   check-ins continue until it ends. p50, p99, the slowest, and how long the run took.

Between repeats the plates are put back (one UPDATE), so every repeat masks the same rows.
Each figure is the min / median over ``--repeat`` runs; the load average is printed at the
start and the end. Figures only: it never fails on time.

    .venv/bin/python scripts/retention_benchmark.py                  # SQLite and PostgreSQL
    .venv/bin/python scripts/retention_benchmark.py --rows 100000 --db sqlite

The SQLite file lives in a temporary folder; the PostgreSQL database is a scratch one
(``pd_bench_retention_<pid>``), dropped at the end."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import (  # noqa: E402
    Results,
    add_common_arguments,
    app_env,
    main_command,
    ratio,
    scratch_pg,
)
from sqlalchemy import Integer, String, cast, func, insert, literal, select, update  # noqa: E402

from parking_desktop.adapters.db.models import Reservation  # noqa: E402
from parking_desktop.adapters.db.types import Money, UTCDateTime  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.roles import SYSTEM, Actor, Role  # noqa: E402


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fill(app: App, rows: int) -> tuple[Actor, int]:
    staff = app.users.create(SYSTEM, username="bench_attendant", password="bench-password-1",
                             role=Role.ATTENDANT)
    actor = Actor(user_id=staff.id, username=staff.username, role=Role.ATTENDANT)
    manager = Actor(user_id=None, username="system", role=Role.MANAGER)
    lot = app.lots.create(manager, name="Bench", address="1 Bench St", pin_code="00000",
                          price_per_hour="2.00", number_of_spots=50)
    spot_id = lot.id  # any spot of the lot: closed stays hold no spot
    with app.db.read() as session:
        from parking_desktop.adapters.db.models import ParkingSpot

        spot_id = int(session.scalar(select(ParkingSpot.id).where(ParkingSpot.lot_id == lot.id)
                                     .limit(1)) or 0)
    ended = datetime.now(UTC) - timedelta(days=200)
    if app.db.engine.dialect.name == "postgresql":
        numbers = select(func.generate_series(1, rows).label("i")).subquery()
    else:
        seed = select(literal(1, Integer).label("i")).cte("n", recursive=True)
        numbers = seed.union_all(select(seed.c.i + 1).where(seed.c.i < rows))  # type: ignore[assignment]
    source = select(
        literal(spot_id), literal("RB") + cast(numbers.c.i, String),
        literal("completed"), literal(ended - timedelta(hours=2), UTCDateTime),
        literal(ended - timedelta(hours=2), UTCDateTime), literal(ended, UTCDateTime),
        literal(Decimal("2.00"), Money), literal(Decimal("4.00"), Money),
    )
    columns = ["spot_id", "vehicle_number", "status", "reserved_at", "parked_at", "left_at",
               "price_per_hour", "cost"]
    with app.db.write() as session:
        session.execute(insert(Reservation).from_select(columns, source))
    return actor, lot.id


def restore(app: App) -> None:
    with app.db.write() as session:
        session.execute(update(Reservation).where(Reservation.vehicle_number.like("*%"))
                        .values(vehicle_number=literal("RB") + cast(Reservation.id, String))
                        .execution_options(synchronize_session=False))


def check_ins(app: App, actor: Actor, lot_id: int, prefix: str, count: int | None,
              until: subprocess.Popen[bytes] | None = None, pause: float = 0.05) -> list[float]:
    """Check-ins (each checked out again, untimed) with ``pause`` between them: a busy
    entrance, not a loop that never lets go of SQLite's one write lock."""
    samples: list[float] = []
    n = 0
    while (count is not None and n < count) or (until is not None and until.poll() is None):
        plate = f"{prefix}{n:05d}"
        started = time.perf_counter()
        app.parking.check_in(actor, lot_id, plate)
        samples.append(time.perf_counter() - started)
        app.parking.check_out(actor, plate)
        n += 1
        time.sleep(pause)
    return samples


def bench(name: str, url: str, folder: Path, args: argparse.Namespace, results: Results) -> None:
    settings = load_settings(data_dir=folder, database_url=url, environ={},
                             dotenv_path=folder / "no.env")
    app = build_app(settings)
    try:
        started = time.perf_counter()
        actor, lot_id = fill(app, args.rows)
        results.note(f"{name}: {args.rows:,} old stays written in "
                     f"{time.perf_counter() - started:.1f} s")
        quiet_p50, quiet_p99, busy_p50, busy_p99, worst, runs = [], [], [], [], [], []
        for rep in range(args.repeat):
            pause = args.pause_ms / 1000
            quiet = check_ins(app, actor, lot_id, f"Q{rep}X", args.ops, pause=pause)
            worker = subprocess.Popen(
                main_command("-v", "--data-dir", str(folder), "--db", url, "retention",
                             "run", "--json"),
                env=app_env(RETAIN_PLATES_DAYS="90"), stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            began = time.perf_counter()
            busy = check_ins(app, actor, lot_id, f"B{rep}X", None, until=worker, pause=pause)
            worker.wait()
            runs.append(time.perf_counter() - began)
            if worker.returncode != 0:
                raise SystemExit("retention run failed: "
                                 + (worker.stderr.read().decode()[-3000:] if worker.stderr
                                    else ""))
            quiet_p50.append(percentile(quiet, 0.5))
            quiet_p99.append(percentile(quiet, 0.99))
            if busy:
                busy_p50.append(percentile(busy, 0.5))
                busy_p99.append(percentile(busy, 0.99))
                worst.append(max(busy))
            print(f"  {name} run {rep + 1}: retention {runs[-1]:.1f} s, {len(busy)} check-ins "
                  f"during it (p50 {ms(busy_p50[-1]) if busy else '-'}, "
                  f"p99 {ms(busy_p99[-1]) if busy else '-'}); quiet p50 {ms(quiet_p50[-1])}",
                  flush=True)
            restore(app)
        results.compare(f"{name}: check-in p50 during retention", busy_p50,
                        "check-in p50, nothing running", quiet_p50)
        results.compare(f"{name}: check-in p99 during retention", busy_p99,
                        "check-in p99, nothing running", quiet_p99)
        results.add(f"{name}: slowest check-in during retention",
                    f"{ms(min(worst))} / {ms(statistics.median(worst))}")
        results.add(f"{name}: retention run of {args.rows:,} rows",
                    f"{min(runs):.1f} s / {statistics.median(runs):.1f} s")
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ops", type=int, default=300, help="quiet check-ins per repeat")
    parser.add_argument("--pause-ms", type=int, default=50,
                        help="between one check-in's check-out and the next check-in")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    add_common_arguments(parser, repeat=3)
    args = parser.parse_args()
    results = Results("retention_benchmark", args.results)
    results.header()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-retention-")))
        if args.db in ("sqlite", "both"):
            bench("SQLite", f"sqlite:///{folder / 'sqlite' / 'parking.db'}", folder / "sqlite",
                  args, results)
        if args.db in ("postgresql", "both"):
            url = stack.enter_context(scratch_pg("retention"))
            bench("PostgreSQL", url.replace("postgresql://", "postgresql+psycopg://"),
                  folder / "pg", args, results)
    results.note("ratio = median during retention / median with nothing running; "
                 f"{ratio(1, 1)} means no slowdown")
    results.finish()


if __name__ == "__main__":
    main()
