#!/usr/bin/env python3
"""Run every benchmark at one documented size and regenerate the results table in
docs/performance.md (between its ``results`` markers; the rest of the page is kept).

    .venv/bin/python scripts/run_benchmarks.py --size full     # the reference figures
    .venv/bin/python scripts/run_benchmarks.py --size small    # a quick check that all run
    .venv/bin/python scripts/run_benchmarks.py --size small --only export_benchmark --no-pg

Sizes (``SIZES`` below): ``full`` is the demo data set of 10,000 drivers x 365 days (about a
million reservations), the job load test at 10,000 and 100,000 drivers, 10,000 mails per mode;
``small`` is 1,000 drivers x 30 days, 300 and 1,000 drivers, 500 mails; the retention
benchmark masks 1,000,000 (full) or 20,000 (small) old stays of its own. The data set is made
once (``main.py demo``) in ``--work`` (kept between runs: a second run reuses it) and copied
into a PostgreSQL scratch database ``pd_bench_run_<pid>`` (``main.py db copy``) that is dropped
at the end. Each benchmark's output goes to ``<work>/logs/``. A benchmark that crashes is shown
as failed in the table and makes the exit status 1; slow figures never do.

Some benchmarks add rows to the data set they are given (cache_performance_test: a few
completed walk-in stays; export_benchmark: one export job per run; bench_core on PostgreSQL:
its check-ins); they run after the ones that only read it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchlib import (
    ROOT,
    app_env,
    checked,
    describe_machine,
    leftover_scratch_databases,
    load_average,
    main_command,
    run_process,
    scratch_pg,
)

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def markers(section: str) -> tuple[str, str]:
    """The results section's markers: the main one, or a named one kept beside it (e.g. a
    full-size run of a few benchmarks next to a small-size run of all of them)."""
    if not section:
        return START, END
    return f"<!-- results:{section}:start -->", f"<!-- results:{section}:end -->"
PASSWORD = "bench-password-1"
SIZES = {
    "full": {"drivers": 10_000, "days": 365, "job_sizes": "10000,100000", "mails": 10_000,
             "ops": 300, "retention_rows": 1_000_000,
             "repeat": {"cli_startup": 10, "export_benchmark": 3, "bench_core": 7,
                        "gui_latency": 3, "cache_performance_test": 5,
                        "job_load_test": 3, "mail_throughput": 10, "retention_benchmark": 2}},
    "small": {"drivers": 1_000, "days": 30, "job_sizes": "300,1000", "mails": 500,
              "ops": 50, "retention_rows": 20_000,
              "repeat": {"cli_startup": 5, "export_benchmark": 3, "bench_core": 5,
                         "gui_latency": 2, "cache_performance_test": 3,
                         "job_load_test": 2, "mail_throughput": 5, "retention_benchmark": 2}},
}


@dataclass
class Run:
    name: str
    database: str
    args: list[str]
    results: Path
    log: Path
    seconds: float = 0.0
    returncode: int | None = None


def plan(size: str, work: Path, pg: str | None) -> list[Run]:
    s = SIZES[size]
    data = work / "data"
    repeat = s["repeat"]

    def run(name: str, database: str, *args: str) -> Run:
        tag = f"{name}-{database}"
        return Run(name, database, [sys.executable, str(ROOT / "scripts" / f"{name}.py"),
                                    *args, "--repeat", str(repeat[name]),
                                    "--results", str(work / "results" / f"{tag}.json")],
                   work / "results" / f"{tag}.json", work / "logs" / f"{tag}.log")

    runs = [
        run("cli_startup", "sqlite", "--data-dir", str(data)),
        run("export_benchmark", "sqlite+postgresql", "--data-dir", str(data),
            *(["--pg", pg] if pg else [])),
        run("gui_latency", "sqlite", "--data-dir", str(data), "--scrolls", "20"),
        run("bench_core", "sqlite", "--db", f"sqlite:///{data / 'parking.db'}",
            "--ops", str(s["ops"])),
        run("cache_performance_test", "sqlite", "--data-dir", str(data)),
        run("job_load_test", "sqlite", "--sizes", s["job_sizes"]),
        run("mail_throughput", "sqlite", "--count", str(s["mails"])),
        # Makes its own data (old stays to mask) in a temporary folder and, with PostgreSQL,
        # its own scratch database: it does not touch the shared data set.
        run("retention_benchmark", "sqlite+postgresql" if pg else "sqlite",
            "--rows", str(s["retention_rows"]), "--ops", str(s["ops"]),
            "--db", "both" if pg else "sqlite"),
    ]
    if pg:
        runs[3:3] = [run("gui_latency", "postgresql", "--data-dir", str(work / "pg-gui"),
                         "--db", pg, "--scrolls", "20")]
        runs += [
            run("bench_core", "postgresql", "--db", pg, "--ops", str(s["ops"])),
            run("cache_performance_test", "postgresql", "--data-dir", str(work / "pg-cache"),
                "--db", pg),
            run("job_load_test", "postgresql", "--db", "postgresql", "--sizes", s["job_sizes"]),
            run("mail_throughput", "postgresql", "--pg-scratch", "--count", str(s["mails"])),
        ]
    return runs


def make_data(size: str, work: Path) -> float:
    data = work / "data"
    if (data / "parking.db").exists():
        print(f"Reusing the data set in {data}", flush=True)
        return 0.0
    s = SIZES[size]
    data.mkdir(parents=True, exist_ok=True)
    print(f"Creating the data set: main.py demo --drivers {s['drivers']} --days {s['days']}...",
          flush=True)
    done = checked(run_process(main_command("--data-dir", str(data), "demo", "--drivers",
                                            str(s["drivers"]), "--days", str(s["days"])),
                               env=app_env(PARKING_PASSWORD=PASSWORD)), "main.py demo")
    print(f"  {done.seconds:.0f} s", flush=True)
    return done.seconds


def execute(run: Run) -> None:
    run.log.parent.mkdir(parents=True, exist_ok=True)
    run.results.parent.mkdir(parents=True, exist_ok=True)
    run.results.unlink(missing_ok=True)
    print(f"[{datetime.now():%H:%M:%S}] {run.name} ({run.database}): {command_line(run)}",
          flush=True)
    started = time.perf_counter()
    with run.log.open("w", encoding="utf-8") as log:
        done = subprocess.run(run.args, stdout=log, stderr=subprocess.STDOUT, check=False,
                              env={**os.environ, "PARKING_PASSWORD": PASSWORD,
                                   "QT_QPA_PLATFORM": "offscreen"})
    run.seconds = time.perf_counter() - started
    run.returncode = done.returncode
    state = "done" if done.returncode == 0 and run.results.exists() else (
        f"FAILED (exit {done.returncode}; see {run.log})")
    print(f"  {state} in {run.seconds:.0f} s", flush=True)


def display(arg: str) -> str:
    """Paths inside the repository written relative to it, for the table."""
    return arg.replace(str(ROOT) + "/", "").replace(sys.executable, "python")


def command_line(run: Run) -> str:
    """The benchmark's command as one would type it (without the results file)."""
    args = run.args[1:]
    if "--results" in args:
        at = args.index("--results")
        args = args[:at] + args[at + 2:]
    return " ".join(display(a) for a in ["python", *args])


