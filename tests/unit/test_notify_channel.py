"""The LISTEN/NOTIFY adapter and the cache sync above it, when the server cannot be reached:
one plain line, never a driver traceback, and the sync keeps saying why."""

from __future__ import annotations

import socket
import time

import pytest

from parking_desktop.adapters.db.notify import ChannelError, NotifyChannel
from parking_desktop.services.cache.sync import CacheSync


def closed_port_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://nobody@127.0.0.1:{port}/nothing"


def test_an_unreachable_server_is_one_channel_error_line() -> None:
    channel = NotifyChannel(closed_port_url(), "parking_changes", application_name="test")
    with pytest.raises(ChannelError) as caught, channel:
        pass
    message = str(caught.value)
    assert message and "\n" not in message


def test_a_channel_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="channel"):
        NotifyChannel(closed_port_url(), "changes; DROP TABLE users", application_name="test")


def test_the_cache_sync_says_it_cannot_reach_the_database() -> None:
    sync = CacheSync(closed_port_url(), lambda topics: None, retry=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while sync.status()[1] == "Not connected yet." and time.monotonic() < deadline:
            time.sleep(0.02)
        ok, message = sync.status()
        assert not ok
        assert "cannot reach the database" in message
        assert not sync.wait_connected(0)
    finally:
        sync.stop()
