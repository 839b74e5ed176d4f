"""Issue 9, item 1: ``tgwatch sql`` is read-only by privilege, not by parsing.

Every PostgreSQL attack the audit ran is reproduced exactly, through an archive URL naming the
superuser the tests use, and with the keyword check switched off (``unguarded``): what stops it is
the reading role the connection logs in as (``storage.roles``). Each test checks the side effect
itself (no file written by the server, no backend terminated, no lock held, no large object left),
not only the error. The keyword check, still the first line of defence, now reads comments the
way PostgreSQL does (nested ``/* */``, ``--`` ending at a carriage return).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from monitor.cli import main
from storage import readonly
from storage.archive import Archive
from storage.errors import ArchiveError, QueryError, ReadOnlyError
from storage.readonly import check_query, run_query
from storage.roles import READER_ROLE_ENV, reader_role
from storage.sqltext import first_keyword, statements
from tests.plugins.archive import _pg_schema_url, fetched


@pytest.fixture
def pg_archive(pg_url: str) -> Iterator[str]:
    """A PostgreSQL archive (own schema) with two articles; its URL names the superuser."""
    for url in _pg_schema_url(pg_url):
        with Archive.open(url) as archive:
            archive.record("s", "https://x.vn/a-1", fetched(0))
            archive.record("s", "https://x.vn/a-2", fetched(1, title="Đảng bộ tỉnh"))
        yield url


@pytest.fixture
def unguarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyword check switched off: the query goes to the server as typed."""
    monkeypatch.setattr(readonly, "check_query", lambda text, *_: text.strip())


def _admin(url: str) -> psycopg.Connection:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


def _target() -> Path:
    """A path the database server could write (it runs on this machine): must stay absent."""
    return Path("/tmp") / f"tgwatch-attack-{uuid.uuid4().hex}"


def test_the_superuser_url_is_a_superuser(pg_archive: str) -> None:
    """The premise: the URL the attacks go through could do all of this itself."""
    with _admin(pg_archive) as admin:
        assert admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)


@pytest.mark.usefixtures("unguarded")
@pytest.mark.parametrize(
    "attack",
    [
        "COPY (SELECT 1) TO PROGRAM 'id > {file}'",
        "COPY (SELECT 1) TO '{file}'",
        "COPY articles TO '{file}'",
        "DO $$BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''id > {file}'''; END$$",
        "SELECT query_to_xml('COPY (SELECT 1) TO ''{file}''', true, false, '')",
        "WITH a AS MATERIALIZED (SELECT set_config('role', 'none', false) AS r) "
        "SELECT query_to_xml('COPY (SELECT 1) TO PROGRAM ''id > {file}''', true, false, '') FROM a",
        "SELECT lo_export(lo_from_bytea(0, 'x'), '{file}')",
    ],
)
def test_no_file_is_written_by_the_server(pg_archive: str, attack: str) -> None:
    target = _target()
    with pytest.raises((ReadOnlyError, QueryError)) as refused:
        run_query(pg_archive, attack.format(file=target))
    assert "\n" not in str(refused.value)
    assert not target.exists()


@pytest.mark.usefixtures("unguarded")
@pytest.mark.parametrize(
    "attack",
    [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "SELECT pg_stat_file('/etc/passwd')",
        "WITH a AS MATERIALIZED (SELECT set_config('role', 'none', false) AS r) "
        "SELECT query_to_xml('SELECT pg_read_file(''/etc/passwd'')', true, false, '') FROM a",
        "CHECKPOINT",
        "REINDEX TABLE articles",
        "VACUUM articles",
        "SELECT pg_reload_conf()",
        "SELECT * FROM deliveries",
    ],
)
def test_server_functions_are_refused(pg_archive: str, attack: str) -> None:
    with pytest.raises((ReadOnlyError, QueryError)) as refused:
        run_query(pg_archive, attack)
    assert "\n" not in str(refused.value)
    assert "root:" not in str(refused.value)


