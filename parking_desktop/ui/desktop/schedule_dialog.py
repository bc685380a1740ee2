"""When the scheduled jobs run (site time): saved to the settings file, no restart needed."""

from __future__ import annotations

from PySide6.QtCore import QTime
from PySide6.QtWidgets import QFormLayout, QSpinBox, QTimeEdit, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common.dialogs import ServiceDialog

FIELDS = (("DAILY_REMINDER_TIME", "Daily reminders at"),
          ("MONTHLY_REPORT_DAY", "Monthly reports on day"),
          ("MONTHLY_REPORT_TIME", "Monthly reports at"),
          ("CLEANUP_TIME", "Export cleanup at"))


class ScheduleDialog(ServiceDialog):
    def __init__(self, app: App, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent, "Job times", ok_text="Save",
                         subtitle=f"Times are in {app.settings.app_timezone}. The jobs are "
                                  "rescheduled as soon as you save.")
        self.app = app
        self.actor = actor
        values = app.jobs.schedule_values(actor)  # in memory: no I/O
        locked = set(app.jobs.locked_by_environment())
        rows = QFormLayout()
        self.editors: dict[str, QTimeEdit | QSpinBox] = {}
        for name, label in FIELDS:
            editor: QTimeEdit | QSpinBox
            if name == "MONTHLY_REPORT_DAY":
                editor = QSpinBox(self)
                editor.setRange(1, 28)
                editor.setValue(int(values[name]))
            else:
                editor = QTimeEdit(QTime.fromString(values[name], "HH:mm"), self)
                editor.setDisplayFormat("HH:mm")
            editor.setAccessibleName(label)
            if name in locked:
                editor.setEnabled(False)
                editor.setToolTip(f"{name} is set in the environment, which wins.")
            self.editors[name] = editor
            rows.addRow(label, editor)
        self.layout_.addLayout(rows)

    def values(self) -> dict[str, str]:
        out = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QSpinBox):
                out[name] = str(editor.value())
            else:
                out[name] = editor.time().toString("HH:mm")
        return out

    def submit(self) -> None:
        self.run(self.app.jobs.save_schedule, self.actor, self.values())
