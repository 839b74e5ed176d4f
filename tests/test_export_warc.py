"""``tgwatch export warc``: a crawled fixture archive as WARC 1.1, read back and replayed with pywb.

One fixture site is crawled v1, then v2 twice (edits, removals, unchanged re-checks), exported with
``--wacz``, and the file is read back with warcio (digests checked, every body byte-identical to
the stored capture, requests and revisits linked right); pywb, in a child process, then replays an
archived article URL and must answer the stored body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from fixtures.testing import FixtureServer
from storage.archive import Archive
from storage.export import iter_export
from tests.conftest import in_ci
from tests.crawl_helpers import IN_THREAD, crawl, query, tgwatch, write_config
from tests.plugins.archive import fetched, gone

SITE = "quangtri"
PYWB = Path(sys.executable).parent.parent / "pywb" / "bin"
"""pywb's own venv (``make install`` makes it: pywb pins a redis client the frontier cannot use)."""
REPLAY = """
import sys
from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client
answer = Client(FrontEndApp(config_file="config.yaml")).get(f"/tg/{sys.argv[1]}id_/{sys.argv[2]}")
open("replayed.body", "wb").write(answer.data)
print(answer.status_code)
"""


def records(path: Path) -> list[dict[str, Any]]:
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests="raise"):
            body = record.content_stream().read()
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            headers = {"warc": record.rec_headers, "http": record.http_headers}
            found.append({"type": record.rec_type, **headers, "body": body})
    return found


def sha1(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()


def test_export_of_a_crawl_reads_back_and_replays(fresh_fixture_server: FixtureServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    config = write_config(tmp_path, fresh_fixture_server, sites=[SITE])
    crawl(db, config, settings=IN_THREAD)
    fresh_fixture_server.set_version("v2")
    crawl(db, config, settings=IN_THREAD)
    crawl(db, config, settings=IN_THREAD)
    out = tmp_path / "export.warc.gz"
    line = tgwatch(db, "export", "warc", SITE, "-o", str(out), "--wacz").stdout.strip()
    assert line.startswith(f"wrote {out} and {tmp_path / 'export.wacz'}:")

    with Archive.open(db) as archive:
        stored = {(c.url, c.fetched_at): c for c in archive.iter_captures()}
    unchanged = query(db, "SELECT count(*) FROM articles WHERE removed_at IS NULL AND gone_signals = 0 "
                          "AND last_checked_at > (SELECT fetched_at FROM versions v WHERE v.article_id = articles.id "
                          "AND v.version = articles.current_version)")[0][0]  # fmt: skip
    found = records(out)
    kinds = Counter(r["type"] for r in found)
    assert found[0]["type"] == "warcinfo" and found[0]["warc"].protocol == "WARC/1.1"
    assert kinds == {"warcinfo": 1, "response": len(stored), "request": len(stored), "revisit": unchanged}
    assert unchanged > 0
    responses = {r["warc"].get_header("WARC-Record-ID"): r for r in found if r["type"] == "response"}
    for record in found[1:]:
        assert record["warc"].protocol == "WARC/1.1"
        uri = record["warc"].get_header("WARC-Target-URI")
        if record["type"] == "response":
            capture = next(c for (url, _), c in stored.items() if url == uri and record["body"] == c.body)
            assert record["http"].get_statuscode() == str(capture.status)
            assert record["http"].get_header("Content-Length") == str(len(capture.body))
            assert record["http"].get_header("Content-Encoding") is None
            assert record["warc"].get_header("WARC-Payload-Digest") == sha1(capture.body)
        elif record["type"] == "request":
            twin = responses[record["warc"].get_header("WARC-Concurrent-To")]
            assert twin["warc"].get_header("WARC-Target-URI") == uri
            assert twin["warc"].get_header("WARC-Date") == record["warc"].get_header("WARC-Date")
            assert record["http"].protocol == "GET"
        elif record["type"] == "revisit":
            refers = record["warc"].get_header("WARC-Refers-To-Target-URI")
            date = record["warc"].get_header("WARC-Refers-To-Date")
            original = [r for r in responses.values() if r["warc"].get_header("WARC-Target-URI") == refers
                        and r["warc"].get_header("WARC-Date") == date]  # fmt: skip
            assert len(original) == 1 and record["warc"].get_header("WARC-Date") > date
            assert record["warc"].get_header("WARC-Payload-Digest") == sha1(original[0]["body"])
            assert record["warc"].get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert sorted(r["body"] for r in responses.values()) == sorted(c.body for c in stored.values())

    with zipfile.ZipFile(tmp_path / "export.wacz") as package:
        names = set(package.namelist())
        assert {"datapackage.json", "pages/pages.jsonl", "archive/export.warc.gz"} <= names
        pages = package.read("pages/pages.jsonl").decode().splitlines()
    assert json.loads(pages[0])["format"] == "json-pages-1.0" and len(pages) == 1 + len(stored)

    # pywb replays an archived article: the stored body, byte for byte
    if not (PYWB / "wb-manager").exists():
        message = f"pywb is not installed in {PYWB.parent} (make install puts it there)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url, when = next(iter(stored))
    collection = tmp_path / "pywb"
    (collection / "collections" / "tg" / "archive").mkdir(parents=True)
    (collection / "collections" / "tg" / "indexes").mkdir()
    (collection / "config.yaml").write_text("debug: false\n")  # pywb reads it (and says so if absent)
    subprocess.run([str(PYWB / "wb-manager"), "add", "tg", str(out)], cwd=collection,
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    replay = subprocess.run([str(PYWB / "python"), "-c", REPLAY, stamp, url], cwd=collection, capture_output=True,
                            text=True, timeout=240)  # fmt: skip
    assert replay.stdout.strip() == "200", replay.stderr[-2000:]
    assert (collection / "replayed.body").read_bytes() == stored[(url, when)].body


def test_export_streams_in_batches_and_filters(archive: Archive) -> None:
    """Captures come a batch at a time, in version order; --since keeps later captures and the
    revisits of later unchanged checks; a removed article's last check is no revisit."""
    for n in range(7):
        url = f"https://x.vn/bai-{n}"
        archive.record("s", url, fetched(n, url=url, html=f"<p>{n}</p>".encode()))
    archive.record("s", "https://x.vn/bai-1", fetched(100, url="https://x.vn/bai-1"))  # unchanged
    archive.record("s", "https://x.vn/bai-2", gone(101))
    archive.record("s", "https://x.vn/bai-2", gone(102))  # removed: its last check is no revisit
    archive.record("s", "https://x.vn/bai-3", gone(103))  # one removal signal: no revisit either
    archive.record("other", "https://y.vn/a", fetched(3, url="https://y.vn/a"))
    every = list(iter_export(archive.reading, ["s"], batch=2))
    assert [e.capture.article_url for e in every] == [f"https://x.vn/bai-{n}" for n in range(7)]
    assert [e.rechecked_at is not None for e in every] == [n == 1 for n in range(7)]
    later = list(iter_export(archive.reading, ["s"], every[5].capture.fetched_at, batch=2))
    assert [(e.capture.article_url, e.fetched_in_range) for e in later] == [
        ("https://x.vn/bai-1", False), ("https://x.vn/bai-5", True), ("https://x.vn/bai-6", True)]


def test_export_refuses_an_unknown_site(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    Archive.open(db).close()
    result = tgwatch(db, "export", "warc", "nowhere", "-o", str(tmp_path / "x.warc.gz"), check=False)
    assert result.returncode == 2 and "nowhere: no such site in the archive" in result.stderr
    assert not list(tmp_path.glob("x.warc*"))
