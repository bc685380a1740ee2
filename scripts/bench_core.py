"""Core benchmark on a demo database of about a million reservations.

Measures, in one run, against references measured in the same run:

1. creating the data set: `main.py demo --drivers 10000 --days 365` (a fresh SQLite file in a
   temporary folder, or the empty database given with --db);
2. check-in and check-out latency through the services (p50, p99 over --ops operations each,
   walk-in vehicles BN<run>0000…), next to the same work as hand-written SQL (first free spot,
   mark it, insert / look up, charge, free it; no activity rows, no rule checks);
3. the manager dashboard through StatsService.dashboard, uncached, next to the same headline
   figures from ONE hand-written SQL query, and next to hand-written SQL for every figure the
   dashboard shows (headline + per lot + revenue per day + bookings per hour + recent).

    .venv/bin/python scripts/bench_core.py
    .venv/bin/python scripts/bench_core.py --db postgresql://postgres@127.0.0.1/bench
    .venv/bin/python scripts/bench_core.py --drivers 2000 --days 365    # a smaller data set

--db with data already in it is used as it is; the benchmark adds (and completes) its own
check-ins there. Figures only: it never fails on time. The load average is printed because
the machine's other work shows in the figures."""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection, bindparam, text  # noqa: E402

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
    find = text("SELECT id, spot_id, parked_at, price_per_hour FROM reservations "
                "WHERE vehicle_number = :plate AND status IN ('reserved', 'active')"
                ).columns(parked_at=UTCDateTime())
    close = text("UPDATE reservations SET status = 'completed', left_at = :now, cost = :cost "
                 "WHERE id = :id").bindparams(stamp, bindparam("cost", type_=Money()))

    def check_in(lot: int, plate: str) -> None:
        with engine.begin() as conn:
            price = conn.scalar(price_of, {"lot": lot})
            spot = conn.scalar(pick, {"lot": lot})
            conn.execute(text("UPDATE parking_spots SET status = 'O' WHERE id = :spot"),
                         {"spot": spot})
            conn.execute(insert, {"spot": spot, "plate": plate, "now": datetime.now(UTC),
                                  "price": price})

    def check_out(plate: str) -> None:
        with engine.begin() as conn:
            rid, spot, parked, price = conn.execute(find, {"plate": plate}).one()
            now = datetime.now(UTC)
            cost = compute_fee(now - parked, Decimal(str(price))).cost
            conn.execute(close, {"now": now, "cost": cost, "id": rid})
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
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--drivers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ops", type=int, default=300, help="check-ins and check-outs each")
    parser.add_argument("--rounds", type=int, default=7, help="dashboard measurements")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        data_dir = Path(tmp)
        app_args = ["--data-dir", str(data_dir)] + (["--db", args.db] if args.db else [])
        demo_seconds = ensure_demo(app_args, args.drivers, args.days)
        settings = load_settings(data_dir=data_dir, database_url=args.db)
        app = build_app(settings)
        try:
            report(app, args, demo_seconds)
        finally:
            app.close()


def report(app: App, args: argparse.Namespace, demo_seconds: float | None) -> None:
    print(f"\nParking Desktop core benchmark on {app.db.description}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if demo_seconds is not None:
        print(f"demo --drivers {args.drivers} --days {args.days}: {demo_seconds:.1f} s wall")
    lots = plan_lots(app, args.ops)
    print(f"{len(lots)} check-ins and check-outs each way, {args.rounds} dashboard rounds")

    run = secrets.token_hex(2).upper()  # plates of this run: BN<run>0001, BR<run>0001, ...
    svc_in, svc_out = service_round(app, lots, f"BN{run}")
    raw_in, raw_out = raw_round(app, lots, f"BR{run}")
    dash = measure_dashboard(app, args.rounds)

    rows = [
        ("check-in (ParkingService.check_in)", svc_in, "raw SQL check-in", raw_in),
        ("check-out (ParkingService.check_out)", svc_out, "raw SQL check-out", raw_out),
        ("dashboard (StatsService, uncached)", dash["service"], "raw SQL, one query",
         dash["raw_one"]),
        ("dashboard (StatsService, uncached)", dash["service"], "raw SQL, every figure",
         dash["raw_full"]),
    ]
    print()
    header = (f"{'operation':38} {'p50 ms':>9} {'p99 ms':>9}   {'reference':24}"
              f" {'p50 ms':>9} {'ratio':>7}")
    print(header)
    print("-" * len(header))
    for name, samples, ref_name, ref in rows:
        p50, ref50 = statistics.median(samples), statistics.median(ref)
        print(f"{name:38} {ms(p50):>9} {ms(percentile(samples, 0.99)):>9}   {ref_name:24}"
              f" {ms(ref50):>9} {p50 / ref50:>6.1f}x")
    print("\n(p99 of the dashboard is over only a few rounds; ratios compare p50s.)")


if __name__ == "__main__":
    main()
