"""Read-only SQL over the archive, behind ``tgwatch sql``.

Read-only by connection, not by keyword filter: SQLite is opened ``mode=ro`` with
``PRAGMA query_only`` and an authorizer that allows reading only (no ATTACH, no PRAGMA that sets
anything); PostgreSQL runs the query in a ``READ ONLY`` transaction, as a prepared statement (so
the server refuses a second statement), with a ``statement_timeout``, and rolls back. The keyword
check in front (``storage.sqltext``) only makes refusals clear and early. Results are capped by a
row limit and a time limit, like datasette's ``Database.execute``.

``connect`` is the one function that opens such a connection; ``readonly_engine`` puts an
SQLAlchemy engine over it, so the report pages (``tgwatch serve``/``report``) run the ``storage``
queries on a connection that cannot write either.

A reader never meets "database is locked" while the crawler writes: the archive is in WAL mode
(readers do not wait for writers) and the reader has the same busy timeout as writers for the
brief moments (WAL recovery, checkpoints) when SQLite does make it wait.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL

from storage.engine import BUSY_TIMEOUT, parse_url, shown_url
from storage.errors import ArchiveError, QueryError, ReadOnlyError
from storage.sqltext import first_keyword, parameters, pyformat, statements

QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "EXPLAIN", "TABLE", "SHOW", "PRAGMA"})
READ_PRAGMAS = frozenset(
    {
        "application_id", "busy_timeout", "collation_list", "compile_options", "data_version",
        "database_list", "encoding", "foreign_key_check", "foreign_key_list", "foreign_keys",
        "freelist_count", "function_list", "index_info", "index_list", "index_xinfo",
        "integrity_check", "journal_mode", "module_list", "page_count", "page_size",
        "pragma_list", "query_only", "quick_check", "read_uncommitted", "schema_version",
        "table_info", "table_list", "table_xinfo", "user_version",
    }
)  # fmt: skip
PRAGMAS_WITH_ARGUMENT = frozenset(
    {"foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
     "integrity_check", "quick_check", "table_info", "table_list", "table_xinfo"}
)  # fmt: skip
_PRAGMA = re.compile(r"\s*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)", re.IGNORECASE)
_READING = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
            sqlite3.SQLITE_RECURSIVE}  # fmt: skip


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the limit


def check_query(sql: str) -> str:
    """The single read-only statement in ``sql``, or a ``ReadOnlyError`` saying why not."""
    found = statements(sql)
    if not found:
        raise QueryError("empty query")
    if len(found) > 1:
        raise ReadOnlyError(sql, f"{len(found)} statements; give one query at a time")
    keyword = first_keyword(found[0])
    if keyword not in QUERY_KEYWORDS:
        allowed = "only SELECT, WITH, VALUES, EXPLAIN, TABLE, SHOW and reading PRAGMAs"
        raise ReadOnlyError(sql, f"{keyword} is not a query; {allowed} are allowed")
    if keyword == "PRAGMA":
        named = _PRAGMA.match(found[0])
        if "=" in found[0] or named is None or named.group(1).lower() not in READ_PRAGMAS:
            raise ReadOnlyError(sql, "PRAGMA that sets or changes something is not allowed")
    return found[0]


def run_query(
    archive_url: str, sql: str, *, limit: int = 1000, timeout: float = 30.0,
    params: Mapping[str, Any] | None = None,
) -> QueryResult:
    """Run one read-only query: at most ``limit`` rows (``limit <= 0``: all), ``timeout`` s.

    ``params`` are the values of the query's ``:name`` parameters, bound by the driver (never
    pasted into the SQL); each parameter needs a value and each value a parameter.
    """
    statement = check_query(sql)
    params = check_parameters(statement, params or {})
    url = parse_url(archive_url)
    run = _sqlite if url.get_backend_name() == "sqlite" else _postgresql
    columns, rows = run(url, statement, sql, limit, timeout, params)
    truncated = 0 < limit < len(rows)
    return QueryResult(columns, rows[:limit] if truncated else rows, truncated)


def check_parameters(statement: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` if they are exactly the statement's ``:name`` parameters, else a ``QueryError``."""
    wanted = parameters(statement)
    missing = [name for name in wanted if name not in params]
    if missing:
        raise QueryError(f"no value for :{missing[0]} (give -p {missing[0]} VALUE)")
    unused = sorted(set(params) - set(wanted))
    if unused:
        raise QueryError(f"the query has no parameter :{unused[0]}")
    return dict(params)


