"""What every benchmark in scripts/ shares: the machine and its load, min/median of N runs,
whole processes timed with their own peak memory, PostgreSQL scratch databases, and the
results file that scripts/run_benchmarks.py turns into the table in docs/performance.md.

Rules the benchmarks follow (docs/performance.md says more):
* every figure is printed next to a reference measured in the same run, with the ratio;
* where a user would wait for a whole process, ours and the reference are whole processes,
  started and timed the same way (``run_process``);
* the load average is printed at the start and the end, and each figure is the min and the
  median of ``--repeat`` runs;
* they print figures and never fail on time; the test suite does not run them.

PostgreSQL scratch databases made by a benchmark are named ``pd_bench_<what>_<pid>`` and
dropped at its end (``scratch_pg``); a run killed half-way can leave one behind, which
``python scripts/run_benchmarks.py --list-leftovers`` shows."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "main.py"

# An installed program runs from compiled bytecode (pip and the frozen build compile it). With
# PYTHONDONTWRITEBYTECODE set (some shells and CI set it), the editable checkout's modules were
# compiled from source again in every measured process - tens of milliseconds at start-up and
# on a screen's first visit that no user pays - and the unmeasured warm-up run could not fix
# that. Every benchmark and the processes it starts may therefore write their bytecode.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
PG_PREFIX = "pd_bench_"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


# --- the machine -----------------------------------------------------------------------------
def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "cpu": cpu_model(), "memory_gib": round(memory_gib(), 1),
            "python": sys.version.split()[0], "system": platform.platform()}


def describe_machine() -> str:
    m = machine()
    return (f"{m['cores']} cores ({m['cpu']}), {m['memory_gib']:.1f} GiB, Python {m['python']}, "
            f"{m['system']}")


# --- figures ---------------------------------------------------------------------------------
def min_median(samples: Sequence[float]) -> tuple[float, float]:
    return min(samples), statistics.median(samples)


def duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: not measured
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def span(samples: Sequence[float]) -> str:
    """``min / median`` of durations."""
    low, mid = min_median(samples)
    return f"{duration(low)} / {duration(mid)}"


def ratio(ours: float, reference: float) -> str:
    """ours / reference; far below 1 written as 1/N (ours N times quicker)."""
    if not (reference > 0 and ours > 0):  # also NaN: not measured
        return "—"
    value = ours / reference
    if value < 0.1:
        return f"1/{reference / ours:,.0f}x"
    return f"{value:.2f}x" if value < 100 else f"{value:,.0f}x"


@dataclass
class Results:
    """The figures of one benchmark run, printed as it goes and, with ``--results FILE``,
    written as JSON for scripts/run_benchmarks.py."""

    benchmark: str
    path: Path | None
    rows: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_start: str = field(default_factory=load_average)
    started: float = field(default_factory=time.perf_counter)

    def header(self) -> None:
        print(f"{self.benchmark}: {describe_machine()}")
        print(f"load average at start: {self.load_start}")

    def add(self, what: str, ours: str, reference_name: str = "", reference: str = "",
            ratio_text: str = "") -> None:
        self.rows.append({"what": what, "ours": ours, "reference_name": reference_name,
                          "reference": reference, "ratio": ratio_text})

    def compare(self, what: str, ours: Sequence[float], reference_name: str,
                reference: Sequence[float]) -> None:
        """A row of durations: min / median of ours and of the reference; the ratio of
        the medians."""
        self.add(what, span(ours), reference_name, span(reference),
                 ratio(statistics.median(ours), statistics.median(reference)))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def finish(self) -> None:
        load_end = load_average()
        print()
        width = max([len(r["what"]) for r in self.rows] + [10])
        print(f"{'what':<{width}}  {'ours (min / median)':>22}  {'reference':<30} "
              f"{'(min / median)':>22}  ratio")
        for r in self.rows:
            print(f"{r['what']:<{width}}  {r['ours']:>22}  {r['reference_name']:<30} "
                  f"{r['reference']:>22}  {r['ratio']}")
        for text in self.notes:
            print(f"note: {text}")
        print(f"load average at end: {load_end} (at start: {self.load_start}); "
              f"{time.perf_counter() - self.started:.0f} s in all")
        if self.path is not None:
            document = {"benchmark": self.benchmark, "command": sys.argv, "machine": machine(),
                        "load_start": self.load_start, "load_end": load_end,
                        "seconds": round(time.perf_counter() - self.started, 1),
                        "rows": self.rows, "notes": self.notes}
            self.path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def add_common_arguments(parser: Any, repeat: int = 5) -> None:
    parser.add_argument("--repeat", type=int, default=repeat, metavar="N",
                        help=f"runs of each measurement; min and median are shown "
                             f"(default {repeat})")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help="also write the figures as JSON (for scripts/run_benchmarks.py)")


# --- whole processes -------------------------------------------------------------------------
@dataclass(frozen=True)
class Finished:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_process(command: Sequence[str], *, env: dict[str, str] | None = None,
                stdin: Path | None = None, stdout: Path | None = None) -> Finished:
    """Run ``command`` to its end: wall time from just before the fork to its exit, and the
    peak resident memory of that process alone (``wait4``'s rusage). The same for our
    program and for a reference, so both sides are timed alike."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin_file = stdin.open("rb") if stdin else subprocess.DEVNULL
        stdout_file = stdout.open("wb") if stdout else out
        try:
            started = time.perf_counter()
            process = subprocess.Popen(list(command), stdin=stdin_file, stdout=stdout_file,
                                       stderr=err, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin:
                stdin_file.close()  # type: ignore[union-attr]
            if stdout:
                stdout_file.close()  # type: ignore[union-attr]
        out.seek(0)
        err.seek(0)
        scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
        return Finished(seconds, usage.ru_maxrss * scale / 1e6, process.returncode,
                        out.read().decode("utf-8", "replace"),
                        err.read().decode("utf-8", "replace"))


def main_command(*args: str) -> list[str]:
    return [sys.executable, str(MAIN), *args]


def app_env(**extra: str) -> dict[str, str]:
    """The environment for our program: no scheduler (a benchmark must not start jobs)."""
    return {**os.environ, "SCHEDULER_ENABLED": "false", **extra}


def checked(finished: Finished, what: str) -> Finished:
    if finished.returncode != 0:
        raise SystemExit(f"{what} failed (exit {finished.returncode}): "
                         f"{finished.stderr.strip()[-2000:]}")
    return finished


# --- PostgreSQL scratch databases ------------------------------------------------------------
def scratch_name(what: str) -> str:
    return f"{PG_PREFIX}{what}_{os.getpid()}"


@contextmanager
def scratch_pg(what: str) -> Iterator[str]:
    """A new, empty PostgreSQL database ``pd_bench_<what>_<pid>``; dropped at the end."""
    import psycopg

    name = scratch_name(what)
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def leftover_scratch_databases() -> list[str]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
                            (PG_PREFIX.replace("_", r"\_") + "%",)).fetchall()
    return [r[0] for r in rows]
