"""``--self-test``: can this program (source tree or frozen build) run on this machine?

Each check exercises a part that a packaging mistake breaks silently: the mail templates and
CSS inlining, Alembic's migration scripts on a fresh SQLite file, argon2's compiled bindings,
psycopg's binary layer, keyring's backends (found through package metadata), APScheduler's
triggers and the time zone database, the PDF documents with their font, and the Qt windows
with their plugins and resources. It prints one line per check and returns 0 when all passed,
1 otherwise (the failed lines say why).
Nothing outside a temporary folder is touched: the site's settings and database are not read."""

from __future__ import annotations

import logging
import platform
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

from parking_desktop import __version__
from parking_desktop.domain.errors import CheckFailed

log = logging.getLogger(__name__)

MANAGER = "selftest_manager"
PASSWORD = "Self-test-password-1"  # a throw-away account in a throw-away database


@dataclass
class SelfTest:
    """State shared by the checks: the temporary folder and, once the database check has
    passed, the App built on it and its signed-in manager."""

    folder: Path
    templates_dir: Path | None = None
    app: Any = None
    actor: Any = None
    user: Any = None
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    receipt_pdf: bytes | None = None  # made by the PDF check; the windows check prints it


# --- the checks: each returns its detail line or raises ----------------------------------------
def check_runtime(t: SelfTest) -> str:
    where = (f"frozen build in {Path(sys.executable).parent}" if getattr(sys, "frozen", False)
             else f"source tree {Path(__file__).resolve().parents[1]}")
    return (f"Parking Desktop {__version__}, Python {platform.python_version()} on "
            f"{platform.system()} {platform.machine()}, {where}")


def check_time_zones(t: SelfTest) -> str:
    from zoneinfo import ZoneInfo, available_timezones

    zones = available_timezones()
    if not zones:
        raise CheckFailed("no time zone database was found (install tzdata)")
    paris = datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    if paris.utcoffset() != timedelta(hours=2):
        raise CheckFailed(f"Europe/Paris has the wrong offset in summer: {paris.utcoffset()}")
    return f"{len(zones)} time zones available"


def check_money_formats(t: SelfTest) -> str:
    """Babel's CLDR data travels as files (a frozen build must carry them)."""
    from decimal import Decimal

    from babel.numbers import list_currencies

    from parking_desktop.services.money.formatting import format_money

    paris = format_money(Decimal("1234.5"), "EUR", "fr_FR")
    if paris != "1\u202f234,50\u00a0€":
        raise CheckFailed(f"1234.50 EUR in fr_FR came out as {paris!r}")
    return f"{len(list_currencies())} currencies; {format_money(Decimal('1234.5'), 'INR', 'hi_IN')}"


def check_templates(t: SelfTest) -> str:
    from zoneinfo import ZoneInfo

    from parking_desktop.adapters.mail.templates import MailRenderer, templates_dir

    folder = t.templates_dir or templates_dir()
    if not folder.is_dir():
        raise CheckFailed(f"the templates folder {folder} is missing")
    renderer = MailRenderer(ZoneInfo("Europe/Paris"), folder)
    names = renderer.names()
    samples = mail_samples()
    missing = sorted(set(samples) - set(names))
    if missing:
        raise CheckFailed(f"mail templates missing from {folder}: {', '.join(missing)}")
    unknown = sorted(set(names) - set(samples))
    if unknown:
        raise CheckFailed(f"no sample values for the template(s) {', '.join(unknown)} "
                          "(add them to parking_desktop/selftest.py)")
    for name in names:
        mail = renderer.render(name, site_name="Parking", subject="Self-test", **samples[name])
        if not mail.html.lstrip().lower().startswith("<!doctype html>") or not mail.text.strip():
            raise CheckFailed(f"the {name} template rendered an empty message")
        if "<style" in mail.html:
            raise CheckFailed(f"the {name} template's CSS was not inlined")
    return f"{len(names)} mail templates rendered (HTML with inlined CSS, and text) from {folder}"


def check_database(t: SelfTest) -> str:
    from sqlalchemy import inspect

    from parking_desktop.adapters.db import migrate
    from parking_desktop.adapters.db.models import Base
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.roles import SYSTEM, Role

    data = t.folder / "data"
    db_file = data / "selftest.db"
    settings = load_settings(data_dir=data, database_url=f"sqlite:///{db_file.as_posix()}",
                             environ={"SCHEDULER_ENABLED": "false"},
                             dotenv_path=t.folder / "no.env")
    t.app = app = build_app(settings)  # migrates to head, wires cache, mail and jobs
    engine = app.db.engine
    head = migrate.head_revision(engine)
    if not migrate.is_current(engine):
        raise CheckFailed(f"the schema is at {migrate.current_revision(engine)}, not at {head}")
    missing = sorted(set(Base.metadata.tables) - set(inspect(engine).get_table_names()))
    if missing:
        raise CheckFailed(f"tables missing after the migration: {', '.join(missing)}")
    app.users.create(SYSTEM, username=MANAGER, password=PASSWORD, role=Role.MANAGER)
    t.actor, t.user = app.users.authenticate(MANAGER, PASSWORD)
    lot = app.lots.create(t.actor, name="Self-test lot", address="1 Test Street", pin_code="ST1",
                          price_per_hour=Decimal("2.50"), number_of_spots=3)
    with engine.connect() as connection:
        version = connection.exec_driver_sql("select sqlite_version()").scalar()
    return (f"SQLite {version}: a new database migrated to {head}; a manager signed in and "
            f"created a lot with {lot.number_of_spots} spots")


