"""Archives for the report and WARC tests: a small history, and an article out to attack its reader.

``hostile(canary)`` is an article whose title, byline, lead, text, category and raw HTML carry
``<script>``, ``onerror=``/``onload=`` attributes, ``javascript:`` links, ``</textarea>`` and
``</style>`` breakouts, CSS that loads URLs, meta refreshes and frames. Every one of them, if it
ever ran or loaded, would open a dialog, mark the page, or ask ``canary`` (a server the test
watches) for a URL: the tests assert none of that happens.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from storage.archive import Archive
from storage.observation import Capture, Fetched, Gone
from tests.plugins.archive import at, content

SITE = "hostile"
URL = "https://evil.example.vn/tin-tuc/bai-doc-hai-666"


def _attacks(canary: str, where: str) -> str:
    """One field's worth of attacks; each marks where it came from."""
    return (
        f'<script>alert("{where}");fetch("{canary}/{where}-script")</script>'
        f'<img src="{canary}/{where}-img" onerror="alert(\'{where}-onerror\')">'
        f'</textarea><script>document.body.setAttribute("data-pwned","{where}")</script>'
        f'<a href="javascript:alert(\'{where}-link\')">bấm vào đây</a>'
        f'</style><style>body{{background:url("{canary}/{where}-css")}}</style>'
        f'" onmouseover="alert(1)" x="'
        f'<svg onload="alert(\'{where}-svg\')"></svg>'
        f'<iframe src="{canary}/{where}-frame"></iframe>'
        "{{ 7*7 }}"
    )


def hostile_html(canary: str) -> bytes:
    return f"""<!doctype html><html><head><meta charset="utf-8">
<base href="{canary}/raw-base/">
<meta http-equiv="refresh" content="0;url={canary}/raw-refresh">
<link rel="stylesheet" href="{canary}/raw-link.css">
<style>@import url("{canary}/raw-import.css"); body {{ background: url("{canary}/raw-bg.png") }}</style>
<script src="{canary}/raw-script.js"></script>
<script>alert("raw"); fetch("{canary}/raw-fetch"); top.document.body.setAttribute("data-pwned", "raw")</script>
<title>Bài độc hại</title></head>
<body onload="alert('raw-onload')">
<h1>Ban Tuyên giáo</h1>
<img src="{canary}/raw-img.png" onerror="alert('raw-onerror')">
<a href="javascript:alert('raw-link')">Đọc thêm</a>
<form action="{canary}/raw-form"><button autofocus onfocus="alert('raw-focus')">Gửi</button></form>
<iframe src="{canary}/raw-frame"></iframe><object data="{canary}/raw-object"></object>
<svg><script>alert("raw-svg")</script></svg>
</textarea></iframe></noscript><script>alert("raw-breakout")</script>
<p>Đảng bộ tỉnh có 1.200 đảng viên.</p>
</body></html>""".encode()


def hostile(canary: str, minutes: float, *, edited: bool) -> Fetched:
    """The hostile article as first seen, or edited (every field changed, so the diff shows all)."""
    tag = "v2" if edited else "v1"
    text = "\n".join([
        f"Đảng bộ tỉnh có {'1.500' if edited else '1.200'} đảng viên.",
        _attacks(canary, f"text-{tag}"),
        "Đoạn cuối giữ nguyên.",
    ])  # fmt: skip
    body = content(
        title=f"Tuyên giáo {_attacks(canary, 'title-' + tag)}",
        lead=f'<meta http-equiv="refresh" content="0;url={canary}/lead-{tag}">',
        text=text,
        author=f"Phóng viên {_attacks(canary, 'byline-' + tag)}",
        category=f'<base href="{canary}/category-{tag}/">Tin {tag}',
    )
    headers = {
        "content-type": 'text/html; charset=utf-8"><script>alert("header")</script>',
        "refresh": f"0;url={canary}/header-refresh",
        "link": f"<{canary}/header-link.css>; rel=stylesheet",
        "x-evil": '<script>alert("header")</script>',
    }
    capture = Capture(URL, 200, headers, hostile_html(canary))
    return Fetched(body, at(minutes), capture=capture)


def ordinary(archive: Archive) -> None:
    """Two sites' small history: new, edited (text, title, byline), removed, restored."""
    for n in range(1, 4):
        page = Capture(f"https://a.vn/tin/bai-{n}", 200, {"content-type": "text/html; charset=utf-8"},
                       f"<html><body><h1>Bài {n}</h1><p>Đảng bộ {n}</p></body></html>".encode())
        archive.record("alpha", f"https://a.vn/tin/bai-{n}",
                       Fetched(content(title=f"Bài số {n} về tuyên giáo"), at(n), capture=page))
    archive.record("alpha", "https://a.vn/tin/bai-1", Fetched(content(
        title="Bài số 1 về tuyên giáo",
        text="Sáng 17/7, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị.\nĐảng bộ tỉnh Long An quán triệt nghị quyết."),
        at(10)))  # fmt: skip
    archive.record("alpha", "https://a.vn/tin/bai-2", Fetched(content(
        title="Bài số 2 đã sửa tiêu đề", author="Minh Anh"), at(11)))  # fmt: skip
    archive.record("alpha", "https://a.vn/tin/bai-3", Gone("404", at(12)))
    archive.record("alpha", "https://a.vn/tin/bai-3", Gone("404", at(13)))
    nfd = unicodedata.normalize("NFD", "Tuyên giáo cơ sở: Đảng bộ xã")
    archive.record("beta", "https://b.vn/bai-nfd", Fetched(content(title=nfd), at(4)))


def hostile_archive(archive: Archive, canary: str) -> int:
    """Record the hostile article twice (an edit); returns its id."""
    archive.record(SITE, URL, hostile(canary, 20, edited=False))
    archive.record(SITE, URL, hostile(canary, 30, edited=True))
    return archive.article_versions(URL)[0].article_id


@dataclass
class Canary:
    """A server on 127.0.0.1 that only records which paths were asked for."""

    url: str = ""
    hits: list[str] = field(default_factory=list)


@contextmanager
def canary_server() -> Iterator[Canary]:
    canary = Canary()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            canary.hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    canary.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield canary
    finally:
        server.shutdown()
        server.server_close()
