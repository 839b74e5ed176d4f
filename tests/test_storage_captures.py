"""Captures as stored (``storage.captures``): zstd with a per-site dictionary, read back byte-identical."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from sqlalchemy import select, text, update

from monitor.cli import main
from storage import captures
from storage.archive import Archive
from storage.models import CaptureRow
from tests.plugins.archive import fetched

WORDS = "Đảng bộ tỉnh tổ chức hội nghị quán triệt nghị quyết Ban Tuyên giáo báo cáo viên cơ sở".split()


def page(n: int) -> bytes:
    """A page with shared chrome and a body of its own (random words: nothing a dictionary knows)."""
    rng = random.Random(n)
    chrome = "".join(f'<li><a href="/muc-{k}">Chuyên mục {k} {WORDS[k % len(WORDS)]}</a></li>' for k in range(150))
    body = " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(300))
    html = f"<html><head><style>{chrome}</style></head><body><nav>{chrome}</nav><p>{body} {n}</p></body></html>"
    return html.encode()


@pytest.fixture
def small_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Train after 24 captures, a small dictionary: the same code path as 128 real pages, faster."""
    monkeypatch.setattr(captures, "TRAIN_AFTER", 24)
    monkeypatch.setattr(captures, "DICTIONARY_SIZE", 16_384)


def record(archive: Archive, pages: range, site: str = "s") -> None:
    for n in pages:
        archive.record(site, f"https://x.vn/bai-{n}", fetched(n, html=page(n), url=f"https://x.vn/bai-{n}",
                                                              title=f"Bài {n}"))


def stored(archive: Archive) -> list[tuple[str, int | None, int]]:
    with archive.engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT compression, dictionary_id, LENGTH(body) FROM captures ORDER BY id"))]  # type: ignore[misc]


def bodies(archive: Archive) -> dict[str, bytes]:
    return {c.url: c.body for c in archive.iter_captures()}


def test_round_trip_without_dictionary(archive: Archive) -> None:
    record(archive, range(3))
    assert bodies(archive) == {f"https://x.vn/bai-{n}": page(n) for n in range(3)}
    assert {(codec, dictionary) for codec, dictionary, _ in stored(archive)} == {("zstd+text", None)}


def test_a_capture_stores_only_what_its_text_does_not_hold(archive: Archive) -> None:
    """The page's article text is the version's text: compressed against it, the capture is smaller
    than the page compressed alone, and reads back byte-identical."""
    body = page(7)
    words = body.decode().split("<p>")[1].split("</p>")[0]
    archive.record("s", "https://x.vn/bai-7", fetched(7, html=body, url="https://x.vn/bai-7", text=words))
    ((codec, _, size),) = stored(archive)
    assert codec == "zstd+text" and size < 0.6 * len(zstandard.ZstdCompressor(level=captures.LEVEL).compress(body))
    assert bodies(archive) == {"https://x.vn/bai-7": body}


@pytest.mark.parametrize("seed", range(4))
def test_hostile_bytes_and_texts_round_trip(archive: Archive, seed: int) -> None:
    rng = random.Random(seed)
    body = bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 5000])))
    text_ = "".join(chr(rng.choice([9, 10, 65, 0xE9, 0x1EA1, 0xFFFD, 0x1F600])) for _ in range(rng.choice([1, 8, 900])))
    archive.record("s", "https://x.vn/x", fetched(1, html=body, url="https://x.vn/x", text=text_ + "x"))
    assert bodies(archive) == {"https://x.vn/x": body}


def test_dictionary_trained_once_enough_captures_then_used(archive: Archive, small_training: None) -> None:
    record(archive, range(30))
    rows = stored(archive)
    dictionaries = {dictionary for _, dictionary, _ in rows}
    assert len(dictionaries) == 1 and None not in dictionaries  # the first 23 were re-compressed with it
    assert bodies(archive) == {f"https://x.vn/bai-{n}": page(n) for n in range(30)}
    plain = len(zstandard.ZstdCompressor(level=captures.LEVEL).compress(page(29)))
    assert rows[-1][2] < plain * 0.8  # the chrome comes from the dictionary
    record(archive, range(30, 32), site="other")  # another site: none of this one's dictionary
    assert [d for _, d, _ in stored(archive)[-2:]] == [None, None]


