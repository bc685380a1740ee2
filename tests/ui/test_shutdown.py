"""SIGTERM (the system shutting down) and Ctrl+C end the desktop and the kiosk cleanly, in real
processes: the windows close through their normal path, the scheduler and the threads stop, the
database is closed (SQLite folds its write-ahead log back and removes it), exit code 0 and no
traceback. A locked full-screen kiosk, which refuses to close without a manager's password,
still stops: the password guards against people at the kiosk, not against the system."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.ui.common.stop_signals import StopOnSignal
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
HANG_GUARD_S = 60  # generous: only there so a process that never stops fails the test
# Variables that would make a run depend on this machine rather than on the test.
FOREIGN = ("DATABASE_URL", "PARKING_DATA_DIR", "CACHE_DIR", "UPLOAD_FOLDER", "PARKING_PASSWORD")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Child:
    """A GUI process whose output is read as it comes, so a test can wait for a line."""

    def __init__(self, args: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        env.update({"QT_QPA_PLATFORM": "offscreen", "APP_TIMEZONE": "Europe/Paris"})
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self._seen = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                         for name, stream in (("out", self.process.stdout),
                                              ("err", self.process.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._seen:
                self.lines[name].append(line)
                self._seen.notify_all()

    def wait_for(self, text: str) -> None:
        """Until a line containing ``text`` appears on stdout or stderr (or the process ends)."""
        def found() -> bool:
            return (any(text in line for lines in self.lines.values() for line in lines)
                    or self.process.poll() is not None)

        with self._seen:
            self._seen.wait_for(found, timeout=HANG_GUARD_S)
        assert self.process.poll() is None, f"the process ended early:\n{self.err}"
        assert found(), f"{text!r} never appeared:\n{self.err}"

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"still running after {signal.Signals(signum).name}:\n{self.err}")
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(HANG_GUARD_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    @property
    def err(self) -> str:
        with self._seen:
            return "".join(self.lines["err"])

    @property
    def out(self) -> str:
        with self._seen:
            return "".join(self.lines["out"])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:  # a failed test leaves no window behind
        child.kill()


def start(children: list[Child], *args: str) -> Child:
    child = Child([sys.executable, *args])
    children.append(child)
    return child


def test_a_signal_reaches_the_event_loop_once_and_the_old_handlers_come_back(
        qtbot: QtBot) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    seen: list[str] = []
    with StopOnSignal() as stopper:
        stopper.requested.connect(seen.append)
        with qtbot.waitSignal(stopper.requested, timeout=HANG_GUARD_S * 1000):
            # Both arrive before the event loop runs again: only the first one counts.
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGINT)
    assert seen == ["SIGTERM"]
    assert stopper.received == "SIGTERM"
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert signal.set_wakeup_fd(-1) == -1  # no wake-up socket left behind


def assert_closed_cleanly(child: Child, code: int, signal_name: str) -> None:
    assert code == 0, child.err
    assert "Traceback" not in child.err, child.err
    assert f"Received {signal_name}: closing" in child.err


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_desktop_stops_on_a_signal(children: list[Child], tmp_path: Path,
                                       signum: signal.Signals) -> None:
    data = tmp_path / "data"
    child = start(children, str(MAIN), "-v", "--data-dir", str(data), "desktop")
    child.wait_for("Desktop running; SIGTERM or Ctrl+C closes it")
    assert (data / "parking.db-wal").exists()  # the database is open
    assert_closed_cleanly(child, child.stop(signum), signum.name)
    assert not (data / "parking.db-wal").exists()  # ... and was closed
    assert "The job scheduler" not in child.err


@pytest.mark.slow
def test_a_locked_full_screen_kiosk_stops_on_sigterm(children: list[Child],
                                                     tmp_path: Path) -> None:
    data = tmp_path / "data"
    child = start(children, str(MAIN), "-v", "--data-dir", str(data), "kiosk")  # locked
    child.wait_for("Kiosk running; SIGTERM or Ctrl+C closes it")
    assert (data / "parking.db-wal").exists()
    assert_closed_cleanly(child, child.stop(signal.SIGTERM), "SIGTERM")
    assert not (data / "parking.db-wal").exists()


SIGNED_IN_DESKTOP = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from parking_desktop.cli.main import run
from parking_desktop.ui.common.qtapp import ensure_qapplication
from parking_desktop.ui.common.signin import SignInDialog
from parking_desktop.ui.desktop.mainwindow import MainWindow

data_dir, url, password = sys.argv[1], sys.argv[2], sys.argv[3]
seen = []

def poke():
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, SignInDialog) and widget.isVisible() and not seen:
            seen.append("sign-in")
            widget.login.setText("manager1")
            widget.password.setText(password)
            widget.submit()
        if isinstance(widget, MainWindow) and widget.isVisible():
            screen = widget.current_screen
            if screen is not None and screen.loads > 0:
                widget.closed.connect(lambda: print("main window closed", flush=True))
                print("dashboard shown", flush=True)
                return
    QTimer.singleShot(50, poke)

ensure_qapplication()
QTimer.singleShot(50, poke)
code = run(["-v", "--data-dir", data_dir, "--db", url])
print("exit code", code, flush=True)
sys.exit(code)
"""


@pytest.mark.slow
def test_a_signed_in_desktop_closes_its_window_on_sigterm(
        app: App, manager: Actor, children: list[Child], tmp_path: Path) -> None:
    """On both databases, with the main window open and the scheduler running."""
    child = start(children, "-c", SIGNED_IN_DESKTOP, str(tmp_path / "child"),
                  app.settings.database_url, PASSWORD)
    child.wait_for("dashboard shown")
    assert_closed_cleanly(child, child.stop(signal.SIGTERM), "SIGTERM")
    assert child.out.splitlines()[-2:] == ["main window closed", "exit code 0"]