@pytest.mark.usefixtures("unguarded")
def test_pg_terminate_backend_cannot_touch_the_owner(pg_archive: str) -> None:
    with _admin(pg_archive) as writer:
        pid = writer.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        for attack in (f"SELECT pg_terminate_backend({pid})", f"SELECT pg_cancel_backend({pid})"):
            with pytest.raises((ReadOnlyError, QueryError)):
                run_query(pg_archive, attack)
        assert writer.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.usefixtures("unguarded")
def test_lock_table_cannot_block_other_readers(pg_archive: str) -> None:
    """The audit's reader waited 23 s behind ``LOCK TABLE ... ACCESS EXCLUSIVE``: now it is refused,
    and while another session holds such a lock a reading query gives up at its lock timeout."""
    with pytest.raises((ReadOnlyError, QueryError)):
        run_query(pg_archive, "LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
    with pytest.raises((ReadOnlyError, QueryError)):
        run_query(pg_archive, "DO $$BEGIN LOCK TABLE articles IN ACCESS EXCLUSIVE MODE; PERFORM pg_sleep(3); END$$")
    assert run_query(pg_archive, "SELECT count(*) FROM articles", timeout=2).rows == [(2,)]
    with _admin(pg_archive) as holder:
        holder.autocommit = False
        holder.execute("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(QueryError, match="time limit"):
            run_query(pg_archive, "SELECT count(*) FROM articles", timeout=0.5)
        holder.rollback()


@pytest.mark.usefixtures("unguarded")
def test_large_objects_leave_nothing(pg_archive: str) -> None:
    """``lo_from_bytea`` needs no privilege; its object dies with the rolled-back transaction."""
    with _admin(pg_archive) as admin:
        before = admin.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
        try:
            run_query(pg_archive, "SELECT lo_from_bytea(0, 'planted')")
        except (ReadOnlyError, QueryError):
            pass
        assert admin.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone() == before
        planted = admin.execute("SELECT count(*) FROM pg_largeobject WHERE data = 'planted'::bytea").fetchone()
        assert planted == (0,)


@pytest.mark.usefixtures("unguarded")
@pytest.mark.parametrize(
    "attack",
    [
        "INSERT INTO articles (site, url) VALUES ('x', 'y')",
        "UPDATE articles SET title = 'x'",
        "DELETE FROM articles",
        "TRUNCATE articles CASCADE",
        "SET ROLE postgres",
        "SELECT set_config('role', 'postgres', false)",
        "SET SESSION AUTHORIZATION postgres",
        "CREATE TEMP TABLE t AS SELECT * FROM articles",
        "DROP TABLE articles CASCADE",
        "ALTER TABLE articles ADD COLUMN planted int",
        "GRANT ALL ON articles TO PUBLIC",
    ],
)
def test_writes_and_role_changes_are_refused(pg_archive: str, attack: str) -> None:
    with pytest.raises((ReadOnlyError, QueryError)):
        run_query(pg_archive, attack)
    assert run_query(pg_archive, "SELECT count(*) FROM articles").rows == [(2,)]
    assert run_query(pg_archive, "SELECT current_user").rows == [(reader_role(),)]


def test_the_keyword_check_reads_comments_as_postgresql_does(pg_archive: str) -> None:
    """The two tricks of the audit, with the keyword check on: refused before the server sees them
    (and the server would refuse them anyway: the tests above)."""
    target = _target()
    nested = f"/* /* */ SELECT 1 */ COPY (SELECT 1) TO PROGRAM 'id > {target}'"
    carriage = f"--\rCOPY (SELECT 1) TO PROGRAM 'id > {target}' /*\nSELECT 1 */"
    for attack in (nested, carriage):
        with pytest.raises(ReadOnlyError, match="COPY is not a query"):
            run_query(pg_archive, attack)
    assert not target.exists()


@pytest.mark.parametrize(
    ("sql", "postgresql", "sqlite"),
    [
        ("/* /* */ SELECT 1 */ COPY x TO 'f'", ["COPY"], ["SELECT"]),
        ("/* a /* b */ c */ SELECT 1", ["SELECT"], ["C"]),
        ("--\rDELETE FROM t /*\nSELECT 1 */", ["DELETE"], ["SELECT"]),
        ("SELECT 1 -- x\r\n", ["SELECT"], ["SELECT"]),
        ("/* unterminated /* */ SELECT 1", [], ["SELECT"]),
    ],
)
def test_lexer_dialects(sql: str, postgresql: list[str], sqlite: list[str]) -> None:
    assert [first_keyword(s, "postgresql") for s in statements(sql, "postgresql")] == postgresql
    assert [first_keyword(s, "sqlite") for s in statements(sql, "sqlite")] == sqlite


@pytest.mark.parametrize(
    "sql",
    ["/* /* */ SELECT 1 */ COPY x TO 'f'", "/* a /* b */ c */ SELECT 1", "--\rDELETE FROM t /*\nSELECT 1 */",
     "/* unterminated /* */ SELECT 1"],
)
def test_a_query_must_look_like_one_to_both_databases(sql: str) -> None:
    for dialect in ("postgresql", "sqlite"):
        with pytest.raises((ReadOnlyError, QueryError)):
            check_query(sql, dialect)


def test_a_role_that_can_write_is_refused(pg_archive: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(READER_ROLE_ENV, make_url(pg_archive).username or "postgres")
    with pytest.raises(ArchiveError, match="superuser") as refused:
        run_query(pg_archive, "SELECT 1")
    assert "\n" not in str(refused.value)


def test_a_missing_role_is_named(pg_archive: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(READER_ROLE_ENV, f"tgwatch_missing_{uuid.uuid4().hex[:8]}")
    with pytest.raises(ArchiveError, match="does not exist") as refused:
        run_query(pg_archive, "SELECT 1")
    assert "Read-only access" in str(refused.value) and "\n" not in str(refused.value)
    result = CliRunner().invoke(main, ["--db", pg_archive, "sql", "SELECT 1"])
    assert result.exit_code != 0 and "does not exist" in result.stderr and "Traceback" not in result.output


def test_role_creation_is_idempotent_and_race_safe(pg_url: str) -> None:
    """Archives migrated at once (tests on two workers, other projects on the cluster) share the role."""
    urls = [_pg_schema_url(pg_url) for _ in range(4)]
    opened = [next(gen) for gen in urls]
    errors: list[BaseException] = []

    def migrate(url: str) -> None:
        try:
            Archive.open(url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(url,)) for url in opened]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for url in opened:
        assert run_query(url, "SELECT count(*) FROM articles").rows == [(0,)]
    for gen in urls:
        gen.close()


def test_statement_timeout_lock_timeout_and_idle_timeout_are_set(pg_archive: str) -> None:
    rows = run_query(
        pg_archive,
        "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
        "current_setting('idle_in_transaction_session_timeout'), current_setting('transaction_read_only')",
        timeout=7,
    ).rows
    assert rows == [("7s", "5s", "7s", "on")]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_limit_fetches_only_the_rows_asked_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Row 5 of this query fails when computed: ``--limit 1`` never computes it (rows stream from a
    server-side cursor), ``--limit 0`` (all) does."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'archive.db'}"
        Archive.open(url).close()
        query = ("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 5) "
                 "SELECT x, CASE WHEN x = 5 THEN json(x || ' is no JSON') ELSE x END FROM g")
    else:
        url = request.getfixturevalue("pg_archive")
        query = "SELECT g, 1 / (g - 5) FROM generate_series(1, 5) AS g"
    first = run_query(url, query, limit=1)
    assert len(first.rows) == 1 and first.truncated
    with pytest.raises(QueryError):
        run_query(url, query, limit=0)


def test_pg_limit_one_of_a_huge_result_is_quick(pg_archive: str) -> None:
    """100 million rows are never produced: a client-side fetch would take minutes and gigabytes."""
    started = time.monotonic()
    result = run_query(pg_archive, "SELECT g, repeat('x', 100) FROM generate_series(1, 100000000) AS g", limit=1,
                       timeout=60)
    assert result.rows == [(1, "x" * 100)] and result.truncated
    assert time.monotonic() - started < 30  # generous: the whole result would need minutes


def test_sqlite_memory_cap(tmp_path: Path) -> None:
    """A query building a huge value, or sorting gigabytes, stops at the cap with one line."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(url).close()
    bombs = [
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) "
        "SELECT length(group_concat(hex(randomblob(100)))) FROM c",
        "SELECT length(zeroblob(200000000))",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 4000000) "
        "SELECT x FROM c ORDER BY randomblob(200)",
    ]
    for bomb in bombs:
        with pytest.raises(QueryError, match="memory cap") as stopped:
            run_query(url, bomb, limit=1, timeout=120)
        assert "\n" not in str(stopped.value)
    assert run_query(url, "SELECT count(*) FROM articles").rows == [(0,)]


def test_sqlite_deadline_stops_a_runaway_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(url).close()
    with pytest.raises(QueryError, match="time limit"):
        run_query(url, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
                  timeout=0.3)


def test_reader_env_is_not_leaked_in_messages(pg_archive: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TGWATCH_READER_PASSWORD", "s3cret-word")
    monkeypatch.setenv(READER_ROLE_ENV, f"tgwatch_missing_{uuid.uuid4().hex[:8]}")
    with pytest.raises(ArchiveError) as refused:
        run_query(pg_archive, "SELECT 1")
    assert "s3cret-word" not in str(refused.value)
    assert os.environ["TGWATCH_READER_PASSWORD"] == "s3cret-word"


def test_concurrent_creators_of_one_new_role_all_succeed(pg_url: str) -> None:
    """The grant block run at once by four sessions (as four clusters' archives would), for a role
    none of them sees yet: one creates it, the others wait on it and go on without an error."""
    from storage.roles import grant_reader_sql

    role = f"tgwatch_race_{uuid.uuid4().hex[:10]}"
    gens = [_pg_schema_url(pg_url) for _ in range(4)]
    urls = [next(gen) for gen in gens]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(urls))

    def grant(url: str) -> None:
        try:
            with _admin(url) as connection:
                barrier.wait(timeout=30)
                connection.execute(grant_reader_sql(role))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=grant, args=(url,)) for url in urls]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        with _admin(urls[0]) as admin:
            assert admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)).fetchone() == (1,)
    finally:
        for gen in gens:
            gen.close()
        with _admin(pg_url) as admin:
            if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                admin.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
                admin.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]


def test_sqlite_bombs_stay_under_300_mb(tmp_path: Path) -> None:
    """Peak memory of a process running each bomb (the cap is SQLite's heap, 160 MiB): the process's own
    high-water mark (VmHWM; ``ru_maxrss`` would count the forking test worker's)."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(url).close()
    child = (
        "import sys\n"
        "from storage.errors import QueryError\n"
        "from storage.readonly import run_query\n"
        "try:\n"
        "    run_query(sys.argv[1], sys.argv[2], limit=1, timeout=120)\n"
        "    print('ran')\n"
        "except QueryError as exc:\n"
        "    print('refused', exc)\n"
        "peak = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]\n"
        "print(int(peak.split()[1]) // 1024)\n"
    )
    for bomb in (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 4000000) "
        "SELECT x FROM c ORDER BY randomblob(200)",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) "
        "SELECT length(group_concat(hex(randomblob(100)))) FROM c",
    ):
        out = subprocess.run([sys.executable, "-c", child, url, bomb], capture_output=True, text=True, timeout=300,
                             cwd=Path(__file__).resolve().parent.parent, check=True).stdout.splitlines()
        assert out[0].startswith("refused") and "memory cap" in out[0], out
        assert int(out[-1]) < 300, f"peak {out[-1]} MB"
