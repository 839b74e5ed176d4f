"""Read-only SQL over the archive, behind ``tgwatch sql``.

Read-only by privilege, not by keyword filter. PostgreSQL: the connection logs in as the reading
role (``storage.roles``: it may only ``SELECT`` the archive's relations; a role that could do more
is refused), every transaction is ``READ ONLY`` and rolled back, and ``statement_timeout``,
``lock_timeout`` and ``idle_in_transaction_session_timeout`` bound it; a query is one prepared
statement (the server refuses a second one) and its rows come through a server-side cursor, so
``--limit N`` fetches N rows. SQLite: opened ``mode=ro`` with ``PRAGMA query_only`` and an
authorizer that allows reading only (no ATTACH, no PRAGMA that sets anything), a progress-handler
deadline, a cap on SQLite's memory (``hard_heap_limit``, temporary tables and sorts in memory so
the cap holds for them too) and on the length of one value. The keyword check in front
(``storage.sqltext``) only makes refusals clear and early.

``connect`` is the one function that opens such a connection; ``readonly_engine`` puts an
SQLAlchemy engine over it, so the report pages (``tgwatch serve``/``report``) run the ``storage``
queries on a connection that cannot write either.

A reader never meets "database is locked" while the crawler writes: the archive is in WAL mode
(readers do not wait for writers) and the reader has the same busy timeout as writers for the
brief moments (WAL recovery, checkpoints) when SQLite does make it wait.
"""

from __future__ import annotations

import os
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
from storage.roles import READER_PASSWORD_ENV, check_reader, reader_role
from storage.sqltext import DIALECTS, first_keyword, parameters, pyformat, statements
from storage import textpack

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
CURSOR_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
"""PostgreSQL queries that can run in a server-side cursor (``DECLARE ... CURSOR FOR``)."""
SQLITE_HEAP_LIMIT = 160 * 1024 * 1024
"""Bytes of memory SQLite may hold in a reading process (``PRAGMA hard_heap_limit``)."""
SQLITE_VALUE_LIMIT = 64 * 1024 * 1024
"""Bytes of one string or blob a reading query may build (``SQLITE_LIMIT_LENGTH``)."""
LOCK_TIMEOUT = 5.0
"""Seconds a reading statement on PostgreSQL waits for a lock before it gives up."""
_READING = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
            sqlite3.SQLITE_RECURSIVE}  # fmt: skip


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows than the limit


def check_query(sql: str, dialect: str = "postgresql") -> str:
    """The single read-only statement in ``sql`` as ``dialect`` reads it, or a ``ReadOnlyError``.

    The query must look like one query to both databases' lexers (PostgreSQL nests comments and
    ends ``--`` at a carriage return, SQLite does not), so a comment one of them reads differently
    cannot hide a statement. A first line of defence only: the connection is the guard.
    """
    chosen = ""
    for lexer in DIALECTS:
        found = statements(sql, lexer)
        if not found:
            raise QueryError("empty query")
        if len(found) > 1:
            raise ReadOnlyError(sql, f"{len(found)} statements; give one query at a time")
        keyword = first_keyword(found[0], lexer)
        if keyword not in QUERY_KEYWORDS:
            allowed = "only SELECT, WITH, VALUES, EXPLAIN, TABLE, SHOW and reading PRAGMAs"
            raise ReadOnlyError(sql, f"{keyword or 'nothing'} is not a query; {allowed} are allowed")
        if keyword == "PRAGMA":
            named = _PRAGMA.match(found[0])
            if "=" in found[0] or named is None or named.group(1).lower() not in READ_PRAGMAS:
                raise ReadOnlyError(sql, "PRAGMA that sets or changes something is not allowed")
        if lexer == dialect:
            chosen = found[0]
    return chosen


def run_query(
    archive_url: str, sql: str, *, limit: int = 1000, timeout: float = 30.0,
    params: Mapping[str, Any] | None = None,
) -> QueryResult:
    """Run one read-only query: at most ``limit`` rows (``limit <= 0``: all), ``timeout`` s.

    ``params`` are the values of the query's ``:name`` parameters, bound by the driver (never
    pasted into the SQL); each parameter needs a value and each value a parameter.
    """
    url = parse_url(archive_url)
    dialect = url.get_backend_name()
    statement = check_query(sql, dialect)
    params = check_parameters(statement, params or {}, dialect)
    run = _sqlite if dialect == "sqlite" else _postgresql
    columns, rows = run(url, statement, sql, limit, timeout, params)
    truncated = 0 < limit < len(rows)
    return QueryResult(columns, rows[:limit] if truncated else rows, truncated)


