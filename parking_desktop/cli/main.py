"""Argument parsing and dispatch. Command groups live in their own modules (COMMAND_MODULES)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

from parking_desktop import __version__
from parking_desktop.cli.base import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    CommandError,
    one_line,
    operator,
    path_value,
    print_error,
    text_value,
)
from parking_desktop.config import ConfigError, load_settings
from parking_desktop.domain.errors import DomainError

log = logging.getLogger("parking_desktop")
# Commands that run until stopped: their log lines are shown as they happen, and a person signs
# in (desktop, kiosk) or jobs act for themselves (worker), so no operator is named for them.
LONG_RUNNING = frozenset({None, "desktop", "kiosk", "worker"})
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Each module has register(subparsers). Add a module here to add a command group.
COMMAND_MODULES = [
    "parking_desktop.cli.app_commands",
    "parking_desktop.cli.cache_commands",
    "parking_desktop.cli.core_commands",
    "parking_desktop.cli.db_commands",
    "parking_desktop.cli.export_commands",
    "parking_desktop.cli.health_commands",
    "parking_desktop.cli.job_commands",
    "parking_desktop.cli.mail_commands",
    "parking_desktop.cli.money_commands",
    "parking_desktop.cli.privacy_commands",
    "parking_desktop.cli.tariff_commands",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with a one-line message, as documented
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {one_line(message)}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="main.py", description="Parking Desktop: parking lot management.")
    parser.add_argument("--db", metavar="URL", type=text_value,
                        help="database URL (overrides DATABASE_URL)")
    parser.add_argument("--data-dir", metavar="DIR", type=path_value,
                        help="folder for data, cache, exports and settings")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (templates, a temporary "
                             "database, drivers, keyring, windows offscreen), then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # `kiosk status` sits under a long-running command but is one-shot (kiosk_commands).
    long_running = args.command in LONG_RUNNING and not getattr(args, "one_shot", False)
    held = _configure_logging(args.verbose, streamed=long_running)
    if args.self_test:
        from parking_desktop.selftest import run_self_test

        return run_self_test()
    if args.command is None:
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "desktop"])

    app_holder: dict[str, Any] = {}

    def app_factory() -> Any:
        if "app" not in app_holder:
            from parking_desktop.bootstrap import build_app

            settings = load_settings(data_dir=args.data_dir, database_url=args.db)
            app = build_app(settings)
            if not long_running:
                app.ctx.operator = operator()  # named in the audit trail of every change
            else:
                app.warm_up()  # mail, exports and jobs now, not on the GUI thread later
            app_holder["app"] = app
        return app_holder["app"]

    code = EXIT_REFUSED
    try:
        code = int(args.func(args, app_factory))
        return code
    except (DomainError, CommandError, ConfigError) as exc:
        print_error(str(exc))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # last line of defence: no traceback reaches the user
        log.debug("unexpected error", exc_info=True)
        print_error(_plain(exc))
        return EXIT_REFUSED
    finally:
        if "app" in app_holder:
            app_holder["app"].close()
        if held is not None:
            held.finish(show=code == EXIT_OK)


class _OneLineFormatter(logging.Formatter):
    """A log record on one line: control characters in values escaped (a traceback, shown with
    -v only, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))


class _HeldWarnings(logging.Handler):
    """A one-shot command's warnings, kept until it ends: shown after a success, dropped after a
    failure, whose one error line says what went wrong (-v shows everything as it happens)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(_OneLineFormatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def finish(self, *, show: bool) -> None:
        logging.getLogger().removeHandler(self)
        if show:
            for record in self.records:
                sys.stderr.write(self.format(record).splitlines()[0] + "\n")
        self.records.clear()


def _configure_logging(verbose: bool, *, streamed: bool) -> _HeldWarnings | None:
    """Verbose, or a command that runs until stopped: log lines as they happen. Otherwise the
    warnings are held (see _HeldWarnings), so a failing command prints exactly one line."""
    if verbose or streamed:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLineFormatter(LOG_FORMAT))
        logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                            handlers=[handler])
        return None
    held = _HeldWarnings()
    logging.getLogger().addHandler(held)  # the root logger's level is WARNING by default
    return held


def _plain(exc: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DBAPIError):
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        if any(hint in reason.lower() for hint in ("malformed", "not a database")):
            return (f"the database file is damaged ({reason}): run `health`, and restore it "
                    "from a backup (docs/deployment.md, section 7 \"Backups\")")
        if isinstance(exc, OperationalError):
            from parking_desktop.adapters.db.engine import storage_problem

            if (problem := storage_problem(exc)) is not None:
                return problem
            return "the database cannot be reached: " + reason
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} (run with -v for details)"
