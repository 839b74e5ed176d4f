"""Opening an archive: URL, engine, per-connection settings and migration to the current schema.

SQLite is the default and must survive a crawler writing while ``tgwatch sql`` and the CLI read:
WAL, a 30 s busy timeout and foreign keys are set on every connection. SQLAlchemy emits BEGIN
itself (the driver's legacy mode would run the decision's SELECTs outside the transaction), and a
writing session asks for ``BEGIN IMMEDIATE`` so that one recording transaction holds the write
lock from its first read: decisions on SQLite are serialised, never interleaved.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from storage import textpack
from storage.errors import ArchiveError, SchemaTooNewError

if TYPE_CHECKING:  # Alembic is imported when an archive is opened, not by every CLI command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

BUSY_TIMEOUT = 30.0
"""Seconds a connection waits for a lock before giving up (SQLite) or connecting (PostgreSQL)."""

PAGE_SIZE = 16384
"""SQLite page size of a new archive: a version row (2–3 KB) or a capture (1–2 KB) leaves much of
a 4 KB page unused, about a tenth of a 16 KB one (8% less file on the bench's site); set before
the first table is created (an existing archive keeps its own)."""

WRITE_OPTIONS = {"tgwatch_begin": "IMMEDIATE"}
"""Execution options of a writing connection: on SQLite, take the write lock at BEGIN."""

_MIGRATION_LOCK = 0x7467_7761_7463  # "tgwatc": serialises concurrent first opens on PostgreSQL
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def placeholder(paramstyle: str) -> str:
    """The driver's own parameter mark (sqlite3's ``?``, psycopg's ``%s``), for SQL given straight to
    the driver where SQLAlchemy's statement handling costs more than the query (``storage.echoes``,
    ``storage.refs``)."""
    return "?" if paramstyle == "qmark" else "%s"


def shown_url(url: str | URL) -> str:
    """The URL as it may appear in messages: never with its password."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD.sub(r"\1***@", url)


def parse_url(url: str) -> URL:
    """An SQLAlchemy URL; ``postgresql://`` means psycopg 3, the driver we ship."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ArchiveError(f"{shown_url(url)}: not a database URL") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ArchiveError(f"{shown_url(parsed)}: only sqlite:// and postgresql:// are supported")
    if parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    ):
        raise ArchiveError(f"{shown_url(parsed)}: an in-memory archive would be lost when the command ends; "
                           "name a file, e.g. sqlite:///archive.db")
    return parsed


def create_archive_engine(url: str) -> Engine:
    """An engine with tgwatch's per-connection settings; does not connect yet."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            args: dict[str, Any] = {}
            if "connect_timeout" not in parsed.query:
                args["connect_timeout"] = int(BUSY_TIMEOUT)
            engine = create_engine(parsed, pool_pre_ping=True, connect_args=args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ArchiveError(f"{shown_url(parsed)}: {first_line(exc)}") from None
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    if not cursor.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
        cursor.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # an empty file: before WAL fixes it
    if not _foreign_tables(cursor):  # another program's file keeps its journal mode: it is refused
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL, much faster
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
    textpack.register(dbapi_connection)


def _foreign_tables(cursor: Any) -> list[str]:
    """Tables of a SQLite file that is not a tgwatch archive (it has tables, none of them Alembic's)."""
    names = [row[0] for row in cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return [] if not names or "alembic_version" in names else names


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("tgwatch_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def first_line(exc: BaseException) -> str:
    """The driver's message, first line only (psycopg adds hints on the following lines)."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__


def alembic_config() -> Config:
    """Alembic's configuration, built in code: the scripts ship inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    config.set_main_option("path_separator", "os")
    return config


def _unknown(script: ScriptDirectory, revisions: tuple[str, ...]) -> list[str]:
    from alembic.util.exc import CommandError

    missing = []
    for revision in revisions:
        try:
            script.get_revision(revision)
        except CommandError:
            missing.append(revision)
    return missing


def _check(script: ScriptDirectory, connection: Connection, where: str) -> bool:
    """True when the schema is current; refuses a schema written by a newer tgwatch."""
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_heads()
    heads = script.get_heads()
    if unknown := _unknown(script, current):
        raise SchemaTooNewError(where, ",".join(unknown), ",".join(heads))
    return set(current) == set(heads)


def migrate(engine: Engine) -> None:
    """Bring the archive to the newest schema this code knows, or refuse a newer one."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    where = shown_url(engine.url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite" and (foreign := _foreign_tables(connection.connection.cursor())):
                raise ArchiveError(f"{where}: not a tgwatch archive (it holds other tables: "
                                   f"{', '.join(foreign[:5])}); name a new file or an archive")
            if _check(script, connection, where):
                return
        with engine.execution_options(**WRITE_OPTIONS).begin() as connection:
            if connection.dialect.name == "postgresql":
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                connection.execute(lock, {"key": _MIGRATION_LOCK})
            if _check(script, connection, where):  # another process may have just done it
                return
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise ArchiveError(f"{where}: cannot open the archive: {first_line(exc)}") from None
