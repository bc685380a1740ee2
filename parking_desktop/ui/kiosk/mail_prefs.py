"""A driver's e-mail choices at the kiosk: daily reminders and monthly reports, each on or off.

One tap is one service call (MailPreferencesService.set, source "kiosk"); the jobs read the
preference when they next select whom to mail, so the change holds at once. Receipts and the
history a driver asks for are not choices: they are always sent (the page says so)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from parking_desktop.services.privacy.preferences import MailPreferencesView
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import Card, KioskButton, label, tab_chain

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

CHOICES = {
    "reminders": ("Daily reminders", "A nudge when you have not parked with us for a while."),
    "reports": ("Monthly reports", "Your month's stays and spending, once a month."),
}


class _Choice(Card):
    def __init__(self, kind: str, parent: QWidget) -> None:
        super().__init__(parent)
        title, hint = CHOICES[kind]
        row = QHBoxLayout(self)
        row.setContentsMargins(28, 16, 16, 16)
        row.setSpacing(18)
        words = QVBoxLayout()
        words.setSpacing(4)
        words.addWidget(label(title, "lead", self))
        self.state = label("", "hint", self, wrap=True)
        words.addWidget(self.state)
        words.addWidget(label(hint, "hint", self, wrap=True))
        row.addLayout(words, 1)
        self.button = KioskButton("", self, accessible=f"{title}: on or off")
        self.button.setObjectName(f"mail_{kind}")
        row.addWidget(self.button)
        self.on: bool | None = None

    def show_value(self, on: bool, title: str) -> None:
        self.on = on
        self.state.setText("You get them." if on else "You do not get them.")
        self.button.setText("Stop them" if on else "Send them again")
        self.button.setAccessibleName(f"{'Stop' if on else 'Restart'} {title.lower()}")
        self.button.set_kind("danger" if on else "primary")


class MailPrefsScreen(KioskScreen):
    name = "mail_prefs"
    title = "My e-mails"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.body.addWidget(
            label(
                "Choose the e-mails you want. Receipts and the history you ask for are always "
                "sent.",
                "lead",
                self,
                wrap=True,
            )
        )
        self.choices = {kind: _Choice(kind, self) for kind in CHOICES}
        for kind, choice in self.choices.items():
            self.body.addWidget(choice)
            choice.button.clicked.connect(lambda _=False, k=kind: self.toggle(k))
            self.busy_widgets.append(choice.button)
        self.body.addStretch(1)
        tab_chain(*(c.button for c in self.choices.values()))

    def enter(self, **kwargs: Any) -> None:
        self.reset()
        app, actor = self.kiosk.app, self.kiosk.actor
        self.call(app.mail_preferences.get, actor, actor.user_id or 0, on_success=self._show)

    def reset(self) -> None:
        super().reset()
        for choice in self.choices.values():
            choice.on = None
            choice.state.setText("")
            choice.button.setText("…")

    def back(self) -> None:
        self.kiosk.go("history")

    def first_focus(self) -> QWidget | None:
        return self.choices["reminders"].button

    def toggle(self, kind: str) -> None:
        choice = self.choices[kind]
        if choice.on is None or self.busy:
            return
        app, actor = self.kiosk.app, self.kiosk.actor
        wanted = not choice.on

        def save() -> MailPreferencesView:
            if kind == "reminders":
                return app.mail_preferences.set(
                    actor, actor.user_id or 0, reminders=wanted, source="kiosk"
                )
            return app.mail_preferences.set(
                actor, actor.user_id or 0, reports=wanted, source="kiosk"
            )

        self.call(save, on_success=lambda view: self._saved(view, kind))

    def _show(self, view: MailPreferencesView) -> None:
        self.choices["reminders"].show_value(view.reminders, CHOICES["reminders"][0])
        self.choices["reports"].show_value(view.reports, CHOICES["reports"][0])

    def _saved(self, view: MailPreferencesView, kind: str) -> None:
        self._show(view)
        on = view.reminders if kind == "reminders" else view.reports
        what = CHOICES[kind][0].lower()
        self.show_info(f"Saved: you get {what} again." if on else f"Saved: no more {what}.")
        self.focus(self.choices[kind].button)
