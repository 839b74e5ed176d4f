"""A generated news site with realistic pages: what the archive-size bench crawls.

Pages weigh about 40 KB like the real sites' (``<head>`` with inline CSS and scripts, a menu of
dozens of sections, sidebars of other reports' titles, a long footer), of which the report itself
is 3-8 KB. Text is Vietnamese-like: syllables drawn from a few thousand with a Zipf distribution,
so it compresses as real text does (a small vocabulary would flatter every compressor). Version
``v2`` edits one article in a hundred (a paragraph rewritten) and changes every page's chrome (a
stylesheet revision and the date in the header), so every page's bytes change.

Served from memory by a threaded HTTP server with ``ETag`` (of the bytes) and ``Last-Modified``;
``SiteProcess`` serves it from a process of its own (a crawl measured against it then does not
share the server's interpreter lock) and counts the requests per path.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import multiprocessing
from multiprocessing.connection import Connection
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "r",
          "s", "t", "th", "tr", "v", "x"]
NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ia", "iê", "ua", "uô", "ươ", "oa"]
CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u"]
TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]  # sắc huyền hỏi ngã nặng as combining marks
SECTIONS = ["thoi-su", "chinh-tri", "xay-dung-dang", "tuyen-giao", "dan-van", "kinh-te", "van-hoa", "xa-hoi",
            "giao-duc", "y-te", "quoc-phong", "phap-luat", "the-gioi", "dia-phuong", "ly-luan", "tu-lieu"]
PER_LISTING = 20


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    import unicodedata

    seen: dict[str, None] = {}
    while len(seen) < size:
        syllable = rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)
        first_vowel = next(i for i, c in enumerate(syllable) if c in "aăâeêioôơuưy")
        syllable = syllable[: first_vowel + 1] + rng.choice(TONES) + syllable[first_vowel + 1 :]
        seen[unicodedata.normalize("NFC", syllable)] = None
    return list(seen)


class Writer:
    """Zipf-distributed syllables into sentences, paragraphs and titles."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(random.Random(1))
        self.cum = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(self.words))))

    def words_(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=n)

    def sentence(self) -> str:
        return " ".join(self.words_(self.rng.randint(8, 24))).capitalize() + self.rng.choice(".....,;:")[0]

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def title(self) -> str:
        return " ".join(self.words_(self.rng.randint(8, 16))).capitalize()


