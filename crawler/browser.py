"""Pages only a browser can read: Chromium of the operating system, driven by scrapy-playwright.

A site with ``render = "browser"`` (or only its URLs matching ``render_url``) is fetched through
headless Chromium: the spider marks those requests (``playwright`` in ``request.meta``), the
``BrowserAddon`` of that site's crawler installs scrapy-playwright's download handler (every other
request keeps Scrapy's own) and bounds the browser: a navigation time limit, images, fonts and media
never fetched, a few pages at a time, and each browser context closed after a number of pages by
``BrowserPageMiddleware`` so that memory stays flat over a long crawl. Playwright's own browser
download is never used: ``crawler.chromium`` finds the system's Chromium, or says how to get one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy_playwright.page import PageMethod

from crawler.chromium import BLOCKED_RESOURCES, CHROMIUM_ARGS, INSTALL_HINT, chromium_path
from storage.errors import BrowserMissing

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


def abort_request(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: images, fonts and media are never fetched."""
    return str(request.resource_type) in BLOCKED_RESOURCES


class BrowserAddon:
    """Scrapy add-on of a crawler whose site renders pages: scrapy-playwright, bounded.

    The ``TGWATCH_BROWSER_*`` settings become scrapy-playwright's; a missing Chromium stops the
    crawl before it starts, with the way to install one.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        site = str(settings.get("TGWATCH_BROWSER_SITE") or "this site")
        path = chromium_path(settings.get("TGWATCH_CHROMIUM") or None)
        if path is None:
            raise BrowserMissing(f"site {site}", INSTALL_HINT)
        settings["DOWNLOAD_HANDLERS"].update({"http": HANDLER, "https": HANDLER})  # per-key: project settings stay
        timeout = settings.getfloat("TGWATCH_BROWSER_TIMEOUT")
        values = {
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": path, "headless": True, "args": CHROMIUM_ARGS,
                                          "timeout": timeout * 1000},
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
            "PLAYWRIGHT_ABORT_REQUEST": "crawler.browser.abort_request",
            "PLAYWRIGHT_MAX_CONTEXTS": 2,  # the context in use and the one closing
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": settings.getint("TGWATCH_BROWSER_PAGES"),
            "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
        }
        for name, value in values.items():
            settings.set(name, value, "addon")
        settings["DOWNLOADER_MIDDLEWARES"]["crawler.browser.BrowserPageMiddleware"] = 540


class Settle:
    """When a rendered page is done: after its ``load`` event, no request in flight for ``quiet``
    seconds (the data its scripts fetched have arrived and been rendered), within ``timeout``.

    Playwright's ``networkidle`` alone can come before a slow page's script has even asked for its
    data; counting the page's own requests cannot."""

    def __init__(self, quiet: float, timeout: float) -> None:
        self.quiet, self.timeout = quiet, timeout
        self.inflight = 0
        self.changed = time.monotonic()

    def _started(self, _: Any) -> None:
        self.inflight += 1
        self.changed = time.monotonic()

    def _ended(self, _: Any) -> None:
        self.inflight = max(0, self.inflight - 1)
        self.changed = time.monotonic()

    async def attach(self, page: Any, request: Request) -> None:
        """``playwright_page_init_callback``: count the page's requests from its navigation on."""
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    async def wait(self, page: Any) -> None:
        """A ``PageMethod``: return once the page has settled (or its time is up: read what is there)."""
        deadline = time.monotonic() + self.timeout
        await page.wait_for_load_state("load", timeout=self.timeout * 1000)
        self.changed = max(self.changed, time.monotonic())
        while time.monotonic() < deadline:
            if self.inflight == 0 and time.monotonic() - self.changed >= self.quiet:
                return
            await asyncio.sleep(0.05)


class BrowserPageMiddleware:
    """Rendered requests: how to load them, and every page and context closed once read.

    Requests are handed out to contexts in turn, ``TGWATCH_BROWSER_CONTEXT_PAGES`` per context; the
    context is closed when the last of its pages is done (read or failed), so cookies, caches and
    the renderer's memory never pile up over a long crawl.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.per_context = max(1, settings.getint("TGWATCH_BROWSER_CONTEXT_PAGES"))
        self.quiet = settings.getfloat("TGWATCH_BROWSER_QUIET")
        self.timeout = settings.getfloat("TGWATCH_BROWSER_TIMEOUT")
        self.stats = crawler.stats
        self.generation = 0
        self.handed: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.contexts: dict[str, Any] = {}  # name -> Playwright BrowserContext, from its first page

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if HANDLER not in crawler.settings.getdict("DOWNLOAD_HANDLERS").values():
            raise NotConfigured("no browser in this crawl")
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if not meta.get("playwright") or "playwright_context" in meta:
            return
        name = f"tgwatch-{self.generation}"
        self.handed[name] = self.handed.get(name, 0) + 1
        if self.handed[name] >= self.per_context:
            self.generation += 1
        settle = Settle(self.quiet, self.timeout)
        meta.update(playwright_context=name, playwright_include_page=True,
                    playwright_page_goto_kwargs={"wait_until": "load", "timeout": self.timeout * 1000},
                    playwright_page_init_callback=settle.attach, playwright_page_methods=[PageMethod(settle.wait)])
        self.stats.inc_value("tgwatch/browser_pages")

    async def process_response(self, request: Request, response: Response) -> Response:
        await self._finish(request)
        return response

    async def process_exception(self, request: Request, exception: BaseException) -> None:
        await self._finish(request)

    async def _finish(self, request: Request) -> None:
        """Close the request's page; close its context once all the pages handed to it are done.

        The context's name leaves the request's meta, so a retry is handed to the current context."""
        page = request.meta.pop("playwright_page", None)
        name = request.meta.pop("playwright_context", None) if request.meta.get("playwright") else None
        if not isinstance(name, str) or not name.startswith("tgwatch-"):
            return
        if page is not None:
            self.contexts.setdefault(name, page.context)
            if not page.is_closed():
                await page.close()
        self.done[name] = self.done.get(name, 0) + 1
        if name != f"tgwatch-{self.generation}" and self.done[name] >= self.handed.get(name, 0):
            context = self.contexts.pop(name, None)
            self.handed.pop(name, None)
            self.done.pop(name, None)
            if context is not None:
                await context.close()
                self.stats.inc_value("tgwatch/browser_contexts_closed")
