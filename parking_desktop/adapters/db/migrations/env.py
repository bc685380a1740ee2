"""Alembic environment: the engine comes from the application (migrate.py), never from an ini."""

from __future__ import annotations

from alembic import context

from parking_desktop.adapters.db.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    # Plain autocommit-free connection: on SQLite our "begin" hook issues BEGIN.
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `python main.py db upgrade`.")
run_migrations_online()
