"""Alembic environment: runs on the connection ``storage.engine.migrate`` hands over.

tgwatch never reads an ``alembic.ini``; the caller builds the Config in code and passes an open
connection (inside its transaction) as ``config.attributes["connection"]``. A developer generating
a revision can instead set ``sqlalchemy.url`` on that Config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.engine import create_archive_engine
from storage import models_anatomy, models_backfill, models_echoes, models_listings  # noqa: F401 - their tables join Base.metadata
from storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("tgwatch migrations need a connection or sqlalchemy.url")
    engine = create_archive_engine(url)
    with engine.begin() as fresh:
        _run(fresh)
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("tgwatch migrations run online only (Archive.open upgrades on open)")
_online()
