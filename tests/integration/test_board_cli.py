"""`main.py board` through real processes on SQLite and PostgreSQL: an unknown lot is one line
and exit 1 (no window opened), a missing --lot is bad usage, and a board for a real lot runs
until SIGTERM, then ends with exit code 0."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli import Cli, make_lot, refused
from tests.ui.test_shutdown import MAIN, Child, start


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path / "data", db_url)


@pytest.fixture
def processes() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:  # a failed test leaves no window behind
        child.kill()


def test_an_unknown_lot_is_one_line_and_exit_1(cli: Cli, tmp_path: Path, db_url: str) -> None:
    make_lot(tmp_path / "data", db_url, "Central Station", 4, "2.50")

    run = cli("board", "--lot", "Central Station", "--lot", "Nowhere",
              env={"QT_QPA_PLATFORM": "offscreen"})

    refused(run, "Nowhere")
    assert run.out == ""


def test_board_without_a_lot_is_bad_usage(cli: Cli) -> None:
    run = cli("board")
    assert run.code == 2 and "--lot" in run.err


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_board_runs_until_sigterm(processes: list[Child], tmp_path: Path,
                                    db_url: str) -> None:
    data = tmp_path / "data"
    make_lot(data, db_url, "Central Station", 4, "2.50")
    child = start(processes, str(MAIN), "-v", "--data-dir", str(data), "--db", db_url,
                  "board", "--lot", "central station", "--windowed")
    child.wait_for("Board running; SIGTERM or Ctrl+C closes it")

    child.process.send_signal(signal.SIGTERM)
    code = child.process.wait(timeout=60)

    assert code == 0, child.err
    assert "Traceback" not in child.err, child.err
