"""The one place that wires adapters and services together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from parking_desktop.adapters.db import schema_version
from parking_desktop.adapters.db.engine import Database
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.config import Settings, load_settings
from parking_desktop.domain.clock import Clock, SystemClock
from parking_desktop.services.accounts.erasure import ErasureService
from parking_desktop.services.accounts.users import PasswordHasher, UserService
from parking_desktop.services.cache.cached import (
    CachedLots,
    CachedParking,
    CachedReads,
    CachedSearch,
    CachedStats,
)
from parking_desktop.services.cache.caching import CacheService, namespace_for
from parking_desktop.services.cache.sync import CacheSync
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.kiosks.heartbeats import HeartbeatService
from parking_desktop.services.money.payments import PaymentLedger
from parking_desktop.services.money.policy import MoneyPolicy
from parking_desktop.services.money.service import MoneyService
from parking_desktop.services.parking.activity import ActivityService
from parking_desktop.services.parking.full_alerts import FullAlerts
from parking_desktop.services.parking.kiosk import KioskService
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import SearchService
from parking_desktop.services.parking.stats import StatsService
from parking_desktop.services.privacy.preferences import MailPreferencesService
from parking_desktop.services.tariffs.service import TariffService
from parking_desktop.services.timing import Timings, timed_service

if TYPE_CHECKING:
    from parking_desktop.jobs.wiring import JobsAdmin
    from parking_desktop.services.exports.exports import ExportService
    from parking_desktop.services.mail.email import EmailService

S = TypeVar("S")


@dataclass
class App:
    """Everything a front end (desktop, kiosk, CLI, worker) needs."""

    settings: Settings
    db: Database
    ctx: ServiceContext
    users: UserService
    lots: LotService
    parking: ParkingService
    search: SearchService
    stats: StatsService
    activity: ActivityService
    kiosk: KioskService  # the kiosk pages' look-ups, built on parking, lots and search
    erasure: ErasureService  # a driver's right to erasure (services/accounts/erasure.py)
    mail_preferences: MailPreferencesService  # reminders / reports on or off, per driver
    heartbeats: HeartbeatService  # kiosks' heartbeats (written by kiosks, listed for managers)
    money: MoneyService  # payments, receipts, shifts, exceptions (docs/money.md)
    tariffs: TariffService  # versions, quotes, what-if repricing (docs/tariffs.md)
    # Mail, exports and jobs (APScheduler) are built on first use: a one-shot command that
    # needs none of them never loads them. Long-running front ends build them at start
    # (warm_up), off the GUI thread.
    email_factory: Callable[[], EmailService] | None = field(default=None, repr=False)
    exports_factory: Callable[[], ExportService] | None = field(default=None, repr=False)
    jobs_factory: Callable[[], JobsAdmin] | None = field(default=None, repr=False)
    cache: CacheService = field(default_factory=CacheService.disabled)
    timings: Timings = field(default_factory=Timings)
    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    @property
    def email(self) -> EmailService:
        return cast("EmailService", self._part("email", self.email_factory))

    @property
    def exports(self) -> ExportService:
        """Built (first use) after marking the exports a crash left behind as failed."""
        return cast("ExportService", self._part("exports", self.exports_factory))

    @property
    def jobs(self) -> JobsAdmin:
        return cast("JobsAdmin", self._part("jobs", self.jobs_factory))

    def warm_up(self) -> App:
        """Build every part now (a desktop, kiosk or worker: at start, not on a first click)."""
        self._part("jobs", self.jobs_factory)  # builds the mail service and exports too
        return self

    def _part(self, name: str, factory: Callable[[], Any] | None) -> Any:
        with self._lock:  # re-entrant: exports are built with the mail service
            if name not in self._built:
                if factory is None:
                    raise RuntimeError(f"this App was built without {name}")
                self._built[name] = factory()
            return self._built[name]
    alerts: FullAlerts | None = None  # lots past FULL_ALERT_PERCENT

    def close(self) -> None:
        exports, jobs = self._built.get("exports"), self._built.get("jobs")
        if exports is not None:
            exports.shutdown()  # running exports end as failed, saying why
        if jobs is not None:
            jobs.scheduler.shutdown()
        self.cache.close()
        self.db.dispose()


def build_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    upgrade: bool = True,
) -> App:
    settings = settings or load_settings()
    settings.ensure_folders()
    db = Database(settings.database_url)
    if upgrade and not schema_version.is_current(db.engine):
        from parking_desktop.adapters.db import migrate  # Alembic: only when there is work

        migrate.upgrade(db.engine)
    ctx = ServiceContext(
        db=db, clock=clock or SystemClock(), tz=settings.tz, currency=settings.currency
    )
    hasher = hasher or Argon2Hasher()
    timings = Timings()
    cache = CacheService(settings.cache_dir, ctx.clock, timings=timings,
                         namespace=namespace_for(settings.database_url, settings.app_timezone))
    reads = CachedReads(cache, timings)  # the reads screens repeat go through the cache

    def timed(name: str, service: S) -> S:
        """Every public method of ``service`` timed as ``name.method`` (the Cache screen's
        figures); ``name`` is the service's attribute on App."""
        return timed_service(timings, name, service)

    built: list[App] = []  # the App, for the parts built from other parts
    # The Chat notice is queued in the booking's own transaction, through the mail service
    # (built on first use).
    alerts = FullAlerts(ctx, settings.full_alert_percent,
                        notice=lambda session, text, key: built[0].email.queue_chat(
                            session, text, key))
    parking = CachedParking(ctx, reads)
    parking.full_alerts = alerts
    policy = MoneyPolicy.from_settings(settings)
    ledger = PaymentLedger(policy)
    parking.payments = ledger  # every check-out records its payment in its own transaction
    _connect_cache(ctx, settings, cache)

    def email() -> EmailService:
        from parking_desktop.services.mail.email import build_email_service

        return timed("email", build_email_service(ctx, settings))

    def exports() -> ExportService:
        from parking_desktop.services.exports.exports import build_export_service

        # The mail service on first need (a finished export mailed), not with the exports:
        # `main.py export` mails nothing and need not load it.
        return timed("exports", build_export_service(ctx, settings, lambda: built[0].email))

    def jobs() -> JobsAdmin:
        from parking_desktop.jobs.wiring import build_jobs

        return build_jobs(ctx, settings, built[0].email, built[0].exports,
                          exceptions_digest=built[0].money.queue_exceptions_digest)

    cached_lots = CachedLots(ctx, reads)
    cached_lots.currency = settings.currency  # the price ceiling scales with the currency
    lots = timed("lots", cached_lots)
    search = timed("search", CachedSearch(ctx, reads))
    timed_parking = timed("parking", parking)
    users = timed("users", UserService(ctx, hasher))
    money = MoneyService(
        ctx, policy, timed_parking, ledger, users.authenticate,
        queue_mail=lambda session, mail: built[0].email.outbox.enqueue(mail, session=session),
        render_pdf=_shift_report_renderer(settings.app_timezone),
    )
    app = App(
        settings=settings,
        db=db,
        ctx=ctx,
        users=users,
        lots=lots,
        parking=timed_parking,
        search=search,
        stats=timed("stats", CachedStats(ctx, reads)),
        activity=timed("activity", ActivityService(ctx)),
        kiosk=timed("kiosk", KioskService(timed_parking, lots, search)),
        erasure=timed("erasure", ErasureService(ctx, settings.upload_folder,
                                                cache.forget_everything, policy)),
        mail_preferences=timed("mail_preferences", MailPreferencesService(ctx)),
        # Not timed: a beat every two seconds would crowd the Cache screen's figures.
        heartbeats=HeartbeatService(ctx),
        money=timed("money", money),
        tariffs=timed("tariffs", TariffService(ctx)),
        email_factory=email,
        exports_factory=exports,
        jobs_factory=jobs,
        cache=cache,
        timings=timings,
        alerts=timed("alerts", alerts),
    )
    built.append(app)
    return app


def _shift_report_renderer(tz_name: str) -> Callable[..., bytes]:
    """The Z-report as PDF (adapters/pdf, fpdf2), loaded on the first shift close."""

    def render(report: Any) -> bytes:
        from parking_desktop.adapters.pdf import render_shift_report_pdf
        from parking_desktop.services.money.documents import shift_document

        return render_shift_report_pdf(shift_document(report, time_zone=tz_name))

    return render


def _connect_cache(ctx: ServiceContext, settings: Settings, cache: CacheService) -> None:
    """Every write invalidates the machine's cache and, on PostgreSQL, the other machines'."""
    ctx.listeners.insert(0, cache.on_change)  # before anyone who re-reads on a change
    if not settings.is_sqlite:
        def remote_change(topics: frozenset[str]) -> None:
            cache.on_change(topics)  # first: a screen told next must read fresh data
            ctx.changed_elsewhere(topics)

        sync = CacheSync(settings.database_url, remote_change).start()
        cache.sync = sync
        ctx.listeners.append(sync.publish)
