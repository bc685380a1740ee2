"""Scripted visits of the kiosk pages on demo data, for docs/screenshots (scripts/screenshots.py
lists them in KIOSK_SHOTS). Each builder opens an unlocked kiosk window, walks to a page through
the pages' own actions, waits until the data has arrived, and returns the window to photograph.

A builder receives the screenshot script's Studio: ``app``, ``sessions`` (role -> object with
``actor`` and ``user``), ``keep``, ``wait(condition)`` and ``settle()``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QWidget

from parking_desktop.domain.roles import Actor, Role
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import ReservationView, UserView
from parking_desktop.ui.kiosk.checkin import CheckInScreen
from parking_desktop.ui.kiosk.checkout import CheckOutScreen
from parking_desktop.ui.kiosk.driver import DriverScreen
from parking_desktop.ui.kiosk.exit import ExitScreen
from parking_desktop.ui.kiosk.find_vehicle import FindVehicleScreen
from parking_desktop.ui.kiosk.history import HistoryScreen
from parking_desktop.ui.kiosk.shift import ShiftScreen
from parking_desktop.ui.kiosk.signin import SignInScreen
from parking_desktop.ui.kiosk.window import KioskWindow

Builder = Callable[[Any], QWidget]
Size = tuple[int, int]
LONG = 24 * 3600 * 1000  # no refresh while a picture is taken

# Chosen once per demo database, so that every picture shows the same people.
_chosen: dict[tuple[int, str], UserView] = {}


def _window(studio: Any) -> KioskWindow:
    # The site's idle setting (so the pages word it right); a picture takes about a second.
    window = KioskWindow(studio.app, refresh_ms=LONG, locked=False)
    studio.keep.append(window)
    studio.wait(lambda: window.home.loaded > 0)
    return window


def _driver(studio: Any, want: BookingStatus | None) -> UserView:
    """A demo driver with no open booking (``want=None``) or with one that is ``want``
    (reserved or active), preferring drivers with a long history."""
    key = (id(studio.app), str(want))
    if key in _chosen:
        return _chosen[key]
    manager: Actor = studio.sessions["manager"].actor
    app = studio.app
    taken = {user.id for user in _chosen.values()}
    best: tuple[int, UserView] | None = None
    for user in app.users.search(manager, role=Role.DRIVER, include_inactive=False,
                                 limit=1000).items:
        if user.id in taken:
            continue
        booking = app.parking.open_reservation(manager, user.id)
        if (booking.status if booking else None) != want:
            continue
        count = app.search.reservations(manager, ReservationFilter(user_id=user.id),
                                        limit=1).total
        if best is None or count > best[0]:
            best = (count, user)
    if best is None:
        raise LookupError(f"the demo data has no driver with booking state {want!r}")
    _chosen[key] = best[1]
    return best[1]


def _as_driver(studio: Any, window: KioskWindow, user: UserView) -> None:
    window.sign_in(Actor(user.id, user.username, user.role), user)
    page = window.page(DriverScreen)
    studio.wait(lambda: page.state is not None and not page.busy)


def _as_attendant(window: KioskWindow, studio: Any) -> None:
    session = studio.sessions["attendant"]
    # Payments are taken inside a shift: the attendant's starts with a 150 float.
    if studio.app.money.current_shift(session.actor) is None:
        studio.app.money.open_shift(session.actor, Decimal("150"))
    window.sign_in(session.actor, session.user)


def _settled(studio: Any, window: KioskWindow) -> KioskWindow:
    studio.wait(lambda: not window.current.busy)
    studio.settle()
    return window


# --- builders ------------------------------------------------------------------------------
def home(studio: Any) -> QWidget:
    return _settled(studio, _window(studio))


def sign_in_refused(studio: Any) -> QWidget:
    window = _window(studio)
    window.go("signin", mode="staff")
    page = window.page(SignInScreen)
    page.login.setText(_driver(studio, None).username)
    page.password.setText("demo-password-1")
    page.submit()
    studio.wait(lambda: bool(page.banner.text))
    return _settled(studio, window)


def attendant_menu(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    return _settled(studio, window)


_plates = iter(f"GT{n}MV" for n in range(731, 10_000))


def check_in_form(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkin")
    page = window.page(CheckInScreen)
    studio.wait(lambda: page.lots.selected() is not None)
    page.vehicle.setText("FR482KL")
    return _settled(studio, window)


def check_in_spot(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkin")
    page = window.page(CheckInScreen)
    studio.wait(lambda: page.lots.selected() is not None)
    page.vehicle.setText(next(_plates))  # each picture checks a new car in
    page.submit()
    studio.wait(lambda: page.result is not None or bool(page.banner.text))
    return _settled(studio, window)


def _open_walk_in(studio: Any, skip: int = 0) -> str:
    """The vehicle number of a car still parked, preferring walk-ins parked for about two
    hours (a fee that shows the rule better than the one-hour minimum)."""
    manager: Actor = studio.sessions["manager"].actor
    now: datetime = studio.app.ctx.clock.now()
    parked = studio.app.search.reservations(
        manager, ReservationFilter(status=BookingStatus.ACTIVE), sort="parked_at", limit=500).items

    def distance(r: ReservationView) -> float:
        minutes = (now - (r.parked_at or now)).total_seconds() / 60
        return abs(minutes - 135) + (0 if r.user_id is None else 10_000)

    ranked = sorted(parked, key=distance)
    return str(ranked[min(skip, len(ranked) - 1)].vehicle_number)


def check_out_fee(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkout", vehicle=_open_walk_in(studio))
    page = window.page(CheckOutScreen)
    studio.wait(lambda: page.pages.currentWidget() is page.confirm_page)
    return _settled(studio, window)


def check_out_cash(studio: Any) -> QWidget:
    """The payment card: cash with the change due, as the attendant types what was handed over."""
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkout", vehicle=_open_walk_in(studio))
    page = window.page(CheckOutScreen)
    studio.wait(lambda: page.pages.currentWidget() is page.confirm_page and not page.busy)
    page.payment.tendered.setText("50")
    return _settled(studio, window)


def shift_close(studio: Any) -> QWidget:
    """Closing the shift: expected cash, the count note by note, a difference and its reason."""
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("shift")
    page = window.page(ShiftScreen)
    studio.wait(lambda: page.count is not None)
    page.by_note_button.setChecked(True)
    page.note_edits[Decimal("50")].setText("2")
    page.note_edits[Decimal("20")].setText("2")
    page.note_edits[Decimal("5")].setText("1")
    return _settled(studio, window)


def receipt(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkout", vehicle=_open_walk_in(studio, skip=1))
    page = window.page(CheckOutScreen)
    studio.wait(lambda: page.pages.currentWidget() is page.confirm_page and not page.busy)
    page.confirm()
    studio.wait(lambda: window.current.name == "receipt")
    return _settled(studio, window)


def check_out_refused(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkout", vehicle="ZZ999ZZ")
    page = window.page(CheckOutScreen)
    studio.wait(lambda: bool(page.banner.text))
    return _settled(studio, window)


def find_vehicle(studio: Any) -> QWidget:
    window = _window(studio)
    _as_attendant(window, studio)
    booking = studio.app.parking.open_reservation(studio.sessions["manager"].actor,
                                                  _driver(studio, BookingStatus.ACTIVE).id)
    window.go("find")
    page = window.page(FindVehicleScreen)
    page.vehicle.setText(booking.vehicle_number)
    page.look_up()
    studio.wait(lambda: page.found is not None)
    return _settled(studio, window)


def driver_book(studio: Any) -> QWidget:
    window = _window(studio)
    _as_driver(studio, window, _driver(studio, None))
    return _settled(studio, window)


def driver_booked(studio: Any) -> QWidget:
    window = _window(studio)
    _as_driver(studio, window, _driver(studio, None))
    page = window.page(DriverScreen)
    if page.state is not None and page.state.booking is None:
        page.book()
        studio.wait(lambda: page.pages.currentWidget() is page.booking_page)
    return _settled(studio, window)


def driver_parked(studio: Any) -> QWidget:
    window = _window(studio)
    _as_driver(studio, window, _driver(studio, BookingStatus.ACTIVE))
    return _settled(studio, window)


def driver_release(studio: Any) -> QWidget:
    window = _window(studio)
    _as_driver(studio, window, _driver(studio, BookingStatus.ACTIVE))
    page = window.page(DriverScreen)
    page.ask_release()
    studio.wait(lambda: page.pages.currentWidget() is page.release_page)
    return _settled(studio, window)


def driver_history(studio: Any) -> QWidget:
    window = _window(studio)
    _as_driver(studio, window, _driver(studio, BookingStatus.ACTIVE))
    window.go("history")
    page = window.page(HistoryScreen)
    studio.wait(lambda: page.summary is not None and page.model.rowCount() > 0)
    return _settled(studio, window)


def exit_lock(studio: Any) -> QWidget:
    window = _window(studio)
    window.request_exit()
    page = window.page(ExitScreen)
    page.password.setText("not-a-manager")
    page.unlock()
    studio.wait(lambda: bool(page.banner.text))
    return _settled(studio, window)


def find_partial(studio: Any) -> QWidget:
    """Part of a plate typed: the matches to choose from."""
    window = _window(studio)
    _as_attendant(window, studio)
    manager: Actor = studio.sessions["manager"].actor
    plates = [r.vehicle_number for r in studio.app.search.reservations(
        manager, ReservationFilter(status=BookingStatus.ACTIVE), limit=500).items]
    # The two-letter start most open bookings share: a search with several answers.
    starts = [p[:2] for p in plates]
    window.go("find")
    page = window.page(FindVehicleScreen)
    page.vehicle.setText(max(set(starts), key=starts.count))
    page.look_up()
    studio.wait(lambda: bool(page.choice_buttons) or page.found is not None
                or bool(page.banner.text))
    return _settled(studio, window)


def check_in_keyboard(studio: Any) -> QWidget:
    """The check-in form with the plate keyboard up (a touch screen has no other)."""
    window = _window(studio)
    _as_attendant(window, studio)
    window.go("checkin")
    page = window.page(CheckInScreen)
    studio.wait(lambda: page.lots.selected() is not None)
    page.vehicle.setText("KV548")
    window.keyboard.attach(page.vehicle)  # offscreen windows never get the real focus
    return _settled(studio, window)


def sign_in_keyboard(studio: Any) -> QWidget:
    window = _window(studio)
    window.go("signin", mode="driver")
    page = window.page(SignInScreen)
    page.login.setText("ann.driver")
    window.keyboard.attach(page.login)
    window.keyboard.press("Shift")
    return _settled(studio, window)


def kiosk_touch_shots(xga: Size, large: Size) -> list[tuple[str, Builder, Size]]:
    """The kiosk at 1024x768 (the smallest screen it must serve whole) and 1920x1080, plus
    the on-screen keyboard and a partial plate search."""
    return [
        ("kiosk_home_1024", home, xga),
        ("kiosk_receipt_1024", receipt, xga),
        ("kiosk_receipt_1920", receipt, large),
        ("kiosk_check_in_keyboard_1024", check_in_keyboard, xga),
        ("kiosk_sign_in_keyboard_1024", sign_in_keyboard, xga),
        ("kiosk_sign_in_keyboard_1920", sign_in_keyboard, large),
        ("kiosk_find_partial_1024", find_partial, xga),
        ("kiosk_attendant_1024", attendant_menu, xga),
        ("kiosk_driver_parked_1024", driver_parked, xga),
        ("kiosk_driver_history_1024", driver_history, xga),
        ("kiosk_check_out_refused_1024", check_out_refused, xga),
        ("kiosk_check_out_cash_1024", check_out_cash, xga),
        ("kiosk_check_out_cash_1920", check_out_cash, large),
        ("kiosk_shift_close_1024", shift_close, xga),
    ]


def kiosk_shots(small: Size, large: Size) -> list[tuple[str, Builder, Size]]:
    """(file name, builder, window size) for every kiosk page worth a picture, in an order
    where each picture's data is still there (check-outs come after the fee shown)."""
    return [
        ("kiosk_home", home, small),
        ("kiosk_home_1920", home, large),
        ("kiosk_sign_in_refused", sign_in_refused, small),
        ("kiosk_attendant", attendant_menu, small),
        ("kiosk_check_in", check_in_form, small),
        ("kiosk_check_in_spot", check_in_spot, small),
        ("kiosk_check_in_spot_1920", check_in_spot, large),
        ("kiosk_check_out_fee", check_out_fee, small),
        ("kiosk_receipt", receipt, small),
        ("kiosk_check_out_refused", check_out_refused, small),
        ("kiosk_find_vehicle", find_vehicle, small),
        ("kiosk_driver_book", driver_book, small),
        ("kiosk_driver_booked", driver_booked, small),
        ("kiosk_driver_parked", driver_parked, small),
        ("kiosk_driver_release", driver_release, small),
        ("kiosk_driver_history", driver_history, small),
        ("kiosk_driver_history_1920", driver_history, large),
        ("kiosk_exit_lock", exit_lock, small),
    ]
