#!/usr/bin/env python3
"""Render every screen offscreen on demo data into docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--only NAME ...] [--desktop]

Desktop screens come at 1024x768 (name-1024), 1280x800 (name) and 1920x1080 (name-1920).

Screens are listed in SHOTS as (file name, builder, size). A builder receives the Studio (the demo
app, signed-in sessions, helpers to wait for data) and returns the widget to photograph; to add a
screen, append one entry (the kiosk's entries live in KIOSK_SHOTS)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QThreadPool  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from parking_desktop.adapters.passwords import Argon2Hasher  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.clock import FixedClock  # noqa: E402
from parking_desktop.domain.roles import Actor  # noqa: E402
from parking_desktop.ui.common.qtapp import ensure_qapplication  # noqa: E402
from parking_desktop.ui.desktop.screen import SignedIn  # noqa: E402
from parking_desktop.ui.kiosk.tour import kiosk_shots, kiosk_touch_shots  # noqa: E402

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
SMALL = (1280, 800)
LARGE = (1920, 1080)
DIALOG = (0, 0)  # use the widget's own size hint


@dataclass
class Studio:
    """What builders need: the demo app, sessions for each role, and waiting helpers."""

    app: App
    qapp: QApplication
    sessions: dict[str, SignedIn] = field(default_factory=dict)
    keep: list[Any] = field(default_factory=list)  # widgets/objects kept alive until the end

    def session(self, role: str = "manager") -> SignedIn:
        return self.sessions[role]

    def wait(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the screen did not finish loading")
            self.qapp.processEvents()
            time.sleep(0.01)

    def settle(self) -> None:
        """Let queued results arrive and layouts/paints finish."""
        self.wait(lambda: QThreadPool.globalInstance().activeThreadCount() == 0)
        for _ in range(5):
            self.qapp.processEvents()
            time.sleep(0.02)


Builder = Callable[[Studio], QWidget]


# --- demo data ---------------------------------------------------------------------------------
DEMO_PASSWORD = "demo-password-1"


def seed_demo(app: App) -> dict[str, Actor]:
    """The CLI's demo data set (services/demo.py), laid out relative to the fixed clock; returns
    a signed-in actor for each role (the driver with the most bookings, for a full page)."""
    from sqlalchemy import func, select

    from parking_desktop.adapters.db.models import Reservation
    from parking_desktop.domain.roles import SYSTEM
    from parking_desktop.services.demo.demo import DemoLoader, DemoOptions

    DemoLoader(app.ctx, app.users.hasher).load(DemoOptions(drivers=300, lots=6, days=120),
                                                DEMO_PASSWORD)
    with app.db.read() as session:
        busiest = session.scalar(
            select(Reservation.user_id).where(Reservation.user_id.is_not(None))
            .group_by(Reservation.user_id).order_by(func.count().desc()).limit(1))
    actors = {}
    for role, username in (("manager", "manager"), ("attendant", "attendant1")):
        view = app.users.find_by_username(SYSTEM, username)
        actors[role] = Actor(view.id, view.username, view.role)
    driver = app.users.get(SYSTEM, busiest)
    actors["driver"] = Actor(driver.id, driver.username, driver.role)
    return actors


def build_studio(workdir: Path) -> Studio:
    clock = FixedClock(NOW)
    settings = load_settings(data_dir=workdir / "data", environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=workdir / "no.env")
    app = build_app(settings, clock=clock, hasher=Argon2Hasher(fast=True))
    actors = seed_demo(app)
    qapp = ensure_qapplication()
    studio = Studio(app=app, qapp=qapp)
    for role, actor in actors.items():
        user = app.users.get(actor, actor.user_id)  # type: ignore[arg-type]
        studio.sessions[role] = SignedIn(app, actor, user)
    return studio


# --- desktop builders ----------------------------------------------------------------------
def _main_window(studio: Studio, screen_key: str, role: str = "manager") -> Any:
    from parking_desktop.ui.desktop.mainwindow import MainWindow

    window = MainWindow(studio.session(role))
    studio.keep.append(window)
    window.show()
    screen = window.navigate(screen_key)
    studio.wait(lambda: screen.loads > 0)
    studio.settle()
    return window, screen


def desktop_screen(key: str, role: str = "manager") -> Builder:
    def build(studio: Studio) -> QWidget:
        window, _screen = _main_window(studio, key, role)
        return window  # type: ignore[no-any-return]

    return build


def spots_with_selection(studio: Studio) -> QWidget:
    window, screen = _main_window(studio, "spots")
    studio.wait(lambda: screen.spot_loads > 0)
    occupied = next(s for s in screen.model.rows() if s.status == "O")
    screen.select_spot(occupied.id)
    screen.reason.setText("Vehicle towed at the owner's request")
    return window  # type: ignore[no-any-return]


def person_page(studio: Studio) -> QWidget:
    window, screen = _main_window(studio, "people")
    driver = studio.session("driver").user
    screen.show_person(driver)
    studio.wait(lambda: screen.person_page.loads > 0)
    studio.settle()
    return window  # type: ignore[no-any-return]


def lot_dialog(studio: Studio) -> QWidget:
    from parking_desktop.ui.desktop.lot_dialogs import LotDialog

    dialog = LotDialog(studio.session("manager"))
    studio.keep.append(dialog)
    dialog.name.editor.setText("Harbour Front")
    dialog.address.editor.setText("9 Quai des Docks, 76600 Le Havre")
    dialog.pin.editor.setText("76600")
    dialog.price.editor.setText("2.555")
    dialog.price.reveal()
    dialog.spots.editor.setText("120")
    return dialog



def resize_refused(studio: Studio) -> QWidget:
    """The resize dialog after the service refused to remove busy spots."""
    from parking_desktop.ui.desktop.lot_dialogs import ResizeDialog

    session = studio.session("manager")
    lot = max(studio.app.lots.search(), key=lambda lot: lot.occupied)
    dialog = ResizeDialog(session, lot)
    studio.keep.append(dialog)
    dialog.show()
    dialog.spots.editor.setText("1")
    dialog.submit()
    studio.wait(lambda: bool(dialog.banner.text))
    return dialog


def tariff_editor(studio: Studio) -> QWidget:
    """Lots → Tariff…: the busiest lot's tariff with a night band typed over the day band, so
    the overlap is shown under the table and the week grid marks it red."""
    from parking_desktop.ui.desktop.tariffs.editor import TariffEditor

    session = studio.session("manager")
    lot = max(studio.app.lots.search(), key=lambda lot: lot.occupied)
    editor = TariffEditor(session, lot)
    studio.keep.append(editor)
    studio.wait(lambda: editor.current is not None)
    editor.bands.add_band()
    row = editor.bands.rowCount() - 1
    for column, text in enumerate(("Mon–Fri", "19:00", "08:00", "1.20", "night rate")):
        item = editor.bands.item(row, column)
        if item is not None:
            item.setText(text)
    editor.refresh_reading()
    return editor


def lots_with_error(studio: Studio) -> QWidget:
    """The Lots screen showing a refusal in its banner."""
    window, screen = _main_window(studio, "lots")
    busy = max(screen.model.rows(), key=lambda lot: lot.occupied)
    screen.select_lot(busy.id)
    # The refusal the service gives when a kiosk filled a spot after the list was loaded.
    screen.show_error(f"Lot '{busy.name}' has occupied spots P001, P002, P007; it can be "
                      "archived once they are free.")
    return window  # type: ignore[no-any-return]


def reservations_search(studio: Studio) -> QWidget:
    """Reservations filtered by a partial plate: a search result."""
    window, screen = _main_window(studio, "reservations")
    plate = screen.model.row_at(0).vehicle_number[:3] if screen.model.rowCount() else "A"
    loads = screen.loads
    screen.vehicle.setText(plate)
    screen.search()
    studio.wait(lambda: screen.loads > loads)
    studio.settle()
    return window  # type: ignore[no-any-return]


def mail_settings_refused(studio: Studio) -> QWidget:
    """Mail settings with several fields refused at once, each next to its field."""
    window, screen = _main_window(studio, "mail")
    screen.server.setText("https://smtp.example.com")
    screen.sender_edit.setText("parking desk")
    screen.ca_file.setText("/etc/parking/missing-ca.pem")
    screen.save()
    studio.wait(lambda: screen.sender_error.isVisible())
    studio.settle()
    return window  # type: ignore[no-any-return]


def exports_with_rows(studio: Studio) -> QWidget:
    """Exports with a finished export and a cancelled one."""
    from parking_desktop.services.exports.scope import ExportScope

    exports, actor = studio.app.exports, studio.session("manager").actor
    if not exports.history(actor):
        done = exports.request(actor, ExportScope(kind="all"))
        exports.wait(done, timeout=60)
        lot = studio.app.lots.search()[0]
        cancelled = exports.request(actor, ExportScope(kind="lot", lot_id=lot.id), start=False)
        exports.cancel(actor, cancelled)
    window, _screen = _main_window(studio, "exports")
    return window  # type: ignore[no-any-return]


def sign_in_refused(studio: Studio) -> QWidget:
    from parking_desktop.ui.common.signin import SignInDialog

    dialog = SignInDialog(studio.app)
    studio.keep.append(dialog)
    dialog.show()
    dialog.login.setText("manager")
    dialog.password.setText("not-the-password")
    dialog.submit()
    studio.wait(lambda: bool(dialog.banner.text))
    return dialog


def first_run(studio: Studio) -> QWidget:
    from parking_desktop.ui.common.signin import FirstManagerDialog

    dialog = FirstManagerDialog(studio.app)
    studio.keep.append(dialog)
    dialog.username.editor.setText("site_manager")
    dialog.full_name.editor.setText("Camille Laurent")
    dialog.email.editor.setText("camille@example")
    dialog.email.reveal()
    dialog.password.editor.setText("long-enough-1")
    return dialog


COMPACT = (1024, 768)
SIZES = {"-1024": COMPACT, "": SMALL, "-1920": LARGE}  # file-name suffix -> window size


_SHIFT_CLOSED: list[int] = []


def shifts_with_detail(studio: Studio) -> QWidget:
    """A closed shift with a cash difference, chosen: its payments, count and Z-report."""
    from parking_desktop.domain.money import PaymentMethod, ReasonCode
    from parking_desktop.services.money.views import PaymentRequest

    app = studio.app
    attendant = studio.session("attendant").actor
    if not _SHIFT_CLOSED:  # once for all sizes: one closed shift, one cash difference
        if app.money.current_shift(attendant) is None:
            app.money.open_shift(attendant, Decimal("150"))
        shift = app.money.current_shift(attendant)
        assert shift is not None
        lot = app.lots.search()[0]
        for plate, method in (("SHOT1", PaymentMethod.CASH), ("SHOT2", PaymentMethod.CARD)):
            app.parking.check_in(attendant, lot.id, plate)
            app.money.check_out(attendant, plate, PaymentRequest(method=method))
        count = app.money.cash_count(attendant, shift.id)
        app.money.close_shift(attendant, shift.id, count.expected - Decimal("2"),
                              reason="coins dropped behind the till",
                              code=ReasonCode.STAFF_ERROR)
        _SHIFT_CLOSED.append(shift.id)
    window, screen = _main_window(studio, "shifts")
    screen.table.selectRow(0)
    studio.wait(lambda: screen.payments.rowCount() > 0)
    studio.settle()
    return window  # type: ignore[no-any-return]


def at_every_size(name: str, builder: Builder, *, large: bool = True,
                  ) -> list[tuple[str, Builder, tuple[int, int]]]:
    """The shot at 1024x768 and 1280x800, and at 1920x1080 unless ``large`` is False (a
    screen that only gains blank space there: fewer, smaller files)."""
    return [(f"{name}{suffix}", builder, size) for suffix, size in SIZES.items()
            if large or size != LARGE]


SHOTS: list[tuple[str, Builder, tuple[int, int]]] = [
    ("desktop-first-run", first_run, DIALOG),
    ("desktop-sign-in", sign_in_refused, DIALOG),
    *at_every_size("desktop-dashboard", desktop_screen("dashboard")),
    *at_every_size("desktop-lots", desktop_screen("lots")),
    ("desktop-lot-dialog", lot_dialog, DIALOG),
    ("desktop-resize-refused", resize_refused, DIALOG),
    ("desktop-lots-error", lots_with_error, COMPACT),
    ("desktop-tariff-1024", tariff_editor, COMPACT),
    ("desktop-tariff-1920", tariff_editor, (1180, 1010)),
    *at_every_size("desktop-spots", spots_with_selection),
    *at_every_size("desktop-people", desktop_screen("people"), large=False),
    ("desktop-person", person_page, SMALL),
    *at_every_size("desktop-reservations", reservations_search),
    *at_every_size("desktop-activity", desktop_screen("activity"), large=False),
    ("desktop-attendant-lots", desktop_screen("lots", "attendant"), COMPACT),
    *at_every_size("desktop-exports", exports_with_rows, large=False),
    *at_every_size("desktop-jobs", desktop_screen("jobs"), large=False),
    ("desktop-outbox", desktop_screen("outbox"), COMPACT),
    *at_every_size("desktop-mail-settings", mail_settings_refused, large=False),
    ("desktop-cache", desktop_screen("cache"), COMPACT),
    *at_every_size("desktop-shifts", shifts_with_detail),
    *at_every_size("desktop-exceptions", desktop_screen("exceptions"), large=False),
]
KIOSK_SHOTS: list[tuple[str, Builder, tuple[int, int]]] = [
    *kiosk_shots(SMALL, LARGE), *kiosk_touch_shots((1024, 768), LARGE)]


def shrink_png(path: Path) -> None:
    """With ImageMagick installed, a 256-colour PNG: half the size, the same to the eye for
    flat screens (the repository keeps dozens of them). Without it, or when a `convert` on
    the PATH is not ImageMagick and refuses, the file stays as it is."""
    convert = shutil.which("convert")
    if convert is not None:
        subprocess.run([convert, str(path), "-colors", "256", "+dither", f"PNG8:{path}"],
                       check=False, capture_output=True)


def render(studio: Studio, name: str, builder: Builder, size: tuple[int, int],
           out: Path) -> Path:
    widget = builder(studio)
    if size != DIALOG:
        widget.resize(*size)
    else:
        widget.adjustSize()
    widget.show()
    studio.settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path), "PNG", 0)  # 0: the smallest file (lossless)
    shrink_png(path)
    if hasattr(widget, "shutdown"):
        widget.shutdown()  # a main window: closing for good, nothing to ask
    widget.close()
    studio.settle()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", help="render only these names")
    parser.add_argument("--desktop", action="store_true", help="only the desktop's screens")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pd-shots-") as tmp:
        studio = build_studio(Path(tmp))
        try:
            for name, builder, size in [*SHOTS, *([] if args.desktop else KIOSK_SHOTS)]:
                if args.only and name not in args.only:
                    continue
                started = time.perf_counter()
                path = render(studio, name, builder, size, args.out)
                print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
                      f"  ({time.perf_counter() - started:.1f} s)")
        finally:
            for widget in studio.keep:
                if isinstance(widget, QWidget):
                    widget.close()
            studio.settle()
            QThreadPool.globalInstance().waitForDone()
            studio.app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
