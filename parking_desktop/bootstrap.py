"""The one place that wires adapters and services together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import Database
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.config import Settings, load_settings
from parking_desktop.domain.clock import Clock, SystemClock
from parking_desktop.jobs.wiring import JobsAdmin, build_jobs
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
from parking_desktop.services.exports.exports import ExportService, build_export_service
from parking_desktop.services.mail.email import EmailService, build_email_service
from parking_desktop.services.parking.activity import ActivityService
from parking_desktop.services.parking.full_alerts import FullAlerts
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import SearchService
from parking_desktop.services.parking.stats import StatsService
from parking_desktop.services.timing import Timings, timed_service

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
    email: EmailService
    jobs: JobsAdmin
    exports: ExportService
    cache: CacheService = field(default_factory=CacheService.disabled)
    timings: Timings = field(default_factory=Timings)
    alerts: FullAlerts | None = None  # lots past FULL_ALERT_PERCENT

    def close(self) -> None:
        if self.exports is not None:
            self.exports.shutdown()  # running exports end as failed, saying why
        if self.jobs is not None:
            self.jobs.scheduler.shutdown()
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
    if upgrade:
        migrate.upgrade(db.engine)
    ctx = ServiceContext(db=db, clock=clock or SystemClock(), tz=settings.tz)
    hasher = hasher or Argon2Hasher()
    timings = Timings()
    cache = CacheService(settings.cache_dir, ctx.clock, timings=timings,
                         namespace=namespace_for(settings.database_url, settings.app_timezone))
    reads = CachedReads(cache, timings)  # the reads screens repeat go through the cache

    def timed(name: str, service: S) -> S:
        """Every public method of ``service`` timed as ``name.method`` (the Cache screen's
        figures); ``name`` is the service's attribute on App."""
        return timed_service(timings, name, service)

    email = timed("email", build_email_service(ctx, settings))
    exports = timed("exports", build_export_service(ctx, settings, email))
    alerts = FullAlerts(ctx, settings.full_alert_percent, notice=email.queue_chat)
    parking = CachedParking(ctx, reads)
    parking.full_alerts = alerts
    _connect_cache(ctx, settings, cache)
    return App(
        settings=settings,
        db=db,
        ctx=ctx,
        users=timed("users", UserService(ctx, hasher)),
        lots=timed("lots", CachedLots(ctx, reads)),
        parking=timed("parking", parking),
        search=timed("search", CachedSearch(ctx, reads)),
        stats=timed("stats", CachedStats(ctx, reads)),
        activity=timed("activity", ActivityService(ctx)),
        email=email,
        jobs=build_jobs(ctx, settings, email, exports),
        exports=exports,
        cache=cache,
        timings=timings,
        alerts=timed("alerts", alerts),
    )


def _connect_cache(ctx: ServiceContext, settings: Settings, cache: CacheService) -> None:
    """Every write invalidates the machine's cache and, on PostgreSQL, the other machines'."""
    ctx.listeners.insert(0, cache.on_change)  # before anyone who re-reads on a change
    if not settings.is_sqlite:
        sync = CacheSync(settings.database_url, cache.on_change).start()
        cache.sync = sync
        ctx.listeners.append(sync.publish)
