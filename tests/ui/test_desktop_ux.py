"""What a lot manager sees on the desktop: readable banners, dialogs that grow with a refusal,
over-long or oddly written input refused next to the field, numbers in the locale's way, the
site's time zone asked at first run, job history in words, and screens that follow changes
made by another program on the same database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.jobs.ledger import JobRunView
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.numbers import decimal_text
from parking_desktop.ui.common.signin import FirstManagerDialog
from parking_desktop.ui.desktop.dashboard import DashboardScreen
from parking_desktop.ui.desktop.job_models import RunsModel, machine_text, period_text
from parking_desktop.ui.desktop.jobs_screen import JobsScreen
from parking_desktop.ui.desktop.lot_dialogs import LotDialog, ResizeDialog
from parking_desktop.ui.desktop.lots import LotsScreen
from parking_desktop.ui.desktop.spots import SpotsScreen
from tests.conftest import Unchanged
from tests.ui.conftest import Desk, make_lot, session_for, wait_for

BANNER_TEXT = {"error": "#991b1b", "info": "#1e40af", "success": "#166534"}


def text_colour(banner: Banner) -> str:
    return banner.label.palette().color(QPalette.ColorRole.WindowText).name()


# --- banners ---------------------------------------------------------------------------------
def test_each_banner_kind_has_its_own_text_colour(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    banner = Banner(holder)
    holder.show()
    # Success first (a fresh banner starts as "error"), then every change of kind.
    for kind in ("success", "error", "info", "success", "error"):
        getattr(banner, f"show_{kind}")(f"A {kind} message.")
        assert banner.property("kind") == kind
        assert text_colour(banner) == BANNER_TEXT[kind], kind


def test_a_long_unbreakable_word_does_not_widen_the_banner(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    holder.resize(600, 200)
    banner = Banner(holder)
    message = f"Lot '{'X' * 300}' saved."
    banner.show_success(message)
    assert banner.text == message  # the message itself is kept whole
    assert banner.minimumSizeHint().width() < 600


# --- dialogs -----------------------------------------------------------------------------
def test_the_resize_dialog_grows_so_the_whole_refusal_is_read(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, attendant: Actor) -> None:
    lot = make_lot(app, manager, "North " + "Parking " * 11, spots=20)  # a 94-character name
    for plate in ("AA111", "BB222", "CC333", "DD444", "EE555", "FF666", "GG777"):
        app.parking.check_in(attendant, lot.id, plate)
    dialog = ResizeDialog(session_for(app, manager), app.lots.get(lot.id))
    desk.windows.append(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.height()
    dialog.spots.editor.setText("1")
    dialog.submit()
    qtbot.waitUntil(lambda: bool(dialog.banner.text))
    label = dialog.banner.label
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert dialog.height() > before
    assert "occupied spots" in dialog.banner.text
    assert dialog.width() <= 640  # the long name wraps or is elided, never widens it


def test_a_500_character_name_is_refused_next_to_the_field_not_cut(
        app: App, qtbot: QtBot, desk: Desk, manager: Actor, unchanged: Unchanged) -> None:
    dialog = LotDialog(session_for(app, manager))
    desk.windows.append(dialog)
    dialog.show()
    long_name = "Parking " * 62 + "Lot"  # 499 characters
    dialog.name.editor.setText(long_name)
    dialog.name.reveal()
    assert dialog.name.editor.text() == long_name  # not silently cut to 100
    assert "at most 100 are allowed" in dialog.name.error.text()
    assert dialog.name.error.isVisible()
    assert not dialog.ok_button.isEnabled()
    with unchanged(), pytest.raises(ValidationError, match="at most 100"):
        app.lots.create(manager, name=long_name, address="1 Street", pin_code="PIN01",
                        price_per_hour="2.00", number_of_spots=3)


# --- numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "locale", "expected"), [
    ("2,90", QLocale.Language.French, "2.90"),
    ("2.90", QLocale.Language.French, "2.90"),
    ("2,90", QLocale.Language.English, "2.90"),  # a comma and two digits: a decimal comma
    ("1,000", QLocale.Language.English, "1,000"),  # a thousands group: left to be refused
])
def test_the_decimal_separator_of_the_locale(typed: str, locale: QLocale.Language,
                                             expected: str) -> None:
    assert decimal_text(typed, QLocale(locale)) == expected


def test_prices_typed_in_the_lot_dialog(app: App, qtbot: QtBot, desk: Desk,
                                        manager: Actor, unchanged: Unchanged) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    try:
        dialog = LotDialog(session_for(app, manager))
        desk.windows.append(dialog)
        price = dialog.price
        price.editor.setText("2,90")
        assert price.valid and price.value == Decimal("2.90")
        for typed, message in (("1e3", "written with digits"), ("1000", "less than 1000"),
                               ("1 000,00", "not a number"), ("2,905", "at most 2 decimals")):
            price.editor.setText(typed)
            assert not price.valid, typed
            assert message in price.message, (typed, price.message)
    finally:
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    with unchanged(), pytest.raises(ValidationError, match="written with digits"):
        app.lots.create(manager, name="Exp", address="1 Street", pin_code="PIN01",
                        price_per_hour="1e3", number_of_spots=3)


# --- first run ---------------------------------------------------------------------------
def test_first_run_asks_the_site_time_zone_and_keeps_it(
        tmp_path: Path, qtbot: QtBot, fast_hasher: object) -> None:
    settings = load_settings(data_dir=tmp_path / "data", environ={},
                             dotenv_path=tmp_path / "no.env")
    app = build_app(settings, hasher=fast_hasher)  # type: ignore[arg-type]
    try:
        dialog = FirstManagerDialog(app)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.zone.currentText()  # this computer's zone, or UTC
        dialog.username.editor.setText("site_manager")
        dialog.password.editor.setText("long-enough-1")
        dialog.confirm.editor.setText("long-enough-1")
        dialog.zone.setCurrentIndex(dialog.zone.findText("America/Montreal"))
        with qtbot.waitSignal(dialog.accepted, timeout=15_000):
            dialog.submit()
        stored = json.loads(settings.settings_file.read_text(encoding="utf-8"))
        assert stored["APP_TIMEZONE"] == "America/Montreal"
        assert app.ctx.tz.key == "America/Montreal"
        assert load_settings(data_dir=tmp_path / "data", environ={},
                             dotenv_path=tmp_path / "no.env").app_timezone == "America/Montreal"
    finally:
        app.close()


# --- job history -------------------------------------------------------------------------
def test_job_history_in_words(app: App, desk: Desk, manager: Actor, qtbot: QtBot) -> None:
    app.jobs.scheduler.run_now(manager, "cleanup_exports")
    screen = desk.open(JobsScreen, manager)
    screen.table.selectRow(next(i for i, j in enumerate(screen.model.rows())
                                if j.name == "cleanup_exports"))
    wait_for(qtbot, lambda: screen.runs.rowCount() == 1)
    period = str(screen.runs.index(0, RunsModel.PERIOD).data())
    assert period.startswith("Run now by manager1 at ")  # not "manual-2026…-1a2b3c"
    assert "manual-" not in period
    assert screen.runs.index(0, RunsModel.HOST).data() == "this computer"


def test_machine_names_and_periods_read_as_words() -> None:
    assert machine_text("kiosk-2:4411", here="desk-1") == "kiosk-2"
    assert machine_text("desk-1:13098", here="desk-1") == "this computer"
    assert machine_text(None) == "—"
    moment = datetime(2026, 3, 2, 12, 40, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")

    def run(key: str, **counts: object) -> JobRunView:
        return JobRunView(id=1, job="daily_reminder", period_key=key, status="completed",
                          started_at=moment, finished_at=moment, heartbeat_at=None, host=None,
                          counts=dict(counts))

    assert period_text(run("2026-03-02"), paris, moment.date()) == "2026-03-02"
    assert period_text(run("manual-20260302T124024-1259b4", by="manager1"), paris,
                       moment.date()) == "Run now by manager1 at 13:40"
    assert period_text(run("manual-20260301T124024-1259b4"), paris,
                       moment.date()) == "Run now at 1 Mar 13:40"
    assert period_text(run("at-20260302T124024-1259b4"), paris, moment.date()) == "Ran at 13:40"


# --- live data ---------------------------------------------------------------------------
@pytest.fixture
def second_app(app: App, tmp_path: Path, fast_hasher: object) -> Iterator[App]:
    """Another program on the same database: on SQLite a kiosk on the same machine (same
    folder, same disk cache); on PostgreSQL a kiosk on another machine (its own cache)."""
    folder = tmp_path / ("data" if app.db.is_sqlite else "other")
    settings = load_settings(data_dir=folder, database_url=app.settings.database_url,
                             environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=tmp_path / "no.env")
    other = build_app(settings, hasher=fast_hasher)  # type: ignore[arg-type]
    yield other
    other.close()


def test_lots_dashboard_and_spots_follow_a_check_in_made_by_another_program(
        app: App, second_app: App, desk: Desk, manager: Actor, attendant: Actor,
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite sends no notice between processes: those screens reload while visible. Short
    # here so the test does not wait; PostgreSQL's notices need no timer.
    for screen_class in (LotsScreen, DashboardScreen, SpotsScreen):
        monkeypatch.setattr(screen_class, "LIVE_REFRESH_MS", 300 if app.db.is_sqlite else 0)
    lot = make_lot(app, manager, "Central Station", spots=4)
    window = desk.window(manager)
    if not app.db.is_sqlite:
        assert app.cache.sync is not None and app.cache.sync.wait_connected(10)
    dashboard = window.current_screen
    assert dashboard is not None
    lots = window.navigate("lots")
    qtbot.waitUntil(lambda: lots.loads > 0)
    assert lots.model.row_at(0).occupied == 0
    other_attendant = Actor(attendant.user_id, attendant.username, attendant.role)
    second_app.parking.check_in(other_attendant, lot.id, "KV548DQ")  # the other program
    wait_for(qtbot, lambda: lots.model.row_at(0).occupied == 1, timeout=20_000)
    spots = window.navigate("spots")
    wait_for(qtbot, lambda: any(s.status == "O" for s in spots.model.rows()), timeout=20_000)
    second_app.parking.check_in(other_attendant, lot.id, "AB123CD")
    wait_for(qtbot, lambda: sum(s.status == "O" for s in spots.model.rows()) == 2,
             timeout=20_000)
    window.navigate("dashboard")
    wait_for(qtbot, lambda: dashboard.tiles["occupied"].text == "2", timeout=20_000)
