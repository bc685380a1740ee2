"""Data rules under hostile input, on SQLite and PostgreSQL: control characters are refused in
every text field with a sentence (PostgreSQL used to raise a raw DataError on NUL), and
usernames and active lot names are unique whatever their case, in the services and in the
database (so a race of two writers cannot create both)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from parking_desktop.adapters.db.models import ParkingLot, User
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.errors import ConflictError, DomainError, ValidationError
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.parking.search import ReservationFilter
from tests.conftest import PASSWORD, Unchanged, truncate_all

NUL, ESC, LF = "\x00", "\x1b", "\n"


def _lot(app: App, manager: Actor, name: str = "City Center", **changes: Any) -> Any:
    values = {"name": name, "address": "1 Main St", "pin_code": "CC001",
              "price_per_hour": "2.00", "number_of_spots": 2, **changes}
    return app.lots.create(manager, **values)


# --- control characters ----------------------------------------------------------------------
WRITES: dict[str, Callable[[App, Actor, str], Any]] = {
    "lot name": lambda app, m, bad: _lot(app, m, f"City{bad}Center"),
    "lot address": lambda app, m, bad: _lot(app, m, address=f"1 Main{bad}St"),
    "lot pin code": lambda app, m, bad: _lot(app, m, pin_code=f"CC{bad}01"),
    "username": lambda app, m, bad: app.users.create(
        m, username=f"bob{bad}by", password=PASSWORD, role=Role.DRIVER),
    "e-mail": lambda app, m, bad: app.users.create(
        m, username="bobby", password=PASSWORD, role=Role.DRIVER, email=f"bob{bad}@x.org"),
    "full name": lambda app, m, bad: app.users.create(
        m, username="bobby", password=PASSWORD, role=Role.DRIVER, full_name=f"Bob{bad}By"),
}


@pytest.mark.parametrize("bad", [NUL, ESC, "\x7f", "\x9b", "\u2028", LF, "\t"])
@pytest.mark.parametrize("field", sorted(WRITES))
def test_a_control_character_in_any_text_field_is_refused_and_nothing_is_stored(
    app: App, manager: Actor, unchanged: Unchanged, field: str, bad: str
) -> None:
    with unchanged(), pytest.raises(ValidationError) as refused:
        WRITES[field](app, manager, bad)
    message = str(refused.value)
    assert "contains a control character" in message, message
    assert message.isprintable(), message  # the message never carries the character itself


@pytest.mark.parametrize("bad", [NUL, ESC, "\x7f", "\x9b"])
def test_a_control_character_in_a_plate_is_refused(
    app: App, manager: Actor, unchanged: Unchanged, bad: str
) -> None:
    lot = _lot(app, manager)
    with unchanged(), pytest.raises(ValidationError,
                                    match="The vehicle number contains a control character"):
        app.parking.check_in(manager, lot.id, f"AB{bad}12")


def test_a_control_character_in_a_force_release_reason_is_refused(
    app: App, manager: Actor, unchanged: Unchanged
) -> None:
    lot = _lot(app, manager)
    booking = app.parking.check_in(manager, lot.id, "AB12")
    with unchanged(), pytest.raises(ValidationError, match="The reason contains a control"):
        app.parking.force_release(manager, booking.spot_id, f"towed{NUL}")


SEARCHES: dict[str, Callable[[App, Actor], Any]] = {
    "lot search": lambda app, m: app.lots.search(f"City{NUL}"),
    "lot by name": lambda app, m: app.lots.find_by_name(f"City{NUL}"),
    "people search": lambda app, m: app.users.search(m, f"bob{NUL}"),
    "user by name": lambda app, m: app.users.find_by_username(m, f"bob{NUL}"),
    "sign-in": lambda app, m: app.users.authenticate(f"manager1{NUL}", PASSWORD),
    "reservations by driver": lambda app, m: app.search.reservations(
        m, ReservationFilter(driver=f"bob{NUL}")),
    "reservations by plate": lambda app, m: app.search.reservations(
        m, ReservationFilter(vehicle=f"AB{NUL}")),
    "activity type": lambda app, m: app.activity.history(m, activity_type=f"login{NUL}"),
}


@pytest.mark.parametrize("where", sorted(SEARCHES))
def test_a_nul_in_a_search_or_sign_in_is_a_plain_refusal(
    app: App, manager: Actor, where: str
) -> None:
    """PostgreSQL refuses NUL in any text parameter: this used to escape as psycopg.DataError
    (a traceback in the CLI, "unexpected error" in the desktop); SQLite silently found nothing."""
    with pytest.raises(ValidationError, match="contains a control character"):
        SEARCHES[where](app, manager)


# --- case-insensitive names --------------------------------------------------------------------
def test_a_username_differing_only_in_case_is_taken(
    app: App, manager: Actor, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ConflictError) as refused:
        app.users.create(manager, username="MANAGER1", password=PASSWORD, role=Role.DRIVER)
    assert str(refused.value) == ("The username 'MANAGER1' is already taken (as 'manager1'): "
                                  "usernames differing only in case are the same.")
    assert app.users.find_by_username(manager, "Manager1").username == "manager1"


def test_non_ascii_lot_names_are_compared_whatever_their_case(
    app: App, manager: Actor, unchanged: Unchanged
) -> None:
    """SQLite's lower() folds ASCII only; the service compares with Python's rules."""
    _lot(app, manager, "Étoile")
    with unchanged(), pytest.raises(ConflictError, match="already exists"):
        _lot(app, manager, "éTOILE", pin_code="ET001")


@pytest.mark.parametrize("table", ["users", "lots"])
def test_the_database_itself_refuses_names_differing_only_in_case(
    app: App, table: str
) -> None:
    """Whoever writes (another program version, a script, a racing writer), not just the
    services."""
    from sqlalchemy.exc import IntegrityError

    from tests.integration.test_migrations import _add_lot, _add_user

    add = _add_user if table == "users" else _add_lot
    with app.db.engine.begin() as conn:
        add(conn, "Twin")
    with pytest.raises(IntegrityError), app.db.engine.begin() as conn:
        add(conn, "TWIN")


@pytest.fixture
def pg_app(request: pytest.FixtureRequest, tmp_path: Path,
           fast_hasher: Argon2Hasher) -> Iterator[App]:
    """An App on the session's PostgreSQL database: only there can two writers race (SQLite's
    write lock lets one in at a time)."""
    url: str = request.getfixturevalue("pg_database_url")
    truncate_all(url)
    settings = load_settings(data_dir=tmp_path / "data", database_url=url, environ={},
                             dotenv_path=tmp_path / "no.env")
    application = build_app(settings, hasher=fast_hasher)
    yield application
    application.close()


def _someone_waits_for_a_lock(app: App) -> bool:
    with app.db.engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one()
        conn.rollback()
    return bool(waiting)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["username", "lot name"])
def test_two_writers_racing_on_postgresql_cannot_create_both(pg_app: App, kind: str) -> None:
    """The first writer has inserted 'racer' but not committed: the service's check cannot see
    it, so only the unique index on lower(...) can stop 'RACER'. The second writer waits for the
    first, then gets the plain refusal."""
    from tests.integration.test_migrations import _add_lot, _add_user

    first = pg_app.db.engine.connect()
    transaction = first.begin()
    if kind == "username":
        _add_user(first, "racer")
    else:
        _add_lot(first, "Racer")
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            if kind == "username":
                outcome["made"] = pg_app.users.create(SYSTEM, username="RACER",
                                                      password=PASSWORD, role=Role.DRIVER)
            else:
                outcome["made"] = _lot(pg_app, SYSTEM, "RACER")
        except DomainError as exc:
            outcome["refused"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 60
    while thread.is_alive() and not _someone_waits_for_a_lock(pg_app):
        assert time.monotonic() < deadline, "the second writer neither waited nor finished"
        time.sleep(0.05)
    transaction.commit()
    first.close()
    thread.join(timeout=60)
    assert not thread.is_alive()

    column = User.username if kind == "username" else ParkingLot.name
    with pg_app.db.read() as session:
        names = session.scalars(select(column).where(func.lower(column) == "racer")).all()
    assert names == ["racer" if kind == "username" else "Racer"], names
    refusal = outcome.get("refused")
    assert isinstance(refusal, ConflictError), outcome
    expected = ("The username 'RACER' is already taken." if kind == "username"
                else "A lot named 'RACER' already exists; choose another name.")
    assert str(refusal) == expected
