"""The report in a real headless Chromium: hostile pages stay inert, and the pages render.

An archive holds ``tests.report_helpers.hostile``: an article whose every field and raw HTML try
to run script, open dialogs, mark the page or load a URL from a canary server. Chromium visits
every kind of report page (with JavaScript on, as a reader's browser has it) and the test asserts:
no dialog opened, no element marked, the canary was never asked for anything, and the browser
asked nothing of any origin but the report's own. It also checks the pages render: the hostile
text is shown as text, the capture is in its sandboxed frame, and a phone-width screen needs no
sideways scrolling.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.serve import open_report, running
from monitor.web.app import create_app
from monitor.web.publish import publish
from storage.archive import Archive
from tests.report_helpers import Canary, canary_server, hostile_archive, ordinary


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Canary, int]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'archive.db'}"
    with canary_server() as canary:
        with Archive.open(url) as writer:
            ordinary(writer)
            article = hostile_archive(writer, canary.url)
        report = open_report(url, ["alpha", "beta", "hostile"])
        try:
            with running(create_app(report)) as base:
                yield base, canary, article
        finally:
            report.archive.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Canary, int, Path]]:
    """The static report of the same archive, on a plain file server (it sends no CSP header)."""
    root = tmp_path_factory.mktemp("static")
    url = f"sqlite:///{root / 'archive.db'}"
    with canary_server() as canary:
        with Archive.open(url) as writer:
            ordinary(writer)
            article = hostile_archive(writer, canary.url)
        report = open_report(url, ["alpha", "beta", "hostile"])
        try:
            publish(report, root / "site")
        finally:
            report.archive.close()
        handler = partial(SimpleHTTPRequestHandler, directory=str(root / "site"))
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", canary, article, root / "site"
        finally:
            server.shutdown()
            server.server_close()


def hostile_paths(article: int, capture: int) -> list[str]:
    return [
        "/changes", "/changes?site=hostile", f"/article/{article}", f"/article/{article}?view=inline",
        f"/capture/{capture}", f"/capture/{capture}/raw", "/search?q=tuyen+giao", "/sites",
    ]  # fmt: skip


def visit(browser: Any, base: str, paths: list[str], **context: Any) -> dict[str, list[str]]:
    """Load each page until the network is idle; what the browser did that it should not have."""
    seen: dict[str, list[str]] = {"dialogs": [], "foreign": [], "marked": [], "failed": [], "blocked": []}
    page = browser.new_context(**context).new_page()
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    # Chromium announces a request before its Content-Security-Policy check; one that CSP blocks
    # fails at once, so only requests that got an answer count (the canary counts the rest).
    page.on("requestfinished", lambda r: None if r.url.startswith(base) else seen["foreign"].append(r.url))
    page.on("requestfailed", lambda r: seen["blocked"].append(f"{r.url} {r.failure}"))
    for path in paths:
        answer = page.goto(base + path, wait_until="networkidle")
        if answer is None or answer.status != 200:
            seen["failed"].append(path)
        page.wait_for_timeout(100)  # a meta refresh or timer would fire by now
        for frame in page.frames:
            if frame.url.startswith(base) and frame.locator("[data-pwned]").count():
                seen["marked"].append(frame.url)
        if page.url != base + path:
            seen["failed"].append(f"{path} navigated to {page.url}")
    page.context.close()
    return seen


def test_hostile_article_never_runs_in_the_report(chromium: Any, served: tuple[str, Canary, int]) -> None:
    base, canary, article = served
    capture = _capture_of(base, chromium, article)
    seen = visit(chromium, base, hostile_paths(article, capture))
    blocked = seen.pop("blocked")
    assert seen == {"dialogs": [], "foreign": [], "marked": [], "failed": []}
    assert canary.hits == []
    assert blocked and all(line.startswith(canary.url) and line.endswith(" csp") for line in blocked), blocked


def test_escaping_alone_holds_without_the_policy(chromium: Any, served: tuple[str, Canary, int]) -> None:
    """With Chromium told to ignore Content-Security-Policy, escaping alone keeps the pages inert,
    and the capture's frame sandbox alone keeps its scripts from running."""
    base, canary, article = served
    capture = _capture_of(base, chromium, article)
    pages = [p for p in hostile_paths(article, capture) if not p.startswith("/capture/")]
    seen = visit(chromium, base, pages, bypass_csp=True)
    seen.pop("blocked")
    assert seen == {"dialogs": [], "foreign": [], "marked": [], "failed": []}
    assert canary.hits == []
    framed = visit(chromium, base, [f"/capture/{capture}"], bypass_csp=True)
    assert framed["dialogs"] == [] and framed["marked"] == []
    assert "/raw-fetch" not in canary.hits  # it may load (no policy), but its script never ran


