"""``export``: write reservations to a CSV file (the same job and file as the desktop's Exports
screen), with a progress bar when stderr is a terminal.

    main.py export --out FILE (--user U | --lot NAME | --all) [--from DATE] [--to DATE]
                   [--anonymize] [--json]

It acts as the SYSTEM actor, like the other administration commands. The job is recorded in
the export history; its copy in UPLOAD_FOLDER expires like any other export."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from parking_desktop.cli.base import EXIT_OK, AppFactory, CommandError, print_json, text_value
from parking_desktop.domain.errors import NotFoundError
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.files import UnsafePathError, check_file_target

if TYPE_CHECKING:  # the services load when the command runs (a quick --help)
    from parking_desktop.services.exports.scope import ExportScope


def register(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="export reservations to a CSV file",
        description="Export reservations to a CSV file (UTF-8 with BOM, times in the site's "
                    "time zone). Choose one of --user, --lot or --all.")
    export.add_argument("--out", required=True, type=Path, metavar="FILE",
                        help="where to write the CSV file")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--user", metavar="USERNAME", type=text_value,
                       help="one driver's history")
    which.add_argument("--lot", metavar="NAME", type=text_value,
                       help="one lot (name or pin code)")
    which.add_argument("--all", action="store_true", help="every reservation")
    export.add_argument("--from", dest="date_from", metavar="DATE", type=_given,
                        help="reserved on or after this day (YYYY-MM-DD, site time zone)")
    export.add_argument("--to", dest="date_to", metavar="DATE", type=_given,
                        help="reserved on or before this day (YYYY-MM-DD)")
    export.add_argument("--anonymize", "--anonymise", action="store_true",
                        help="drivers as pseudonyms, vehicle numbers masked")
    export.add_argument("--json", action="store_true", help="print the result as JSON")
    export.set_defaults(func=_export)


def _given(text: str) -> str:
    """An option that is given must have a value: an empty date is a mistake, not "no limit"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty (leave the option out instead)")
    return text


def _scope(app: Any, args: argparse.Namespace) -> ExportScope:
    from parking_desktop.services.exports.scope import ExportScope, parse_day

    dates = {"date_from": parse_day(args.date_from or "", "--from date"),
             "date_to": parse_day(args.date_to or "", "--to date"),
             "anonymize": bool(args.anonymize)}
    if args.user:
        return ExportScope.driver(app.users.find_by_username(SYSTEM, args.user).id, **dates)
    if args.lot:
        return ExportScope.lot(_lot_id(app, args.lot), **dates)
    return ExportScope.everything(**dates)


def _lot_id(app: Any, name: str) -> int:
    try:
        return int(app.lots.find_by_name(name).id)
    except NotFoundError:
        # An archived lot keeps its history (and its name in exports).
        wanted = " ".join(name.split()).lower()
        for lot in app.lots.search(name, include_archived=True):
            if lot.name.lower() == wanted:
                return int(lot.id)
        raise


def _export(args: argparse.Namespace, app_factory: AppFactory) -> int:
    out: Path = args.out.expanduser()
    if not out.parent.is_dir():
        raise CommandError(f"the folder {out.parent} does not exist")
    try:  # checked before any work; the copy checks again just before it renames
        check_file_target(out)
    except UnsafePathError as exc:
        raise CommandError(f"{exc} Give the name of a regular file (or a new one).") from None
    app = app_factory()
    scope = _scope(app, args)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
    job_id = app.exports.request(SYSTEM, scope, start=False)
    started = time.monotonic()
    try:
        # Written to --out as it is made (and to UPLOAD_FOLDER for the history), not copied.
        view = app.exports.run_to(SYSTEM, job_id, out, on_progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.finish()
    if view.status != "completed":
        raise CommandError(view.error_message or f"the export ended as {view.status}")
    seconds = time.monotonic() - started
    if args.json:
        print_json({"job_id": job_id, "rows": view.row_count, "file": str(out),
                    "scope": view.label, "seconds": round(seconds, 2)})
    else:
        print(f"Exported {view.row_count:,} rows ({view.label}) to {out} in {seconds:.1f} s.")
    return EXIT_OK


class ProgressBar:
    """``Exporting [#####.....]  45%  450,000 of 1,000,000 rows`` on one terminal line."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._shown = False

    def update(self, _job_id: str, done: int, total: int) -> None:
        with self._lock:
            fraction = 1.0 if total <= 0 else min(1.0, done / total)
            filled = int(fraction * self.WIDTH)
            self._stream.write(f"\rExporting [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                               f"{fraction:4.0%}  {done:,} of {total:,} rows")
            self._stream.flush()
            self._shown = True

    def finish(self) -> None:
        with self._lock:
            if self._shown:
                self._stream.write("\n")
                self._stream.flush()
