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
* a reference measured in the same run: the monthly report the way the old web back end made
  it, a plain per-driver loop (for each driver: SELECT that driver's stays of the month with
  their spot and lot, add them up in Python, render the mail and run the CSS inliner over it,
  as the seed's Celery task did for every mail). Its computation and its rendering are timed
  separately, like ours (ours inlines the CSS once per template, at load). It runs for every
  driver up to ``--reference-all`` drivers (default 20,000); above that for a random sample of
  ``--reference-sample`` drivers, extrapolated to all of them (and labelled so). Its figures
  are checked against ours for the drivers it covered.

The whole job run is the installed program's: from 5,000 recipients it spreads the drivers
over one worker process per core (``services/mail/monthly_run.py``); the computation and the
rendering are timed in this one process, like the reference, which runs in one process (the
seed's Celery would have spread its per-driver tasks over a worker per core too: the aim of
30 s for 100,000 drivers is an absolute one, and the reference's figures are a floor of what
that loop costs in CPU).

``--repeat N`` repeats the computation, the rendering and the reference N times on the same
data (min and median shown); the whole job runs are measured once (a second run of the same
period queues nothing, by design). The load average is printed at the start and the end.
PostgreSQL runs use a scratch database ``pd_bench_jobs_<drivers>_<pid>``, dropped at the end.
Figures are printed, never asserted: the benchmark does not fail on time.

    .venv/bin/python scripts/job_load_test.py                       # SQLite, 10k and 100k
    .venv/bin/python scripts/job_load_test.py --db postgresql       # a scratch PostgreSQL db
    .venv/bin/python scripts/job_load_test.py --sizes 2000,20000    # quicker
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Results, add_common_arguments, scratch_pg, span  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from parking_desktop.adapters.db.models import ParkingLot, ParkingSpot, Reservation  # noqa: E402
from parking_desktop.adapters.mail.templates import MailRenderer  # noqa: E402
from parking_desktop.adapters.passwords import Argon2Hasher  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.clock import FixedClock  # noqa: E402
from parking_desktop.domain.fee import money  # noqa: E402
from parking_desktop.domain.roles import SYSTEM  # noqa: E402
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions  # noqa: E402
from parking_desktop.services.mail import monthly_report as mr  # noqa: E402
from parking_desktop.services.mail import reminders  # noqa: E402

NOW = datetime(2026, 3, 2, 17, 5, tzinfo=UTC)  # just after 18:00 in Paris; February is done
DAYS = 72  # ~20 reservations per driver with the demo's booking rate


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
    with scratch_pg(f"jobs_{drivers}") as url:
        yield url


def per_driver_report(session: Session, month: mr.Month, tz: Any,
                      recipient: mr.Recipient) -> mr.MonthlyReport:
    """One driver's report as the old web back end made it: that driver's stays of the month
    (one SELECT with the spot and the lot), added up in Python."""
    start, end = month.bounds(tz)
    stays = session.execute(
        select(Reservation.id, Reservation.vehicle_number, Reservation.parked_at,
               Reservation.reserved_at, Reservation.left_at, Reservation.cost,
               ParkingLot.name, ParkingSpot.number)
        .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
        .join(ParkingLot, ParkingLot.id == ParkingSpot.lot_id)
        .where(Reservation.user_id == recipient.user_id, Reservation.status == "completed",
               Reservation.left_at >= start, Reservation.left_at < end)
        .order_by(Reservation.left_at.desc(), Reservation.id.desc())
    ).all()
    days = month.days()
    if not stays:
        return mr.MonthlyReport(user_id=recipient.user_id, username=recipient.username,
                                full_name=recipient.full_name, email=recipient.email,
                                month=month, timezone=tz.key,
                                daily_spending=tuple((d, mr.ZERO) for d in days))
    spent, seconds = Decimal(0), Decimal(0)
    visits: Tally[str] = Tally()
    by_lot: dict[str, Decimal] = defaultdict(Decimal)
    by_day: dict[Any, Decimal] = defaultdict(Decimal)
    lines = []
    for rid, plate, parked, reserved, left, cost, lot, spot in stays:
        parked_utc = mr._utc(parked or reserved)
        left_utc = mr._utc(left)
        amount = mr._dec(cost)
        spent += amount
        seconds += Decimal((left_utc - parked_utc).total_seconds())
        visits[lot] += 1
        by_lot[lot] += amount
        by_day[left_utc.astimezone(tz).date()] += amount
        if len(lines) < mr.LAST_STAYS:
            lines.append(mr.StayLine(reservation_id=rid, lot_name=lot, spot_number=spot,
                                     vehicle_number=plate, parked_at=parked_utc,
                                     left_at=left_utc,
                                     hours=mr._hours(Decimal((left_utc - parked_utc)
                                                             .total_seconds())),
                                     cost=money(amount)))
    best = min(visits.items(), key=lambda item: (-item[1], item[0]))
    return mr.MonthlyReport(
        user_id=recipient.user_id, username=recipient.username, full_name=recipient.full_name,
        email=recipient.email, month=month, timezone=tz.key, bookings=len(stays),
        total_spent=money(spent), hours_parked=mr._hours(seconds),
        most_used_lot=best[0], most_used_lot_visits=best[1], last_bookings=tuple(lines),
        spending_by_lot=tuple(sorted(((n, money(a)) for n, a in by_lot.items()),
                                     key=lambda item: (-item[1], item[0]))),
        daily_spending=tuple((d, money(by_day[d]) if d in by_day else mr.ZERO)
                             for d in days))


def per_driver_reference(app: App, month: mr.Month, recipients: list[mr.Recipient],
                         ours: dict[int, mr.MonthlyReport]) -> dict[str, Any]:
    """The per-driver loop over ``recipients``: compute and render times, statements, and
    whether its figures agree with the set-based reports ``ours``."""
    email = app.email
    with app.db.read() as session, counting(app) as counter:
        compute_s, reports = timed(lambda: [per_driver_report(session, month, app.ctx.tz, r)
                                            for r in recipients])
    ours_renderer, email.renderer = email.renderer, MailRenderer(app.ctx.tz,
                                                                 inline_at_load=False)
    try:
        email.build_monthly_report(recipients[0], reports[0])  # templates loaded untimed
        render_s, _ = timed(lambda: [
            email.build_monthly_report(r, rep, key=mr.monthly_key(r.user_id, month))
            for r, rep in zip(recipients, reports, strict=True)])
    finally:
        email.renderer = ours_renderer
    agree = all(ours[r.user_id].bookings == rep.bookings
                and ours[r.user_id].total_spent == rep.total_spent
                and ours[r.user_id].most_used_lot == rep.most_used_lot
                for r, rep in zip(recipients, reports, strict=True))
    return {"compute_s": compute_s, "render_s": render_s, "statements": counter.total,
            "drivers": len(recipients), "agree": agree}


def measure(kind: str, drivers: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
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
                recipients = mr.recipients_of(session)
            everyone = len(recipients) <= args.reference_all
            sample = (recipients if everyone else
                      sorted(random.Random(7).sample(recipients, min(args.reference_sample,
                                                                     len(recipients))),
                             key=lambda r: r.user_id))
            compute, render, ref_compute, ref_render = [], [], [], []
            email = app.email
            for _ in range(args.repeat):  # ours and the reference take turns
                with app.db.read() as session, counting(app) as comp:
                    comp_s, reports = timed(lambda session=session: list(
                        mr.compute_reports(session, month, app.ctx.tz, recipients)))
                compute.append(comp_s)
                render_s, _ = timed(lambda reports=reports: [  # one mail per driver, like the job
                    email.build_monthly_report(r, rep, key=mr.monthly_key(r.user_id, month))
                    for r, rep in zip(recipients, reports, strict=True)])
                render.append(render_s)
                ours = {rep.user_id: rep for rep in reports}
                ref = per_driver_reference(app, month, sample, ours)
                scale = len(recipients) / max(1, ref["drivers"])
                ref_compute.append(ref["compute_s"] * scale)
                ref_render.append(ref["render_s"] * scale)
            active = sum(rep.has_activity for rep in reports)
            out.update(monthly_compute=compute, monthly_compute_statements=comp.total,
                       monthly_render=render, monthly_recipients=len(recipients),
                       monthly_active=active, reference_compute=ref_compute,
                       reference_render=ref_render, reference_drivers=ref["drivers"],
                       reference_statements=ref["statements"] * scale,
                       reference_agrees=ref["agree"],
                       monthly_compute_s=min(compute), monthly_render_s=min(render))
            print(f"  monthly {month.key}: compute {span(compute)} for {len(recipients):,} "
                  f"drivers ({comp.total} statements), render {span(render)} "
                  f"({active:,} with stays)", flush=True)
            print(f"  reference (per-driver loop, {ref['drivers']:,} drivers"
                  f"{'' if everyone else ', extrapolated to all'}): compute {span(ref_compute)}"
                  f" ({ref['statements'] * scale:,.0f} statements), render {span(ref_render)}; "
                  f"figures {'agree' if ref['agree'] else 'DIFFER'}", flush=True)
            with counting(app) as full:
                full_s, run = timed(lambda: app.jobs.scheduler.run_job_now("monthly_report"))
            out.update(monthly_run_s=full_s, monthly_reads=full.reads,
                       monthly_writes=full.writes, monthly_queued=run.counts["queued"])
            print(f"  monthly run {full_s:.1f} s: {full.reads} reads + {full.writes} writes in "
                  "this process (from 5,000 recipients the report workers' statements are "
                  "their own, not counted)", flush=True)

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
    row("monthly: run reads, this process", "monthly_reads", "{:,.0f}")
    row("monthly: run writes, this process", "monthly_writes", "{:,.0f}")
    per_mail = [r["monthly_render_s"] / max(1, r["monthly_recipients"]) * 1000 for r in results]
    print(f"  rendering: {statistics.mean(per_mail):.2f} ms per monthly report on average")


def add_rows(results: Results, kind: str, r: dict[str, Any]) -> None:
    n = f"{kind}, {r['drivers']:,} drivers"
    how = ("per-driver loop" if r["reference_drivers"] >= r["monthly_recipients"] else
           f"per-driver loop, {r['reference_drivers']:,} sampled, extrapolated")
    results.compare(f"monthly report compute ({n})", r["monthly_compute"],
                    f"{how}: compute", r["reference_compute"])
    results.compare(f"monthly report render ({n})", r["monthly_render"],
                    f"{how}: render", r["reference_render"])
    ref_total = [c + m for c, m in zip(r["reference_compute"], r["reference_render"],
                                       strict=True)]
    results.compare(f"monthly report whole job run ({n})", [r["monthly_run_s"]],
                    f"{how}: compute + render", ref_total)
    results.note(f"{n}: {r['reservations']:,} reservations; daily reminder whole job run "
                 f"{r['reminder_run_s']:.2f} s for {r['reminder_due']:,} drivers due (no "
                 "reference); statements: ours "
                 f"{r['monthly_compute_statements']:,} to compute, the per-driver loop "
                 f"{r['reference_statements']:,.0f}; the loop's figures "
                 f"{'agree with ours' if r['reference_agrees'] else 'DIFFER FROM OURS'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,100000",
                        help="driver counts, comma-separated (default 10000,100000)")
    parser.add_argument("--reference-all", type=int, default=20_000, metavar="N",
                        help="run the per-driver reference for every driver up to N drivers")
    parser.add_argument("--reference-sample", type=int, default=2_000, metavar="N",
                        help="above that, run it for N random drivers and extrapolate")
    add_common_arguments(parser, repeat=3)
    args = parser.parse_args()
    results = Results("job_load_test", args.results)
    results.header()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="pd-bench-jobs-") as tmp:
        measured = [measure(args.db, n, Path(tmp), args) for n in sizes]
    report(measured, args.db)
    for r in measured:
        add_rows(results, args.db, r)
    results.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