def table(runs: list[Run], size: str, header: dict[str, str], section: str = "") -> str:
    start, end = markers(section)
    lines = [start, "", f"## Latest results ({header['title']})", ""]
    lines += [f"- **Run**: {header['date']}, commit `{header['commit']}`, "
              f"`python scripts/run_benchmarks.py --size {size}` in {header['minutes']} min",
              f"- **Machine**: {header['machine']}",
              f"- **Load average** (1, 5, 15 min) at the start: {header['load_start']}; "
              f"at the end: {header['load_end']}",
              f"- **Sizes**: {header['sizes']}", ""]
    loads = [float(header[k].split()[0]) for k in ("load_start", "load_end")]
    busy = max(loads) > 0.5 * (os.cpu_count() or 1)
    if size != "full" or busy:
        why = [w for w, on in ((f"the {size} size", size != "full"),
                               ("a busy machine (see the load average)", busy)) if on]
        lines += [f"> **Not the reference figures**: measured at {' on '.join(why)}. They show "
                  "that every benchmark runs and what it reports; compare ratios within one "
                  "run only. The reference figures come from `--size full` on a quiet machine.",
                  ""]
    for run in runs:
        lines.append(f"### {run.name} ({run.database})")
        lines.append("")
        lines.append(f"`{command_line(run)}`")
        lines.append("")
        if run.returncode != 0 or not run.results.exists():
            lines += [f"**Failed** (exit {run.returncode}): no figures; see its log.", ""]
            continue
        doc = json.loads(run.results.read_text(encoding="utf-8"))
        lines.append(f"Load average {doc['load_start']} at its start, {doc['load_end']} at "
                     f"its end; {doc['seconds']:.0f} s.")
        lines.append("")
        lines.append("| what | ours (min / median) | reference | reference (min / median) "
                     "| ratio |")
        lines.append("|---|---|---|---|---|")
        for row in doc["rows"]:
            cells = [row["what"], row["ours"], row["reference_name"], row["reference"],
                     row["ratio"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|") or "—" for c in cells) + " |")
        lines.append("")
        lines += [f"- {note}" for note in doc["notes"]]
        lines.append("")
    lines.append(end)
    return "\n".join(lines)


def write_doc(text: str, section: str = "") -> None:
    start, end = markers(section)
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        DOC.write_text(before + text + after, encoding="utf-8")
    else:
        DOC.write_text(current.rstrip() + "\n\n" + text + "\n", encoding="utf-8")


def git_commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                            "parking_desktop", "main.py", "scripts", "templates"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return done.stdout.strip() + (" + uncommitted changes" if dirty else "")


def rewrite(work: Path) -> int:
    stored = json.loads((work / "results" / "run.json").read_text(encoding="utf-8"))
    runs = [Run(r["name"], r["database"], r["args"], Path(r["results"]), Path(r["log"]),
                r["seconds"], r["returncode"]) for r in stored["runs"]]
    section = stored.get("section", "")
    write_doc(table(runs, stored["size"], stored["header"], section), section)
    print(f"Rewrote the results in {DOC.relative_to(ROOT)} from {work / 'results'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--work", type=Path,
                        help="folder for the data set, logs and results (default: "
                             "/tmp/pd-bench-run-SIZE, kept for the next run)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark (repeatable); the table then holds "
                             "only these")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--title", help="the heading's note (default: the size and the load)")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    parser.add_argument("--section", default="", metavar="NAME",
                        help="write the table into its own section NAME of the page (added "
                             "after the main one), leaving the main results as they are")
    parser.add_argument("--rewrite", action="store_true",
                        help="only rewrite the table from the last run's results in --work")
    parser.add_argument("--list-leftovers", action="store_true",
                        help="list pd_bench_ scratch databases left by killed runs, and exit")
    args = parser.parse_args()
    if args.list_leftovers:
        print("\n".join(leftover_scratch_databases()) or "none")
        return 0

    work = (args.work or Path(f"/tmp/pd-bench-run-{args.size}")).resolve()
    if args.rewrite:
        return rewrite(work)
    started, load_start = time.perf_counter(), load_average()
    print(f"{describe_machine()}\nload average at start: {load_start}", flush=True)
    make_data(args.size, work)
    with ExitStack() as stack:
        pg = None
        if not args.no_pg:
            pg = stack.enter_context(scratch_pg("run"))
            print(f"Copying the data set into {pg.rsplit('/', 1)[1]}...", flush=True)
            checked(run_process(main_command("--data-dir", str(work / "data"), "db", "copy",
                                             "--to", pg), env=app_env()), "main.py db copy")
        runs = [r for r in plan(args.size, work, pg) if not args.only or r.name in args.only]
        for run in runs:
            execute(run)
    minutes = (time.perf_counter() - started) / 60
    s = SIZES[args.size]
    header = {
        "title": args.title or f"size {args.size}",
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "commit": git_commit(),
        "minutes": f"{minutes:.0f}", "machine": describe_machine(),
        "load_start": load_start, "load_end": load_average(),
        "sizes": (f"demo data {s['drivers']:,} drivers x {s['days']} days; job load test "
                  f"{s['job_sizes'].replace(',', ' and ')} drivers; {s['mails']:,} mails per "
                  f"mode; {s['retention_rows']:,} old stays for the retention run; "
                  f"repeats {', '.join(f'{k} {v}' for k, v in s['repeat'].items())}"),
    }
    (work / "results").mkdir(parents=True, exist_ok=True)
    (work / "results" / "run.json").write_text(json.dumps({
        "size": args.size, "header": header, "section": args.section,
        "runs": [{"name": r.name, "database": r.database, "args": r.args,
                  "results": str(r.results), "log": str(r.log), "seconds": r.seconds,
                  "returncode": r.returncode} for r in runs]}, indent=1), encoding="utf-8")
    if not args.no_doc:
        write_doc(table(runs, args.size, header, args.section), args.section)
        print(f"Wrote the results into {DOC.relative_to(ROOT)}")
    failed = [f"{r.name} ({r.database})" for r in runs if r.returncode != 0]
    print(f"{minutes:.1f} min in all; load average at end: {header['load_end']}")
    if failed:
        print("FAILED: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