def check_parameters(
    statement: str, params: Mapping[str, Any], dialect: str = "postgresql"
) -> dict[str, Any]:
    """``params`` if they are exactly the statement's ``:name`` parameters, else a ``QueryError``."""
    wanted = parameters(statement, dialect)
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
    connection.execute("PRAGMA temp_store = MEMORY")  # sorts and temporary b-trees count against the cap
    _cap_heap(connection)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_VALUE_LIMIT)
    connection.set_authorizer(_authorize)
    textpack.register(connection)
    return connection


def _cap_heap(connection: sqlite3.Connection) -> None:
    """Cap SQLite's memory in this process (a process-wide limit: keep a lower one if set)."""
    current = connection.execute("PRAGMA hard_heap_limit").fetchone()[0]
    if not current or current > SQLITE_HEAP_LIMIT:
        connection.execute(f"PRAGMA hard_heap_limit = {SQLITE_HEAP_LIMIT}")


def _reader_url(url: URL) -> tuple[URL, str]:
    """The archive's URL with the reading role as its user (its password from the environment)."""
    role = reader_role()
    if url.username == role:
        return url, role
    return url.set(username=role, password=os.environ.get(READER_PASSWORD_ENV) or None), role


def _connect_postgresql(url: URL, timeout: float) -> Any:
    import psycopg  # only needed with a PostgreSQL archive

    where = shown_url(url)
    reader, role = _reader_url(url)
    conninfo = reader.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, connect_timeout=int(BUSY_TIMEOUT), autocommit=True)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if f'role "{role}" does not exist' in first:
            raise ArchiveError(
                f"{where}: the reading role {role} does not exist; open the archive once as an owner who may "
                f"create roles, or have it created (README, 'Read-only access')"
            ) from None
        raise ArchiveError(
            f"{where}: cannot log in as the reading role {role}: {first} "
            f"(its password: {READER_PASSWORD_ENV} or ~/.pgpass)"
        ) from None
    try:
        check_reader(connection, role, where)
        connection.execute(
            "SELECT set_config('default_transaction_read_only', 'on', false), "
            "set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false), "
            "set_config('idle_in_transaction_session_timeout', %s, false), "
            "set_config('TimeZone', 'Asia/Ho_Chi_Minh', false)",
            (_ms(timeout), _ms(min(timeout, LOCK_TIMEOUT)), _ms(timeout)),
        )
    except psycopg.Error as exc:
        connection.close()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ArchiveError(f"{where}: cannot open the archive: {first}") from None
    except BaseException:
        connection.close()
        raise
    connection.autocommit = False
    connection.read_only = True  # BEGIN READ ONLY
    return connection


def _ms(seconds: float) -> str:
    return str(max(1, int(seconds * 1000)))


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
    except (sqlite3.DatabaseError, MemoryError) as exc:
        message = str(exc) or "out of memory"
        if isinstance(exc, MemoryError) or "too big" in message or "out of memory" in message:
            cap = SQLITE_HEAP_LIMIT // 2**20
            raise QueryError(f"query stopped at the memory cap ({cap} MiB, one value at most "
                             f"{SQLITE_VALUE_LIMIT // 2**20} MiB): {message}") from None
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
    """Run ``statement`` as the reading role; a query's rows come through a server-side cursor,
    so only the rows asked for leave the server. EXPLAIN and SHOW cannot be declared (their rows are
    few), nor can WITH ... INSERT/UPDATE/DELETE: those run as they are, for the server to refuse."""
    import psycopg

    connection = _connect_postgresql(url, timeout)
    query = pyformat(statement) if params else statement  # %(name)s placeholders, bound by the driver
    try:
        if first_keyword(statement) in CURSOR_KEYWORDS:
            try:
                with connection.cursor(name="tgwatch_sql") as server:
                    server.execute(query, params or None)
                    return _fetch(server, limit)
            except psycopg.errors.SyntaxError:
                if first_keyword(statement) != "WITH":
                    raise
                connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute(query.encode(), params or None, prepare=True)  # bytes: psycopg takes it verbatim
            return _fetch(cursor, limit)
    except (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReadOnlyError(sql, f"the archive is read-only here ({first})") from None
    except psycopg.errors.FeatureNotSupported as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "data-modifying" in first:
            raise ReadOnlyError(sql, "the archive is read-only here") from None
        raise QueryError(f"SQL error: {first}") from None
    except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable):
        raise QueryError(f"query stopped at the {timeout:g} s time limit") from None
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise QueryError(f"SQL error: {first}") from None
    finally:
        connection.rollback()
        connection.close()
