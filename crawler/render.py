"""One page rendered in Chromium, for ``tgwatch scrape --render``: no reactor, no Scrapy.

The same rules as the crawl's browser mode (``crawler.browser``): the system's Chromium
(``crawler.chromium``), images, fonts and media never fetched, a time limit on the whole load, and
the page read once, after its ``load`` event, none of its requests has been in flight for a
moment. Every failure is one ``FetchError`` line naming the URL.
"""

from __future__ import annotations

import time
from typing import Any

from crawler import USER_AGENT
from crawler.chromium import BLOCKED_RESOURCES, CHROMIUM_ARGS, INSTALL_HINT, chromium_path
from crawler.fetch import MAX_BYTES, validate_url
from crawler.items import Page
from storage.errors import BrowserMissing, FetchError


class _Requests:
    """Requests of the page in flight, and when that last changed."""

    def __init__(self) -> None:
        self.inflight = 0
        self.changed = time.monotonic()

    def started(self, _: Any) -> None:
        self.inflight += 1
        self.changed = time.monotonic()

    def ended(self, _: Any) -> None:
        self.inflight = max(0, self.inflight - 1)
        self.changed = time.monotonic()


def _block(route: Any) -> None:
    if route.request.resource_type in BLOCKED_RESOURCES:
        route.abort()
    else:
        route.continue_()


def render_page(url: str, *, timeout: float = 30.0, quiet: float = 0.5, chromium: str | None = None) -> Page:
    """``url`` as Chromium renders it: the DOM after its scripts ran, the navigation's status and headers."""
    validate_url(url)
    path = chromium_path(chromium)
    if path is None:
        raise BrowserMissing(url, INSTALL_HINT)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + timeout
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=timeout * 1000)
            try:
                context = browser.new_context(user_agent=USER_AGENT)
                page = context.new_page()
                page.route("**/*", _block)
                requests = _Requests()
                page.on("request", requests.started)
                page.on("requestfinished", requests.ended)
                page.on("requestfailed", requests.ended)
                response = page.goto(url, wait_until="load", timeout=timeout * 1000)
                requests.changed = max(requests.changed, time.monotonic())
                while time.monotonic() < deadline and (
                        requests.inflight or time.monotonic() - requests.changed < quiet):
                    page.wait_for_timeout(50)
                body = page.content().encode("utf-8")
                status = response.status if response is not None else 200
                headers = response.all_headers() if response is not None else {}
                final = page.url
                context.close()
            finally:
                browser.close()
    except PlaywrightTimeout:
        raise FetchError(url, f"timed out after {timeout:g} s in the browser") from None
    except PlaywrightError as exc:
        raise FetchError(url, f"the browser failed ({str(exc).strip().splitlines()[0][:160]})") from None
    if status >= 400:
        raise FetchError(url, f"HTTP {status}")
    if len(body) > MAX_BYTES:
        raise FetchError(url, f"rendered page larger than the {MAX_BYTES // 1024 // 1024} MB limit")
    headers = {k: v for k, v in headers.items() if k not in ("content-encoding", "content-length")}
    headers["content-type"] = "text/html; charset=utf-8"
    return Page(url=final, status=status, headers=headers, body=body)
