#!/usr/bin/env python3
"""GUI latency on a big database: time from process start to the dashboard being shown, each
screen's full load, the longest event-loop stall while the dashboard's service call runs on its
worker thread, and the longest stall while visiting every desktop screen.

    .venv/bin/python scripts/gui_latency.py [--data-dir DIR | --db URL] [--drivers N --days N]
                                            [--repeat N]

With no data in the database it is first filled with the demo data set
(`main.py demo --drivers 10000 --days 365`, about a million reservations). The GUI is then
measured in a NEW process (``--repeat`` times; min and median shown), counted from just before
that process is started, so the imports (PySide6, SQLAlchemy, the services) and the schema check
are inside the figure as they are for a user. A screen's load ends when its data are all shown:
its refresh is done, nothing is pending, and a table with a total count has its count (the
Reservations screen's "counting…" is part of its load), and no redraw is still due (the
dashboard's charts, redrawn a moment after the window is laid out, count in the dashboard's
figure instead of the next screen's). References measured in the same run: a
new process that only opens an empty Qt window (the floor of any Qt program), and the bare
service call behind each screen (no Qt); the ratio shows what the GUI adds. Prints figures;
never fails on time."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
# The parent's wall clock just before it started this process (the child run), so the figures
# count from process start: interpreter start-up and every import included.
SPAWNED = float(os.environ.get("PD_BENCH_SPAWNED", time.time()))
STARTED -= time.time() - SPAWNED
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = os.environ.get("PARKING_PASSWORD", "bench-password-1")
RESULT = "GUI-LATENCY-JSON "  # the child's last line: its figures for the parent
EMPTY_WINDOW = ("import os, sys; os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen'); "
                "from PySide6.QtWidgets import QApplication, QMainWindow; "
                "app = QApplication(sys.argv); w = QMainWindow(); w.resize(1280, 800); w.show(); "
                "app.processEvents()")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "demo-data" / "gui-latency",
                        help="folder of the SQLite benchmark database (git-ignored default)")
    parser.add_argument("--db", metavar="URL", help="database URL (default: SQLite in DIR)")
    parser.add_argument("--drivers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scrolls", type=int, default=20,
                        help="pages to scroll through on the Reservations screen")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="new GUI processes to measure; min and median are shown")
    parser.add_argument("--results", type=Path, metavar="FILE",
                        help="also write the figures as JSON (for scripts/run_benchmarks.py)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def ensure_demo(args: argparse.Namespace) -> None:
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.services.demo.demo import DemoLoader

    app = build_app(load_settings(data_dir=args.data_dir, database_url=args.db))
    try:
        existing = DemoLoader(app.ctx, app.users.hasher).existing_data()
    finally:
        app.close()
    if existing.get("reservations"):
        print(f"Database: {existing['reservations']:,} reservations already there.")
        return
    command = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(args.data_dir)]
    if args.db:
        command += ["--db", args.db]
    command += ["demo", "--drivers", str(args.drivers), "--days", str(args.days)]
    print("Creating the demo database:", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "PARKING_PASSWORD": PASSWORD})


class LoopWatch:
    """The longest gap between ticks of a 10 ms timer on the GUI thread; with ``call_over``
    set, also the longest gap up to the first tick after that event (``during_call``)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.last = 0
        self.longest = 0
        self.call_over: threading.Event | None = None
        self.during_call: int | None = None

    def start(self, call_over: threading.Event | None = None) -> None:
        self.clock.start()
        self.last = 0
        self.longest = 0
        self.call_over, self.during_call = call_over, None
        self.timer.start()

    def tick(self) -> None:
        now = self.clock.elapsed()
        self.longest = max(self.longest, now - self.last)
        self.last = now
        if self.call_over is not None and self.call_over.is_set() and self.during_call is None:
            self.during_call = self.longest

    def stop(self) -> int:
        self.timer.stop()
        self.tick()
        return self.longest