@pytest.mark.parametrize("bypass_csp", [False, True])
def test_static_report_never_runs_the_hostile_article(
    chromium: Any, published: tuple[str, Canary, int, Path], bypass_csp: bool
) -> None:
    """The static pages, served without any security header, keep the hostile article inert: by
    their meta policy, and (policy ignored) by escaping and the capture's sandboxed srcdoc frame."""
    base, canary, article, root = published
    captures = sorted(p.relative_to(root).as_posix() for p in (root / "capture").glob("*.html"))
    paths = ["/index.html", "/changes/index.html", "/changes/site/hostile/index.html", f"/article/{article}.html",
             f"/article/{article}-1-2-inline.html", "/sites.html"]
    framed = [f"/{c}" for c in captures]
    seen = visit(chromium, base, paths if bypass_csp else paths + framed, bypass_csp=bypass_csp)
    seen.pop("blocked")
    assert seen == {"dialogs": [], "foreign": [], "marked": [], "failed": []}
    if bypass_csp:  # policy ignored: the sandboxed frame may load images and styles, never run script
        seen = visit(chromium, base, framed, bypass_csp=True)
        assert seen["dialogs"] == [] and seen["marked"] == [] and seen["failed"] == []
        assert "/raw-fetch" not in canary.hits and not any(hit.endswith("-script") for hit in canary.hits)
    else:
        assert canary.hits == []
    page = chromium.new_page()
    page.goto(f"{base}/{captures[-1]}")
    assert page.frame_locator("iframe.capture").locator("p").inner_text() == "Đảng bộ tỉnh có 1.200 đảng viên."
    page.close()


def _capture_of(base: str, browser: Any, article: int) -> int:
    """The version id of the hostile article's latest capture, read from its page's links."""
    page = browser.new_page(java_script_enabled=False)
    page.goto(f"{base}/article/{article}")
    hrefs = [a.get_attribute("href") or "" for a in page.locator("a[href^='/capture/']").all()]
    page.close()
    assert len(hrefs) == 2
    return int(hrefs[-1].rsplit("/", 1)[1])


def test_pages_render_hostile_text_as_text(chromium: Any, served: tuple[str, Canary, int]) -> None:
    base, _, article = served
    page = chromium.new_page()
    page.goto(f"{base}/article/{article}")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Tuyên giáo <script>alert(\"title-v2\")")
    assert "</textarea>" in page.locator("table.fieldchanges").inner_text()
    assert page.locator("table.side tr.changed").count() >= 2
    assert page.locator("table.side del b.num").first.inner_text() == "1.200"
    capture = _capture_of(base, chromium, article)
    page.goto(f"{base}/capture/{capture}")
    frame = page.locator("iframe.capture")
    assert frame.get_attribute("sandbox") == ""
    inner = page.frame_locator("iframe.capture").locator("p").inner_text()
    assert inner == "Đảng bộ tỉnh có 1.200 đảng viên."  # the stored page did render, inert
    assert "x-evil" in page.locator("table.headers").inner_text()
    page.close()


@pytest.mark.parametrize("path", ["/changes", "/article/1?from=1&to=2", "/search?q=dang", "/sites"])
def test_pages_fit_a_phone(chromium: Any, served: tuple[str, Canary, int], path: str) -> None:
    base, _, _ = served
    page = chromium.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    page.goto(base + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    assert width <= 360


def test_screenshots_can_be_taken(chromium: Any, served: tuple[str, Canary, int], tmp_path: Path) -> None:
    base, _, _ = served
    page = chromium.new_page(viewport={"width": 1000, "height": 700})
    page.goto(base + "/article/1?from=1&to=2")
    shot = page.screenshot(path=str(tmp_path / "diff.png"))
    page.close()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
