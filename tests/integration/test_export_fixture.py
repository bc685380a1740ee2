"""The export files of a fixed data set, byte for byte against files kept in
tests/integration/data/: a small demo site (a month across the spring clock change, walk-ins,
cancellations, stays still running) plus the hand-made rows of export_support (formula-like
names, quotes and commas, a driver without a full name), exported whole, anonymised, for one
driver and for one lot, on SQLite and PostgreSQL.

The kept files were written by the export as it was before its speed-ups; any change in the
bytes (quoting, a cell's format, neutralising, pseudonyms, order) fails here. When the format
is changed on purpose, write the files anew and say so in the commit. (Rewritten for the
Currency column after Cost, and for the demo's three free exits, whose cost is now 0.00.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions
from parking_desktop.services.exports.exports import KEY_FILE
from parking_desktop.services.exports.scope import ExportScope
from tests.integration.export_support import History, actor, build_history, export_bytes

DATA = Path(__file__).parent / "data"
# A fixed site key, so the pseudonyms are the same in every run and on both databases.
PSEUDONYM_KEY = "5eed" * 16
DEMO_NOW = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)  # the demo month spans 29 March
HISTORY_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def site(app: App, clock: FixedClock) -> tuple[History, Actor]:
    key_file = app.settings.data_dir / KEY_FILE
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(PSEUDONYM_KEY, encoding="ascii")
    clock.set(DEMO_NOW)
    DemoLoader(app.ctx, app.users.hasher).load(
        DemoOptions(drivers=40, lots=3, days=30, seed=7), "demo-password-1")
    clock.set(HISTORY_START)
    manager = actor(app, "fixmanager", Role.MANAGER)
    attendant = actor(app, "fixattendant", Role.ATTENDANT)
    return build_history(app, manager, attendant, clock), attendant


def test_export_files_match_the_kept_bytes(app: App, site: tuple[History, Actor]) -> None:
    history, attendant = site
    manager = actor(app, "fixreader", Role.MANAGER)
    assert history.sum_driver.user_id is not None
    exports = {
        "export_all.csv": (manager, ExportScope.everything()),
        "export_all_anonymised.csv": (manager, ExportScope.everything(anonymize=True)),
        "export_driver.csv": (manager, ExportScope.driver(history.sum_driver.user_id)),
        "export_lot.csv": (manager, ExportScope.lot(history.lot_b)),
        "export_shift.csv": (attendant, ExportScope.shift()),
    }
    for name, (who, scope) in exports.items():
        data = export_bytes(app, who, scope)
        assert data == (DATA / name).read_bytes(), f"{name} differs from the kept file"
