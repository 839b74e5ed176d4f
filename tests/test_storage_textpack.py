"""Texts stored once (migration 0012): packed on SQLite, read as plain text in SQL and by the models."""

from __future__ import annotations

import pytest
import zstandard
from alembic import command
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from storage.archive import Archive
from storage.engine import alembic_config, create_archive_engine
from storage.readonly import run_query
from storage.textpack import MAX_TEXT, TextPackError, pack, unpack
from tests.plugins.archive import fetched
from tests.test_storage_captures import page, small_training  # noqa: F401 (a fixture)

TEXT = "Đảng bộ tỉnh tổ chức hội nghị quán triệt nghị quyết.\nBan Tuyên giáo báo cáo viên cơ sở."
EDITED = TEXT.replace("hội nghị", "hội thảo")


LONG = " ".join(f"Câu thứ {n} của bài báo kể chuyện hội nghị tỉnh lần {n * 7}." for n in range(40))


def fill(archive: Archive) -> None:
    for n in range(3):
        url = f"https://x.vn/bai-{n}"
        archive.record("s", url, fetched(n, html=page(n), url=url, text=TEXT + f" {n}"))
    archive.record("s", "https://x.vn/bai-0", fetched(9, html=page(9), url="https://x.vn/bai-0", text=EDITED))
    archive.record("s", "https://x.vn/dai", fetched(10, html=page(10), url="https://x.vn/dai", text=LONG))


def echo_index(connection: Any) -> tuple[set[int], int, list[str]]:
    """(signature lengths, band rows per indexed article, band columns)."""
    lengths = list(connection.scalars(text("SELECT length(signature) FROM echo_index WHERE signature IS NOT NULL")))
    rows = connection.scalar(text("SELECT count(*) FROM echo_bands"))
    return set(lengths), rows // len(lengths), [c["name"] for c in inspect(connection).get_columns("echo_bands")]


def texts_in_sql(url: str, first: int = 4) -> list[str]:
    return [row[0] for row in run_query(url, "SELECT tgwatch_text(text) FROM versions ORDER BY id").rows][:first]


def codecs(archive: Archive) -> set[str]:
    with archive.engine.connect() as connection:
        return set(connection.scalars(text("SELECT compression FROM captures")))


