"""`main.py` (the desktop, its default command) end to end in a child process: the real
QApplication, style sheet and crash handler, sign-in, the main window, closing it; exit code 0
and nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]

RUN_DESKTOP = r"""
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
            if screen is not None and screen.loads > 0 and "window" not in seen:
                seen.append("window")
                print("shown:", widget.windowTitle(), "|", widget.user_status.text(), flush=True)
                print("crash handler:", sys.excepthook.__qualname__, flush=True)
                widget.close()
                return
    QTimer.singleShot(50, poke)

ensure_qapplication()  # the one the desktop command then uses
QTimer.singleShot(50, poke)
sys.exit(run(["--data-dir", data_dir, "--db", url]))  # no command: the desktop
"""


def test_the_desktop_starts_signs_in_and_quits_cleanly(app: App, manager: Actor,
                                                       tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "APP_TIMEZONE": "Europe/Paris"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_DESKTOP, str(tmp_path / "child"), app.settings.database_url,
         PASSWORD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "shown: Dashboard — Parking Desktop | Signed in as manager1 (Manager)" in done.stdout
    assert "crash handler: CrashReporter.hook" in done.stdout
    noise = [line for line in done.stderr.splitlines()
             if "propagateSizeHints" not in line and line.strip()]
    assert noise == []
