"""Lots → Tariff…: a manager edits the lot's tariff as a new version. The bands table and the
fields are read on every change (draft.py) and each problem is shown next to the field or row
it concerns; the week grid and the calculator follow the draft; Save asks the tariff service
(off the GUI thread), whose refusal is shown in the dialog, next to its field when it names
one. The What-if tab reprices past stays with the draft."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.tariffs import Band, TariffError, TariffVersion
from parking_desktop.domain.tariffs.model import SINCE_ALWAYS
from parking_desktop.services.views import LotView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.dialogs import section_label
from parking_desktop.ui.common.elide import elide
from parking_desktop.ui.common.forms import WrappedMessage
from parking_desktop.ui.common.ops import Failure, Op
from parking_desktop.ui.desktop.screen import SignedIn
from parking_desktop.ui.desktop.tariffs.backend import TariffBackend, backend_for
from parking_desktop.ui.desktop.tariffs.bands_table import BandsTable
from parking_desktop.ui.desktop.tariffs.calculator import (
    Calculator,
    date_edit,
    moment_of,
)
from parking_desktop.ui.desktop.tariffs.draft import (
    Reading,
    TariffText,
    band_text,
    minutes_text,
    read,
    readable_bands,
)
from parking_desktop.ui.desktop.tariffs.week_grid import WeekGrid
from parking_desktop.ui.desktop.tariffs.whatif import WhatIfPanel

# (JSON key, caption, placeholder, hint)
SCALARS = (
    (
        "increment_minutes",
        "Billing increment",
        "e.g. 15, or exact",
        "minutes; a started increment is billed whole ('exact': to the second)",
    ),
    ("minimum_minutes", "Minimum billed time", "e.g. 60", "minutes"),
    (
        "grace_minutes",
        "Grace period",
        "e.g. 10, or 0 for none",
        "minutes; leaving within it costs nothing",
    ),
    (
        "daily_maximum",
        "Daily maximum",
        "empty: no maximum",
        "at most this much per 24 h from arrival",
    ),
    (
        "holidays",
        "Public holidays",
        "e.g. 2027-01-01, 2027-12-25",
        "dates priced as Sundays, separated by commas",
    ),
)


class FieldBox(QWidget):
    """An editor with its problem underneath."""

    def __init__(self, editor: QWidget, hint: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.editor = editor
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        editor.setParent(self)
        column.addWidget(editor)
        if hint:
            hint_label = QLabel(hint, self)
            hint_label.setObjectName("fieldHint")
            hint_label.setWordWrap(True)
            column.addWidget(hint_label)
        self.error = WrappedMessage(self)
        self.error.setObjectName("fieldError")
        self.error.setAccessibleName(f"{editor.accessibleName()} problem")
        self.error.hide()
        column.addWidget(self.error)

    def show_problem(self, messages: list[str]) -> None:
        text = "\n".join(messages)
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.editor.setProperty("invalid", bool(text))
        self.editor.setAccessibleDescription(text)
        self.editor.style().unpolish(self.editor)
        self.editor.style().polish(self.editor)

    def problem(self) -> str:
        return self.error.text() if self.error.isVisibleTo(self) else ""


class TariffEditor(QDialog):
    def __init__(
        self,
        session: SignedIn,
        lot: LotView,
        parent: QWidget | None = None,
        backend: TariffBackend | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tariffEditor")
        title = f"Tariff of {elide(lot.name)}"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.session = session
        self.lot = lot
        self.tz = session.tz
        self.backend = backend or backend_for(session.app)
        self.current: TariffVersion | None = None
        self.reading = Reading()
        self.saved_version: int | None = None
        self._save_op: Op[int] | None = None
        self._refusal: dict[str, list[str]] = {}  # the service's, until the field changes

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        head = QWidget(self)
        head.setObjectName("dialogBody")
        head_layout = QVBoxLayout(head)
        head_layout.setContentsMargins(24, 16, 24, 8)
        head_layout.setSpacing(6)
        heading = QLabel(title, head)
        heading.setObjectName("dialogTitle")
        head_layout.addWidget(heading)
        self.subtitle = QLabel("Loading the tariff in force…", head)
        self.subtitle.setObjectName("dialogSubtitle")
        self.subtitle.setWordWrap(True)
        head_layout.addWidget(self.subtitle)
        self.banner = Banner(head)
        head_layout.addWidget(self.banner)
        outer.addWidget(head)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        outer.addWidget(self.tabs, 1)
        self.tabs.addTab(self._tariff_tab(), "Tariff")
        self.whatif = WhatIfPanel(self.backend, lot.id, lambda: self.reading.version, self)
        whatif_page = QWidget(self)
        whatif_layout = QVBoxLayout(whatif_page)
        whatif_layout.setContentsMargins(24, 16, 24, 16)
        whatif_layout.addWidget(self.whatif)
        self.tabs.addTab(whatif_page, "What if")

        footer = QWidget(self)
        footer.setObjectName("dialogFooter")
        footer_layout = QHBoxLayout(footer)
        footer_layout.setContentsMargins(24, 10, 24, 14)
        self.buttons = QDialogButtonBox(footer)
        self.save_button = QPushButton("Save as new version", footer)
        self.save_button.setObjectName("primaryButton")
        self.save_button.setAccessibleName("Save tariff")
        self.save_button.setEnabled(False)
        self.close_button = QPushButton("Close", footer)
        self.close_button.setAccessibleName("Close")
        self.close_button.setAutoDefault(False)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        footer_layout.addWidget(self.buttons)
        outer.addWidget(footer)
        self.whatif.also_disable = [self.save_button]

        self._reread = QTimer(self)  # one reading per burst of keystrokes
        self._reread.setSingleShot(True)
        self._reread.setInterval(0)
        self._reread.timeout.connect(self.refresh_reading)
        self.fit_to_screen()
        self._load()

    # --- layout ------------------------------------------------------------------------------
    def _tariff_tab(self) -> QWidget:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        page = QWidget(scroll)
        scroll.setWidget(page)
        column = QVBoxLayout(page)
        column.setContentsMargins(24, 12, 24, 16)
        column.setSpacing(10)

        column.addWidget(section_label("Time bands", page))
        hint = QLabel(
            "Together the bands cover the whole week once. An end at or before the "
            "start runs past midnight (20:00–08:00); 00:00–24:00 is the whole day. "
            "Days: Mon–Fri, Sat, Sun or every day.",
            page,
        )
        hint.setObjectName("fieldHint")
        hint.setWordWrap(True)
        column.addWidget(hint)
        self.bands = BandsTable(page)
        self.bands.edited.connect(self._edited)
        column.addWidget(self.bands)
        band_buttons = QHBoxLayout()
        self.add_band_button = QPushButton("Add band", page)
        self.add_band_button.clicked.connect(self.bands.add_band)
        self.remove_band_button = QPushButton("Remove band", page)
        self.remove_band_button.clicked.connect(self.bands.remove_selected)
        for button in (self.add_band_button, self.remove_band_button):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        band_buttons.addWidget(self.add_band_button, 0, Qt.AlignmentFlag.AlignTop)
        band_buttons.addWidget(self.remove_band_button, 0, Qt.AlignmentFlag.AlignTop)
        self.coverage = WrappedMessage(page)  # overlaps and gaps: about the bands together
        self.coverage.setObjectName("fieldError")
        self.coverage.setAccessibleName("Time bands problem")
        self.coverage.hide()
        band_buttons.addSpacing(8)
        band_buttons.addWidget(self.coverage, 10)
        band_buttons.addStretch(1)
        column.addLayout(band_buttons)
        self.grid = WeekGrid(page)
        column.addWidget(self.grid)

        column.addWidget(section_label("Billing", page))
        fields = QGridLayout()
        fields.setHorizontalSpacing(16)
        fields.setVerticalSpacing(6)
        self.fields: dict[str, FieldBox] = {}
        for index, (key, caption, placeholder, field_hint) in enumerate(SCALARS):
            edit = QLineEdit(page)
            edit.setAccessibleName(caption)
            edit.setPlaceholderText(placeholder)
            edit.textChanged.connect(lambda _t, key=key: self._edited(key))
            box = FieldBox(edit, field_hint, page)
            self.fields[key] = box
            label = QLabel(caption, page)
            label.setBuddy(edit)
            row, col = divmod(index, 2)
            fields.addWidget(label, row, col * 2, Qt.AlignmentFlag.AlignTop)
            fields.addWidget(box, row, col * 2 + 1)
        self.effective = date_edit(page, "In force from", self._next_midnight())
        self.effective.dateTimeChanged.connect(lambda _d: self._edited("effective_from"))
        box = FieldBox(
            self.effective, "local time; stays that start from then use this version", page
        )
        self.fields["effective_from"] = box
        label = QLabel("In force from", page)
        label.setBuddy(self.effective)
        row, col = divmod(len(SCALARS), 2)
        fields.addWidget(label, row, col * 2, Qt.AlignmentFlag.AlignTop)
        fields.addWidget(box, row, col * 2 + 1)
        fields.setColumnStretch(1, 1)
        fields.setColumnStretch(3, 1)
        column.addLayout(fields)

        column.addWidget(section_label("Calculator", page))
        self.calculator = Calculator(self.tz, self.session.now(), page)
        column.addWidget(self.calculator)
        column.addStretch(0)
        return scroll

    def fit_to_screen(self, available: QSize | None = None) -> None:
        """As large as the content wants (no scrolling on a 1920×1080 screen), within the
        screen: at 1024×768 the Tariff tab scrolls under a fixed header and footer."""
        if available is None and self.screen() is not None:
            available = self.screen().availableGeometry().size()
        width, height = 1180, 1010
        if available is not None:
            width = min(width, available.width() - 24)
            height = min(height, available.height() - 48)
        self.setMinimumSize(min(720, width), min(520, height))
        self.resize(width, height)

    def _next_midnight(self) -> datetime:
        tomorrow = self.session.now().astimezone(self.tz).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0), self.tz)

    # --- loading -----------------------------------------------------------------------------
    def _load(self) -> None:
        self.busy.push()
        Op(
            lambda _w: self.backend.current(self.lot.id),
            on_success=self.show_version,
            on_failure=self._load_failed,
            on_finished=self.busy.pop,
            owner=self,
            disable=[self.tabs],
        ).start()

    def _load_failed(self, failure: Failure) -> None:
        self.subtitle.setText("The tariff could not be loaded.")
        self.banner.show_error(failure.message)

    def show_version(self, version: TariffVersion) -> None:
        """Fill the form with ``version`` (the one in force); saving makes a new version."""
        self.current = version
        since = version.effective_from
        # A lot that never had a tariff of its own: its flat price, "since always".
        start = (
            "In force since before tariffs"
            if since == SINCE_ALWAYS
            else f"In force since {fmt.date_time(since, self.tz)}"
        )
        self.subtitle.setText(
            f"{start} · prices in {version.currency}. Saving makes a new version from the "
            "date below; stays already priced keep their fee."
        )
        self.bands.set_bands([band_text(band) for band in version.bands])
        values = {
            "increment_minutes": minutes_text(version.increment),
            "minimum_minutes": minutes_text(version.minimum),
            "grace_minutes": minutes_text(version.grace),
            "daily_maximum": "" if version.daily_maximum is None else str(version.daily_maximum),
            "holidays": ", ".join(day.isoformat() for day in sorted(version.holidays)),
        }
        for key, text in values.items():
            editor = self.fields[key].editor
            assert isinstance(editor, QLineEdit)
            editor.setText(text)
        self.refresh_reading()

    # --- reading the form --------------------------------------------------------------------
    def text(self) -> TariffText:
        def line(key: str) -> str:
            editor = self.fields[key].editor
            assert isinstance(editor, QLineEdit)
            return editor.text()

        return TariffText(
            bands=self.bands.bands(),
            increment_minutes=line("increment_minutes"),
            minimum_minutes=line("minimum_minutes"),
            grace_minutes=line("grace_minutes"),
            daily_maximum=line("daily_maximum"),
            holidays=line("holidays"),
            effective_from=moment_of(self.effective, self.tz),
            # A new version is always in the site's currency (the service refuses any other),
            # even where the version in force predates the CURRENCY setting.
            currency=self.session.app.settings.currency,
        )

    def _edited(self, key: str = "bands") -> None:
        # A refusal from the service no longer applies once its field changed.
        for stale in [k for k in self._refusal if k.startswith(key)]:
            del self._refusal[stale]
        self._reread.start()

    def refresh_reading(self) -> None:
        self.reading = read(self.text())
        shown = {key: list(messages) for key, messages in self.reading.problems.items()}
        for key, messages in self._refusal.items():
            shown.setdefault(key, []).extend(messages)
        for key, box in self.fields.items():
            box.show_problem(shown.get(key, []))
        self.bands.show_problems(shown)
        coverage = "\n".join(shown.get("bands", []))
        self.coverage.setText(coverage)
        self.coverage.setVisible(bool(coverage))
        self.grid.set_bands(self._parsed_bands())
        self.calculator.set_version(self.reading.version)
        valid = self.reading.version is not None
        self.whatif.set_draft_valid(valid)
        if self._save_op is None and not self.whatif.running:
            self.save_button.setEnabled(valid and self.current is not None)

    def _parsed_bands(self) -> list[Band]:
        version = self.reading.version
        if version is not None:
            return list(version.bands)
        # The bands that can be read, so the grid shows overlaps and gaps while editing.
        return readable_bands(self.bands.bands())

    def problem_at(self, key: str) -> str:
        """The message shown for a field ('increment_minutes', 'bands', 'bands[1]')."""
        if key == "bands":
            return self.coverage.text() if self.coverage.isVisibleTo(self) else ""
        if key.startswith("bands["):
            return self.bands.problem_text(int(key[6 : key.index("]")]))
        return self.fields[key].problem()

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> None:
        version = self.reading.version
        if version is None or self._save_op is not None or self.whatif.running:
            return
        self.banner.clear()
        self.busy.push()
        backend, lot_id, actor = self.backend, self.lot.id, self.session.actor
        self._save_op = Op(
            lambda _w: backend.save(lot_id, version, actor),
            on_success=self._saved,
            on_failure=self._refused,
            on_finished=self._save_finished,
            owner=self,
            disable=[self.save_button, self.tabs],
        ).start()

    def _save_finished(self) -> None:
        self._save_op = None
        self.busy.pop()
        self.refresh_reading()

    def _saved(self, number: int) -> None:
        self.saved_version = number
        self.accept()

    def _refused(self, failure: Failure) -> None:
        error = failure.error
        if isinstance(error, TariffError) and (
            error.field in self.fields or error.field.startswith("bands")
        ):
            key = "holidays" if error.field.startswith("holidays[") else error.field
            self._refusal = {key: [error.message]}
            self.banner.show_error("The tariff was not saved: see the message below.")
        else:
            self.banner.show_error(f"The tariff was not saved. {failure.message}")

    # --- closing -----------------------------------------------------------------------------
    def reject(self) -> None:
        self.whatif.discard()
        if self._save_op is not None:
            self._save_op.discard()
            self._save_op = None
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.whatif.discard()
        super().closeEvent(event)
