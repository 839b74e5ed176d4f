"""Migration 0013: capture headers packed on SQLite, plain JSON on PostgreSQL, read back the same
everywhere; texts packed with a dictionary of their own."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import zstandard
from alembic import command
from sqlalchemy import inspect, text

from storage.archive import Archive
from storage.engine import alembic_config, create_archive_engine
from storage.readonly import run_query
from tests.plugins.archive import fetched
from tests.test_storage_captures import page, small_training  # noqa: F401 (a fixture)

PAGES = 30


def headers(n: int) -> dict[str, str]:
    return {"content-type": "text/html; charset=utf-8", "etag": f'"{n:032x}"', "content-length": str(len(page(n))),
            "date": f"Sun, 06 Dec 2026 22:{n:02d}:53 GMT", "server": "nginx"}


def fill(archive: Archive) -> None:
    for n in range(PAGES):
        url = f"https://x.vn/bai-{n}"
        observation = fetched(n, html=page(n), url=url, title=f"Bài {n}")
        assert observation.capture is not None
        archive.record("s", url, replace(observation, capture=replace(observation.capture, headers=headers(n))))


def read_back(archive: Archive) -> dict[str, dict[str, str]]:
    return {c.url: c.headers for c in archive.iter_captures()}


def in_sql(url: str) -> list[dict[str, str]]:
    column = "tgwatch_text(headers)" if url.startswith("sqlite") else "headers"
    rows = run_query(url, f"SELECT {column} FROM captures ORDER BY id").rows
    return [value if isinstance(value, dict) else json.loads(value) for (value,) in rows]


def kinds(connection: object) -> set[str]:
    return set(connection.scalars(text("SELECT typeof(headers) FROM captures")))  # type: ignore[attr-defined]


@pytest.mark.usefixtures("small_training")
def test_headers_read_back_the_same_in_models_and_sql(archive_url: str) -> None:
    """Packed with the site's dictionary once it has one (the first captures too, when compaction
    re-compresses them); the models and ``tgwatch_text`` in SQL give them back as fetched."""
    expected = {f"https://x.vn/bai-{n}": headers(n) for n in range(PAGES)}
    with Archive.open(archive_url) as archive:
        fill(archive)
        assert read_back(archive) == expected
        with archive.engine.connect() as connection:
            raw = list(connection.scalars(text("SELECT headers FROM captures ORDER BY id")))
    assert in_sql(archive_url) == [headers(n) for n in range(PAGES)]
    if archive_url.startswith("sqlite"):
        assert {zstandard.get_frame_parameters(bytes(r)).dict_id for r in raw} == {32769}
    else:
        assert raw == [headers(n) for n in range(PAGES)]


@pytest.mark.usefixtures("small_training")
def test_migration_0013_upgrades_and_downgrades(archive_url: str) -> None:
    expected = {f"https://x.vn/bai-{n}": headers(n) for n in range(PAGES)}
    sqlite = archive_url.startswith("sqlite")
    with Archive.open(archive_url) as archive:
        fill(archive)
        bodies = {c.url: c.body for c in archive.iter_captures()}
        texts = [v.content.text for n in range(PAGES) for v in archive.article_versions(f"https://x.vn/bai-{n}")]
        with archive.engine.connect() as connection:
            trained = sorted(connection.scalars(text("SELECT kind FROM capture_dictionaries")))
            assert trained == ["pages", "texts", "words"]
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
        assert "kind" not in {c["name"] for c in inspect(connection).get_columns("capture_dictionaries")}
        assert list(connection.scalars(text("SELECT 32768 + id FROM capture_dictionaries"))) == [32769]
        if sqlite:
            assert kinds(connection) == {"text"}
            plain = list(connection.scalars(text("SELECT headers FROM captures ORDER BY id")))
            assert plain == [json.dumps(headers(n)) for n in range(PAGES)]  # as SQLAlchemy's JSON wrote them
            packed = connection.scalars(text("SELECT text FROM versions WHERE typeof(text) = 'blob'")).all()
            assert len(packed) == PAGES and {zstandard.get_frame_parameters(p).dict_id for p in packed} == {32769}
    engine.dispose()
    with Archive.open(archive_url) as archive:  # upgraded again on open
        assert read_back(archive) == expected
        assert {c.url: c.body for c in archive.iter_captures()} == bodies
        assert [v.content.text for n in range(PAGES)
                for v in archive.article_versions(f"https://x.vn/bai-{n}")] == texts
        if sqlite:
            with archive.engine.connect() as connection:
                assert kinds(connection) == {"blob"}
        archive.record("s", "https://x.vn/moi", fetched(40, html=page(40), url="https://x.vn/moi", title="Mới"))
        assert read_back(archive)["https://x.vn/moi"] == {"Content-Type": "text/html"}
    assert in_sql(archive_url)[:PAGES] == [headers(n) for n in range(PAGES)]
