"""The Kiosks screen lists the offline operations that needed a decision, with both versions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError, PermissionDeniedError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.journal import OfflineDesk
from parking_desktop.services.kiosks.picture import take_picture
from parking_desktop.services.kiosks.replay import ReplayService
from parking_desktop.services.kiosks.syncing import KioskSync
from parking_desktop.services.kiosks.views import HeartbeatReport, LinkState
from parking_desktop.ui.desktop.kiosks_screen import ConflictModel, KiosksScreen
from tests.ui.conftest import Desk


def test_a_spot_given_twice_offline_is_listed_with_both_versions(
    app: App,
    manager: Actor,
    attendant: Actor,
    clock: FixedClock,
    desk: Desk,
    tmp_path: Path,
    qtbot: QtBot,
) -> None:
    lot = app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=3,
    ).id
    kiosks = []
    for name in ("a", "b"):
        offline = OfflineDesk(tmp_path / name, name * 36, app.ctx.clock)
        sync = KioskSync(
            offline,
            ReplayService(app.ctx, app.parking.payments).apply,
            lambda: take_picture(app.ctx),
        )
        sync.sync_now()
        kiosks.append((offline, sync))
        app.heartbeats.beat(
            HeartbeatReport(
                name * 36, f"gate-{name}", "Central", LinkState.ONLINE, None, 0, "0.1.0"
            )
        )
    kiosks[0][0].check_in(attendant, lot, "AAA1")  # 10:00 in Paris
    clock.advance(minutes=5)
    kiosks[1][0].check_in(attendant, lot, "BBB1")  # the same spot, believed free
    for offline, sync in kiosks:
        assert sync.sync_now().ok
        offline.close()

    screen = desk.open(KiosksScreen, manager)
    model = screen.conflict_model
    assert model.rowCount() == 1
    row = [str(model.index(0, column).data()) for column in range(model.columnCount())]
    assert row[ConflictModel.KIOSK] == "gate-b"
    assert row[ConflictModel.VEHICLE] == "BBB1"
    assert row[ConflictModel.KIOSK_DID] == "In at 10:05:00, spot P001"
    assert "spot given: P002" in row[ConflictModel.SERVER_HAD]
    assert "recorded in spot P002 instead" in row[ConflictModel.OUTCOME]
    assert row[ConflictModel.STATE] == "To deal with"
    assert screen.conflicts_title.text() == (
        "Offline operations that needed a decision: 1, 1 still to deal with"
    )
    assert not screen.resolve_button.isEnabled()
    screen.resize(1024, 700)
    screen.grab().save("/tmp/offline-journal-kiosks-1024.png")
    screen.resize(1920, 1040)
    screen.grab().save("/tmp/offline-journal-kiosks-1920.png")

    # The manager has moved the car's record: marked, with who and when in the activity log.
    screen.conflict_table.selectRow(0)
    assert screen.resolve_button.isEnabled()
    loads = screen.loads
    screen.resolve_button.click()
    qtbot.waitUntil(lambda: screen.loads > loads and model.rowCount() == 1)
    qtbot.waitUntil(lambda: model.index(0, ConflictModel.STATE).data() == "Dealt with")
    assert not screen.resolve_button.isEnabled()
    assert screen.conflicts_title.text().endswith("0 still to deal with")
    (conflict,) = ReplayService(app.ctx).conflicts(manager)
    with pytest.raises(ConflictError, match="already dealt with"):
        ReplayService(app.ctx).resolve(manager, conflict.id)
    with pytest.raises(PermissionDeniedError):
        ReplayService(app.ctx).resolve(attendant, conflict.id)
    entries = app.activity.history(manager, activity_type="sync_conflict_resolved")
    assert len(entries.items) == 1
