"""What the windowless kiosk processes of the failover and offline tests share: the JSON line
each event is written as (``say``), the child's settings, and the parent's handle on the child
(``JsonLinesProcess``: its stdout events and stderr lines collected as they come)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from parking_desktop.config import Settings, load_settings
from tests.integration.hardening_support import ROOT, program_env


def say(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, "at": time.time(), **fields}) + "\n")
    sys.stdout.flush()


def child_settings(url: str, data_dir: str) -> Settings:
    """The kiosk process's settings: UTC, no scheduler, no .env of the developer's."""
    return load_settings(
        data_dir=Path(data_dir),
        database_url=url,
        environ={"APP_TIMEZONE": "UTC", "SCHEDULER_ENABLED": "false"},
        dotenv_path=Path(data_dir) / "no.env",
    )


class JsonLinesProcess:
    """``python -m module *args`` in its own process; its JSON lines in ``events`` and its
    stderr in ``errors`` as they come."""

    def __init__(self, module: str, args: list[str], data_dir: Path, stdin: int | IO[Any]) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=stdin,
            text=True,
            env=program_env(),
            cwd=ROOT,
        )
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_errors, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.append(json.loads(line))

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip("\n"))

    def _ask_to_stop(self) -> None:
        """How this kind of child is told to end (then ``stop`` waits for it)."""
        raise NotImplementedError

    def stop(self) -> int | None:
        self._ask_to_stop()
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = None
        for thread in self._threads:
            thread.join(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return code