def _fetch(cursor: Any, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    if cursor.description is None:
        return [], []
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchmany(limit + 1) if limit > 0 else cursor.fetchall()
    return columns, [tuple(row) for row in rows]


def _authorize(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    """SQLite authorizer: reading only; PRAGMAs only from the read list, arguments only where
    they name what to describe (``table_info(articles)``), never a value to set."""
    if action in _READING:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        return sqlite3.SQLITE_OK  # SQLite's own check when it connects a virtual table (FTS5)
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in READ_PRAGMAS and (arg2 is None or name in PRAGMAS_WITH_ARGUMENT):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def connect(archive_url: str | URL, *, timeout: float = 30.0) -> Any:
    """A DB-API connection to the archive that the database itself keeps from writing.

    The one way into the archive for readers that must not write (``tgwatch sql``, ``tgwatch
    serve``/``report``, ``readonly_engine``). SQLite: ``mode=ro``, ``query_only`` and the reading
    authorizer, usable from any thread (a pool hands it to one user at a time). PostgreSQL: every
    transaction ``READ ONLY`` and each statement stopped after ``timeout`` seconds.
    """
    url = parse_url(archive_url) if isinstance(archive_url, str) else archive_url
    if url.get_backend_name() == "sqlite":
        return _connect_sqlite(url)
    return _connect_postgresql(url, timeout)


def _connect_sqlite(url: URL) -> sqlite3.Connection:
    path = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not path.is_file():
        raise ArchiveError(f"{shown_url(url)}: no archive at {path}")
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        timeout=BUSY_TIMEOUT,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    connection.execute("PRAGMA query_only = ON")
    connection.set_authorizer(_authorize)
    return connection


def _connect_postgresql(url: URL, timeout: float) -> Any:
    import psycopg  # only needed with a PostgreSQL archive

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, connect_timeout=int(BUSY_TIMEOUT), autocommit=True)
        connection.execute(
            "SELECT set_config('default_transaction_read_only', 'on', false), "
            "set_config('statement_timeout', %s, false), "
            "set_config('TimeZone', 'Asia/Ho_Chi_Minh', false)",
            (str(max(1, int(timeout * 1000))),),
        )
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ArchiveError(f"{shown_url(url)}: cannot open the archive: {first}") from None
    connection.autocommit = False
    connection.read_only = True  # BEGIN READ ONLY
    return connection


def readonly_engine(archive_url: str, *, timeout: float = 30.0) -> Engine:
    """An SQLAlchemy engine whose every connection comes from ``connect``: read-only ORM reads.

    Each statement has ``timeout`` seconds (SQLite: a progress handler armed before each one).
    The schema is used as found, never migrated.
    """
    url = parse_url(archive_url)
    engine = create_engine(url, creator=lambda: connect(url, timeout=timeout))
    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine, "before_cursor_execute")
        def _arm(conn: Connection, *_: Any) -> None:
            raw = conn.connection.driver_connection
            if raw is not None:
                raw.set_progress_handler(_deadline(timeout), 10_000)

    return engine


def _sqlite(
    url: URL, statement: str, sql: str, limit: int, timeout: float, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    connection = _connect_sqlite(url)
    try:
        connection.set_progress_handler(_deadline(timeout), 10_000)
        return _fetch(connection.execute(statement, params), limit)  # SQLite binds :name itself
    except sqlite3.DatabaseError as exc:
        message = str(exc)
        if "not authorized" in message or "readonly" in message or "read-only" in message:
            raise ReadOnlyError(sql, "the archive is read-only here") from None
        if "interrupted" in message:
            raise QueryError(f"query stopped at the {timeout:g} s time limit") from None
        raise QueryError(f"SQL error: {message}") from None
    finally:
        connection.close()


def _deadline(timeout: float) -> Callable[[], int]:
    end = time.monotonic() + timeout
    return lambda: int(time.monotonic() > end)


def _postgresql(
    url: URL, statement: str, sql: str, limit: int, timeout: float, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    import psycopg

    connection = _connect_postgresql(url, timeout)
    try:
        with connection.cursor() as cursor:
            if params:
                cursor.execute(pyformat(statement).encode(), params, prepare=True)  # %(name)s placeholders
            else:
                cursor.execute(statement.encode(), prepare=True)  # bytes: psycopg takes it verbatim
            return _fetch(cursor, limit)
    except psycopg.errors.ReadOnlySqlTransaction:
        raise ReadOnlyError(sql, "the archive is read-only here") from None
    except psycopg.errors.QueryCanceled:
        raise QueryError(f"query stopped at the {timeout:g} s time limit") from None
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise QueryError(f"SQL error: {first}") from None
    finally:
        connection.rollback()
        connection.close()
