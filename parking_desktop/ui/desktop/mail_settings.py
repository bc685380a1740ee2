"""Settings → Mail (manager only): the SMTP server, the password (kept in the OS keyring and
never shown back), a test e-mail with the server's answer, and the Google Chat webhook."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from parking_desktop.services.mail.email import MailSettingsView, TestMailResult
from parking_desktop.ui.common.widgets import Card, tool_button
from parking_desktop.ui.desktop.outbox import header_actions
from parking_desktop.ui.desktop.screen import Screen, SignedIn

SECURITY = [("None (local relay)", "none"), ("STARTTLS", "tls"), ("SSL/TLS", "ssl")]
PASSWORD_TEXT = {
    "keyring": "Stored in the keyring",
    "environment": "Taken from MAIL_PASSWORD in the environment",
    "none": "Not set",
}


class MailSettingsScreen(Screen):
    TITLE = "Mail settings"
    SUBTITLE = "Outgoing e-mail and manager notifications"
    TOPICS = frozenset({"settings"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.view: MailSettingsView | None = None
        self.last_result = ""  # what the last test said (tests read it)

        server_card = Card("Outgoing mail server", self)
        form = QFormLayout()
        form.setSpacing(10)
        self.server = self._line("Mail server", "smtp.example.com")
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setAccessibleName("Port")
        self.port.setMaximumWidth(140)
        self.security = QComboBox(self)
        self.security.setAccessibleName("Security")
        self.security.setMaximumWidth(260)
        for label, key in SECURITY:
            self.security.addItem(label, key)
        self.username = self._line("User name", "leave empty when the server needs no login")
        self.sender_edit = self._line("Sender address", "parking@example.com")
        self.ca_file = self._line("Extra CA file", "optional: a relay with its own CA")
        for label, widget in (("Server", self.server), ("Port", self.port),
                              ("Security", self.security), ("User name", self.username),
                              ("Sender", self.sender_edit), ("CA file", self.ca_file)):
            form.addRow(label, widget)
        password_row = QHBoxLayout()
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("SMTP password")
        self.password.setPlaceholderText("type a new password to store it")
        self.password.returnPressed.connect(self.store_password)
        password_row.addWidget(self.password, 1)
        self.store_button = tool_button("Store password", "key", self)
        self.store_button.clicked.connect(self.store_password)
        password_row.addWidget(self.store_button)
        form.addRow("Password", password_row)
        self.password_state = QLabel("—", self)
        self.password_state.setAccessibleName("Password status")
        form.addRow("", self.password_state)
        self.keyring_note = QLabel("", self)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("hint")
        self.keyring_note.setAccessibleName("Keyring status")
        form.addRow("", self.keyring_note)
        server_card.content.addLayout(form)
        self.save_button = tool_button("Save", "check", self, primary=True)
        self.save_button.clicked.connect(self.save)
        header_actions(self).addWidget(self.save_button)
        self.body.addWidget(server_card)

        test_card = Card("Try it", self)
        test_row = QHBoxLayout()
        self.test_to = self._line("Test recipient", "address for a test e-mail")
        self.test_to.setText(session.user.email or "")
        self.test_to.returnPressed.connect(self.send_test)
        test_row.addWidget(self.test_to, 1)
        self.test_button = tool_button("Send test e-mail", "check", self)
        self.test_button.clicked.connect(self.send_test)
        test_row.addWidget(self.test_button)
        test_card.content.addLayout(test_row)
        chat_row = QHBoxLayout()
        self.webhook = self._line("Google Chat webhook URL",
                                  "https://chat.googleapis.com/v1/spaces/…")
        self.webhook.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)  # it carries a token
        chat_row.addWidget(self.webhook, 1)
        self.chat_button = tool_button("Send test message", "check", self)
        self.chat_button.clicked.connect(self.send_test_chat)
        chat_row.addWidget(self.chat_button)
        test_card.content.addLayout(chat_row)
        self.result = QLabel("", self)
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Test result")
        test_card.content.addWidget(self.result)
        self.body.addWidget(test_card)
        self.body.addStretch(1)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    # --- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.email.mail_settings, self.actor, on_success=self._show)

    def _show(self, view: MailSettingsView) -> None:
        self.view = view
        values = view.values
        self.server.setText(values["MAIL_SERVER"])
        self.port.setValue(int(values["MAIL_PORT"]))
        key = "ssl" if values["MAIL_USE_SSL"] == "true" else (
            "tls" if values["MAIL_USE_TLS"] == "true" else "none")
        self.security.setCurrentIndex(self.security.findData(key))
        self.username.setText(values["MAIL_USERNAME"])
        self.sender_edit.setText(values["MAIL_DEFAULT_SENDER"])
        self.ca_file.setText(values["MAIL_CA_FILE"])
        self.webhook.setText(values["GOOGLE_CHAT_WEBHOOK_URL"])
        self.password.clear()
        self.password_state.setText(PASSWORD_TEXT.get(view.password, view.password))
        secure = view.keyring.secure
        self.password.setEnabled(secure)
        self.store_button.setEnabled(secure)
        self.keyring_note.setText(view.keyring.message)
        if view.notes:
            self.banner.show_info(" ".join(view.notes))
        self.loaded()

    # --- actions ----------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        security = self.security.currentData()
        return {
            "MAIL_SERVER": self.server.text(), "MAIL_PORT": str(self.port.value()),
            "MAIL_USE_TLS": "true" if security == "tls" else "false",
            "MAIL_USE_SSL": "true" if security == "ssl" else "false",
            "MAIL_USERNAME": self.username.text(), "MAIL_DEFAULT_SENDER": self.sender_edit.text(),
            "MAIL_CA_FILE": self.ca_file.text(),
            "GOOGLE_CHAT_WEBHOOK_URL": self.webhook.text(),
        }

    def save(self) -> None:
        self.banner.clear()

        def saved(view: MailSettingsView) -> None:
            self._show(view)
            self.show_success("Mail settings saved.")

        self.call(self.app.email.save_mail_settings, self.actor, self.values(), on_success=saved)

    def store_password(self) -> None:
        secret = self.password.text()
        if not secret:
            self.show_error("Type the password first.")
            return
        self.password.clear()  # the widget never keeps it
        email, actor, values = self.app.email, self.actor, self.values()

        def work() -> MailSettingsView:
            # The password belongs to the user name on screen: save that first.
            email.save_mail_settings(actor, values)
            return email.set_smtp_password(actor, secret)

        def stored(view: MailSettingsView) -> None:
            self._show(view)
            self.show_success("The password is stored in the keyring.")

        self.call(work, on_success=stored)

    def send_test(self) -> None:
        to = self.test_to.text().strip()
        if not to:
            self.show_error("Type the address to send the test e-mail to.")
            return
        self.banner.clear()
        self._set_result("Sending…", ok=None)
        email, actor, values = self.app.email, self.actor, self.values()

        def work() -> TestMailResult:
            email.save_mail_settings(actor, values)  # test what is on screen
            return email.send_test(actor, to)

        self.call(work, on_success=lambda r: self._set_result(r.message, ok=r.ok),
                  on_error=lambda message: self._set_result(message, ok=False))

    def send_test_chat(self) -> None:
        self.banner.clear()
        self._set_result("Sending…", ok=None)
        email, actor, url = self.app.email, self.actor, self.webhook.text()

        def work() -> Any:
            email.save_mail_settings(actor, {"GOOGLE_CHAT_WEBHOOK_URL": url})
            return email.send_test_chat(actor)

        def done(result: Any) -> None:
            text = "Google Chat took the test message." if result.ok else result.message
            self._set_result(text, ok=bool(result.ok))

        self.call(work, on_success=done,
                  on_error=lambda message: self._set_result(message, ok=False))

    def _set_result(self, text: str, *, ok: bool | None) -> None:
        self.last_result = text
        self.result.setText(text)
        self.result.setProperty("kind", "" if ok is None else ("success" if ok else "error"))
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
