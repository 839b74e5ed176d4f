"""Read-only SQL: refused writes, refused multi-statements, limits, and an untouched archive."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import readonly
from storage.archive import Archive
from storage.errors import ArchiveError, QueryError, ReadOnlyError
from storage.readonly import readonly_engine, run_query
from storage.sqltext import first_keyword, statements
from tests.plugins.archive import fetched

WRITES = [
    "INSERT INTO articles (site, url) VALUES ('s', 'u')",
    "UPDATE articles SET title = 'x'",
    "DELETE FROM articles",
    "DROP TABLE articles",
    "CREATE TABLE evil (x INTEGER)",
    "ALTER TABLE articles ADD COLUMN x INTEGER",
    "ATTACH DATABASE '/tmp/evil.db' AS evil",
    "PRAGMA journal_mode=DELETE",
    "PRAGMA user_version=5",
    "PRAGMA user_version = 5 -- comment",
    "pragma main.user_version=5",
    "VACUUM",
    "SELECT 1; DELETE FROM articles",
    "SELECT 1;\nDROP TABLE versions;",
    "WITH gone AS (SELECT id FROM articles) DELETE FROM articles WHERE id IN (SELECT id FROM gone)",
    "BEGIN",
    "COMMIT",
]


@pytest.fixture
def filled(archive_url: str) -> Iterator[str]:
    """An archive with two articles, closed again (nothing but the query touches it)."""
    with Archive.open(archive_url) as archive:
        archive.record("s", "https://x.vn/a-1", fetched(0))
        archive.record("s", "https://x.vn/a-2", fetched(1, title="Đảng bộ tỉnh"))
    yield archive_url


def _state(url: str) -> dict[str, Any]:
    """Row counts and schema, read through a normal connection."""
    with Archive.open(url) as archive, archive.engine.connect() as c:
        tables = sorted(archive.engine.dialect.get_table_names(c))
        counts = {t: c.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar() for t in tables}
        return {"tables": tables, "counts": counts}


def _file_hash(url: str) -> tuple[str, ...] | None:
    """SQLite: hashes of the database file and of its WAL (a write would land there first).

    A read-only connection may leave an empty WAL file behind (it cannot delete it); an empty
    WAL holds nothing, so it counts as no WAL.
    """
    if not url.startswith("sqlite"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    files = [path, path.with_name(path.name + "-wal")]
    return tuple(
        hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() and f.stat().st_size else "-"
        for f in files
    )


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_and_change_nothing(filled: str, sql: str) -> None:
    before, digest = _state(filled), _file_hash(filled)
    with pytest.raises(ReadOnlyError) as refused:
        run_query(filled, sql)
    assert "\n" not in str(refused.value) and str(refused.value).startswith("refused")
    assert _file_hash(filled) == digest
    assert _state(filled) == before


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO articles (site, url) VALUES ('s', 'u')",
        "DELETE FROM articles",
        "WITH x AS (SELECT 1) DELETE FROM articles",
        "CREATE TABLE evil (x INTEGER)",
        "DROP TABLE changes",
    ],
)
def test_the_connection_itself_is_read_only(
    filled: str, sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the keyword check switched off, the database still refuses to write."""
    monkeypatch.setattr(readonly, "check_query", lambda text, *_: text)
    before = _state(filled)
    with pytest.raises(ReadOnlyError):
        run_query(filled, sql)
    assert _state(filled) == before


def test_sqlite_pragma_writes_refused_by_the_authorizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filled = f"sqlite:///{tmp_path / 'archive.db'}"
    with Archive.open(filled) as archive:
        archive.record("s", "https://x.vn/a-1", fetched(0))
    monkeypatch.setattr(readonly, "check_query", lambda text, *_: text)
    digest = _file_hash(filled)
    for sql in ("PRAGMA journal_mode=DELETE", "PRAGMA user_version=5", "PRAGMA query_only=OFF",
                "ATTACH DATABASE ':memory:' AS evil", "PRAGMA wal_checkpoint(TRUNCATE)"):
        with pytest.raises(ReadOnlyError):
            run_query(filled, sql)
    assert _file_hash(filled) == digest
    assert run_query(filled, "PRAGMA journal_mode").rows == [("wal",)]
    assert run_query(filled, "PRAGMA user_version").rows == [(0,)]
    assert run_query(filled, "PRAGMA table_info(articles)").rows[0][1] == "id"


