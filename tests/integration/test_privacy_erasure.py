"""Erasure on both databases: afterwards the driver's name, username, e-mail address and
plates are nowhere - in no column of any table, money tables included (found by reflecting the
database, so a table added later is searched too; no column is skipped; mail attachments are
decoded), in no file of the cache folder or the export folder - while their reservations still
count; refused with an open booking, an unpaid balance, and for a non-manager. Payments written
before drivers' own payments stopped naming them are kept and counted."""

from __future__ import annotations

import base64
import warnings
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.exc import SAWarning

from parking_desktop.adapters.db.models import Reservation, User
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.money import PaymentMethod, ReasonCode
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.exports.scope import ExportScope
from parking_desktop.services.money.views import PaymentRequest
from tests.conftest import database_rows
from tests.integration.privacy_support import PASSWORD, T0, app_with, centre, person, stay

NAME, USERNAME, EMAIL = "Zelda Quuxbridge", "zquux", "zelda.quux@example.org"
PLATES = ("ZQX1234", "ZQX5678", "ZQX9012")
SECRETS = (NAME, USERNAME, EMAIL, *PLATES)


def scene(app: App, clock: FixedClock) -> tuple[Actor, Actor, int]:
    clock.set(T0)
    manager = person(app, "boss", Role.MANAGER, "boss@example.com")
    zelda = person(app, USERNAME, Role.DRIVER, EMAIL, NAME)
    otto = person(app, "otto", Role.DRIVER, "otto@example.com", "Otto Other")
    zid = zelda.user_id
    assert zid is not None
    lot_id = centre(app, manager)
    stay(app, clock, manager, lot_id, PLATES[0], 1, driver_id=zid)
    stay(app, clock, manager, lot_id, "OTTO11", 1, driver_id=otto.user_id)
    app.users.authenticate(USERNAME, PASSWORD)
    clock.set(T0 + timedelta(days=2))
    booking = app.parking.reserve(zelda, lot_id, PLATES[1])
    app.parking.park(zelda, booking.id)
    clock.set(T0 + timedelta(days=2, hours=3))
    app.parking.release(zelda, booking.id)
    now = clock.now()
    with app.db.write() as session:  # a reminder waiting, a report already sent
        for key, status in (("r1", "pending"), ("m1", "sent")):
            session.add(
                EmailOutbox(
                    idempotency_key=key,
                    kind="reminder",
                    user_id=zid,
                    recipient=EMAIL,
                    subject=f"Hello {NAME}",
                    body_text=f"Dear {NAME}, {PLATES[0]}",
                    attachments=[],
                    message_id=f"<{key}@x>",
                    status=status,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    # Their own export, and a manager's export of everything (it names them too).
    for actor, scope in ((manager, ExportScope.driver(zid)), (manager, ExportScope.everything())):
        job = app.exports.request(actor, scope)
        assert app.exports.wait(job, 30)
        assert app.exports.status(manager, job).status == "completed"
    # Cached views of theirs.
    app.stats.driver_summary(manager, zid)
    app.stats.dashboard(manager)
    app.parking.open_reservation(zelda)
    money_scene(app, clock, manager, lot_id, zid)
    return manager, zelda, lot_id


def money_scene(app: App, clock: FixedClock, manager: Actor, lot_id: int, driver_id: int) -> None:
    """An attendant's shift at the booth: Zelda's car leaves free (an exception with her
    plate), the count is short and the reason names her, the manager's comment too, and the
    Z-report (listing her plate) is queued to the manager."""
    clock.set(T0 + timedelta(days=3))
    attie = person(app, "attie", Role.ATTENDANT)
    shift = app.money.open_shift(attie, Decimal("20.00"), host="booth-1")
    app.parking.check_in(attie, lot_id, PLATES[2], driver_id=driver_id)
    clock.set(T0 + timedelta(days=3, hours=1))
    waiver = PaymentRequest(method=PaymentMethod.WAIVED, reason_code=ReasonCode.EQUIPMENT_FAULT)
    with pytest.raises(ValidationError, match="kept for ever"):  # a payment may not name her
        app.money.check_out(
            attie, PLATES[2], replace(waiver, reason_text=f"barrier stuck for {NAME}")
        )
    app.money.check_out(attie, PLATES[2], replace(waiver, reason_text="barrier stuck"))
    app.money.close_shift(
        attie, shift.id, Decimal("19.00"), reason=f"{NAME} ({EMAIL}) took a euro back"
    )
    app.money.review_shift(manager, shift.id, comment=f"ask {USERNAME} about {PLATES[2]}")


def decoded(value: object) -> str:
    """The text of mail attachments (stored base64 in the outbox's JSON)."""
    if not isinstance(value, list):
        return ""
    found = [
        base64.b64decode(item["data"]).decode("latin-1")
        for item in value
        if isinstance(item, dict) and isinstance(item.get("data"), str)
    ]
    return " ".join(found)


def traces(app: App) -> list[str]:
    """Where any of SECRETS still appears: 'table.column' or a file path."""
    found = []
    metadata = MetaData()
    with warnings.catch_warnings():  # SQLite cannot reflect expression indexes: not needed
        warnings.simplefilter("ignore", SAWarning)
        metadata.reflect(app.db.engine)
    lowered = [s.lower() for s in SECRETS]
    with app.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    text = (str(value) + decoded(value)).lower()
                    if any(s in text for s in lowered):
                        found.append(f"{table.name}.{column.name}: {value!r}")
    for folder in (app.settings.cache_dir, app.settings.upload_folder):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes().lower()
                if any(s.encode() in data for s in lowered):
                    found.append(str(path))
    return found


def test_erasure_leaves_no_trace_and_keeps_the_figures(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, zelda, _ = scene(app, clock)
        # The search does find them before, money rows and the managers' Z-report included.
        where = {t.split(":")[0] for t in traces(app)}
        assert {
            "exceptions.details",
            "shifts.difference_reason",
            "shifts.manager_comment",
            "email_outbox.body_text",
        } <= where
        before = app.stats.dashboard(manager)
        with app.db.read() as session:
            money = session.execute(
                select(func.count(Reservation.id), func.sum(Reservation.cost))
            ).one()
        result = app.erasure.erase(manager, zelda.user_id or 0)
        assert result.pseudonym == f"erased-{zelda.user_id}"
        assert result.reservations == 3 and result.mails_deleted == 2
        assert result.payments_kept == 0
        assert traces(app) == []
        after = app.stats.dashboard(manager)
        assert (after.reservations_total, after.revenue_total) == (
            before.reservations_total,
            before.revenue_total,
        )
        with app.db.read() as session:
            assert (
                session.execute(
                    select(func.count(Reservation.id), func.sum(Reservation.cost))
                ).one()
                == money
            )
            user = session.get(User, zelda.user_id)
            assert user is not None and user.email is None and not user.is_active
            other = session.scalars(select(Reservation.vehicle_number)).all()
        assert "OTTO11" in other  # somebody else's data is untouched
        with pytest.raises(AuthenticationError):
            app.users.authenticate(result.pseudonym, "correct-horse-1")
        entry = app.activity.history(manager, activity_type="user_erased").items[0]
        assert entry.activity_data["pseudonym"] == result.pseudonym
        with pytest.raises(ConflictError, match="already erased"):
            app.erasure.erase(manager, zelda.user_id or 0)


def test_erasure_is_refused_with_an_open_booking_and_changes_nothing(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, zelda, lot_id = scene(app, clock)
        app.parking.reserve(zelda, lot_id, "ZQX9999")
        before = database_rows(app)
        with pytest.raises(ConflictError, match="open booking"):
            app.erasure.erase(manager, zelda.user_id or 0)
        with pytest.raises(PermissionDeniedError):
            app.erasure.erase(zelda, zelda.user_id or 0)
        assert database_rows(app) == before
