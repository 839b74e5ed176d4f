"""Texts written in a site's vocabulary before zstd (``storage.textpack.Words``, migration 0014):
lossless for any text, older values still read, bounded, readable in SQL."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import zstandard
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storage import textpack
from storage.archive import Archive
from storage.engine import alembic_config, create_archive_engine
from storage.textpack import WORDS_MAGIC, TextPackError, WordCodec, Words, pack, unpack
from tests.plugins.archive import fetched
from tests.test_storage_captures import WORDS, page, small_training  # noqa: F401 (a fixture)
from tests.test_storage_textpack import texts_in_sql


def report(seed: int) -> str:
    rng = random.Random(seed)
    sentences = (" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))) + rng.choice(".,;") for _ in range(9))
    return " ".join(sentences) + f"\nTin {seed}."


SAMPLES = [report(n) for n in range(300)]
VOCABULARY = Words.learn(SAMPLES, words_id=40_000)
DICTIONARY = zstandard.train_dictionary(16_384, [VOCABULARY.encode(t) for t in SAMPLES], dict_id=40_001)
CODEC = WordCodec(VOCABULARY, DICTIONARY)


def read(value: bytes) -> str | None:
    return unpack(value, {DICTIONARY.dict_id(): DICTIONARY}.get, {VOCABULARY.id: VOCABULARY}.get)


HOSTILE = ["", "\x00", "\x00\x00 \x00", "\xfe\xff", "\x7f\x80\xd7\xd8 \xfd", "\U0010ffff \U0001f600",
           "ن ả 字 ", "x" * 5000, "Đảng " * 3, "bộ\n\n\r\t", "\ufeff\u200b", "\\x00"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from([*VOCABULARY.tokens[:300], *HOSTILE])).map("".join)))
def test_any_text_round_trips(value: str) -> None:
    packed = pack(value, CODEC)
    assert packed.startswith(VOCABULARY.header) and read(packed) == value


def test_a_report_in_the_vocabulary_is_smaller_and_its_tokens_short() -> None:
    fresh = report(1000)
    assert len(VOCABULARY.encode(fresh)) < len(fresh.encode()) / 2
    assert len(pack(fresh, CODEC)) < len(pack(fresh, DICTIONARY))
    assert read(pack(fresh, CODEC)) == fresh


def test_older_values_read_as_before() -> None:
    fresh = report(1001)
    for value in (fresh, pack(fresh), pack(fresh, DICTIONARY)):
        assert read(value) == fresh  # type: ignore[arg-type]


def test_a_text_longer_than_a_stream_is_a_plain_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textpack, "MAX_STREAM", 100)
    fresh = report(1002)
    packed = pack(fresh, CODEC)
    assert packed.startswith(b"\x28\xb5\x2f\xfd") and read(packed) == fresh


def test_unpacking_is_bounded_and_reads_corrupt_streams_as_replacement_characters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    long_word = Words(7, ["ừ" * 40])
    bomb = long_word.header + zstandard.ZstdCompressor().compress(bytes(1000))  # 1,000 codes of 120 bytes
    monkeypatch.setattr(textpack, "MAX_TEXT", 100_000)
    with pytest.raises(TextPackError, match="unpacks to 120000 bytes"):
        unpack(bomb, None, {7: long_word}.get)
    within = long_word.header + zstandard.ZstdCompressor().compress(bytes(800))
    assert unpack(within, None, {7: long_word}.get) == "ừ" * 40 * 800
    too_long = VOCABULARY.header + zstandard.ZstdCompressor().compress(bytes(textpack.MAX_STREAM + 1))
    with pytest.raises(TextPackError, match="claims"):
        read(too_long)
    first, lead = VOCABULARY.tokens[0], bytes([textpack.ONE_BYTE])
    past_the_end = bytes([textpack.ONE_BYTE + 37, 200])  # a code no token has
    for stream, plain in ((b"\xfe", "\ufffd"), (b"\xff", "\ufffd"), (b"\xfe\x00\x00", f"\ufffd{first}{first}"),
                          (b"\x00\xff", f"{first}\ufffd"), (b"\x00" + lead, f"{first}\ufffd"),
                          (past_the_end, "\ufffd"), (b"\xfe" * 30_000, "\ufffd" * 30_000),
                          (b"\xfe\xc3\xff\xfeok\xff", "\ufffdok")):  # a literal that is not UTF-8
        assert read(VOCABULARY.header + zstandard.ZstdCompressor().compress(stream)) == plain
    with pytest.raises(TextPackError, match="needs word vocabulary 40002"):
        read(WORDS_MAGIC + (40_002).to_bytes(4, "big") + pack("x", DICTIONARY))
    with pytest.raises(TextPackError, match="neither plain nor a zstd frame"):
        read(VOCABULARY.header + b"not zstd")


def test_stored_vocabularies_are_checked() -> None:
    assert Words.from_bytes(VOCABULARY.to_bytes()).tokens == VOCABULARY.tokens
    for data in (b"tgwatch-words/1\n{}", b"tgwatch-words/1\n[", b"other", b'tgwatch-words/1\n{"id": 1, "texts": 0, '
                 b'"tokens": [""]}', textpack.WORDS_FORMAT + b'{"id": -1, "texts": 0, "tokens": []}',
                 textpack.WORDS_FORMAT + b'{"id": 1, "texts": 0, "tokens": ["\\ud800 "]}'):
        with pytest.raises(TextPackError, match="not a stored vocabulary"):
            Words.from_bytes(data)
    with pytest.raises(TextPackError, match="at most"):
        Words(1, [str(n) for n in range(textpack.CAPACITY + 1)])


def fill(archive: Archive) -> list[str]:
    reports = [report(n) for n in range(30)]
    for n, body in enumerate(reports):
        url = f"https://x.vn/bai-{n}"
        archive.record("s", url, fetched(n, html=page(n), url=url, text=body))
    return reports


def packed_texts(archive_url: str) -> list[Any]:
    """``versions.text`` as stored (bytes packed, str plain)."""
    with create_archive_engine(archive_url).connect() as connection:
        return list(connection.scalars(text("SELECT text FROM versions ORDER BY id")))


@pytest.mark.usefixtures("small_training")
def test_sql_reads_every_form_and_names_a_missing_vocabulary(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'archive.db'}"  # SQLite packs texts; PostgreSQL keeps them plain
    with Archive.open(sqlite_url) as archive:
        reports = fill(archive)
        with archive.engine.begin() as connection:
            texts_id = connection.scalar(text("SELECT 32768 + id FROM capture_dictionaries WHERE kind = 'texts'"))
            ids = list(connection.scalars(text("SELECT id FROM versions ORDER BY id")))
            dictionary = zstandard.ZstdCompressionDict(bytes(connection.scalar(text(
                "SELECT data FROM capture_dictionaries WHERE kind = 'texts'"))))
            older = [reports[0], pack(reports[1]), pack(reports[2], dictionary)]  # plain, frame, frame with dictionary
            for version_id, value in zip(ids, older):
                connection.execute(text("UPDATE versions SET text = :t WHERE id = :id"), {"t": value, "id": version_id})
    stored = packed_texts(sqlite_url)
    assert {value[:1] for value in stored[3:]} == {WORDS_MAGIC}
    assert texts_in_sql(sqlite_url, 30) == reports  # a read-only connection (``tgwatch sql``)
    with Archive.open(sqlite_url) as archive:
        assert [archive.article_versions(f"https://x.vn/bai-{n}")[0].content.text for n in range(30)] == reports
        with archive.engine.begin() as connection:
            words_id = connection.scalar(text("SELECT 32768 + id FROM capture_dictionaries WHERE kind = 'words'"))
            connection.execute(text("DELETE FROM capture_dictionaries WHERE kind = 'words'"))
    assert texts_in_sql(sqlite_url, 4) == reports[:3] + [
        f"[tgwatch_text: stored text needs word vocabulary {words_id}, not in the archive]"]
    assert int.from_bytes(stored[3][1:5], "big") == words_id
    assert zstandard.get_frame_parameters(stored[3][5:]).dict_id == texts_id


@pytest.mark.usefixtures("small_training")
def test_migration_0014_downgrades_to_frames_and_upgrades(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        reports = fill(archive)
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
        assert sorted(connection.scalars(text("SELECT kind FROM capture_dictionaries"))) == ["pages", "texts"]
    engine.dispose()
    if archive_url.startswith("sqlite"):
        texts_id = 32768 + 2  # the site's texts' dictionary, trained after its pages' one
        assert {zstandard.get_frame_parameters(v).dict_id for v in packed_texts(archive_url)} == {texts_id}
    assert texts_in_sql(archive_url, 30) == reports
    with Archive.open(archive_url) as archive:  # upgraded again: the texts stay frames, a retraining writes words
        list(archive.compact(retrain=True))
        assert [archive.article_versions(f"https://x.vn/bai-{n}")[0].content.text for n in range(30)] == reports
    if archive_url.startswith("sqlite"):  # those whose captures compaction rewrote
        assert WORDS_MAGIC in {bytes(v)[:1] for v in packed_texts(archive_url)}
    assert texts_in_sql(archive_url, 30) == reports


@pytest.mark.usefixtures("small_training")
def test_a_site_first_trained_on_few_texts_is_trained_again_once_on_more(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vocabulary of the first 24 texts is learnt again from the newest ones once the site has
    enough captures; texts packed after it name the new one, every text still reads back."""
    from storage import captures

    monkeypatch.setattr(captures, "TRAIN_SAMPLES", 40)
    monkeypatch.setattr(captures, "RETRAIN_TEXTS_AFTER", 60)
    monkeypatch.setattr(captures, "RETRAIN_EVERY", 8)
    monkeypatch.setattr(captures, "_SEEN", {})
    sqlite_url = f"sqlite:///{tmp_path / 'archive.db'}"
    reports = [report(n) for n in range(90)]
    with Archive.open(sqlite_url) as archive:
        for n, body in enumerate(reports):
            archive.record("s", f"https://x.vn/bai-{n}", fetched(n, html=page(n), url=f"https://x.vn/bai-{n}",
                                                                 text=body))
        with archive.engine.connect() as connection:
            trained = connection.execute(text("SELECT kind, samples FROM capture_dictionaries ORDER BY id")).all()
            vocabularies = [32768 + i for i in connection.scalars(text(
                "SELECT id FROM capture_dictionaries WHERE kind = 'words' ORDER BY id"))]
        assert [tuple(row) for row in trained] == [("pages", 24), ("texts", 24), ("words", 24),
                                                   ("texts", 40), ("words", 40)]
        named = [int.from_bytes(bytes(v)[1:5], "big") for v in packed_texts(sqlite_url)
                 if isinstance(v, bytes) and v.startswith(WORDS_MAGIC)]
        assert named[0] == vocabularies[0] and named[-1] == vocabularies[1]
        assert named.count(vocabularies[1]) >= 90 - 64  # all those recorded after the 64th capture
        assert [archive.article_versions(f"https://x.vn/bai-{n}")[0].content.text for n in range(90)] == reports
    assert texts_in_sql(sqlite_url, 90) == reports
