"""Opening an archive: migrations on open, refusal of a newer schema, engine settings, times."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.archive import Archive
from storage.content import VN_TZ
from storage.engine import alembic_config, create_archive_engine
from storage.errors import ArchiveError, SchemaTooNewError
from storage.models import Base
from storage.observation import Fetched
from tests.plugins.archive import content, fetched

OUR_TABLES = {"articles", "versions", "changes", "captures", "crawl_runs", "edit_findings", "backfills",
              "backfill_pages", "capture_dictionaries"}


def _heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_open_creates_schema_at_head(archive: Archive) -> None:
    with archive.engine.connect() as connection:
        assert set(MigrationContext.configure(connection).get_current_heads()) == _heads()
        assert OUR_TABLES <= set(inspect(connection).get_table_names())


def test_an_older_archive_is_upgraded_on_open(archive_url: str) -> None:
    from alembic import command

    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    with Archive.open(archive_url) as archive, archive.engine.connect() as connection:
        assert set(MigrationContext.configure(connection).get_current_heads()) == _heads()


def test_first_revision_is_0001() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_base() == "0001"
    assert all(rev.revision.isdigit() and len(rev.revision) == 4 for rev in script.walk_revisions())


def test_open_twice_and_concurrently(archive_url: str) -> None:
    """Two processes opening a fresh archive at once both succeed (the migration is locked)."""
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            Archive.open(archive_url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    Archive.open(archive_url).close()


def test_models_match_migration(archive: Archive) -> None:
    def ours(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        # PostgreSQL's search index and the generated vector it indexes exist in migrations only
        return table in OUR_TABLES and name not in {"ix_articles_search", "search_vector"}

    with archive.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": ours, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_newer_schema_is_refused(archive_url: str) -> None:
    Archive.open(archive_url).close()
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaTooNewError) as refused:
        Archive.open(archive_url)
    message = str(refused.value)
    assert "9999" in message and "newer" in message and "\n" not in message
    assert isinstance(refused.value, ArchiveError)


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with Archive.open(f"sqlite:///{tmp_path / 'a.db'}") as archive, archive.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert c.exec_driver_sql("PRAGMA page_size").scalar() == 16384  # a new archive's


def test_an_existing_archive_keeps_its_page_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import engine

    url = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setattr(engine, "PAGE_SIZE", 4096)  # as archives made before 0012 were
    with Archive.open(url) as archive:
        archive.record("s", "https://x.vn/a", fetched(0, url="https://x.vn/a"))
    monkeypatch.undo()
    with Archive.open(url) as archive, archive.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert c.exec_driver_sql("SELECT count(*) FROM versions").scalar() == 1


def test_default_url_is_sqlite_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Archive.open() as archive:
        assert archive.backend == "sqlite"
    assert (tmp_path / "archive.db").is_file()


def test_postgresql_url_uses_psycopg3(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert create_archive_engine(plain).url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://tgwatch:s3cret@127.0.0.1:1/archive", "127.0.0.1:1/archive"),
        ("sqlite:////no/such/directory/archive.db", "/no/such/directory/archive.db"),
        ("not a url", "not a url"),
        ("mysql://u:s3cret@localhost/db", "mysql://"),
    ],
)
def test_unusable_url_is_one_line_archive_error(url: str, shown: str) -> None:
    with pytest.raises(ArchiveError) as failed:
        Archive.open(url)
    message = str(failed.value)
    assert shown in message and "s3cret" not in message and "\n" not in message


def test_times_round_trip_aware_in_vn_time(archive: Archive) -> None:
    utc = datetime(2024, 5, 1, 1, 2, 3, 456789, tzinfo=UTC)
    published = datetime(2024, 4, 30, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    archive.record("s", "https://x.vn/a-1", Fetched(content(published_at=published), utc))
    [known] = archive.known_articles("s")
    assert known.first_seen_at == utc and known.published_at == published
    for value in (known.first_seen_at, known.published_at, known.last_checked_at):
        assert value is not None and value.utcoffset() == timedelta(hours=7)
    assert known.first_seen_at.isoformat() == "2024-05-01T08:02:03.456789+07:00"
    [version] = archive.article_versions(known.id)
    assert version.content.published_at == published


def test_sqlite_stores_iso_text_that_sorts(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive.open(f"sqlite:///{path}") as archive:
        archive.record("s", "https://x.vn/a-1", fetched(0))
        for url, when in [
            ("https://x.vn/a-3", datetime(2024, 5, 1, 1, 0, 1, tzinfo=UTC)),
            ("https://x.vn/a-2", datetime(2024, 5, 1, 1, 0, 0, 500, tzinfo=UTC)),
        ]:
            archive.record("s", url, Fetched(content(), when))
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT url, first_seen_at, typeof(first_seen_at) FROM articles ORDER BY first_seen_at"
        ).fetchall()
    assert [r[1] for r in rows] == [
        "2024-05-01T08:00:00+07:00",
        "2024-05-01T08:00:00.000500+07:00",
        "2024-05-01T08:00:01+07:00",
    ]
    assert {r[2] for r in rows} == {"text"}
    assert [r[0][-1] for r in rows] == ["1", "2", "3"]


def test_time_columns_are_timestamptz_or_text(archive: Archive) -> None:
    columns = {c["name"]: c["type"] for c in inspect(archive.engine).get_columns("changes")}
    if archive.backend == "postgresql":
        assert getattr(columns["detected_at"], "timezone", False) is True
    else:
        assert "CHAR" in str(columns["detected_at"]).upper()


def test_naive_times_are_refused(archive: Archive) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        archive.record("s", "https://x.vn/a-1", Fetched(content(), datetime(2024, 5, 1, 8, 0)))
    assert archive.known_articles("s") == []


def test_vn_tz_is_plus_seven() -> None:
    assert VN_TZ.utcoffset(None) == timedelta(hours=7)
