#!/usr/bin/env python3
"""CSV export benchmark: our export of every reservation against the database's own CSV tool
running the very same SELECT, measured in one run.

* SQLite: ours vs ``sqlite3 -csv DB < query.sql``                  (aim: within 2.5x)
* PostgreSQL: ours vs ``psql -c "\\copy (query) TO FILE (FORMAT csv)"``  (aim: within 1.5x)
* peak memory of our process (ru_maxrss of a child process that only runs the export; aim:
  under 200 MB)

Our export is the real thing: ExportService.request + run as the system actor (the CLI's path),
which writes a private temporary file and renames it. Each measurement runs in a fresh child
process, ours and the reference alternately; the best of ``--repeat`` runs is reported with the
median. The outputs are compared (ours without its BOM and header line) so the reference does the
same work. Figures only: this never fails on time.

Data (about a million reservations)::

    python main.py --data-dir DIR demo --drivers 10000 --days 365
    createdb ... && python main.py --data-dir DIR db copy --to postgresql://postgres@127.0.0.1/DB

or let ``--make-data`` run those commands. Example::

    .venv/bin/python scripts/export_benchmark.py --data-dir /tmp/bench/data \\
        --pg postgresql://postgres@127.0.0.1/pd_export_bench --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AIMS = {"sqlite": 2.5, "postgresql": 1.5}
MEMORY_AIM_MB = 200


# --- child: one export by our code ---------------------------------------------------------------
def child(kind: str, data_dir: Path, url: str | None, out: Path) -> None:
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.roles import SYSTEM
    from parking_desktop.services.exports.scope import ExportScope

    settings = load_settings(data_dir=data_dir, database_url=url)
    settings = settings.with_overrides(scheduler_enabled=False,
                                       upload_folder=out.parent / "uploads")
    app = build_app(settings)
    try:
        before_mb = _maxrss_mb()
        started = time.perf_counter()
        job = app.exports.request(SYSTEM, ExportScope.everything(), start=False)
        view = app.exports.run(job)
        seconds = time.perf_counter() - started
        assert view.status == "completed", view.error_message
        assert view.file_path is not None
        shutil.move(view.file_path, out)
        print(json.dumps({"kind": kind, "seconds": seconds, "rows": view.row_count,
                          "bytes": out.stat().st_size, "maxrss_mb": _maxrss_mb(),
                          "maxrss_before_mb": before_mb}))
    finally:
        app.close()


def _maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


# --- parent ----------------------------------------------------------------------------------
def select_sql(kind: str, data_dir: Path, url: str | None) -> str:
    """Exactly the SELECT our export runs (all reservations, with the Driver column)."""
    from parking_desktop.adapters.csv_export import CsvOptions, build_select, data_span
    from parking_desktop.config import load_settings
    from parking_desktop.services.exports.filters import ExportFilter

    settings = load_settings(data_dir=data_dir, database_url=url)
    options = CsvOptions(tz=settings.tz, driver_column=True)
    span = None
    if kind == "sqlite":
        import sqlite3

        db_file = settings.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(db_file) as conn:
            span = data_span(conn, "sqlite", datetime.now(UTC))
    return build_select(kind, ExportFilter(), options, span)


def run_ours(kind: str, data_dir: Path, url: str | None, out: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir),
               "--out", str(out)]
    if url:
        command += ["--pg", url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"our export failed:\n{result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def run_reference(kind: str, sql: str, data_dir: Path, url: str | None, out: Path,
                  work: Path) -> float:
    if kind == "sqlite":
        query = work / "query.sql"
        query.write_text(sql + ";\n", encoding="utf-8")
        command = ["sqlite3", "-batch", "-csv", str(data_dir / "parking.db")]
        started = time.perf_counter()
        with query.open("rb") as stdin, out.open("wb") as stdout:
            subprocess.run(command, stdin=stdin, stdout=stdout, check=True)
        return time.perf_counter() - started
    assert url is not None
    script = work / "copy.psql"
    script.write_text(f"\\copy ({sql}) TO '{out}' WITH (FORMAT csv)\n", encoding="utf-8")
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", psql_url(url), "-f", str(script)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def psql_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def same_rows(ours: Path, reference: Path) -> bool:
    """Ours (minus BOM and header) holds the same cells as the reference. Compared as parsed CSV:
    sqlite3 quotes more eagerly (any cell with a space) and ends lines with CRLF."""
    with ours.open(encoding="utf-8-sig", newline="") as a, \
            reference.open(encoding="utf-8", newline="") as b:
        mine, theirs = csv.reader(a), csv.reader(b)
        next(mine)  # header
        sentinel = object()
        for x, y in itertools.zip_longest(mine, theirs, fillvalue=sentinel):
            if x != y:
                return False
    return True


def make_data(data_dir: Path, url: str | None) -> None:
    main = [sys.executable, str(ROOT / "main.py")]
    if not (data_dir / "parking.db").exists():
        print(f"Creating demo data in {data_dir} (several minutes)...", flush=True)
        subprocess.run([*main, "--data-dir", str(data_dir), "demo", "--drivers", "10000",
                        "--days", "365"], check=True, stdout=subprocess.DEVNULL)
    if url:
        print(f"Copying it into {url}...", flush=True)
        subprocess.run([*main, "--data-dir", str(data_dir), "db", "copy", "--to", url],
                       check=True, stdout=subprocess.DEVNULL)


def benchmark(args: argparse.Namespace) -> None:
    data_dir: Path = args.data_dir.resolve()
    if args.make_data:
        make_data(data_dir, args.pg)
    if not (data_dir / "parking.db").exists():
        raise SystemExit(f"No {data_dir / 'parking.db'}: run with --make-data, or see --help.")
    kinds = [k for k in ("sqlite", "postgresql") if k not in args.skip]
    if "postgresql" in kinds and not args.pg:
        kinds.remove("postgresql")
    results = []
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        work = Path(tmp)
        for kind in kinds:
            url = args.pg if kind == "postgresql" else None
            sql = select_sql(kind, data_dir, url)
            ours_runs, ref_runs = [], []
            identical = True
            for attempt in range(args.repeat):
                ours_file, ref_file = work / f"ours-{kind}.csv", work / f"ref-{kind}.csv"
                for path in (ours_file, ref_file):
                    path.unlink(missing_ok=True)
                ours = run_ours(kind, data_dir, url, ours_file)
                ref_seconds = run_reference(kind, sql, data_dir, url, ref_file, work)
                ours_runs.append(ours)
                ref_runs.append(ref_seconds)
                identical = identical and same_rows(ours_file, ref_file)
                print(f"  {kind} run {attempt + 1}: ours {ours['seconds']:.2f} s, "
                      f"reference {ref_seconds:.2f} s, peak {ours['maxrss_mb']:.0f} MB",
                      flush=True)
            results.append((kind, ours_runs, ref_runs, identical))
    report(results)


def report(results: list[tuple[str, list[dict[str, Any]], list[float], bool]]) -> None:
    print()
    print(f"{'database':<11} {'rows':>10} {'ours (best/median)':>20} "
          f"{'reference (best/median)':>25} {'ratio':>6} {'aim':>5} {'peak RSS':>9} same")
    for kind, ours_runs, ref_runs, identical in results:
        ours_s = [r["seconds"] for r in ours_runs]
        best, ref_best = min(ours_s), min(ref_runs)
        peak = max(r["maxrss_mb"] for r in ours_runs)
        reference = "sqlite3 -csv" if kind == "sqlite" else "psql \\copy"
        print(f"{kind:<11} {ours_runs[0]['rows']:>10,} "
              f"{best:>9.2f}/{statistics.median(ours_s):<6.2f} s "
              f"{reference:>12} {ref_best:>5.2f}/{statistics.median(ref_runs):<5.2f} s "
              f"{best / ref_best:>5.2f}x {AIMS[kind]:>4}x {peak:>6.0f} MB "
              f"{'yes' if identical else 'NO'}")
    print(f"\nPeak RSS is the whole export process (interpreter and libraries included); "
          f"aim under {MEMORY_AIM_MB} MB. 'same' = identical rows to the reference's output.")
    print(f"CPU cores: {os.cpu_count()}; load average: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/parking-export-bench"),
                        help="data folder holding parking.db (the SQLite side)")
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL database with the same data")
    parser.add_argument("--repeat", type=int, default=3, metavar="N")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--make-data", action="store_true",
                        help="create the demo data (and copy it to --pg) first")
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data_dir, args.pg, args.out)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
