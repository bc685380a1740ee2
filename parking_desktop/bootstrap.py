"""The one place that wires adapters and services together."""

from __future__ import annotations

from dataclasses import dataclass, field

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import Database
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.config import Settings, load_settings
from parking_desktop.domain.clock import Clock, SystemClock
from parking_desktop.jobs.wiring import JobsAdmin, build_jobs
from parking_desktop.services.accounts.users import PasswordHasher, UserService
from parking_desktop.services.cache import wiring as cache_wiring
from parking_desktop.services.cache.caching import CacheService, namespace_for
from parking_desktop.services.cache.sync import CacheSync
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.exports.exports import ExportService, build_export_service
from parking_desktop.services.mail.email import EmailService, build_email_service
from parking_desktop.services.parking.activity import ActivityService
from parking_desktop.services.parking.lots import LotService
from parking_desktop.services.parking.parking import ParkingService
from parking_desktop.services.parking.search import SearchService
from parking_desktop.services.parking.stats import StatsService
from parking_desktop.services.timing import Timings, instrument


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
    email: EmailService = field(default=None)  # type: ignore[assignment]  # set by build_app
    jobs: JobsAdmin = field(default=None)  # type: ignore[assignment]  # set by build_app
    exports: ExportService = field(default=None)  # type: ignore[assignment]  # set by build_app
    cache: CacheService = field(default_factory=CacheService.disabled)
    timings: Timings = field(default_factory=Timings)

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
    app = App(
        settings=settings,
        db=db,
        ctx=ctx,
        users=UserService(ctx, hasher),
        lots=LotService(ctx),
        parking=ParkingService(ctx),
        search=SearchService(ctx),
        stats=StatsService(ctx),
        activity=ActivityService(ctx),
        email=build_email_service(ctx, settings),
    )
    app.exports = build_export_service(ctx, settings, app.email)
    _wire_cache_and_timings(app)
    app.jobs = build_jobs(ctx, settings, app.email, app.exports)
    return app


def _wire_cache_and_timings(app: App) -> None:
    """Screens' reads go through the machine's cache; every write invalidates it here and, on
    PostgreSQL, on the other machines; every service call is timed (DESIGN §2 "Caching")."""
    settings, ctx = app.settings, app.ctx
    cache = CacheService(settings.cache_dir, ctx.clock, timings=app.timings,
                         namespace=namespace_for(settings.database_url, settings.app_timezone))
    app.cache = cache
    ctx.listeners.insert(0, cache.on_change)  # before anyone who re-reads on a change
    if not settings.is_sqlite:
        sync = CacheSync(settings.database_url, cache.on_change).start()
        cache.sync = sync
        ctx.listeners.append(sync.publish)
    cache_wiring.install(cache, lots=app.lots, stats=app.stats, search=app.search,
                         parking=app.parking, timings=app.timings)
    for name, service in vars(app).items():
        if getattr(service, "ctx", None) is ctx:  # every service, including later additions
            instrument(app.timings, name, service)
