"""An App whose database connection goes through a TCP proxy the test can cut, freeze or slow:
how the kiosk tests stage an outage of the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from tests.conftest import truncate_all
from tests.integration.hardening_support import TcpProxy

P = TypeVar("P", bound=TcpProxy)


@contextmanager
def proxied_app(
    pg_database_url: str, data_dir: Path, proxy_type: type[P], **environ: str
) -> Iterator[tuple[App, P]]:
    """The emptied database at ``pg_database_url``, reached through a new ``proxy_type``; the
    App is closed and the proxy cut on the way out. ``environ``: settings besides UTC."""
    truncate_all(pg_database_url)
    server = make_url(pg_database_url)
    proxy = proxy_type(server.port or 5432)
    proxy.start()
    url = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = build_app(
        load_settings(
            data_dir=data_dir,
            database_url=url,
            environ={"APP_TIMEZONE": "UTC", **environ},
            dotenv_path=data_dir.parent / "no.env",
        )
    )
    try:
        yield app, proxy
    finally:
        app.close()
        proxy.cut()
