"""Acceptance: ``tgwatch sql`` only reads, on both backends, and never meets a locked database.

Writes of every kind are refused end to end through the CLI with a one-line error and leave the
archive as it was; a reader looping over ``tgwatch sql`` while a crawl writes never sees
"database is locked".
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.testing import FixtureServer
from monitor.cli import main
from storage.archive import Archive
from tests.crawl_helpers import FAST, IN_THREAD, ROOT, counts, settings_args, write_config
from tests.plugins.archive import fetched

WRITES = [
    "INSERT INTO articles (site, url) VALUES ('x', 'y')",
    "UPDATE articles SET title = 'changed'",
    "DELETE FROM articles",
    "DROP TABLE changes",
    "ATTACH DATABASE 'other.db' AS other",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 7",
    "SELECT 1; DELETE FROM articles",
    "WITH gone AS (DELETE FROM articles RETURNING id) SELECT * FROM gone",
    "CREATE TABLE notes (x int)",
    "VACUUM",
]


@pytest.fixture
def small_archive(archive_url: str) -> str:
    with Archive.open(archive_url) as archive:
        archive.record("tuyengiao", "https://tuyengiao.vn/bai-viet-1", fetched(0, url="https://tuyengiao.vn/bai-viet-1"))
        archive.record("tuyengiao", "https://tuyengiao.vn/bai-viet-2", fetched(1, url="https://tuyengiao.vn/bai-viet-2",
                                                                                title="Một bài khác"))
    return archive_url


def sql(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", db, "sql", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("statement", WRITES)
def test_sql_refuses_writes(small_archive: str, statement: str) -> None:
    before = counts(small_archive)
    code, out, err = sql(small_archive, statement)
    assert code == 2, (out, err)
    assert err.startswith("tgwatch: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert counts(small_archive) == before
    code, out, _ = sql(small_archive, "SELECT title FROM articles ORDER BY id", "--format", "json")
    assert code == 0 and [r["title"] for r in json.loads(out)] == [
        "Ban Tuyên giáo Trung ương triển khai nhiệm vụ", "Một bài khác"]


def test_sql_formats_and_limit(small_archive: str) -> None:
    code, out, err = sql(small_archive, "SELECT id, site, title FROM articles ORDER BY id", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "site", "title"] and len(rows) == 3
    code, out, err = sql(small_archive, "SELECT id FROM articles ORDER BY id", "--limit", "1")
    assert code == 0 and "first 1 rows" in err
    assert out.splitlines()[0].split() == ["id"] and len(out.splitlines()) == 3  # header, rule, one row


def test_sql_named_parameters_and_query_from_stdin(small_archive: str) -> None:
    """-p binds values (never pasted into the SQL: a quote or a % in a value is only a value)."""
    query = "SELECT title FROM articles WHERE site = :site AND title LIKE :words || '%' ORDER BY id"
    code, out, err = sql(small_archive, query, "-p", "site", "tuyengiao", "-p", "words", "Một", "--format", "json")
    assert code == 0, err
    assert [r["title"] for r in json.loads(out)] == ["Một bài khác"]
    code, out, _ = sql(small_archive, query, "-p", "site", "x' OR '1'='1", "-p", "words", "%", "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, _, err = sql(small_archive, query, "-p", "site", "tuyengiao")
    assert code == 2 and "no value for :words" in err and err.count("\n") == 1
    code, _, err = sql(small_archive, "SELECT 1", "-p", "site", "x")
    assert code == 2 and "no parameter :site" in err
    stdin = "SELECT count(*) AS n -- the articles of :site\nFROM articles WHERE site = :site\n"
    result = CliRunner().invoke(main, ["--db", small_archive, "sql", "-", "-p", "site", "tuyengiao", "--format", "csv"],
                                input=stdin)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "2"]


def test_reader_never_sees_a_locked_database(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_fixture_server, sites=["tuyengiao"])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(db).close()  # the schema exists before the first read
    command = [sys.executable, "-m", "monitor.cli", "--db", db, "--config", str(config), "crawl",
               "--recheck", "all", *settings_args({**FAST, **IN_THREAD})]
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen: list[int] = []
    while crawl.poll() is None:
        code, out, err = sql(db, "SELECT count(*) AS n FROM versions", "--format", "json")
        assert code == 0 and "locked" not in err, err
        seen.append(json.loads(out)[0]["n"])
        time.sleep(0.02)  # a reader in a loop, not a busy loop starving the crawl of CPU
    out, err = crawl.communicate()
    assert crawl.returncode == 0, err
    assert len(seen) >= 3 and seen == sorted(seen)
    code, out, _ = sql(db, "SELECT count(*) AS n FROM versions", "--format", "json")
    assert json.loads(out)[0]["n"] >= max(seen) and json.loads(out)[0]["n"] > 0
