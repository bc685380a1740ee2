"""Core benchmark on a demo database of about a million reservations.

Measures, in one run, against references measured in the same run:

1. creating the data set: `main.py demo --drivers 10000 --days 365` (a fresh SQLite file in a
   temporary folder, or the empty database given with --db);
2. check-in and check-out latency through the services (p50, p99 over --ops operations each,
   walk-in vehicles BN<run>0000…), next to the same work as hand-written SQL (first free spot,
   mark it, insert / look up, charge, free it, count it in the dashboard's summary rows; no
   activity rows, no rule checks);
3. the manager dashboard through StatsService.dashboard, uncached, next to the same headline
   figures from ONE hand-written SQL query, and next to hand-written SQL for every figure the
   dashboard shows (headline + per lot + revenue per day + bookings per hour + recent).

    .venv/bin/python scripts/bench_core.py                   # a new SQLite file, deleted after
    .venv/bin/python scripts/bench_core.py --pg-scratch      # a scratch PostgreSQL database
    .venv/bin/python scripts/bench_core.py --db sqlite:////tmp/bench/parking.db   # your data
    .venv/bin/python scripts/bench_core.py --drivers 2000 --days 365    # a smaller data set

Where the data ends up: the default SQLite file and the --pg-scratch database
(``pd_bench_core_<pid>``) are made for the run and deleted at its end. A SQLite --db is copied
(the SQLite backup API) and the benchmark works on the copy: your file is left as it was. A
PostgreSQL --db is used as it is, and the benchmark ADDS ROWS to it: 2 x --ops completed
walk-in stays (checked in and out again, so no spot stays taken) with their activity rows;
it prints how many at the end.

Figures only: it never fails on time. The load average is printed at the start and the end
because the machine's other work shows in the figures."""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Results, add_common_arguments, scratch_pg  # noqa: E402
from sqlalchemy import Connection, bindparam, text  # noqa: E402

from parking_desktop.adapters.db.summary import bucket_of  # noqa: E402
from parking_desktop.adapters.db.types import Money, UTCDateTime  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.fee import compute_fee  # noqa: E402
from parking_desktop.domain.roles import SYSTEM  # noqa: E402
from parking_desktop.services.parking.stats import StatsService  # noqa: E402

HEADLINE_SQL = """
SELECT
  (SELECT count(*) FROM parking_lots WHERE archived_at IS NULL) AS lots,
  sum(CASE WHEN s.status = 'A' THEN 1 ELSE 0 END) AS available,
  sum(CASE WHEN s.status = 'R' THEN 1 ELSE 0 END) AS reserved,
  sum(CASE WHEN s.status = 'O' THEN 1 ELSE 0 END) AS occupied,
  (SELECT count(*) FROM users WHERE role = 'driver' AND is_active) AS drivers,
  (SELECT count(*) FROM reservations) AS reservations_total,
  (SELECT count(*) FROM reservations WHERE status IN ('reserved', 'active'))
      AS reservations_active,
  (SELECT sum(cost) FROM reservations WHERE status = 'completed') AS revenue_total,
  (SELECT sum(cost) FROM reservations WHERE status = 'completed' AND left_at >= :month_start)
      AS revenue_month
FROM parking_spots s JOIN parking_lots l ON l.id = s.lot_id
WHERE l.archived_at IS NULL AND s.removed_at IS NULL
"""
PER_LOT_SQL = """
SELECT l.id, l.name, sum(CASE WHEN s.status = 'A' THEN 1 ELSE 0 END),
       sum(CASE WHEN s.status = 'R' THEN 1 ELSE 0 END),
       sum(CASE WHEN s.status = 'O' THEN 1 ELSE 0 END)
FROM parking_lots l LEFT JOIN parking_spots s ON s.lot_id = l.id AND s.removed_at IS NULL
WHERE l.archived_at IS NULL GROUP BY l.id, l.name ORDER BY l.name
"""
# The UTC quarter hour of a timestamp, as the service groups it (see services/sqlhelpers).
QUARTER = {
    "sqlite": "strftime('%Y-%m-%d %H:', {c}) || "
              "printf('%02d', CAST(strftime('%M', {c}) AS INTEGER) / 15 * 15)",
    "postgresql": "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:') || "
                  "lpad((CAST(extract(minute FROM {c} AT TIME ZONE 'UTC') AS INTEGER) / 15 * 15)"
                  "::text, 2, '0')",
}
REVENUE_SQL = ("SELECT {bucket}, sum(cost) FROM reservations "
               "WHERE status = 'completed' AND left_at >= :since GROUP BY 1")
