#!/usr/bin/env python3
"""Load test for the scheduled jobs.

For each size (default 10,000 and 100,000 drivers; about 20 reservations per driver, so two
million at the large size) it fills a fresh database with the demo generator's bulk loader,
then measures:

* daily_reminder: the selection (three reads for all drivers) and the whole run (selection,
  rendering every mail, queueing it in the outbox with its activity row);
* monthly_report: the computation for all drivers (set-based queries), the rendering of every
  report, and the whole run (computation, rendering, queueing);
* the SQL statements each issues (SQLAlchemy ``before_cursor_execute``), split into reads and
  writes: reads stay constant whatever the number of drivers, writes are multi-row INSERTs of
  up to 1,000 rows;
* a reference measured in the same run: the per-driver way (a loop with one set of
  queries per driver) on a sample of drivers, extrapolated to all of them.

Figures are printed, never asserted: the benchmark does not fail on time.

    .venv/bin/python scripts/job_load_test.py                       # SQLite, 10k and 100k
    .venv/bin/python scripts/job_load_test.py --db postgresql       # a scratch PostgreSQL db
    .venv/bin/python scripts/job_load_test.py --sizes 2000,20000    # quicker
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from parking_desktop.adapters.passwords import Argon2Hasher  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.clock import FixedClock  # noqa: E402
from parking_desktop.domain.roles import SYSTEM  # noqa: E402
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions  # noqa: E402
from parking_desktop.services.mail import monthly_report as mr  # noqa: E402
from parking_desktop.services.mail import reminders  # noqa: E402

NOW = datetime(2026, 3, 2, 17, 5, tzinfo=UTC)  # just after 18:00 in Paris; February is done
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAYS = 72  # ~20 reservations per driver with the demo's booking rate
SAMPLE = 500  # drivers for the per-driver reference


@dataclass
class Counter:
    reads: int = 0
    writes: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.reads + self.writes


@contextmanager
def counting(app: App) -> Iterator[Counter]:
    counter = Counter()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        counter.kinds[verb] = counter.kinds.get(verb, 0) + 1
        if verb in ("SELECT", "WITH", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                    "RELEASE"):
            counter.reads += verb in ("SELECT", "WITH")
        else:
            counter.writes += 1

    event.listen(app.db.engine, "before_cursor_execute", on_execute)
    try:
        yield counter
    finally:
        event.remove(app.db.engine, "before_cursor_execute", on_execute)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


@contextmanager
def scratch_database(kind: str, drivers: int, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'jobs_{drivers}.db'}"
        return
    name = f"pd_job_load_{drivers}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def per_driver_reference(app: App, month: mr.Month, sample: int) -> tuple[float, float]:
    """The naive way: one round of queries per driver. Seconds and statements per driver."""
    with app.db.read() as session, counting(app) as counter:
        recipients = mr._recipients(session)[:sample]
        counter.reads = counter.writes = 0
        seconds, _ = timed(lambda: [
            next(mr.compute_reports(session, month, app.ctx.tz, [r], only_user=r.user_id))
            for r in recipients
        ])
    return seconds / max(1, len(recipients)), counter.total / max(1, len(recipients))


def measure(kind: str, drivers: int, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"drivers": drivers}
    with scratch_database(kind, drivers, folder) as url:
        settings = load_settings(
            data_dir=folder / f"data_{drivers}", database_url=url,
            environ={"APP_TIMEZONE": "Europe/Paris"}, dotenv_path=folder / "no.env")
        clock = FixedClock(NOW)
        app = build_app(settings, clock=clock, hasher=Argon2Hasher(fast=True))
        try:
            app.jobs.scheduler.runner.heartbeat_seconds = 3600  # no beats inside the counts
            lots = max(5, min(50, drivers // 2000))
            print(f"\n[{kind}] {drivers:,} drivers: loading demo data ({DAYS} days, {lots} lots)…",
                  flush=True)
            load_s, result = timed(lambda: DemoLoader(app.ctx, Argon2Hasher(fast=True)).load(
                DemoOptions(drivers=drivers, lots=lots, days=DAYS, seed=7), "bench-Pass-1"))
            out.update(load_s=load_s, reservations=result.reservations)
            print(f"  loaded {result.reservations:,} reservations in {load_s:.1f} s", flush=True)

            # --- daily reminder ------------------------------------------------------------
            with counting(app) as sel, app.db.read() as session:
                sel_s, due = timed(lambda: (reminders.count_reachable(session),
                                            reminders.select_due(session, NOW),
                                            reminders.lots_with_free_spots(session)))
            out.update(reminder_select_s=sel_s, reminder_select_statements=sel.total,
                       reminder_due=len(due[1]), reachable=due[0])
            with counting(app) as run_count:
                run_s, run = timed(lambda: app.jobs.scheduler.run_job_now("daily_reminder"))
            out.update(reminder_run_s=run_s, reminder_reads=run_count.reads,
                       reminder_writes=run_count.writes, reminder_queued=run.counts["queued"])
            print(f"  reminders: {len(due[1]):,} due of {due[0]:,}; select {sel_s:.2f} s "
                  f"({sel.total} statements); run {run_s:.1f} s, {run_count.reads} reads + "
                  f"{run_count.writes} writes", flush=True)

            # --- monthly report -------------------------------------------------------------
            month = mr.Month.previous(NOW, app.ctx.tz)
            with app.db.read() as session:
                recipients = mr._recipients(session)
                with counting(app) as comp:
                    comp_s, active = timed(lambda: sum(
                        r.has_activity
                        for r in mr.compute_reports(session, month, app.ctx.tz, recipients)))
                reports = mr.compute_reports(session, month, app.ctx.tz, recipients)
            email = app.email
            render_s = 0.0
            for recipient, rep in zip(recipients, reports, strict=True):  # one at a time
                started = time.perf_counter()
                email.build_monthly_report(recipient, rep,
                                           key=mr.monthly_key(recipient.user_id, month))
                render_s += time.perf_counter() - started
            out.update(monthly_compute_s=comp_s, monthly_compute_statements=comp.total,
                       monthly_render_s=render_s, monthly_recipients=len(recipients),
                       monthly_active=active)
            print(f"  monthly {month.key}: compute {comp_s:.2f} s for {len(recipients):,} "
                  f"drivers ({comp.total} statements), render {render_s:.1f} s "
                  f"({active:,} with stays)", flush=True)
            with counting(app) as full:
                full_s, run = timed(lambda: app.jobs.scheduler.run_job_now("monthly_report"))
            out.update(monthly_run_s=full_s, monthly_reads=full.reads,
                       monthly_writes=full.writes, monthly_queued=run.counts["queued"])
            print(f"  monthly run {full_s:.1f} s: {full.reads} reads + {full.writes} writes",
                  flush=True)

            # --- reference: per driver ------------------------------------------------------
            per_s, per_statements = per_driver_reference(app, month, SAMPLE)
            out.update(reference_s_per_driver=per_s, reference_statements_per_driver=per_statements)
            print(f"  reference (per-driver queries, {SAMPLE} sampled): {per_s * 1000:.2f} ms "
                  f"and {per_statements:.0f} statements per driver", flush=True)
            history = app.jobs.scheduler.history(SYSTEM, limit=5)
            out["ledger"] = [(h.job, h.status, h.counts.get("queued")) for h in history]
        finally:
            app.close()
    return out


def report(results: list[dict[str, Any]], kind: str) -> None:
    small, large = results[0], results[-1]
    ratio = large["drivers"] / small["drivers"]

    def row(label: str, key: str, fmt: str = "{:,.2f}") -> None:
        a, b = small[key], large[key]
        growth = (b / a) if a else float("nan")
        print(f"  {label:<44}{fmt.format(a):>14}{fmt.format(b):>14}{growth:>10.2f}x")

    print(f"\n=== job_load_test on {kind}: {small['drivers']:,} vs {large['drivers']:,} drivers "
          f"({ratio:.0f}x) ===")
    print(f"  {'':<44}{'small':>14}{'large':>14}{'growth':>11}")
    row("reservations", "reservations", "{:,.0f}")
    row("demo data load (s)", "load_s")
    row("reminder: drivers due", "reminder_due", "{:,.0f}")
    row("reminder: selection (s)", "reminder_select_s")
    row("reminder: selection statements", "reminder_select_statements", "{:,.0f}")
    row("reminder: whole run (s)", "reminder_run_s")
    row("reminder: run read statements", "reminder_reads", "{:,.0f}")
    row("reminder: run write statements", "reminder_writes", "{:,.0f}")
    row("monthly: computation, all drivers (s)", "monthly_compute_s")
    row("monthly: computation statements", "monthly_compute_statements", "{:,.0f}")
    row("monthly: rendering every report (s)", "monthly_render_s")
    row("monthly: whole run (s)", "monthly_run_s")
    row("monthly: run read statements", "monthly_reads", "{:,.0f}")
    row("monthly: run write statements", "monthly_writes", "{:,.0f}")
    for r in (small, large):
        extrapolated_s = r["reference_s_per_driver"] * r["monthly_recipients"]
        extrapolated_n = r["reference_statements_per_driver"] * r["monthly_recipients"]
        print(f"  reference at {r['drivers']:,} drivers (per-driver queries, extrapolated): "
              f"{extrapolated_s:,.1f} s and {extrapolated_n:,.0f} statements; set-based "
              f"computation is {extrapolated_s / max(r['monthly_compute_s'], 1e-9):,.0f}x faster "
              f"with {extrapolated_n / max(r['monthly_compute_statements'], 1):,.0f}x fewer "
              "statements")
    per_mail = [r["monthly_render_s"] / max(1, r["monthly_recipients"]) * 1000 for r in results]
    print(f"  rendering: {statistics.mean(per_mail):.2f} ms per monthly report on average")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,100000",
                        help="driver counts, comma-separated (default 10000,100000)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="job_load_") as tmp:
        results = [measure(args.db, n, Path(tmp)) for n in sizes]
    report(results, args.db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
