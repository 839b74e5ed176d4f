"""Issue 9, low items: article checks that were lost instead of counted.

A decompression bomb (a small gzip body that decodes past ``DOWNLOAD_MAXSIZE``) and a body that
cannot be decoded at all (``Content-Encoding: gzip`` on bytes that are no gzip) are *failed
checks*: counted in the crawl's summary and in ``crawl_runs.failed``, recorded on a known article,
never a removal and never silently dropped.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storage.archive import Archive
from tests.crawl_helpers import IN_THREAD, crawl, query
from tests.plugins.archive import fetched

BOMB = gzip.compress(b"\0" * (40 * 1024 * 1024), compresslevel=9)  # 40 MiB decoded, ~40 KB sent
ARTICLE = (
    "<html><head><title>Bài viết</title></head><body><article><h1>Hội nghị triển khai nhiệm vụ năm 2024</h1>"
    "<p>Sáng 16/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị triển khai nhiệm vụ công tác năm 2024.</p>"
    "<p>Đồng chí Trưởng ban đề nghị các cấp ủy tiếp tục thực hiện nghiêm các nghị quyết của Đảng.</p>"
    "</article></body></html>"
).encode()


class Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        headers: dict[str, str] = {"Content-Type": "text/html; charset=utf-8"}
        if self.path == "/robots.txt":
            body = b""
        elif self.path == "/":
            body = b"".join(b'<a href="/tin/bai-%d">tin %d</a> ' % (n, n) for n in (1, 2, 3)) + b"<p>listing</p>"
        elif self.path == "/tin/bai-1":
            body, headers["Content-Encoding"] = BOMB, "gzip"
        elif self.path == "/tin/bai-2":
            body, headers["Content-Encoding"] = b"this is no gzip stream at all" * 10, "gzip"
        else:
            body = ARTICLE
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_bombed_and_undecodable_checks_are_failed_checks(hostile: str, tmp_path: Path) -> None:
    config = tmp_path / "tgwatch.toml"
    config.write_text(f'[[sites]]\nname = "hostile"\nstart_urls = ["{hostile}/"]\narticle_url = "/tin/bai-\\\\d+$"\n',
                      encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with Archive.open(db) as archive:  # bai-2 is known: its failed check must not make it "removed"
        archive.record("hostile", f"{hostile}/tin/bai-2", fetched(0, url=f"{hostile}/tin/bai-2"))
    summary = crawl(db, config, "hostile", settings={**IN_THREAD, "DOWNLOAD_MAXSIZE": str(4 * 1024 * 1024)})
    assert "new 1" in summary and "failed checks 2" in summary and "removed 0" in summary, summary
    assert query(db, "SELECT outcome, failed, new FROM crawl_runs") == [("ok", 2, 1)]
    with Archive.open(db) as archive:
        known = {a.url: a for a in archive.known_articles("hostile")}
    assert known[f"{hostile}/tin/bai-2"].failed_checks == 1
