"""One reservation in full (Reservations → Details, or Enter / double-click on a row): who,
where, when, and its fee line by line, so staff can tell a driver why a fee is what it is."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.services.views import ReservationView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.dialogs import section_label
from parking_desktop.ui.common.ops import Failure, Op
from parking_desktop.ui.desktop.screen import SignedIn
from parking_desktop.ui.desktop.stay_fee import StayFee, stay_fee


class ReservationDetail(QDialog):
    def __init__(
        self, session: SignedIn, view: ReservationView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reservationDetail")
        title = f"Reservation {view.id}"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(520)
        self.view = view
        self.fee: StayFee | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        body = QWidget(self)
        body.setObjectName("dialogBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(24, 18, 24, 18)
        column.setSpacing(10)
        heading = QLabel(f"{view.vehicle_number} · {fmt.status(view.status)}", body)
        heading.setObjectName("dialogTitle")
        column.addWidget(heading)
        self.banner = Banner(body)
        column.addWidget(self.banner)
        facts = QFormLayout()
        facts.setSpacing(6)
        tz = session.tz
        parked, left = view.parked_at, view.left_at
        for caption, text in (
            ("Lot · spot", f"{view.lot_name} · {view.spot_number}"),
            ("Driver", view.username or "—"),
            ("Reserved", fmt.date_time(view.reserved_at, tz)),
            ("Parked", fmt.date_time(parked, tz)),
            ("Left", fmt.date_time(left, tz)),
            ("Duration", fmt.duration(left - parked) if parked and left else "—"),
            ("Note", view.note or "—"),
        ):
            value = QLabel(text, body)
            value.setAccessibleName(caption)
            value.setWordWrap(True)
            facts.addRow(caption, value)
        column.addLayout(facts)
        column.addWidget(section_label("Fee", body))
        self.lines_box = QWidget(body)
        self.grid = QGridLayout(self.lines_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(18)
        self.grid.setColumnStretch(0, 1)
        column.addWidget(self.lines_box)
        self.total = QLabel("…" if parked else "No fee: the car never parked.", body)
        self.total.setAccessibleName("Fee")
        self.total.setWordWrap(True)
        column.addWidget(self.total)
        outer.addWidget(body, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        footer = QWidget(self)
        footer.setObjectName("dialogFooter")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(24, 10, 24, 14)
        footer_layout.addWidget(buttons)
        outer.addWidget(footer)
        if parked is not None:
            self.busy.push()
            app, actor = session.app, session.actor
            Op(
                lambda _w: stay_fee(app, actor, view),
                on_success=self.show_fee,
                on_failure=self._failed,
                on_finished=self.busy.pop,
                owner=self,
            ).start()

    def show_fee(self, fee: StayFee) -> None:
        self.fee = fee
        for index, (text, amount) in enumerate(fee.rows):
            line = QLabel(text, self.lines_box)
            line.setObjectName("feeLine")
            line.setWordWrap(True)
            value = QLabel(amount, self.lines_box)
            value.setAccessibleName(text)
            self.grid.addWidget(line, index, 0)
            self.grid.addWidget(value, index, 1)
        if fee.total is None:
            self.total.setText("No fee yet.")
        else:
            words = "Fee so far (if the car left now)" if fee.so_far else "Total"
            self.total.setText(f"{words}: {fmt.money(fee.total)}")

    def _failed(self, failure: Failure) -> None:
        self.total.setText("")
        self.banner.show_error(failure.message)