def check_passwords(t: SelfTest) -> str:
    from parking_desktop.adapters.passwords import Argon2Hasher

    hasher = Argon2Hasher()
    digest = hasher.hash(PASSWORD)
    if not hasher.verify(digest, PASSWORD) or hasher.verify(digest, PASSWORD + "x"):
        raise CheckFailed("argon2 verification gives wrong answers")
    return f"argon2id hash and verify ({digest.split('$')[3]})"


def check_postgres_driver(t: SelfTest) -> str:
    import psycopg

    impl = psycopg.pq.__impl__
    libpq = psycopg.pq.version()
    found = f"psycopg {psycopg.__version__}, {impl} layer, libpq {libpq // 10000}.{libpq % 100}"
    if impl not in ("binary", "c"):
        raise CheckFailed(f"{found}: psycopg_binary is missing, so PostgreSQL would depend on "
                          "this machine's libpq")
    return found


def check_keyring(t: SelfTest) -> str:
    from importlib.metadata import entry_points

    from parking_desktop.adapters.secrets import SecretStore

    plugins = entry_points(group="keyring.backends")
    if not plugins:
        raise CheckFailed("keyring's backends are not registered (its package metadata is "
                          "missing): the OS keyring would never be found")
    failed = []
    for plugin in plugins:
        try:
            plugin.load()
        except Exception as exc:
            failed.append(f"{plugin.name} ({type(exc).__name__})")
    if failed:
        raise CheckFailed(f"keyring backends that cannot be loaded: {', '.join(failed)}")
    status = SecretStore(environ={}).status()
    kind = "secure" if status.secure else "no secure keyring here: MAIL_PASSWORD is the fallback"
    return f"backend {status.backend} ({kind}); {len(plugins)} backends registered"


def check_jobs(t: SelfTest) -> str:
    from parking_desktop.jobs.definitions import JOB_ORDER

    if t.app is None:
        raise CheckFailed("not run: it needs the database check")
    jobs = {job.name: job for job in t.app.jobs.scheduler.jobs()}
    missing = [name for name in JOB_ORDER if name not in jobs]
    if missing:
        raise CheckFailed(f"jobs missing: {', '.join(missing)}")
    unscheduled = [name for name in JOB_ORDER if jobs[name].next_run is None]
    if unscheduled:
        raise CheckFailed(f"no next run for {', '.join(unscheduled)}")
    return f"{len(jobs)} jobs scheduled: " + ", ".join(
        f"{name} ({job.schedule})" for name, job in jobs.items())


def check_documents(t: SelfTest) -> str:
    """The PDF receipt and Z-report: fpdf2, the fonts in resources/fonts and Babel's locale data
    are all things a build can leave out."""
    from parking_desktop.adapters.pdf import render_receipt_pdf, render_shift_report_pdf
    from parking_desktop.domain.documents import (
        FeeLine,
        MethodTotal,
        ReceiptDocument,
        ShiftReportDocument,
    )

    amount = Decimal("9.00")
    receipt = render_receipt_pdf(ReceiptDocument(
        site_name="Self-test", lot_name="Центр", lot_address="1 Rue", receipt_number="R-1",
        vehicle="AB12CD", arrived_at=_AT, left_at=_AT + timedelta(hours=2),
        lines=(FeeLine("2 h × 4.50", amount),), net=amount, vat_rate=Decimal(0),
        vat=Decimal(0), gross=amount, currency="EUR", payment_method="cash", attendant="Ann",
        issued_at=_AT, time_zone="Europe/Paris", locale="fr_FR"))
    report = render_shift_report_pdf(ShiftReportDocument(
        site_name="Self-test", shift_id=1, attendant="Ann", kiosk="k1", opened_at=_AT,
        closed_at=_AT, opening_float=amount, payments=(MethodTotal("cash", 1, amount),),
        refunds=Decimal(0), refund_count=0, exceptions=(), check_ins=1, check_outs=1,
        expected_cash=amount, counted_cash=amount, difference=Decimal(0),
        difference_reason="", currency="INR", issued_at=_AT, locale="en_IN"))
    for name, pdf in (("receipt", receipt), ("Z-report", report)):
        if not pdf.startswith(b"%PDF-") or b"DejaVuSans" not in pdf:
            raise CheckFailed(f"the {name} PDF was made without its embedded font")
    t.receipt_pdf = receipt
    return (f"receipt ({len(receipt) // 1024} KB) and Z-report ({len(report) // 1024} KB) "
            "made with the DejaVu Sans font embedded")