def wait(qapp: Any, condition: Any, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("timed out waiting for the screen")
        qapp.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - started


def reference_calls(app: Any, actor: Any) -> dict[str, float]:
    """Bare service calls (no Qt), the work behind each screen's first load."""
    from parking_desktop.services.parking.search import ReservationFilter

    def timed(fn: Any, *a: Any, **k: Any) -> float:
        started = time.perf_counter()
        fn(*a, **k)
        return time.perf_counter() - started

    flt = ReservationFilter()
    return {
        "dashboard": timed(app.stats.dashboard, actor),
        "lots": timed(app.lots.search),
        "spots": timed(app.parking.spots, actor, app.lots.search()[0].id),
        "people": timed(app.users.search, actor, limit=200),
        "reservations": timed(app.search.reservations, actor, flt, limit=200, with_total=False)
        + timed(app.search.count, actor, flt),  # the screen's count, as it runs it
        "activity": timed(app.activity.history, actor, limit=200),
    }


def fully_loaded(screen: Any) -> bool:
    """Refreshed, nothing pending, no redraw still due (the dashboard redraws its charts a
    moment after a resize: that drawing is its own, not the next screen's), and a paged table
    that counts has its total."""
    if screen.loads == 0 or screen.busy.pending or screen.settling:
        return False
    model = getattr(screen, "model", None)
    counts = model is not None and getattr(model, "_count", None) is not None
    return not counts or model.total >= 0


def main() -> int:
    args = parse()
    if args.child:
        return child(args)
    return parent(args)


def parent(args: argparse.Namespace) -> int:
    from benchlib import Results, checked, run_process, span

    results = Results("gui_latency", args.results)
    results.header()
    ensure_demo(args)
    command = [sys.executable, __file__, "--child", "--data-dir", str(args.data_dir),
               "--scrolls", str(args.scrolls)] + (["--db", args.db] if args.db else [])
    runs: list[dict[str, Any]] = []
    floor: list[float] = []
    for attempt in range(args.repeat):
        env = {**os.environ, "PARKING_PASSWORD": PASSWORD, "SCHEDULER_ENABLED": "false",
               "PD_BENCH_SPAWNED": repr(time.time())}
        done = checked(run_process(command, env=env), "the GUI run")
        lines = done.stdout.splitlines()
        if attempt == 0:  # the first run's own report, in full
            print("\n".join(line for line in lines if not line.startswith(RESULT)))
        runs.append(json.loads(next(line for line in reversed(lines)
                                    if line.startswith(RESULT))[len(RESULT):]))
        floor.append(checked(run_process([sys.executable, "-c", EMPTY_WINDOW], env=env),
                             "the empty Qt window").seconds)
        print(f"run {attempt + 1}: process start to dashboard filled "
              f"{runs[-1]['start_to_dashboard']:.2f} s", flush=True)
    results.compare("process start to dashboard filled", [r["start_to_dashboard"] for r in runs],
                    "new process, empty Qt window", floor)
    for title in runs[0]["screens"]:
        loads = [r["screens"][title]["load"] for r in runs]
        bare = [r["screens"][title]["bare"] for r in runs]
        if all(b == b for b in bare):  # NaN: no bare call for this screen
            results.compare(f"{title}: full load", loads, "bare service call", bare)
        else:
            results.add(f"{title}: full load", span(loads))
    results.note("longest event-loop stall over all screens (ms, per run): "
                 + ", ".join(str(r["longest_stall_ms"]) for r in runs))
    results.finish()
    return 0


def child(args: argparse.Namespace) -> int:
    began = STARTED  # process start (see SPAWNED)
    figures: dict[str, Any] = {"screens": {}}

    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.roles import SYSTEM, Actor
    from parking_desktop.ui.common.qtapp import ensure_qapplication
    from parking_desktop.ui.desktop.mainwindow import MainWindow
    from parking_desktop.ui.desktop.screen import SignedIn
    from parking_desktop.ui.desktop.screens import SCREENS

    qapp = ensure_qapplication()
    # Built as the desktop builds it (cli/main.py): every part at start.
    app = build_app(load_settings(data_dir=args.data_dir, database_url=args.db)).warm_up()
    app.cache.clear(SYSTEM)  # a cold start: nothing cached from an earlier run
    built = time.perf_counter()
    try:
        signed_in_at = time.perf_counter()
        try:
            actor, user = app.users.authenticate("manager", PASSWORD)
            sign_in = time.perf_counter() - signed_in_at
        except Exception:  # a database made with another password: skip the sign-in figure
            view = app.users.find_by_username(SYSTEM, "manager")
            actor, user, sign_in = Actor(view.id, view.username, view.role), view, float("nan")
        # The dashboard's service call, watched: it runs on a worker thread, and the stall
        # while it runs is what the GUI thread alone costs (drawing the result not included).
        call_over = threading.Event()
        dashboard_call = app.stats.dashboard

        def watched_dashboard(*args: Any, **kwargs: Any) -> Any:
            try:
                return dashboard_call(*args, **kwargs)
            finally:
                call_over.set()

        app.stats.dashboard = watched_dashboard  # type: ignore[method-assign]
        shown_at = time.perf_counter()
        window = MainWindow(SignedIn(app, actor, user))
        window.resize(1280, 800)
        window.show()
        dashboard = window.current_screen
        assert dashboard is not None
        watch = LoopWatch()
        watch.start(call_over)
        wait(qapp, lambda: fully_loaded(dashboard))
        qapp.processEvents()
        dashboard_stall = watch.stop()
        during_call = (f"{watch.during_call} ms" if watch.during_call is not None
                       else "not measured (the call was not seen)")
        dashboard_at = time.perf_counter()
        app.stats.dashboard = dashboard_call  # type: ignore[method-assign]

        print(f"\nDatabase: {app.db.description}")
        print(f"  process start to dashboard shown {dashboard_at - began:7.2f} s")
        print(f"    of which imports, build app .. {built - began:7.2f} s")
        figures["start_to_dashboard"] = dashboard_at - began
        print(f"    sign-in (argon2) ............. {sign_in:7.2f} s")
        print(f"    window to dashboard filled ... {dashboard_at - shown_at:7.2f} s "
              f"(longest stall {dashboard_stall} ms)")
        print(f"    longest stall while the dashboard call ran on its worker thread: "
              f"{during_call} (10 ms timer)")

        rows = []
        stalls = [dashboard_stall]
        for entry in SCREENS:
            if actor.role not in entry.roles:
                continue
            if entry.key == "dashboard":  # measured above, from the window being shown
                rows.append((entry.title, dashboard_at - shown_at, dashboard_stall))
                continue
            watch.start()
            started = time.perf_counter()
            screen = window.navigate(entry.key)
            try:
                wait(qapp, lambda screen=screen: fully_loaded(screen))
            except TimeoutError:
                rows.append((entry.title, float("nan"), watch.stop()))
                continue
            loaded = time.perf_counter() - started
            extra = ""
            if entry.key == "reservations":
                extra = scroll(qapp, screen, args.scrolls)
            stall = watch.stop()
            stalls.append(stall)
            rows.append((entry.title + extra, loaded, stall))

        app.cache.clear(SYSTEM)  # the reference is measured cold too
        reference = reference_calls(app, actor)
        print("\nVisiting every screen (first load; longest event-loop stall while there):")
        print(f"  {'screen':<44} {'load':>8} {'stall':>8} {'bare call':>10} {'ratio':>6}")
        for (title, loaded, stall), entry in zip(rows, [e for e in SCREENS
                                                        if actor.role in e.roles], strict=True):
            ref = reference.get(entry.key)
            ref_text = f"{ref:9.3f}s" if ref else f"{'—':>10}"
            ratio = f"{loaded / ref:5.1f}x" if ref else f"{'—':>6}"
            print(f"  {title:<44} {loaded:7.3f}s {stall:6d}ms {ref_text} {ratio}")
            figures["screens"][entry.title] = {"load": loaded,
                                               "bare": ref if ref else float("nan")}
        figures["longest_stall_ms"] = max(stalls)
        print(f"\nLongest event-loop stall over all screens: {max(stalls)} ms "
              f"(median per screen {statistics.median(stalls):.0f} ms; 10 ms timer)")
        again = []
        for entry in SCREENS:  # a second round: screens exist, data may be cached
            if actor.role in entry.roles:
                watch.start()
                screen = window.navigate(entry.key)
                screen.refresh()
                wait(qapp, lambda screen=screen: not screen.busy.pending)
                again.append(watch.stop())
        print(f"Second visit with a reload, longest stall: {max(again)} ms "
              f"(median {statistics.median(again):.0f} ms)")
        window.shutdown()
        QThreadPool.globalInstance().waitForDone()
        window.close()
        window.deleteLater()
        watch.timer.deleteLater()
        # Delete Qt objects while Qt is still there (not during interpreter shutdown).
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qapp.processEvents()
    finally:
        QThreadPool.globalInstance().waitForDone()
        app.close()
    print(RESULT + json.dumps(figures), flush=True)
    return 0


def scroll(qapp: Any, screen: Any, pages: int) -> str:
    """Scroll the reservations table to the bottom ``pages`` times (incremental fetching)."""
    bar = screen.table.verticalScrollBar()
    started = time.perf_counter()
    model = screen.model
    for _ in range(pages):
        before = model.rowCount()
        qapp.processEvents()  # lay the new rows out, so the scroll bar knows its end
        bar.setValue(bar.maximum())  # the view asks the model for more at the bottom
        try:
            wait(qapp, lambda before=before: not model.loading
                 and (model.rowCount() > before or not model.canFetchMore()), timeout=120)
        except TimeoutError:
            break
        if model.rowCount() == before:
            break
    rows = screen.model.rowCount()
    return f" (+{pages} pages: {rows:,} rows, {time.perf_counter() - started:.1f} s)"


if __name__ == "__main__":
    raise SystemExit(main())
