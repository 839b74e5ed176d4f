"""The echo index's stored form (migration 0015): 8-bit signatures with a bias-corrected estimate,
band keys from the full values (unchanged since 0012), and an article's old bands found again
from the text it was indexed with, on both backends."""

from __future__ import annotations

import logging
import statistics
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from storage.archive import Archive
from storage.content import Content
from storage.derived import echo_of
from storage.engine import alembic_config, create_archive_engine
from storage.reextract import rederive
from storage.shingles import BANDS, CHANCE, PERMUTATIONS, bands, estimate, minhash_values, packed, shingles
from tests.plugins.archive import fetched

LONG = " ".join(f"Câu thứ {n} của bài báo kể chuyện hội nghị tỉnh lần {n * 7}." for n in range(40))
OTHER = "\n".join(f"Đoạn {n}: Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị quán triệt nghị quyết số {n}."
                  for n in range(12))


def pair(n: int, size: int = 600) -> tuple[frozenset[str], frozenset[str]]:
    """Two shingle sets of Jaccard similarity exactly 1/3 (half of each is shared)."""
    a = frozenset(f"{n} {i}" for i in range(size))
    return a, frozenset(f"{n} {i}" for i in range(size // 2, size + size // 2))


def test_the_estimate_takes_off_chance_agreements() -> None:
    mine = bytes(range(PERMUTATIONS))
    for equal in (0, 1, 2, 64, 128):
        other = bytes(mine[:equal]) + bytes((b + 1) % 256 for b in mine[equal:])
        share = equal / PERMUTATIONS
        assert estimate(mine, [other]) == [pytest.approx(max(0.0, (share - CHANCE) / (1 - CHANCE)))]
    assert estimate(mine, [mine]) == [1.0]


def test_the_estimate_of_a_known_pair_is_unbiased() -> None:
    """J = 1/3: one pair within 0.15 (3.5 standard deviations of 128 permutations), the mean of
    200 pairs within 0.012 (4 of the mean's); the raw share of equal bytes is 0.0026 higher."""
    estimates = []
    for n in range(200):
        a, b = pair(n)
        estimates.append(estimate(packed(minhash_values(a)), [packed(minhash_values(b))])[0])
    assert abs(estimates[0] - 1 / 3) < 0.15
    assert abs(statistics.mean(estimates) - 1 / 3) < 0.012


def test_bands_keep_their_meaning() -> None:
    """A band's key: its two values' low 16 bits, the first in the low half, mixed with the band
    number (0012's keys, computed then from the stored 16-bit signature); the stored signature
    keeps each value's low byte."""
    values = minhash_values(shingles(LONG))
    sixteen = bytes((values & 0xFFFF).astype("<u2").tobytes())
    want = []
    for band in range(BANDS):
        key = int.from_bytes(sixteen[band * 4:(band + 1) * 4], "little") ^ ((band * 0x9E3779B1) & 0xFFFFFFFF)
        want.append(key - (1 << 32) if key >= 1 << 31 else key)
    assert bands(values) == want and echo_of(LONG).bands == tuple(want)
    assert echo_of(LONG).signature == packed(values) == sixteen[0::2]


def band_rows(archive: Archive, address: str) -> list[int]:
    with archive.engine.connect() as c:
        return sorted(c.scalars(text("SELECT b.bucket FROM echo_bands b JOIN articles a ON a.id = b.article_id "
                                     "WHERE a.url = :u"), {"u": address}))


def signatures(connection: Any) -> dict[int, bytes]:
    return {row[0]: bytes(row[1]) for row in connection.execute(
        text("SELECT article_id, signature FROM echo_index WHERE signature IS NOT NULL"))}


def test_a_new_version_replaces_its_bands_exactly(archive: Archive, caplog: pytest.LogCaptureFixture) -> None:
    """The old bands are found from the indexed text (recording, re-extraction) or, that text gone,
    by a scan: none is left behind either way."""
    address = "https://x.vn/a"
    scans = lambda: [r for r in caplog.records if "deleted by a scan" in r.getMessage()]  # noqa: E731
    caplog.set_level(logging.INFO, logger="storage.echoes")
    archive.record("s", address, fetched(0, url=address, text=LONG))
    assert band_rows(archive, address) == sorted(set(echo_of(LONG).bands))
    archive.record("s", address, fetched(1, url=address, text=OTHER))  # recording: from versions
    assert band_rows(archive, address) == sorted(set(echo_of(OTHER).bands))
    with archive.writing() as session:  # re-extraction rewrites the indexed version's text
        version_id = session.execute(text("SELECT max(id) FROM versions")).scalar_one()
        rederive(session, version_id, Content(title="Tiêu đề", text=LONG))
    assert band_rows(archive, address) == sorted(set(echo_of(LONG).bands)) and not scans()
    with archive.engine.begin() as c:  # the indexed text changed behind the index's back
        c.execute(text("UPDATE versions SET text = :t WHERE id = :id"), {"t": "Khác hẳn.", "id": version_id})
    archive.record("s", address, fetched(3, url=address, text=OTHER))
    assert band_rows(archive, address) == sorted(set(echo_of(OTHER).bands)) and len(scans()) == 1
    archive.record("t", "https://t.vn/b", fetched(4, url="https://t.vn/b", text=OTHER))
    assert [(e.original_url, e.copy_url) for e in archive.echoes()] == [(address, "https://t.vn/b")]


def sixty_four(t: str) -> list[int]:
    """0015's 64 band keys of a text (0016 keeps the first 48): computed here, as 0012 defined them."""
    sixteen = bytes((minhash_values(shingles(t)) & 0xFFFF).astype("<u2").tobytes())
    keys = [int.from_bytes(sixteen[b * 4:(b + 1) * 4], "little") ^ ((b * 0x9E3779B1) & 0xFFFFFFFF) for b in range(64)]
    return [k - (1 << 32) if k >= 1 << 31 else k for k in keys]


def test_bands_are_the_first_of_0015s() -> None:
    assert BANDS == 48 and bands(minhash_values(shingles(LONG))) == sixty_four(LONG)[:48]


def test_migration_0015_upgrades_and_downgrades(archive_url: str) -> None:
    with Archive.open(archive_url) as archive:
        archive.record("s", "https://x.vn/dai", fetched(0, url="https://x.vn/dai", text=LONG))
        archive.record("s", "https://x.vn/khac", fetched(1, url="https://x.vn/khac", text=OTHER))
        with archive.engine.connect() as connection:
            eight = signatures(connection)
            rows = sorted(connection.execute(text("SELECT bucket, article_id FROM echo_bands")).all())
    assert {len(s) for s in eight.values()} == {128} and len(eight) == 2
    engine = create_archive_engine(archive_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        sixteen = signatures(connection)  # recomputed from the texts: 0014's, whose low bytes were kept
        assert {a: s[0::2] for a, s in sixteen.items()} == eight
        assert sixteen == {a: bytes((minhash_values(shingles(t)) & 0xFFFF).astype("<u2").tobytes())
                           for a, t in zip(sorted(sixteen), (LONG, OTHER))}
        assert sorted(connection.execute(text("SELECT bucket, article_id FROM echo_bands")).all()) == sorted(
            (k, a) for a, t in zip(sorted(sixteen), (LONG, OTHER)) for k in set(sixty_four(t)))  # 0016's down
        command.upgrade(config, "head")
        assert signatures(connection) == eight
        assert sorted(connection.execute(text("SELECT bucket, article_id FROM echo_bands")).all()) == rows
    engine.dispose()
    with Archive.open(archive_url) as archive:
        archive.record("t", "https://t.vn/chep", fetched(2, url="https://t.vn/chep", text=LONG))
        assert [(e.original_url, e.copy_url) for e in archive.echoes()] == [("https://x.vn/dai", "https://t.vn/chep")]
