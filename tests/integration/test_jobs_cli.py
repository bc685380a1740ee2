"""`jobs list|run|history` and `worker` as a user runs them: through main.py, against the
same database the test prepared. The worker is a real subprocess stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.cli.main import run
from tests.integration.jobs_support import add_driver, job_runs, outbox_rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("APP_TIMEZONE", "Europe/Paris")
    for name in ("DATABASE_URL", "PARKING_DATA_DIR", "DAILY_REMINDER_TIME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cli-data"


def test_jobs_run_json_has_job_status_and_counts(
    app: App, db_url: str, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_driver(app, "sleepy1")
    add_driver(app, "sleepy2")
    code = run(["--db", db_url, "--data-dir", str(cli_env), "jobs", "run", "daily_reminder",
                "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (document["job"], document["status"]) == ("daily_reminder", "completed")
    assert document["counts"]["checked"] == 2 and document["counts"]["queued"] == 2
    assert len(outbox_rows(app, "daily_reminder")) == 2

    code = run(["--db", db_url, "--data-dir", str(cli_env), "jobs", "list", "--json"])
    listing = json.loads(capsys.readouterr().out)
    assert code == 0
    reminder = next(j for j in listing if j["job"] == "daily_reminder")
    assert reminder["schedule"] == "daily at 18:00"
    assert reminder["last_run"]["counts"]["queued"] == 2
    assert datetime.fromisoformat(reminder["next_run"]).hour == 18  # Paris time

    code = run(["--db", db_url, "--data-dir", str(cli_env), "jobs", "history"])
    out = capsys.readouterr().out
    assert code == 0 and "daily_reminder" in out and "queued 2" in out


def test_unknown_job_is_refused_in_one_line(
    app: App, db_url: str, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--db", db_url, "--data-dir", str(cli_env), "jobs", "run", "nightly"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "error: There is no job called 'nightly' (jobs: daily_reminder, monthly_report, "
        "cleanup_exports, retention, no_shows, exceptions_digest, outbox_dispatch)."]


def _worker(db_url: str, data_dir: Path, *extra: str, env: dict[str, str]
            ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--db", db_url, "--data-dir", str(data_dir),
         "worker", *extra],
        cwd=data_dir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "PARKING_DATA_DIR", "DAILY_REMINDER_TIME"}}
    env.update(APP_TIMEZONE="UTC", PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.mark.slow
def test_worker_catches_up_logs_runs_and_stops_on_sigterm(
    app: App, db_url: str, tmp_path: Path
) -> None:
    add_driver(app, "sleepy")
    # Reminders were due two minutes ago (real time): the worker catches them up at start.
    due = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    worker = _worker(db_url, tmp_path / "worker-data", env=_env(DAILY_REMINDER_TIME=due))
    lines: list[str] = []
    assert worker.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "daily_reminder" in line and "completed" in line:
            break
    worker.send_signal(signal.SIGTERM)
    rest, _ = worker.communicate(timeout=60)
    log = "".join(lines) + rest
    assert worker.returncode == 0, log
    assert "Worker running" in log
    assert "daily_reminder" in log and "completed" in log
    assert "Received SIGTERM" in log and "Worker stopped" in log
    [reminder] = job_runs(app, "daily_reminder")
    assert reminder.status == "completed" and reminder.counts["queued"] == 1


def test_worker_once_catches_up_and_exits(app: App, db_url: str, tmp_path: Path) -> None:
    add_driver(app, "sleepy")
    due = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    worker = _worker(db_url, tmp_path / "worker-data", "--once",
                     env=_env(DAILY_REMINDER_TIME=due))
    out, _ = worker.communicate(timeout=120)
    assert "Caught up" in out
    assert [r.status for r in job_runs(app, "daily_reminder")] == ["completed"]
    # No mail server listens here: the queued reminder did not leave, and the exit says so.
    assert worker.returncode == 1, out
    assert "error: outbox_dispatch failed: No e-mail could be delivered: Cannot reach" in out
