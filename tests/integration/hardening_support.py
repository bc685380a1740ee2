"""Real processes for the hardening tests: `python main.py …` runs and a worker whose stderr is
read as it comes, a TCP proxy that can cut and restore a connection, a slow SMTP handler."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.mail_support import RecordingHandler, free_port

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
# Variables that would make a run depend on this machine rather than on the test.
FOREIGN = ("DATABASE_URL", "PARKING_DATA_DIR", "CACHE_DIR", "UPLOAD_FOLDER", "PARKING_PASSWORD",
           "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
           "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "MAIL_CA_FILE", "MAIL_ALLOW_PLAINTEXT_LOGIN",
           "JOB_STALE_AFTER_SECONDS", "DAILY_REMINDER_TIME", "SCHEDULER_ENABLED")


def program_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    # No desktop keyring here: MAIL_PASSWORD is the fallback the program documents.
    env.update({"APP_TIMEZONE": "UTC", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                **extra})
    return env


def main_py(data_dir: Path, db_url: str, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, str(MAIN), "--data-dir", str(data_dir), "--db", db_url, *args],
        capture_output=True, text=True, env=program_env(**(env or {})), cwd=data_dir.parent,
        stdin=subprocess.DEVNULL, timeout=300)


class Worker:
    """`python main.py worker` in its own process; stderr lines collected as they come."""

    def __init__(self, data_dir: Path, db_url: str, env: dict[str, str]) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(MAIN), "--data-dir", str(data_dir), "--db", db_url, "worker"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, env=program_env(**env), cwd=data_dir.parent)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.lines):
                return True
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        return any(text in line for line in self.lines)

    def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM, then wait up to ``timeout`` seconds; None if it is still running."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """Make sure it is gone (after a test that failed half-way) and close the pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        self._reader.join(5)
        if self.process.stderr is not None:
            self.process.stderr.close()


class TcpProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target. ``cut()`` closes the listener and every
    open connection (new ones are refused); ``restore()`` listens on the same port again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TcpProxy:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.1)
        self._listening.set()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target_port))
                except OSError:
                    client.close()
                    continue
                with self._lock:
                    self._sockets += [client, upstream]
                for src, dst in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _hold(self) -> None:
        """Called before each chunk is passed on (subclasses delay or hold it here)."""

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._hold()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._listening.clear()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.start()


class SlowHandler(RecordingHandler):
    """Takes each message after a short pause, like a busy relay."""

    def __init__(self, pause: float) -> None:
        super().__init__()
        self.pause = pause

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.pause)
        return await super().handle_DATA(server, session, envelope)
