"""PostgreSQL LISTEN/NOTIFY on one dedicated connection: the driver calls and nothing else.

What is announced, what a notice means and when to reconnect are decided by the caller
(``services/cache/sync.py``); every driver failure reaches it as one ``ChannelError``."""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

from parking_desktop.adapters.db.engine import multi_host, normalise_url

CONNECT_TIMEOUT = 5  # seconds


class ChannelError(Exception):
    """The connection could not be opened or was lost. ``str()`` is one line."""


def libpq_conninfo(database_url: str) -> str:
    """The database URL (any form ``normalise_url`` accepts, several hosts included) as a libpq
    connection string: the same hosts, ports and ``target_session_attrs`` as the engine's
    connections, so after a failover the listener finds the new primary as they do."""
    from psycopg.conninfo import make_conninfo

    url = make_url(normalise_url(database_url))
    params: dict[str, str] = {}
    for key, value in url.query.items():
        if key not in {"host", "port"}:
            params[key] = value if isinstance(value, str) else value[-1]
    raw_hosts = url.query.get("host")
    if raw_hosts:  # servers in the query: ?host=a,b&port=…, or ?host=a:5432&host=b:5433
        servers = multi_host(database_url)
        params["host"] = ",".join(host for host, _port in servers)
        tokens = raw_hosts if isinstance(raw_hosts, tuple) else (raw_hosts,)
        if url.query.get("port") or any(":" in token for token in tokens):
            params["port"] = ",".join(str(port) for _host, port in servers)
    else:
        if url.host:
            params["host"] = url.host
        if url.port:
            params["port"] = str(url.port)
    named = {"dbname": url.database, "user": url.username, "password": url.password}
    params.update({key: str(text) for key, text in named.items() if text})
    return make_conninfo("", **params)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


class NotifyChannel:
    """An autocommit connection that LISTENs on ``channel`` while open (``with`` block).

    ``application_name`` is how the connection shows in ``pg_stat_activity``. ``wake`` ends a
    ``receive`` that is waiting, from any thread (a program that closes does not wait out the
    listener's poll interval)."""

    def __init__(self, database_url: str, channel: str, *, application_name: str) -> None:
        if not channel.isidentifier():  # it is written into the LISTEN statement
            raise ValueError(f"Not a channel name: {channel!r}")
        self.conninfo = libpq_conninfo(database_url)
        self.channel = channel
        self.application_name = application_name
        self._conn: Any = None
        self._wake: tuple[socket.socket, socket.socket] | None = None  # while connected

    def __enter__(self) -> NotifyChannel:
        import psycopg  # only PostgreSQL sites need the driver loaded

        try:
            self._conn = psycopg.connect(self.conninfo, autocommit=True,
                                         connect_timeout=CONNECT_TIMEOUT,
                                         application_name=self.application_name)
            self._conn.execute(f"LISTEN {self.channel}")
            pair = socket.socketpair()  # a pipe that select() takes on Windows too
            for end in pair:
                end.setblocking(False)
            self._wake = pair
        except psycopg.Error as exc:
            self._close()
            raise ChannelError(_one_line(exc)) from exc
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close()

    def receive(self, timeout: float) -> Iterator[str]:
        """The payloads of the notices already waiting, or else of those that arrive within
        ``timeout`` seconds (0: only those already waiting); ``wake`` ends the wait."""
        import psycopg

        try:
            waiting = [notice.payload for notice in self._conn.notifies(timeout=0)]
            if waiting or timeout <= 0:
                yield from waiting
                return
            assert self._wake is not None
            woken = self._wake[0]
            ready, _, _ = select.select([self._conn.pgconn.socket, woken], [], [], timeout)
            if woken in ready:
                with contextlib.suppress(OSError):
                    woken.recv(4096)
            for notice in self._conn.notifies(timeout=0):
                yield notice.payload
        except psycopg.Error as exc:
            raise ChannelError(_one_line(exc)) from exc
        except OSError as exc:  # select() on a connection that was lost
            raise ChannelError(_one_line(exc)) from exc

    def wake(self) -> None:
        pair = self._wake
        if pair is not None:
            with contextlib.suppress(OSError):  # already woken (buffer full), or just closed
                pair[1].send(b"\0")

    def send(self, payload: str) -> None:
        import psycopg

        try:
            self._conn.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))
        except psycopg.Error as exc:
            raise ChannelError(_one_line(exc)) from exc

    def _close(self) -> None:
        pair, self._wake = self._wake, None
        for end in pair or ():
            end.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection: nothing left to save
                conn.close()