def test_texts_read_plain_in_sql_and_models(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        fill(archive)
        assert [v.content.text for v in archive.article_versions("https://x.vn/bai-0")] == [TEXT + " 0", EDITED]
        with archive.engine.connect() as connection:
            stored = connection.scalar(text("SELECT text FROM versions ORDER BY id LIMIT 1"))
    assert isinstance(stored, bytes) if archive_url.startswith("sqlite") else stored == TEXT + " 0"
    assert texts_in_sql(archive_url) == [TEXT + " 0", TEXT + " 1", TEXT + " 2", EDITED]


def test_migration_0012_upgrades_and_downgrades(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        fill(archive)
        bodies = {c.url: c.body for c in archive.iter_captures()}
        assert codecs(archive) == {"zstd+text"}
        with archive.engine.connect() as connection:
            assert echo_index(connection) == ({128}, 48, ["bucket", "article_id"])  # 0016: 48 bands
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
        assert set(connection.scalars(text("SELECT compression FROM captures"))) == {"zstd"}
        plain = list(connection.scalars(text("SELECT text FROM versions ORDER BY id")))
        assert plain[:4] == [TEXT + " 0", TEXT + " 1", TEXT + " 2", EDITED]  # plain str on both backends
        assert echo_index(connection) == ({512}, 64, ["bucket", "band", "article_id"])  # 0011's, from the texts
    engine.dispose()
    with Archive.open(archive_url) as archive:  # upgraded again on open
        assert codecs(archive) == {"zstd+text"}
        assert {c.url: c.body for c in archive.iter_captures()} == bodies
        with archive.engine.connect() as connection:
            assert echo_index(connection) == ({128}, 48, ["bucket", "article_id"])
        archive.record("t", "https://t.vn/chep", fetched(11, url="https://t.vn/chep", text=LONG))
        assert [(e.original_url, e.copy_url) for e in archive.echoes()] == [("https://x.vn/dai", "https://t.vn/chep")]
    assert texts_in_sql(archive_url) == plain[:4]


def test_a_reextracted_text_keeps_its_capture_readable(archive: Archive) -> None:
    fill(archive)
    version = archive.article_versions("https://x.vn/bai-1")[0]
    before = {c.url: c.body for c in archive.iter_captures()}
    archive.rederive(version.id, fetched(1, text="Một văn bản khác hẳn.\nĐoạn hai.").content)
    assert archive.article_versions("https://x.vn/bai-1")[0].content.text == "Một văn bản khác hẳn.\nĐoạn hai."
    assert {c.url: c.body for c in archive.iter_captures()} == before


def test_unpack_is_bounded_and_says_what_is_wrong() -> None:
    assert unpack(pack(TEXT)) == TEXT and unpack(TEXT) == TEXT and unpack(None) is None
    with pytest.raises(TextPackError, match="neither plain"):
        unpack(b"not zstd")
    with pytest.raises(TextPackError, match="claims -1 bytes"):
        unpack(b"\x28\xb5\x2f\xfd" + bytes(20))
    with pytest.raises(TextPackError, match="corrupt"):
        unpack(pack(TEXT)[:-3])
    bomb = zstandard.ZstdCompressor().compress(bytes(MAX_TEXT + 1))
    with pytest.raises(TextPackError, match="claims"):
        unpack(bomb)


@pytest.mark.usefixtures("small_training")
def test_texts_packed_with_the_site_dictionary_read_back_everywhere(archive_url: str) -> None:
    """Once the site has dictionaries, texts are packed with its texts' one (migration 0013; the first
    ones when compaction re-compresses their captures); SQL, the models and a downgrade and upgrade
    read them back."""
    words = [f"Đoạn {n}: " + page(n).decode().split("<p>")[-1].split("</p>")[0] for n in range(30)]
    with Archive.open(archive_url) as archive:
        for n in range(30):
            url = f"https://x.vn/bai-{n}"
            archive.record("s", url, fetched(n, html=page(n), url=url, text=words[n]))
        assert [archive.article_versions(f"https://x.vn/bai-{n}")[0].content.text for n in range(30)] == words
        with archive.engine.connect() as connection:
            packed = list(connection.execute(text("SELECT text FROM versions ORDER BY id")).scalars())
            kinds = dict(connection.execute(text("SELECT 32768 + id, kind FROM capture_dictionaries")).all())
    assert texts_in_sql(archive_url, 30) == words
    assert sorted(kinds.values()) == ["pages", "texts", "words"]
    if archive_url.startswith("sqlite"):  # raw, each names the vocabulary (the first ones since compaction), then
        # its frame the texts' dictionary
        named = {(int.from_bytes(bytes(p)[1:5], "big"), zstandard.get_frame_parameters(bytes(p)[5:]).dict_id)
                 for p in packed}
        assert {(kinds[words], kinds[texts]) for words, texts in named} == {("words", "texts")}
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
        assert list(connection.scalars(text("SELECT text FROM versions ORDER BY id"))) == words
    engine.dispose()
    with Archive.open(archive_url) as archive:
        assert {c.url: c.body for c in archive.iter_captures()} == {f"https://x.vn/bai-{n}": page(n) for n in range(30)}
    assert texts_in_sql(archive_url, 30) == words


def test_the_readme_edits_query_reads_texts_on_both_backends(archive_url: str) -> None:
    """The README's "Edits, with the text before and after", as a user runs it with ``tgwatch sql``."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Edits, with the text before and after", 1)[1]
    sql = block.split("```sql\n", 1)[1].split("```", 1)[0]
    with Archive.open(archive_url) as archive:
        fill(archive)
    result = run_query(archive_url, sql)
    assert [row[-2:] for row in result.rows] == [(TEXT + " 0", EDITED)]


def test_a_corrupt_text_is_one_marked_row_not_a_failed_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Archive.open(url) as archive:
        fill(archive)
        with archive.writing() as session:
            bad = b"\x28\xb5\x2f\xfd" + bytes(9)
            session.execute(text("UPDATE versions SET text = :bad WHERE id = 2"), {"bad": bad})
    texts = texts_in_sql(url)
    assert texts[0] == TEXT + " 0" and texts[1].startswith("[tgwatch_text: stored text") and texts[2] == TEXT + " 2"
