"""Database URLs with several servers (a primary and its standby) in each accepted form."""

from __future__ import annotations

import pytest

from parking_desktop.adapters.db.engine import (
    DatabaseUrlError,
    describe_url,
    multi_host,
    normalise_url,
)
from parking_desktop.adapters.db.notify import libpq_conninfo
from parking_desktop.config import ConfigError, load_settings

TWO = [("db1", 5432), ("db2", 5433)]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://parking@/parking?host=db1:5432,db2:5433"
        "&target_session_attrs=read-write",
        "postgresql://parking@/parking?host=db1,db2&port=5432,5433&target_session_attrs=read-write",
        "postgres://parking@/parking?host=db1:5432&host=db2:5433&target_session_attrs=read-write",
        "host=db1,db2 port=5432,5433 dbname=parking user=parking target_session_attrs=read-write",
    ],
)
def test_every_form_of_two_servers_reaches_both_in_order(url: str) -> None:
    assert multi_host(url) == TWO
    assert describe_url(url) == "PostgreSQL db1:5432,db2:5433/parking"
    assert normalise_url(url).startswith("postgresql+psycopg://parking@/parking?")
    # The change listener connects with libpq directly: the same servers, in the same order.
    info = dict(part.split("=", 1) for part in libpq_conninfo(url).split())
    assert (info["host"], info["port"], info["dbname"]) == ("db1,db2", "5432,5433", "parking")
    assert info["target_session_attrs"] == "read-write"


def test_one_server_is_unchanged() -> None:
    url = "postgresql+psycopg://parking@db.example.lan:6432/parking?sslmode=require"
    assert normalise_url(url) == url
    assert multi_host(url) == [("db.example.lan", 6432)]


def test_a_keyword_string_keeps_a_quoted_password() -> None:
    url = "host=db1 port=5432 dbname=parking user=parking password='a b\\'c'"
    info = libpq_conninfo(url)
    assert "password='a b\\'c'" in info


def test_a_broken_keyword_string_is_refused_in_one_line() -> None:
    with pytest.raises(DatabaseUrlError, match="not a libpq connection string"):
        normalise_url("host='db1 dbname=parking")


def test_the_settings_accept_the_keyword_form(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = "host=db1,db2 dbname=parking user=parking target_session_attrs=read-write"
    settings = load_settings(
        data_dir=tmp_path, database_url=url, environ={}, dotenv_path=tmp_path / "no.env"
    )
    assert settings.database_url == url and not settings.is_sqlite
    with pytest.raises(ConfigError):
        load_settings(
            data_dir=tmp_path,
            database_url="mysql://x/y",
            environ={},
            dotenv_path=tmp_path / "no.env",
        )