def test_queries_work(filled: str) -> None:
    result = run_query(filled, "SELECT id, url, title FROM articles ORDER BY id")
    assert result.columns == ["id", "url", "title"]
    assert [r[1] for r in result.rows] == ["https://x.vn/a-1", "https://x.vn/a-2"]
    assert not result.truncated
    semicolon = run_query(
        filled, "SELECT 'a;b' AS x, title FROM articles WHERE title LIKE '%Đảng%';"
    )
    assert semicolon.rows == [("a;b", "Đảng bộ tỉnh")]
    joined = run_query(filled, "WITH v AS (SELECT * FROM versions) SELECT count(*) FROM v")
    assert joined.rows == [(2,)]


def test_row_limit(filled: str) -> None:
    result = run_query(filled, "SELECT id FROM versions ORDER BY id", limit=1)
    assert result.rows == [(1,)] and result.truncated
    assert len(run_query(filled, "SELECT id FROM versions", limit=0).rows) == 2


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT * FROM no_such_table", "SELECT (1"])
def test_errors_are_query_errors(filled: str, sql: str) -> None:
    with pytest.raises((QueryError, ReadOnlyError)) as failed:
        run_query(filled, sql)
    assert "\n" not in str(failed.value)


def test_unknown_table_and_syntax_are_query_errors(filled: str) -> None:
    with pytest.raises(QueryError, match="no_such_table"):
        run_query(filled, "SELECT * FROM no_such_table")
    with pytest.raises(QueryError):
        run_query(filled, "SELECT FROM WHERE")


def test_time_limit(filled: str) -> None:
    slow = (
        "SELECT pg_sleep(5)"
        if filled.startswith("postgresql")
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c"
    )
    with pytest.raises(QueryError, match="time limit"):
        run_query(filled, slow, timeout=0.3)


def test_missing_sqlite_archive_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(ArchiveError):
        run_query(f"sqlite:///{path}", "SELECT 1")
    assert not path.exists()


def test_empty_query(filled: str) -> None:
    with pytest.raises(QueryError):
        run_query(filled, " ;  -- nothing")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2", ["SELECT", "SELECT"]),
        ("SELECT ';' AS x;", ["SELECT"]),
        ("SELECT 1 -- ; DROP", ["SELECT"]),
        ("/* ; */ SELECT 1", ["SELECT"]),
        ("SELECT $$;$$, $tag$ ; $tag$", ["SELECT"]),
        ('SELECT "a;b" FROM t', ["SELECT"]),
        ("SELECT 'it''s; fine'", ["SELECT"]),
        ("SELECT E'\\'; DROP TABLE x; '", ["SELECT"]),
        ("SELECT 'a\\'; DROP TABLE x; --'", ["SELECT", "DROP"]),
        ("(SELECT 1)", ["SELECT"]),
    ],
)
def test_statement_splitting(sql: str, expected: list[str]) -> None:
    assert [first_keyword(s) for s in statements(sql)] == expected


def test_readonly_engine_reads_and_cannot_write(archive_url: str) -> None:
    """The engine the report pages use: ORM reads work, every write is refused by the database."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    Archive.open(archive_url).close()
    engine = readonly_engine(archive_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM articles")).scalar_one() == 0
        for sql in (
            "INSERT INTO crawl_runs (site, started_at, outcome) VALUES ('x', '2024-05-01', 'ok')",
            "CREATE TABLE intruder (x integer)",
        ):
            with pytest.raises(DBAPIError), engine.connect() as connection:
                connection.execute(text(sql))
    finally:
        engine.dispose()
