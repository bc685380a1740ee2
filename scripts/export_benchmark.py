#!/usr/bin/env python3
"""CSV export benchmark: our whole export process against the database's own CSV tool running
the very same SELECT, and against a plain-column SELECT, all in one run.

* ours: ``main.py export --all --out FILE`` as a new process, timed from the fork to its exit
  (what a user or a cron job waits for: start-up, migration check, the export, the copy to
  FILE) with its peak RSS;
* reference: ``sqlite3 -csv DB < query.sql`` / ``psql -c "\\copy (query) TO FILE CSV"`` of
  exactly the SELECT our export runs, also a new process timed the same way, with its peak RSS;
  (on SQLite our export runs that SELECT wrapped so that SQLite joins each row's cells into one
  CSV line, the step sqlite3 -csv does in C; on PostgreSQL it is inside the same COPY);
* floor: the same tool writing a plain-column SELECT (same rows and joins, columns as stored,
  no time-zone or money formatting): what the formatting itself costs.

Aims: SQLite ours <= 1.5x ``sqlite3 -csv``, PostgreSQL <= 1.1x ``psql \\copy``, peak RSS under
100 MB. Each side runs ``--repeat`` times, taking turns; min and median are shown. Our output
is checked against the reference's (same cells once parsed). Figures only: never fails on time.

Each run of ours adds one finished job to the export history of the database (as any export
does); its file goes to a temporary UPLOAD_FOLDER that is deleted at the end.

Data (about a million reservations): ``--make-data`` runs
``main.py --data-dir DIR demo --drivers 10000 --days 365`` when DIR has no parking.db.
PostgreSQL: ``--pg scratch`` copies it into a scratch database ``pd_bench_export_<pid>``
(``main.py db copy``), dropped at the end; ``--pg URL`` uses a database you filled yourself.

    .venv/bin/python scripts/export_benchmark.py --data-dir /tmp/bench --make-data --pg scratch
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from benchlib import (
    ROOT,
    Finished,
    Results,
    add_common_arguments,
    app_env,
    checked,
    main_command,
    run_process,
    scratch_pg,
)

sys.path.insert(0, str(ROOT))

AIMS = {"sqlite": 1.5, "postgresql": 1.1}
MEMORY_AIM_MB = 100
PLAIN_SQL = ("SELECT r.id, s.number, l.name, l.address, r.vehicle_number, r.parked_at, "
             "r.left_at, r.cost, 'EUR' AS currency, r.status, r.reserved_at, u.full_name, "
             "u.username "
             "FROM reservations r JOIN parking_spots s ON s.id = r.spot_id "
             "JOIN parking_lots l ON l.id = s.lot_id LEFT JOIN users u ON u.id = r.user_id "
             "ORDER BY r.id")


def select_sql(kind: str, data_dir: Path, url: str | None) -> str:
    """Exactly the SELECT our export runs (all reservations, with the Driver column)."""
    from parking_desktop.adapters.csv_export import CsvOptions, build_select, data_span
    from parking_desktop.config import load_settings
    from parking_desktop.services.exports.filters import ExportFilter

    settings = load_settings(data_dir=data_dir, database_url=url)
    options = CsvOptions(tz=settings.tz, driver_column=True, currency=settings.currency)
    span = None
    if kind == "sqlite":
        import sqlite3

        with sqlite3.connect(data_dir / "parking.db") as conn:
            span = data_span(conn, "sqlite", datetime.now(UTC))
    return build_select(kind, ExportFilter(), options, span)


def run_ours(data_dir: Path, url: str | None, out: Path, uploads: Path) -> Finished:
    where = ["--data-dir", str(data_dir)] + (["--db", url] if url else [])
    command = main_command(*where, "export", "--all", "--out", str(out))
    return checked(run_process(command, env=app_env(UPLOAD_FOLDER=str(uploads))),
                   "main.py export")


def run_tool(kind: str, sql: str, data_dir: Path, url: str | None, out: Path,
             work: Path) -> Finished:
    if kind == "sqlite":
        query = work / "query.sql"
        query.write_text(sql + ";\n", encoding="utf-8")
        return checked(run_process(["sqlite3", "-batch", "-csv", str(data_dir / "parking.db")],
                                   stdin=query, stdout=out), "sqlite3 -csv")
    assert url is not None
    script = work / "copy.psql"
    script.write_text(f"\\copy ({sql}) TO '{out}' WITH (FORMAT csv)\n", encoding="utf-8")
    return checked(run_process(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                                url.replace("postgresql+psycopg://", "postgresql://"),
                                "-f", str(script)]), "psql \\copy")


def same_rows(ours: Path, reference: Path) -> bool:
    """Ours (minus BOM and header) holds the same cells as the reference. Compared as parsed CSV:
    sqlite3 quotes more eagerly (any cell with a space) and ends lines with CRLF."""
    with ours.open(encoding="utf-8-sig", newline="") as a, \
            reference.open(encoding="utf-8", newline="") as b:
        mine, theirs = csv.reader(a), csv.reader(b)
        next(mine)  # header
        sentinel = object()
        return all(x == y for x, y in itertools.zip_longest(mine, theirs, fillvalue=sentinel))


def count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in csv.reader(line.decode("utf-8-sig") for line in f)) - 1


def make_data(data_dir: Path, drivers: int, days: int) -> None:
    if (data_dir / "parking.db").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"Creating demo data in {data_dir}: demo --drivers {drivers} --days {days}...",
          flush=True)
    checked(run_process(main_command("--data-dir", str(data_dir), "demo", "--drivers",
                                     str(drivers), "--days", str(days)),
                        env=app_env(PARKING_PASSWORD="bench-password-1")), "main.py demo")


def fill_pg(data_dir: Path, url: str) -> None:
    print(f"Copying the data into {url.rsplit('/', 1)[1]} (main.py db copy)...", flush=True)
    checked(run_process(main_command("--data-dir", str(data_dir), "db", "copy", "--to", url),
                        env=app_env()), "main.py db copy")


def measure(kind: str, data_dir: Path, url: str | None, repeat: int, work: Path,
            results: Results) -> None:
    sql = select_sql(kind, data_dir, url)
    tool = "sqlite3 -csv" if kind == "sqlite" else "psql \\copy"
    ours_runs: list[Finished] = []
    tool_runs: list[Finished] = []
    plain_runs: list[Finished] = []
    identical = True
    for attempt in range(repeat):
        files = {name: work / f"{name}-{kind}.csv" for name in ("ours", "ref", "plain")}
        for path in files.values():
            path.unlink(missing_ok=True)
        # Taking turns, and in a different order each time, so neither side always runs
        # on a page cache the other has just warmed.
        steps = [
            lambda f=files: ours_runs.append(run_ours(data_dir, url, f["ours"],
                                                              work / "uploads")),
            lambda f=files: tool_runs.append(run_tool(kind, sql, data_dir, url, f["ref"], work)),
            lambda f=files: plain_runs.append(run_tool(kind, PLAIN_SQL, data_dir, url,
                                                       f["plain"], work)),
        ]
        for step in steps if attempt % 2 == 0 else steps[::-1]:
            step()
        identical = identical and same_rows(files["ours"], files["ref"])
        print(f"  {kind} run {attempt + 1}: ours {ours_runs[-1].seconds:.2f} s "
              f"({ours_runs[-1].peak_rss_mb:.0f} MB), {tool} {tool_runs[-1].seconds:.2f} s, "
              f"plain SELECT {plain_runs[-1].seconds:.2f} s", flush=True)
    rows = count_rows(work / f"ours-{kind}.csv")
    ours = [r.seconds for r in ours_runs]
    results.compare(f"{kind}: main.py export --all ({rows:,} rows), whole process", ours,
                    f"{tool}, same SELECT", [r.seconds for r in tool_runs])
    results.compare(f"{kind}: main.py export --all, whole process", ours,
                    f"{tool}, plain-column SELECT", [r.seconds for r in plain_runs])
    results.compare(f"{kind}: {tool}, same SELECT (formatting cost)",
                    [r.seconds for r in tool_runs], f"{tool}, plain-column SELECT",
                    [r.seconds for r in plain_runs])
    ours_peak = max(r.peak_rss_mb for r in ours_runs)
    tool_peak = max(r.peak_rss_mb for r in tool_runs)
    results.add(f"{kind}: peak RSS of the export process", f"{ours_peak:.0f} MB",
                f"{tool}, same SELECT", f"{tool_peak:.0f} MB", f"{ours_peak / tool_peak:.1f}x")
    results.note(f"{kind}: our rows {'match' if identical else 'DIFFER FROM'} the "
                 f"{tool} output; aim <= {AIMS[kind]}x the same SELECT, peak RSS < "
                 f"{MEMORY_AIM_MB} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/parking-export-bench"),
                        help="data folder holding parking.db (the SQLite side)")
    parser.add_argument("--pg", metavar="URL|scratch",
                        help="PostgreSQL with the same data, or 'scratch' to copy it into a "
                             "pd_bench_export_<pid> database dropped at the end")
    parser.add_argument("--skip", action="append", default=[], choices=["sqlite", "postgresql"])
    parser.add_argument("--make-data", action="store_true",
                        help="create the demo data first when DIR has no parking.db")
    parser.add_argument("--drivers", type=int, default=10_000, help="for --make-data")
    parser.add_argument("--days", type=int, default=365, help="for --make-data")
    add_common_arguments(parser, repeat=3)
    args = parser.parse_args()

    data_dir: Path = args.data_dir.resolve()
    if args.make_data:
        make_data(data_dir, args.drivers, args.days)
    if not (data_dir / "parking.db").exists():
        raise SystemExit(f"No {data_dir / 'parking.db'}: run with --make-data, or see --help.")
    results = Results("export_benchmark", args.results)
    results.header()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-bench-export-")))
        if "sqlite" not in args.skip:
            measure("sqlite", data_dir, None, args.repeat, work, results)
        if args.pg and "postgresql" not in args.skip:
            url = args.pg
            if url == "scratch":
                url = stack.enter_context(scratch_pg("export"))
                fill_pg(data_dir, url)
            measure("postgresql", data_dir, url, args.repeat, work, results)
    results.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