class Site:
    """Every page of the site at version ``v1`` or ``v2`` (built on demand, cached)."""

    def __init__(self, articles: int, seed: int = 11) -> None:
        self.articles = articles
        writer = Writer(seed)
        self.rng = writer.rng
        self.titles = [writer.title() for _ in range(articles)]
        self.sections = [SECTIONS[i % len(SECTIONS)] for i in range(articles)]
        self.bodies = [[writer.paragraph() for _ in range(self.rng.randint(7, 18))] for _ in range(articles)]
        self.leads = [writer.sentence() for _ in range(articles)]
        self.views = [self.rng.randint(100, 99999) for _ in range(articles)]
        self.footer_text = [writer.sentence() for _ in range(24)]
        self.menu_titles = [writer.title()[:30] for _ in range(64)]
        self.edited = set(range(0, articles, 100))
        self.rewrite = {i: writer.paragraph() for i in self.edited}
        self.version = "v1"
        self._cache: dict[tuple[str, str], bytes] = {}
        self.cache_pages = articles <= 5000  # 20,000 pages of 40 KB per version: build them again instead
        self._parts: dict[str, tuple[str, str]] = {}  # version -> the chrome around and after ``main``
        self._by_section: dict[str, list[int]] = {}

    def path(self, i: int) -> str:
        return f"/{self.sections[i]}/bai-viet-{i + 1000}.html"

    def listing(self, section: str, page: int) -> str:
        return f"/{section}?page={page}"

    def set_version(self, version: str) -> None:
        self.version = version

    def page(self, path: str) -> bytes | None:
        key = (self.version, path)
        if key in self._cache:
            return self._cache[key]
        built = self._build(path)
        if built is not None and self.cache_pages:
            self._cache[key] = built
        return built

    def _build(self, path: str) -> bytes | None:
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n"
        if path == "/":
            return self._chrome("Trang chủ", self._items(range(self.articles - 1, max(-1, self.articles - 41), -1)),
                                0).encode()
        section, _, query = path.lstrip("/").partition("?page=")
        if section in SECTIONS and query.isdigit():
            if section not in self._by_section:
                self._by_section[section] = [i for i in range(self.articles - 1, -1, -1) if self.sections[i] == section]
            mine = self._by_section[section]
            n = int(query)
            chunk = mine[(n - 1) * PER_LISTING : n * PER_LISTING]
            if not chunk:
                return None
            pager = "".join(f'<a href="{self.listing(section, k)}">{k}</a> '
                            for k in range(max(1, n - 3), min(n + 4, (len(mine) - 1) // PER_LISTING + 2)))
            return self._chrome(section, self._items(chunk) + f'<div class="pager">{pager}</div>', n).encode()
        if path.startswith("/") and path.endswith(".html") and "bai-viet-" in path:
            i = int(path.rsplit("-", 1)[1][:-5]) - 1000
            if 0 <= i < self.articles and path == self.path(i):
                return self._article(i).encode()
        return None

    def _items(self, ids: range | list[int]) -> str:
        return "<ul class=\"list\">" + "".join(
            f'<li><a href="{self.path(i)}"><img src="/img/{i}.jpg" alt=""></a><h3><a href="{self.path(i)}">'
            f'{self.titles[i]}</a></h3><p>{self.leads[i]}</p></li>' for i in ids) + "</ul>"

    def _article(self, i: int) -> str:
        paragraphs = list(self.bodies[i])
        if self.version == "v2" and i in self.edited:
            paragraphs[len(paragraphs) // 2] = self.rewrite[i]
        day = 1 + i % 28
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        related = [j % self.articles for j in range(i + 1, i + 9)]
        main = (f'<div class="breadcrumb"><a href="/">Trang chủ</a> › <a href="{self.listing(self.sections[i], 1)}">'
                f'{self.sections[i]}</a></div><article class="detail"><h1 class="title">{self.titles[i]}</h1>'
                f'<div class="meta"><span class="date">{day:02d}/05/2024 {8 + i % 10:02d}:{i % 60:02d}</span> '
                f'<span class="views">Lượt xem: {self.views[i]}</span></div><p class="sapo"><strong>'
                f'{self.leads[i]}</strong></p><div class="content">{body}</div><p class="author">Trường Giang</p>'
                f'</article><div class="related"><h2>Tin cùng chuyên mục</h2>{self._items(related)}</div>')
        return self._chrome(self.titles[i], main, i)

    def _chrome(self, title: str, main: str, salt: int) -> str:
        before_main, after_side = self._chrome_parts()
        popular = [(salt * 7919 + k * 104729) % self.articles for k in range(10)]
        side = ("<h2>Đọc nhiều</h2><ul>" + "".join(f'<li><a href="{self.path(j)}">{self.titles[j]}</a></li>'
                                                  for j in popular) + "</ul></aside>")
        return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<meta property="og:title" content="{title}">{before_main}<div class="main">{main}</div>'
                f'<aside><h2>Tin mới</h2><ul>{after_side}{side}{self._footer()}')

    def _chrome_parts(self) -> tuple[str, str]:
        """What every page of this version shares (built once: a 20,000-page site is served fast)."""
        if self.version not in self._parts:
            revision = "20240501" if self.version == "v1" else "20240615"
            today = "Thứ tư, 01/05/2024" if self.version == "v1" else "Thứ bảy, 15/06/2024"
            style = "".join(f".c{k}{{margin:{k % 7}px {k % 5}px;color:#{(k * 2654435761) % 0xFFFFFF:06x};"
                            f"font-size:{12 + k % 6}px}}" for k in range(180))
            script = "".join(f"window.tg{k}=function(e){{return e&&e.dataset?e.dataset.k{k}:null}};" for k in range(90))
            menu = "".join(f'<li class="m{k}"><a href="{self.listing(s, 1)}" title="{t}">{t}</a><ul class="sub">'
                           + "".join(f'<li><a href="/{s}/muc-{j}">{self.menu_titles[(k * 5 + j) % 64]}</a></li>'
                                     for j in range(4)) + "</ul></li>"
                           for k, (s, t) in enumerate(zip(SECTIONS, self.menu_titles)))
            newest = range(self.articles - 1, max(-1, self.articles - 11), -1)
            before_main = (f'<link rel="stylesheet" href="/css/site.css?v={revision}">'
                           f"<style>{style}</style><script>{script}</script></head><body><header><div class=\"top\">"
                           f'<span class="today">{today}</span><form action="/tim-kiem"><input name="q"></form></div>'
                           f'<a class="logo" href="/"><img src="/img/logo.png" alt="Ban Tuyên giáo"></a><nav>'
                           f'<ul class="menu">{menu}</ul></nav></header><main>')
            news = "".join(f'<li><a href="{self.path(j)}">{self.titles[j]}</a></li>' for j in newest) + "</ul>"
            self._parts[self.version] = (before_main, news)
        return self._parts[self.version]

    def _footer(self) -> str:
        revision = "20240501" if self.version == "v1" else "20240615"
        footer = "".join(f"<p>{s}</p>" for s in self.footer_text)
        links = "".join(f'<li><a href="https://{s}.gov.vn/">Cổng thông tin {s}</a></li>' for s in SECTIONS * 2)
        return (f'</main><footer>{footer}<ul class="links">{links}</ul><p>© Ban Tuyên giáo. Giấy phép số '
                f'123/GP-BTTTT.</p></footer><script src="/js/site.js?v={revision}"></script></body></html>')


class Hits:
    """Requests served per path, and when the first one came (``time.time()``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: Counter[str] = Counter()
        self.first: float | None = None

    def add(self, path: str) -> None:
        with self.lock:
            if self.first is None:
                self.first = time.time()
            self.paths[path] += 1

    def take(self) -> tuple[Counter[str], float | None]:
        """What was counted since the last ``take``; counting starts again."""
        with self.lock:
            taken = self.paths, self.first
            self.paths, self.first = Counter(), None
            return taken


@contextmanager
def serve(site: Site, hits: Hits | None = None, port: int = 0) -> Iterator[str]:
    """The site on loopback ``port`` (0: a free one): its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if hits is not None:
                hits.add(self.path)
            body = site.page(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            modified = "Wed, 01 May 2024 08:00:00 GMT" if site.version == "v1" else "Sat, 15 Jun 2024 08:00:00 GMT"
            match = self.headers.get("If-None-Match")
            if match == etag or (match is None and self.headers.get("If-Modified-Since") == modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            ctype = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class SiteProcess:
    """``site`` served by a child process (forked: the site is not copied through a pipe): ``url``,
    then commands over a pipe (``set_version``, ``take_hits``)."""

    def __init__(self, site: Site, port: int = 0) -> None:
        context = multiprocessing.get_context("fork")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_serve_forever, args=(site, child, port), daemon=True)
        self.process.start()
        self.url: str = self.pipe.recv()

    def _ask(self, *command: str) -> object:
        self.pipe.send(command)
        return self.pipe.recv()

    def set_version(self, version: str) -> None:
        self._ask("version", version)

    def take_hits(self) -> tuple[Counter[str], float | None]:
        """Requests per path since the last call, and when the first of them came."""
        return self._ask("hits")  # type: ignore[return-value]

    def close(self) -> None:
        self.process.kill()
        self.process.join()

    def __enter__(self) -> SiteProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve_forever(site: Site, pipe: Connection, port: int) -> None:
    hits = Hits()
    with serve(site, hits, port) as url:
        pipe.send(url)
        while True:
            command, *args = pipe.recv()
            if command == "version":
                site.set_version(args[0])
                pipe.send(None)
            elif command == "hits":
                pipe.send(hits.take())
