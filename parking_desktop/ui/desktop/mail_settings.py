"""Settings → Mail (manager only): the SMTP server, the password (kept in the OS keyring and
never shown back), a test e-mail with the server's answer, and the Google Chat webhook.

A user name without STARTTLS or SSL gets a warning next to the security field (the program
refuses to send a password in clear); a bad sender or CA file gets its message next to the
field."""

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

from parking_desktop.config import mail_sender_problem
from parking_desktop.services.mail.email import TestMailResult
from parking_desktop.services.mail.settings import MailSettingsView
from parking_desktop.ui.common.widgets import Card, tool_button
from parking_desktop.ui.desktop.outbox import header_actions
from parking_desktop.ui.desktop.screen import Screen, SignedIn

SECURITY = [("None (local relay)", "none"), ("STARTTLS", "tls"), ("SSL/TLS", "ssl")]
PLAINTEXT_WARNING = (
    "Without STARTTLS or SSL the password would cross the network unencrypted: the program "
    "refuses to log in this way (only a server on this machine may be allowed, with "
    "MAIL_ALLOW_PLAINTEXT_LOGIN=true)."
)
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
        self.plaintext_warning = self._note("Security warning", "fieldError")
        self.sender_error = self._note("Sender problem", "fieldError")
        self.ca_error = self._note("CA file problem", "fieldError")
        for label, widget, note in (
                ("Server", self.server, None), ("Port", self.port, None),
                ("Security", self.security, self.plaintext_warning),
                ("User name", self.username, None),
                ("Sender", self.sender_edit, self.sender_error),
                ("CA file", self.ca_file, self.ca_error)):
            form.addRow(label, widget)
            if note is not None:
                form.addRow("", note)
        self.security.currentIndexChanged.connect(self._update_warning)
        self.username.textChanged.connect(self._update_warning)
        self.sender_edit.editingFinished.connect(self._check_sender)
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

    def _note(self, name: str, kind: str) -> QLabel:
        label = QLabel("", self)
        label.setObjectName(kind)
        label.setWordWrap(True)
        label.setAccessibleName(name)
        label.hide()
        return label

    def _update_warning(self) -> None:
        plaintext = (self.security.currentData() == "none"
                     and bool(self.username.text().strip()))
        self.plaintext_warning.setText(PLAINTEXT_WARNING if plaintext else "")
        self.plaintext_warning.setVisible(plaintext)

    def _check_sender(self) -> None:
        problem = mail_sender_problem(self.sender_edit.text().strip())
        self.show_field_problems({**self._problems(), "MAIL_DEFAULT_SENDER": problem or ""})

    def _problems(self) -> dict[str, str]:
        return {"MAIL_DEFAULT_SENDER": self.sender_error.text(),
                "MAIL_CA_FILE": self.ca_error.text()}

    def show_field_problems(self, problems: dict[str, str]) -> None:
        """Each message next to its field; an empty or missing message hides it."""
        for name, label in (("MAIL_DEFAULT_SENDER", self.sender_error),
                            ("MAIL_CA_FILE", self.ca_error)):
            text = problems.get(name, "")
            label.setText(text)
            label.setVisible(bool(text))

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
        self._update_warning()
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
        email, actor, values = self.app.email, self.actor, self.values()

        def work() -> MailSettingsView | dict[str, str]:
            # The CA file check reads the disk: off the GUI thread, like the save.
            return email.field_problems(values) or email.save_mail_settings(actor, values)

        def saved(result: MailSettingsView | dict[str, str]) -> None:
            if isinstance(result, dict):
                self.show_field_problems(result)
                self.show_error("Not saved: fix the fields marked below.")
                return
            self.show_field_problems({})
            self._show(result)
            self.show_success("Mail settings saved.")

        self.call(work, on_success=saved)

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

        def work() -> TestMailResult | dict[str, str]:
            if problems := email.field_problems(values):
                return problems
            email.save_mail_settings(actor, values)  # test what is on screen
            return email.send_test(actor, to)

        def done(result: TestMailResult | dict[str, str]) -> None:
            if isinstance(result, dict):
                self.show_field_problems(result)
                self._set_result("Not sent: fix the fields marked above.", ok=False)
                return
            self.show_field_problems({})
            self._set_result(result.message, ok=result.ok)

        self.call(work, on_success=done,
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
