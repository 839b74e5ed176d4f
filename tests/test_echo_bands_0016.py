"""Migration 0016: an archive indexed with 0015's 64 bands keeps the first 48 of each article
(those ``storage.shingles.bands`` gives), and gets the 16 others back on downgrade; an article
whose indexed text no longer gives its signature keeps what it had."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import text

from storage.archive import Archive
from storage.engine import alembic_config, create_archive_engine
from tests.plugins.archive import fetched
from tests.test_echo_index import LONG, OTHER, sixty_four

THIRD = "\n".join(f"Bài thứ ba, đoạn {n}: giá lúa gạo vụ đông xuân năm nay tăng {n} phần trăm." for n in range(15))


def band_rows(connection: Any) -> set[tuple[int, int]]:
    return {(row[0], row[1]) for row in connection.execute(text("SELECT bucket, article_id FROM echo_bands"))}


def test_migration_0016_drops_and_restores_bands_48_to_63(archive_url: str) -> None:
    texts = {"https://x.vn/dai": LONG, "https://x.vn/khac": OTHER, "https://x.vn/mat": THIRD}
    with Archive.open(archive_url) as archive:
        for n, (address, body) in enumerate(texts.items()):
            archive.record("s", address, fetched(n, url=address, text=body))
        with archive.engine.connect() as connection:
            ids = dict(connection.execute(text("SELECT url, id FROM articles")).all())
            head = band_rows(connection)
    want = {url: {(k, ids[url]) for k in sixty_four(body)} for url, body in texts.items()}
    assert head == {(k, a) for url, rows in want.items() for k, a in rows if k in sixty_four(texts[url])[:48]}
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
        assert band_rows(connection) == set().union(*want.values())  # 64 bands each, as 0015 indexed them
        gone = ids["https://x.vn/mat"]  # its indexed text rewritten: its 64 rows cannot be told apart
        connection.execute(text("UPDATE versions SET text = :t WHERE article_id = :a"), {"t": "Khác hẳn.", "a": gone})
        command.upgrade(config, "head")
        assert band_rows(connection) == {row for row in head if row[1] != gone} | want["https://x.vn/mat"]
    engine.dispose()
    with Archive.open(archive_url) as archive:
        archive.record("t", "https://t.vn/chep", fetched(5, url="https://t.vn/chep", text=LONG))
        assert [(e.original_url, e.copy_url) for e in archive.echoes()] == [("https://x.vn/dai", "https://t.vn/chep")]