def test_compact_turns_old_zlib_captures_into_zstd_with_the_site_dictionary(
    archive: Archive, small_training: None, tmp_path: Path
) -> None:
    record(archive, range(30))
    with archive.writing() as session:  # as an archive written before migration 0010 holds them
        for row in session.scalars(select(CaptureRow)):
            raw = captures.decode(session, row)
            row.compression, row.dictionary_id, row.body = "zlib", None, zlib.compress(raw, 6)
        if archive.engine.dialect.name == "sqlite":  # plain JSON before migration 0013
            session.execute(text("UPDATE captures SET headers = tgwatch_text(headers)"))
        session.execute(text("DELETE FROM capture_dictionaries"))
    before = bodies(archive)
    assert set(before.values()) == {page(n) for n in range(30)}
    done = list(archive.compact(batch=7))
    assert len(done) == 5 and sum(d.rewritten for _, d in done) == 30  # 5 transactions of at most 7
    assert {(codec, dictionary is not None) for codec, dictionary, _ in stored(archive)} == {("zstd+text", True)}
    assert bodies(archive) == before
    assert list(archive.compact()) == []  # nothing left to do
    retrained = list(archive.compact(retrain=True))  # a capture is rewritten only if it shrinks
    assert len(retrained) == 1 and retrained[0][1].rewritten <= 30
    assert bodies(archive) == before
    with archive.engine.connect() as c:
        counts = dict(c.execute(text("SELECT kind, COUNT(*) FROM capture_dictionaries GROUP BY kind")).all())
        assert counts == {"pages": 2, "texts": 2, "words": 2}  # each training: pages', texts' dictionaries, words


def test_compact_command(tmp_path: Path, small_training: None) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Archive.open(url) as archive:
        record(archive, range(5))
        with archive.writing() as session:
            session.execute(update(CaptureRow).values(compression="none", body=CaptureRow.body))
            for row in session.scalars(select(CaptureRow)):
                row.body = page(int(row.url.rsplit("-", 1)[1]))
    result = CliRunner().invoke(main, ["--db", url, "compact"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("re-compressed 5 captures of 1 sites:")
    with Archive.open(url) as archive:
        assert bodies(archive) == {f"https://x.vn/bai-{n}": page(n) for n in range(5)}


@pytest.mark.parametrize("codec", ["zstd", "zlib", "zstd+text"])
def test_a_capture_bomb_is_refused_without_inflating_it(archive: Archive, codec: str) -> None:
    record(archive, range(1))
    bomb = bytes(256 * 1024 * 1024)  # 256 MiB of zeros: a few KB compressed
    packed = zstandard.ZstdCompressor().compress(bomb) if codec.startswith("zstd") else zlib.compress(bomb, 9)
    del bomb
    with archive.writing() as session:
        row = session.scalars(select(CaptureRow)).one()
        row.compression, row.body = codec, packed
    with pytest.raises(captures.CaptureError, match="decodes to more"):
        list(archive.iter_captures())
    with archive.writing() as session:
        session.scalars(select(CaptureRow)).one().size = captures.MAX_CAPTURE + 1
    with pytest.raises(captures.CaptureError, match="out of bounds"):
        list(archive.iter_captures())


def test_unknown_codec_and_corrupt_data_are_one_line_errors(archive: Archive) -> None:
    record(archive, range(1))
    with archive.writing() as session:
        session.scalars(select(CaptureRow)).one().compression = "lzma"
    with pytest.raises(captures.CaptureError, match="unknown compression 'lzma'"):
        list(archive.iter_captures())
    with archive.writing() as session:
        row = session.scalars(select(CaptureRow)).one()
        row.compression, row.body = "zstd", b"\x28\xb5\x2f\xfd" + bytes(20)
    with pytest.raises(captures.CaptureError) as failed:
        list(archive.iter_captures())
    assert "\n" not in str(failed.value)
