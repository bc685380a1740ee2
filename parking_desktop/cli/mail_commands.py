"""`smtp set-password`, `mail test --to ADDRESS`, `mail flush [--json]`."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import sys
from collections.abc import Iterator
from typing import Any

from parking_desktop.cli.base import (
    EXIT_OK,
    EXIT_REFUSED,
    AppFactory,
    CommandError,
    print_error,
    print_json,
)
from parking_desktop.config import shown_value
from parking_desktop.domain.roles import SYSTEM

# These commands report every failed mail in their own output; the outbox's log line about
# it would only be a second, earlier copy of the same error.
_OUTBOX_LOG = "parking_desktop.services.mail.outbox"
_ECHO_LIMIT = 300


def register(sub: Any) -> None:
    smtp = sub.add_parser("smtp", help="SMTP credentials")
    smtp_sub = smtp.add_subparsers(dest="smtp_command", metavar="ACTION", required=True)
    setpw = smtp_sub.add_parser(
        "set-password",
        help="store the SMTP password in the OS keyring (read from standard input)",
        description="Reads the password from standard input (one line) and stores it in the OS "
                    "keyring for MAIL_USERNAME. On a terminal it is asked for without echo. "
                    "Where no secure keyring exists, set MAIL_PASSWORD in the environment "
                    "of the program that sends mail instead.",
    )
    setpw.set_defaults(func=_set_password)

    mail = sub.add_parser("mail", help="send a test mail, deliver the outbox")
    mail_sub = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    test = mail_sub.add_parser("test", help="send a test e-mail now and report the result")
    test.add_argument("--to", required=True, metavar="ADDRESS", help="recipient")
    test.set_defaults(func=_test)
    flush = mail_sub.add_parser(
        "flush", help="deliver every mail that is due; report sent, failed and pending")
    flush.add_argument("--json", action="store_true", help="print the result as JSON")
    flush.set_defaults(func=_flush)


def _read_password() -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass("SMTP password: ")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _set_password(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    username = app.email.box.settings.mail_username
    if not username:
        raise CommandError("MAIL_USERNAME is not set: a server that needs no login needs no "
                           "password.")
    status = app.email.secrets.status()
    if not status.secure:
        raise CommandError(status.message)
    password = _read_password()
    if not password:
        raise CommandError("No password was given on standard input.")
    app.email.set_smtp_password(SYSTEM, password)
    print(f"The SMTP password for {shown_value(username)} is stored in the {status.backend}.")
    return EXIT_OK


@contextlib.contextmanager
def _own_reporting() -> Iterator[None]:
    logger = logging.getLogger(_OUTBOX_LOG)
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _test(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    with _own_reporting():
        result = app.email.send_test(SYSTEM, args.to)
    if not result.ok:
        raise CommandError(shown_value(result.message, _ECHO_LIMIT))
    print(shown_value(result.message, _ECHO_LIMIT))
    return EXIT_OK


def _flush(args: argparse.Namespace, app_factory: AppFactory) -> int:
    app = app_factory()
    with _own_reporting():
        report = app.email.outbox.flush()
    errors = [shown_value(e, _ECHO_LIMIT) for e in report.errors]
    held_until = (report.held_until.astimezone(app.settings.tz).strftime("%Y-%m-%d %H:%M:%S")
                  if report.held_until else None)
    document = {"sent": report.sent, "failed": report.failed, "pending": report.pending,
                "retrying": report.retrying, "errors": errors, "sending": report.held,
                "sending_until": report.held_until}
    if args.json:
        print_json(document)
    else:
        print(f"sent {report.sent}, failed {report.failed}, pending {report.pending}"
              + (f" ({report.retrying} to retry later)" if report.retrying else ""))
        for error in errors:
            print(f"  {error}")
    from parking_desktop.jobs.definitions import delivery_problem

    problem = delivery_problem({**document, "errors": errors})
    if problem is not None:
        print_error(problem)
        return EXIT_REFUSED
    if report.held:
        # Not delivered and not ours to take yet: a live dispatcher is sending them, or a
        # dead one's lease has to run out first.
        print_error(f"{report.held} mail(s) are held as 'sending' by another dispatcher until "
                    f"{held_until} ({app.settings.app_timezone}); run `mail flush` again after "
                    "that if they are still waiting")
        return EXIT_REFUSED
    return EXIT_OK