BOOKINGS_SQL = "SELECT {bucket}, count(*) FROM reservations WHERE reserved_at >= :since GROUP BY 1"
RECENT_SQL = """
SELECT r.id, s.number, l.name, u.username, r.vehicle_number, r.status, r.reserved_at, r.cost
FROM reservations r JOIN parking_spots s ON s.id = r.spot_id
JOIN parking_lots l ON l.id = s.lot_id LEFT JOIN users u ON u.id = r.user_id
ORDER BY r.reserved_at DESC, r.id DESC LIMIT :n
"""  # a bound LIMIT, as SQLAlchemy sends it: with a literal 5 and planner statistics, SQLite
# sorts every reservation (10 s on a million) instead of walking the reserved_at index


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# --- the data set ------------------------------------------------------------------------------
def ensure_demo(app_args: list[str], drivers: int, days: int) -> float | None:
    """Run `demo` when the database has no reservations; returns its wall time."""
    probe = run_main([*app_args, "stats", "--json"])
    if probe.returncode != 0:
        sys.exit(f"cannot read the database: {probe.stderr.strip()}")
    if json.loads(probe.stdout)["reservations_total"] > 0:
        return None
    print(f"Creating the data set: main.py demo --drivers {drivers} --days {days} ...",
          flush=True)
    started, cpu = time.perf_counter(), _children_cpu()
    done = run_main([*app_args, "demo", "--drivers", str(drivers), "--days", str(days)])
    took, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"demo failed: {done.stderr.strip()}")
    print("  " + done.stdout.splitlines()[1], flush=True)
    print(f"  {took:.1f} s wall, {cpu:.1f} s CPU (load average {os.getloadavg()[0]:.1f})",
          flush=True)
    return took


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_main(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEDULER_ENABLED": "false"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, env=env, check=False)


# --- check-in / check-out ----------------------------------------------------------------------
def plan_lots(app: App, ops: int) -> list[int]:
    """Lot ids for ``ops`` check-ins, spread over the free spots (never a full lot)."""
    free = {lot.id: lot.available for lot in app.lots.search()}
    plan: list[int] = []
    while len(plan) < ops and any(free.values()):
        for lot_id in sorted(free, key=lambda i: -free[i]):
            if free[lot_id] and len(plan) < ops:
                plan.append(lot_id)
                free[lot_id] -= 1
    return plan


def service_round(app: App, lots: list[int], prefix: str) -> tuple[list[float], list[float]]:
    plates = [f"{prefix}{i:04d}" for i in range(len(lots))]
    check_in = [timed(partial(app.parking.check_in, SYSTEM, lot, p))[0]
                for lot, p in zip(lots, plates, strict=True)]
    check_out = [timed(partial(app.parking.check_out, SYSTEM, p))[0] for p in plates]
    return check_in, check_out


def raw_round(app: App, lots: list[int], prefix: str) -> tuple[list[float], list[float]]:
    engine = app.db.engine.execution_options(sqlite_immediate=True)
    pg = engine.dialect.name == "postgresql"
    stamp = bindparam("now", type_=UTCDateTime())
    lock_spot, lock_lot = (" FOR UPDATE SKIP LOCKED", " FOR SHARE") if pg else ("", "")
    pick = text("SELECT id FROM parking_spots WHERE lot_id = :lot AND status = 'A' "  # noqa: S608
                f"AND removed_at IS NULL ORDER BY position LIMIT 1{lock_spot}")
    price_of = text(f"SELECT price_per_hour FROM parking_lots WHERE id = :lot{lock_lot}")  # noqa: S608
    insert = text("INSERT INTO reservations (spot_id, vehicle_number, status, reserved_at, "
                  "parked_at, price_per_hour) VALUES (:spot, :plate, 'active', :now, :now, "
                  ":price)").bindparams(stamp)
    find = text("SELECT r.id, r.spot_id, s.lot_id, r.parked_at, r.price_per_hour "
                "FROM reservations r JOIN parking_spots s ON s.id = r.spot_id "
                "WHERE r.vehicle_number = :plate AND r.status IN ('reserved', 'active')"
                ).columns(parked_at=UTCDateTime())
    # The dashboard's summary rows, counted in the same transaction as the services do.
    count = [text(sql).bindparams(bindparam("cost", type_=Money())) for sql in (
        "INSERT INTO stats_quarters (bucket, lot_id, bookings, revenue) "
        "VALUES (:bucket, :lot, :n, :cost) ON CONFLICT (bucket, lot_id) DO UPDATE SET "
        "bookings = stats_quarters.bookings + excluded.bookings, "
        "revenue = stats_quarters.revenue + excluded.revenue",
        "INSERT INTO stats_lot_totals (lot_id, bookings, revenue) VALUES (:lot, :n, :cost) "
        "ON CONFLICT (lot_id) DO UPDATE SET "
        "bookings = stats_lot_totals.bookings + excluded.bookings, "
        "revenue = stats_lot_totals.revenue + excluded.revenue")]
    close = text("UPDATE reservations SET status = 'completed', left_at = :now, cost = :cost "
                 "WHERE id = :id").bindparams(stamp, bindparam("cost", type_=Money()))

    def check_in(lot: int, plate: str) -> None:
        with engine.begin() as conn:
            price = conn.scalar(price_of, {"lot": lot})
            spot = conn.scalar(pick, {"lot": lot})
            conn.execute(text("UPDATE parking_spots SET status = 'O' WHERE id = :spot"),
                         {"spot": spot})
            now = datetime.now(UTC)
            conn.execute(insert, {"spot": spot, "plate": plate, "now": now, "price": price})
            for statement in count:
                conn.execute(statement, {"bucket": bucket_of(now), "lot": lot, "n": 1,
                                         "cost": Decimal(0)})

    def check_out(plate: str) -> None:
        with engine.begin() as conn:
            rid, spot, lot, parked, price = conn.execute(find, {"plate": plate}).one()
            now = datetime.now(UTC)
            cost = compute_fee(now - parked, Decimal(str(price))).cost
            conn.execute(close, {"now": now, "cost": cost, "id": rid})
            for statement in count:
                conn.execute(statement, {"bucket": bucket_of(now), "lot": lot, "n": 0,
                                         "cost": cost})
            conn.execute(text("UPDATE parking_spots SET status = 'A' WHERE id = :spot"),
                         {"spot": spot})

    plates = [f"{prefix}{i:04d}" for i in range(len(lots))]
    ins = [timed(partial(check_in, lot, p))[0] for lot, p in zip(lots, plates, strict=True)]
    outs = [timed(partial(check_out, p))[0] for p in plates]
    return ins, outs


# --- dashboard ---------------------------------------------------------------------------------
def raw_headline(conn: Connection, tz: Any) -> dict[str, Any]:
    local = datetime.now(UTC).astimezone(tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    query = text(HEADLINE_SQL).bindparams(bindparam("month_start", type_=UTCDateTime()))
    row = conn.execute(query, {"month_start": month_start}).mappings().one()
    return dict(row)


def raw_full(conn: Connection, tz: Any) -> dict[str, Any]:
    figures = raw_headline(conn, tz)
    since = datetime.now(UTC) - timedelta(days=30)
    dialect = conn.dialect.name
    stamp = bindparam("since", type_=UTCDateTime())
    figures["per_lot"] = conn.execute(text(PER_LOT_SQL)).all()
    left, booked = (QUARTER[dialect].format(c=c) for c in ("left_at", "reserved_at"))
    figures["revenue"] = conn.execute(text(REVENUE_SQL.format(bucket=left)).bindparams(stamp),
                                      {"since": since}).all()
    figures["bookings"] = conn.execute(text(BOOKINGS_SQL.format(bucket=booked))
                                       .bindparams(stamp), {"since": since}).all()
    figures["recent"] = conn.execute(text(RECENT_SQL), {"n": 5}).all()
    return figures


def measure_dashboard(app: App, rounds: int) -> dict[str, list[float]]:
    stats = StatsService(app.ctx)  # a plain instance: not the cached one the screens use
    out: dict[str, list[float]] = {"service": [], "raw_one": [], "raw_full": []}
    tz = app.settings.tz
    for _ in range(rounds):  # interleaved, so a busy moment on the machine hits all three
        out["service"].append(timed(partial(stats.dashboard, SYSTEM))[0])
        with app.db.engine.connect() as conn:
            out["raw_one"].append(timed(partial(raw_headline, conn, tz))[0])
            out["raw_full"].append(timed(partial(raw_full, conn, tz))[0])
            conn.rollback()
    service = stats.dashboard(SYSTEM)
    with app.db.engine.connect() as conn:
        raw = raw_headline(conn, tz)
    same = (service.reservations_total == raw["reservations_total"]
            and service.reservations_active == raw["reservations_active"]
            and service.occupied == raw["occupied"] and service.drivers == raw["drivers"]
            and service.revenue_total == Decimal(str(raw["revenue_total"] or 0)).quantize(
                Decimal("0.01")))
    print(f"  dashboard figures agree with the raw query: {'yes' if same else 'NO'} "
          f"({service.reservations_total:,} reservations, revenue {service.revenue_total:,})")
    return out


# --- main --------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="database URL with data (SQLite: copied first; PostgreSQL: "
                                    "rows are added); default: a new SQLite file")
    where.add_argument("--pg-scratch", action="store_true",
                       help="a new PostgreSQL database pd_bench_core_<pid>, dropped at the end")
    parser.add_argument("--drivers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ops", type=int, default=300, help="check-ins and check-outs each")
    add_common_arguments(parser, repeat=7)  # dashboard measurements
    args = parser.parse_args()
    results = Results("bench_core", args.results)
    results.header()

    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-bench-core-"))
        data_dir = Path(tmp)
        url = args.db
        if args.pg_scratch:
            url = stack.enter_context(scratch_pg("core"))
        elif url and url.startswith("sqlite"):
            url = copy_sqlite(url, data_dir / "copy.db")
        app_args = ["--data-dir", str(data_dir)] + (["--db", url] if url else [])
        demo_seconds = ensure_demo(app_args, args.drivers, args.days)
        settings = load_settings(data_dir=data_dir, database_url=url)
        app = build_app(settings)
        try:
            before = row_counts(app)
            report(app, args, demo_seconds, results)
            added = {k: v - before[k] for k, v in row_counts(app).items()}
        finally:
            app.close()
    if args.db and not args.db.startswith("sqlite"):
        results.note(f"rows ADDED to {args.db}: {added['reservations']:,} reservations (all "
                     f"completed), {added['user_activity']:,} activity rows")
    elif args.db:
        results.note("worked on a copy of the SQLite file, deleted at the end: the file it "
                     "was given is unchanged")
    else:
        results.note(f"worked on a new {'scratch PostgreSQL' if args.pg_scratch else 'SQLite'} "
                     "database, deleted at the end")
    results.finish()


def copy_sqlite(url: str, target: Path) -> str:
    """A copy of the SQLite database at ``url`` (consistent even while another process writes)."""
    source = url.split("///", 1)[1]
    if not Path(source).is_file():
        sys.exit(f"no SQLite file at {source}")
    print(f"Copying {source} (the benchmark works on the copy)...", flush=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, \
            sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def row_counts(app: App) -> dict[str, int]:
    with app.db.engine.connect() as conn:
        return {table: int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
                for table in ("reservations", "user_activity")}


def report(app: App, args: argparse.Namespace, demo_seconds: float | None,
           results: Results) -> None:
    print(f"\nParking Desktop core benchmark on {app.db.description}")
    if demo_seconds is not None:
        print(f"demo --drivers {args.drivers} --days {args.days}: {demo_seconds:.1f} s wall")
    lots = plan_lots(app, args.ops)
    print(f"{len(lots)} check-ins and check-outs each way, {args.repeat} dashboard rounds",
          flush=True)

    run = secrets.token_hex(2).upper()  # plates of this run: BN<run>0001, BR<run>0001, ...
    svc_in, svc_out = service_round(app, lots, f"BN{run}")
    raw_in, raw_out = raw_round(app, lots, f"BR{run}")
    dash = measure_dashboard(app, args.repeat)

    rows = [
        ("check-in (ParkingService.check_in)", svc_in, "raw SQL check-in", raw_in),
        ("check-out (ParkingService.check_out)", svc_out, "raw SQL check-out", raw_out),
        ("dashboard (StatsService, uncached)", dash["service"], "raw SQL, one query",
         dash["raw_one"]),
        ("dashboard (StatsService, uncached)", dash["service"], "raw SQL, every figure",
         dash["raw_full"]),
    ]
    for name, samples, ref_name, ref in rows:
        results.compare(name, samples, ref_name, ref)
    for name, samples in (("check-in", svc_in), ("check-out", svc_out)):
        results.note(f"{name} p99 {ms(percentile(samples, 0.99))} ms over {len(samples)} "
                     "operations")
    if demo_seconds is not None:
        results.note(f"data set: demo --drivers {args.drivers} --days {args.days} took "
                     f"{demo_seconds:.1f} s")


if __name__ == "__main__":
    main()
