"""Cross-machine cache invalidation over PostgreSQL LISTEN/NOTIFY.

Each machine caches on its own disk. When several machines share one PostgreSQL database, a
write on one must reach the others' caches: every local write is announced with
``pg_notify('parking_desktop_changes', payload)``, and a background thread LISTENs on a
dedicated connection and invalidates the local families when another process announces a
change. Delivery is immediate (well under the 2 s we promise); the loop wakes at least every
``poll`` seconds to send what was queued.

If the connection drops, notices may be missed, so after reconnecting the whole cache is
invalidated. SQLite needs none of this: one file means one machine. The driver calls (connect,
LISTEN, pg_notify) are in ``adapters/db/notify.py``; this module decides what to send, what a
notice means and what to do when the connection is lost."""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable

from parking_desktop.adapters.db.notify import ChannelError, NotifyChannel

log = logging.getLogger(__name__)

CHANNEL = "parking_desktop_changes"
APPLICATION_NAME = "parking-desktop-cache-sync"  # how the listener shows in pg_stat_activity
EVERYTHING = frozenset({"lots", "spots", "reservations", "users", "activity"})


class CacheSync:
    """Publishes local changes and applies other processes' changes to the local cache."""

    def __init__(
        self, database_url: str, on_remote_change: Callable[[frozenset[str]], None],
        *, poll: float = 0.2, retry: float = 2.0,
    ) -> None:
        self.channel = NotifyChannel(database_url, CHANNEL, application_name=APPLICATION_NAME)
        self.on_remote_change = on_remote_change
        self.origin = uuid.uuid4().hex
        self.poll = poll
        self.retry = retry
        self.received = 0
        self._outbox: queue.SimpleQueue[frozenset[str]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._problem: str | None = "Not connected yet."
        # Told (connected, problem) on every connect and every loss, from the listener thread:
        # a kiosk takes a lost listener as a sign that the database is away.
        self.on_state: list[Callable[[bool, str], None]] = []
        self._thread = threading.Thread(target=self._run, name="cache-sync", daemon=True)

    def start(self) -> CacheSync:
        self._thread.start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, topics: frozenset[str]) -> None:
        """ServiceContext listener: queue the change for the other machines (never blocks)."""
        if topics and not self._stop.is_set():
            self._outbox.put(frozenset(topics))

    def status(self) -> tuple[bool, str]:
        problem = self._problem
        if problem is None:
            return True, "Listening for changes made on other machines."
        return False, problem

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.channel.wake()  # now, not at the end of its poll: a one-shot command waits
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- background thread ---------------------------------------------------------------------
    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with self.channel as channel:
                    if not first:  # notices sent while we were away are lost
                        self._apply(EVERYTHING)
                    first = False
                    self._problem = None
                    self._connected.set()
                    self._tell(True, "")
                    self._loop(channel)
            except ChannelError as exc:
                message = str(exc)
                if self._problem is None or self._problem == "Not connected yet.":
                    log.warning("Cache sync lost its database connection (%s); retrying.",
                                message)
                self._problem = (f"Changes made on other machines may show late: the change "
                                 f"listener cannot reach the database ({message}).")
                self._connected.clear()
                self._tell(False, message)
                first = False
                self._stop.wait(self.retry)

    def _loop(self, channel: NotifyChannel) -> None:
        while True:
            stopping = self._stop.is_set()  # one more round to send what is queued
            for payload in channel.receive(timeout=0 if stopping else self.poll):
                self._receive(payload)
            topics: set[str] = set()
            while True:
                try:
                    topics |= self._outbox.get_nowait()
                except queue.Empty:
                    break
            if topics:
                payload = json.dumps({"o": self.origin, "t": sorted(topics)})
                try:
                    channel.send(payload)
                except Exception:
                    self._outbox.put(frozenset(topics))  # send again after reconnecting
                    raise
            if stopping:
                return

    def _tell(self, connected: bool, problem: str) -> None:
        for listener in list(self.on_state):
            try:
                listener(connected, problem)
            except Exception:
                log.exception("A connection-state listener failed")

    def _receive(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            origin, topics = message["o"], frozenset(str(t) for t in message["t"])
        except (ValueError, KeyError, TypeError):
            topics, origin = EVERYTHING, None  # unknown sender: be safe
        if origin == self.origin:
            return  # our own change: already invalidated locally
        self.received += 1
        self._apply(topics)

    def _apply(self, topics: frozenset[str]) -> None:
        try:
            self.on_remote_change(topics)
        except Exception:  # the listener thread must survive anything a callback does
            log.exception("Applying a change from another machine failed")
