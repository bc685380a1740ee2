"""Argument parsing and dispatch. Command groups live in their own modules (COMMAND_MODULES)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

from parking_desktop import __version__
from parking_desktop.cli.base import EXIT_REFUSED, EXIT_USAGE, CommandError
from parking_desktop.config import ConfigError, load_settings
from parking_desktop.domain.errors import DomainError

log = logging.getLogger("parking_desktop")

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

]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with a one-line message, as documented
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="main.py", description="Parking Desktop: parking lot management.")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides DATABASE_URL)")
    parser.add_argument("--data-dir", metavar="DIR", type=Path,
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
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
            app_holder["app"] = build_app(settings)
        return app_holder["app"]

    try:
        return int(args.func(args, app_factory))
    except (DomainError, CommandError, ConfigError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_REFUSED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # last line of defence: no traceback reaches the user
        log.debug("unexpected error", exc_info=True)
        sys.stderr.write(f"error: {_plain(exc)}\n")
        return EXIT_REFUSED
    finally:
        if "app" in app_holder:
            app_holder["app"].close()


def _plain(exc: BaseException) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        from parking_desktop.adapters.db.engine import storage_problem

        if (problem := storage_problem(exc)) is not None:
            return problem
        return "the database cannot be reached: " + str(exc.orig).splitlines()[0]
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} (run with -v for details)"