def check_windows(t: SelfTest) -> str:
    if t.app is None or t.actor is None:
        raise CheckFailed("not run: it needs the database check")
    # Qt is imported here only, so the checks above run without a display library.
    from parking_desktop.ui.selftest_window import check_windows as build_windows

    return build_windows(t.app, t.actor, t.user, t.receipt_pdf)


CHECKS: list[tuple[str, Callable[[SelfTest], str]]] = [
    ("runtime", check_runtime),
    ("time zones", check_time_zones),
    ("money formats", check_money_formats),
    ("mail templates", check_templates),
    ("database", check_database),
    ("passwords", check_passwords),
    ("PostgreSQL driver", check_postgres_driver),
    ("keyring", check_keyring),
    ("scheduled jobs", check_jobs),
    ("PDF documents", check_documents),
    ("windows", check_windows),
]


def run_self_test(out: TextIO | None = None, *, templates_dir: Path | None = None,
                  windows: bool = True) -> int:
    """Run every check, print one line each, return the exit code (0 all passed, 1 not).
    ``templates_dir`` replaces the templates folder (tests break it on purpose)."""
    stream = out or sys.stdout
    folder = Path(tempfile.mkdtemp(prefix="parking-selftest-"))  # private (0700)
    t = SelfTest(folder=folder, templates_dir=templates_dir)
    try:
        for name, check in CHECKS:
            if name == "windows" and not windows:
                continue
            try:
                ok, detail = True, check(t)
            except CheckFailed as exc:
                ok, detail = False, str(exc)
            except Exception as exc:
                log.debug("self-test check %s failed", name, exc_info=True)
                ok, detail = False, _reason(exc)
            t.results.append((name, ok, detail))
            print(f"{'ok  ' if ok else 'FAIL'}  {name}: {detail}", file=stream, flush=True)
    finally:
        if t.app is not None:
            t.app.close()
        shutil.rmtree(folder, ignore_errors=True)
    failed = [name for name, ok, _ in t.results if not ok]
    if failed:
        print(f"Self-test FAILED: {len(failed)} of {len(t.results)} checks ({', '.join(failed)}).",
              file=stream, flush=True)
        return 1
    print(f"Self-test passed: {len(t.results)} checks.", file=stream, flush=True)
    return 0


def _reason(exc: BaseException) -> str:
    """The exception in one line, with where it was raised (a packaging bug needs that)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def mail_samples() -> dict[str, dict[str, Any]]:
    """Sample values for every mail template (the shapes the services pass)."""
    from parking_desktop.adapters.mail.charts import bars

    report = SimpleNamespace(
        bookings=2, total_spent=Decimal("12.50"), hours_parked=Decimal("3.25"),
        most_used_lot="North", last_bookings=[SimpleNamespace(
            lot_name="North", spot_number="P002", vehicle_number="AB12CD", parked_at=_AT,
            left_at=_AT + timedelta(hours=2), hours=Decimal("2"), cost=Decimal("10.00"))],
    )
    return {
        "daily_reminder": {"name": "Ann", "parking_lots_count": 4},
        "monthly_report": {"name": "Ann", "report": report, "month_label": "February 2026",
                           "by_day": bars([("1", 1), ("2", 0), ("3", 4)]),
                           "by_week": bars([("1-7 Feb", 5)]), "by_lot": bars([("North", 5)])},
        "export_ready": {"name": "Ann", "filename": "history.csv", "attached": True,
                         "job": SimpleNamespace(job_id="j1", row_count=3, created_at=_AT,
                                                expires_at=_AT + timedelta(days=1))},
        "system_alert": {"title": "Job failed", "message": "Self-test", "raised_at": _AT,
                         "details": [("job", "daily_reminder")]},
        "test_message": {"sent_at": _AT, "requested_by": "manager", "server": "smtp:587"},
        "no_show": {"name": "Ann", "hold_minutes": 30,
                    "booking": SimpleNamespace(id=7, vehicle_number="AB12CD", lot_name="North",
                                               spot_number="P002", reserved_at=_AT)},
        "receipt": {"name": "Ann", "arrived": "2 Mar 2026, 10:00", "left": "2 Mar 2026, 12:00",
                    "total": "€9.00", "method": "Cash",
                    "receipt": SimpleNamespace(lot_name="North", receipt_number="R-000001",
                                               vehicle="AB12CD")},
    }
