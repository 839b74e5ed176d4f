"""Bounded fetching (issue 9, item 2 and the fetch deadline of item 5).

The audit: a double-gzip answer (``Content-Encoding: gzip, gzip``, 10 GiB decoded) took 21 GB of
memory in ``tgwatch scrape URL`` before the 10 MB limit was noticed; a server sending one byte a
second held ``scrape`` beyond 120 s. Here the same answers come from the fixture server
(``fixtures.hostile``) to ``tgwatch scrape`` in a child process whose peak memory is measured, and
to a crawl, which must drop the bomb as a failed check. ``crawler.inflate`` is checked layer by
layer: every encoding decodes right, and no layer puts out more than the limit.
"""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path

import pytest

from crawler.inflate import STEP, Inflater, TooLarge, UnknownEncoding, accepted, bounded_brotli
from fixtures.hostile import gzip_bomb
from fixtures.testing import FixtureServer
from tests.crawl_helpers import IN_THREAD, crawl, query, write_config
from tests.peak import finish as peak_finish
from tests.peak import start as peak_start

MEMORY_LIMIT_MB = 300


def scrape_child(*args: str, timeout: float = 120) -> tuple[int, str, float, float]:
    """``tgwatch scrape ARGS`` in a child process: exit code, stderr, peak memory (MB), seconds taken."""
    started = time.monotonic()
    code, _, err, peak = peak_finish(peak_start("scrape", *args), timeout=timeout)
    assert peak is not None
    return code, err, peak, time.monotonic() - started


def test_scrape_of_a_double_gzip_bomb_stops_at_the_limit_in_bounded_memory(fixture_server: FixtureServer) -> None:
    code, err, peak_mb, _ = scrape_child(fixture_server.url + "_fault/gzipbomb")
    assert code == 3, err
    assert err.strip().splitlines() == [err.strip()] and "larger than the 10 MB limit (once decoded)" in err
    assert "Traceback" not in err
    assert peak_mb < MEMORY_LIMIT_MB, f"scrape of the bomb peaked at {peak_mb:.0f} MB"


def test_scrape_of_a_trickling_server_keeps_its_deadline(fixture_server: FixtureServer) -> None:
    code, err, _, seconds = scrape_child(fixture_server.url + "_fault/trickle?n=60", "--deadline", "3")
    assert code == 3 and "took longer than the 3 s deadline" in err, err
    assert seconds < 3 + 15, seconds  # the deadline, plus the interpreter's start on a busy machine


def test_crawl_drops_the_bomb_as_a_failed_check(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    """Scrapy's HttpCompressionMiddleware (2.19) bounds each layer by DOWNLOAD_MAXSIZE: the bomb is
    ignored, the crawl's memory stays bounded, and nothing is recorded as an edit or a removal."""
    server = fresh_fixture_server
    config = write_config(tmp_path, server, sites=["tuyengiao"])
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    crawl(db, config, settings=IN_THREAD)
    victim = query(db, "SELECT url FROM articles ORDER BY id LIMIT 1")[0][0]
    server.fault(victim.removeprefix(server.url.rstrip("/")), "gzipbomb")
    settings = [a for k, v in {**IN_THREAD, "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}.items()
                for a in ("-s", f"{k}={v}")]
    code, out, err, peak = peak_finish(peak_start("--db", db, "--config", str(config), "crawl", "--recheck", "all",
                                                  *settings))
    assert code == 0, err[-3000:]
    assert "edited 0" in out and "removed 0" in out, out
    assert peak is not None and peak < MEMORY_LIMIT_MB
    changes = query(db, "SELECT kind FROM changes JOIN articles ON articles.id = changes.article_id "
                        f"WHERE articles.url = '{victim}'")
    assert changes == [("new",)]


# -- the decoder, layer by layer ------------------------------------------------------------------

PAGE = ("<html><body>" + "<p>Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.</p>" * 5000 + "</body></html>").encode()


def decode(body: bytes, encoding: str, limit: int = 50 * 1024 * 1024, chunk: int = 1000) -> bytes:
    inflater = Inflater(encoding, limit)
    out = bytearray()
    for start in range(0, len(body), chunk):
        for piece in inflater.feed(body[start:start + chunk]):
            assert len(piece) <= STEP
            out += piece
    for piece in inflater.end():
        out += piece
    return bytes(out)


def deflate(data: bytes, wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


def zstd_compress(data: bytes) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd.compress(data)


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", lambda d: deflate(d, 15)),
    ("deflate", lambda d: deflate(d, -15)),  # raw deflate, as some servers send it
    ("zstd", zstd_compress),
    ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d))),
    ("deflate, gzip", lambda d: gzip.compress(deflate(d, 15))),
    ("gzip,zstd", lambda d: zstd_compress(gzip.compress(d))),
    ("identity", lambda d: d),
    ("", lambda d: d),
])
def test_every_encoding_decodes(encoding: str, encode) -> None:
    assert decode(encode(PAGE), encoding) == PAGE


def test_gzip_members_one_after_another() -> None:
    assert decode(gzip.compress(PAGE[:100]) + gzip.compress(PAGE[100:]), "gzip") == PAGE


def test_no_layer_decodes_past_the_limit() -> None:
    bomb = gzip_bomb()
    inflater = Inflater("gzip, gzip", 10 * 1024 * 1024)
    with pytest.raises(TooLarge):
        for start in range(0, len(bomb), 16384):
            for _ in inflater.feed(bomb[start:start + 16384]):
                pass
    assert all(size <= 10 * 1024 * 1024 + STEP for size in inflater.sizes)
    inner = gzip.compress(b"\0" * (20 * 1024 * 1024))
    with pytest.raises(TooLarge):
        decode(inner, "gzip", limit=1024 * 1024)


def test_brotli_only_with_a_bounded_decoder() -> None:
    if bounded_brotli():
        import brotli

        assert "br" in accepted() and decode(brotli.compress(PAGE), "br") == PAGE
    else:  # brotlipy (pywb's) takes the module's name and decodes without a limit: refused
        assert "br" not in accepted()
        with pytest.raises(UnknownEncoding):
            Inflater("br", 1024)
    with pytest.raises(UnknownEncoding):
        Inflater("gzip, compress", 1024)
