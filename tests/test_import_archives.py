"""``tgwatch import warc`` and ``tgwatch import wayback``: a site's history from web archives.

A WARC written here with warcio holds two captures of each of 20 fixture articles (v1, then v2 a
day later; one of them edited) and a removed article's captures (a page, then two 404s): the import
gives what crawling them gives (the scenario's verdicts and fields, versions at capture time), as
a WACZ too, and running it twice adds nothing. The Wayback path runs against a local CDX server
that pages its answers, throttles once and breaks in the middle: the import backs off, stops with
one line, and resumes from its cursor.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from fixtures.config import site_config
from fixtures.gold import load_scenario
from fixtures.tree import SITES_DIR, file_for
from storage.archive import Archive
from tests.crawl_helpers import counts, flagged, tgwatch

BASE = "http://127.0.0.1:8000"
T1 = datetime(2025, 1, 11, 3, 0, tzinfo=UTC)
T2 = T1 + timedelta(days=1)


def chosen() -> tuple[list[tuple[str, str, dict[str, Any]]], tuple[str, str, dict[str, Any]]]:
    """20 articles of v1 (the first edited in v2, the others seen unchanged), one removed with a 404."""
    scenario = load_scenario()
    items = [(site, path, e) for site in sorted(scenario) for path, e in scenario[site].items()]
    edited = next(i for i in items if i[2]["verdict"] == "edited")
    gone = next(i for i in items if i[2]["verdict"] == "removed" and i[2]["how"] == "404")
    same = [i for i in items if i[2]["verdict"] != "new" and i not in (edited, gone)][:19]
    return [edited, *same], gone


def second(n: int, entry: dict[str, Any]) -> str:
    """The version the second capture shows: v2 for the edited one (the first) and unchanged ones,
    else v1 again."""
    return "v2" if n == 0 or entry["verdict"] == "unchanged" else "v1"


def page(version: str, path: str) -> bytes:
    return (SITES_DIR / version / file_for(path)).read_bytes()


def write_record(writer: WARCWriter, url: str, when: datetime, status: int, body: bytes) -> None:
    reason = {200: "OK", 404: "Not Found"}[status]
    headers = StatusAndHeaders(f"{status} {reason}", [("Content-Type", "text/html; charset=utf-8")],
                               protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                       warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    writer.write_record(record)


def captures() -> list[tuple[str, datetime, int, bytes]]:
    articles, gone = chosen()
    out = []
    for n, (_, path, entry) in enumerate(articles):
        out += [(BASE + path, T1, 200, page("v1", path)), (BASE + path, T2, 200, page(second(n, entry), path))]
    path = gone[1]
    out += [(BASE + path, T1, 200, page("v1", path)), (BASE + path, T2, 404, b"<h1>404</h1>"),
            (BASE + path, T2 + timedelta(hours=6), 404, b"<h1>404</h1>")]
    return out


@pytest.fixture(scope="module")
def warc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warc") / "history.warc.gz"
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, when, status, body in reversed(captures()):  # out of order on purpose
            write_record(writer, url, when, status, body)
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tgwatch.toml"
    path.write_text(site_config(BASE), encoding="utf-8")
    return path


def expected() -> dict[tuple[str, str], list[tuple[str, frozenset[str]]]]:
    articles, gone = chosen()
    out = {(site, path): [("new", frozenset())] for site, path, _ in articles}
    site, path, entry = articles[0]
    out[(site, path)].append(("edited", frozenset(entry["fields"])))
    out[(gone[0], gone[1])] = [("new", frozenset()), ("removed", frozenset())]
    return out


def assert_history(db: str) -> None:
    assert flagged(db) == expected()
    with Archive.open(db) as archive:
        for _, path, _ in chosen()[0][:3]:
            versions = archive.article_versions(BASE + path)
            assert versions[0].fetched_at == T1
            assert all(v.fetched_at in (T1, T2) for v in versions)


def test_import_warc_gives_the_crawls_history_and_twice_adds_nothing(warc_file: Path, config: Path,
                                                                      tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    first = tgwatch(db, "import", "warc", str(warc_file), config=config)
    assert "new 21" in first.stdout and "edited 1" in first.stdout and "removed 1" in first.stdout
    assert_history(db)
    before = counts(db)
    again = tgwatch(db, "import", "warc", str(warc_file), config=config)
    assert counts(db) == before and "already in the archive 43" in again.stdout
    assert flagged(db) == expected()


def test_import_wacz(warc_file: Path, config: Path, tmp_path: Path) -> None:
    wacz = tmp_path / "history.wacz"
    with zipfile.ZipFile(wacz, "w") as bundle:
        bundle.write(warc_file, "archive/data.warc.gz")
        bundle.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": []}))
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    tgwatch(db, "import", "warc", str(wacz), config=config)
    assert_history(db)


def test_a_damaged_file_is_one_line_and_records_nothing(warc_file: Path, config: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage" * 20)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    result = tgwatch(db, "import", "warc", str(warc_file), str(broken), config=config, check=False)
    assert result.returncode == 2 and "broken.warc.gz: not a readable WARC file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "archive.db").exists() or flagged(db) == {}  # every file checked first


class CdxHandler(BaseHTTPRequestHandler):
    """A CDX server of three rows a page, and the captures under /web/<timestamp>id_/<url>."""

    rows: list[list[str]] = []
    bodies: dict[tuple[str, str], tuple[int, bytes]] = {}
    throttle = 0  # answers 429 (Retry-After: 0) to this many next requests
    broken_from: int | None = None  # CDX pages from this offset on answer 503
    requests: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict[str, str] | None = None
              ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        cls = type(self)
        cls.requests.append(self.path)
        if cls.throttle:
            cls.throttle -= 1
            return self._send(429, b"slow down", "text/plain", {"Retry-After": "0"})
        parts = urlsplit(self.path)
        if parts.path == "/cdx/search/cdx":
            query = parse_qs(parts.query)
            start = int(query.get("resumeKey", ["0"])[0])
            if cls.broken_from is not None and start >= cls.broken_from:
                return self._send(503, b"down", "text/plain", {"Retry-After": "0"})
            table: list[Any] = [["timestamp", "original", "statuscode"], *cls.rows[start:start + 3]]
            if start + 3 < len(cls.rows):
                table += [[], [str(start + 3)]]
            return self._send(200, json.dumps(table).encode())
        timestamp, _, original = parts.path.removeprefix("/web/").partition("id_/")
        status, body = cls.bodies.get((timestamp, original + (f"?{parts.query}" if parts.query else "")),
                                      (404, b"not archived"))
        self._send(status, body, "text/html; charset=utf-8")


@pytest.fixture
def cdx_server() -> Iterator[str]:
    rows, bodies = [], {}
    for url, when, status, body in sorted(captures(), key=lambda c: (c[0], c[1])):  # CDX order: URL, time
        stamp = when.strftime("%Y%m%d%H%M%S")
        rows.append([stamp, url, str(status)])
        bodies[(stamp, url)] = (status, body)
    CdxHandler.rows, CdxHandler.bodies, CdxHandler.requests = rows, bodies, []
    CdxHandler.throttle, CdxHandler.broken_from = 1, None
    server = ThreadingHTTPServer(("127.0.0.1", 0), CdxHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_import_wayback_backs_off_stops_and_resumes(cdx_server: str, config: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    cursor = tmp_path / "cursor.json"
    args = ["import", "wayback", BASE + "/", "--server", cdx_server, "--cursor", str(cursor)]
    CdxHandler.broken_from = 9  # the fourth page never answers
    broken = tgwatch(db, *args, config=config, check=False)
    assert broken.returncode == 3 and "gave up after 6 tries (HTTP 503)" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert json.loads(cursor.read_text()) == {"prefix": BASE + "/", "resume_key": "9", "done": False}
    assert CdxHandler.requests[0].startswith("/cdx/") and CdxHandler.requests[1].startswith("/cdx/")  # 429, again
    CdxHandler.broken_from, CdxHandler.requests = None, []
    tgwatch(db, *args, config=config)
    assert "resumeKey=9" in CdxHandler.requests[0]  # went on from its cursor
    assert json.loads(cursor.read_text())["done"] is True
    assert_history(db)
    before = counts(db)
    cursor.unlink()
    tgwatch(db, *args, config=config)  # from the start again: nothing new
    assert counts(db) == before
