"""A backfill crawl's frontier in the archive: what the walk found and did, written as it goes.

``tgwatch crawl SITE --backfill`` sets ``TGWATCH_BACKFILL``: the site's spider then walks every
listing page (no page, depth or article cap; robots.txt, politeness and the per-page bounds
stay) and checks every article it finds, taking its frontier from ``BackfillRun.open``
(``storage.backfill``: new, or the one an interrupted backfill left). The spider reports the
pages it finds and the listing pages it read; this extension marks the articles as they are
recorded (``item_scraped``: done only once recorded; a page read as "no article" is fetched once
more at once and done only when read so twice, since a page misread under load would otherwise
be lost for good) and writes the marks every ``TGWATCH_BACKFILL_FLUSH`` seconds on a
thread of its own, a listing page and the pages it links to in one transaction. When the crawl
ends with nothing pending or failed, the backfill is closed. Progress (pages done, pages known to
remain) is kept in the crawl stats: ``tgwatch/backfill/done`` and ``tgwatch/backfill/remaining``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.extensions import acquire_archive, release_archive
from crawler.items import ArticleCheck
from crawler.pool import wait_for
from storage import backfill
from storage.backfill import Opened, Page
from storage.errors import TgwatchError
from storage.observation import Verdict
from storage.urls import canonical_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class BackfillRun:
    """The frontier of the crawler's backfill (see the module docstring)."""

    def __init__(self, crawler: Crawler, url: str, every: float) -> None:
        self.crawler = crawler
        self.url = url
        self.every = every
        self.archive = acquire_archive(url)
        self.id: int | None = None
        self.state: dict[str, str] = {}  # key -> pending | done | failed, for the whole frontier
        self.found: list[Page] = []  # not yet written
        self.marks: dict[str, str] = {}  # not yet written
        self.done = self.done_before = 0  # pages done now, and when this run took the backfill
        self.doubted: set[str] = set()  # articles read once as no article, fetched once more
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="tgwatch-backfill")
        self._loop: Any = None
        self.finished = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("TGWATCH_BACKFILL"):
            raise NotConfigured  # no message: Scrapy would warn on every routine crawl
        if not settings.get("TGWATCH_DB") or settings.get("TGWATCH_REDIS"):
            raise NotConfigured("a backfill is a local crawl into an archive")
        ext = cls(crawler, settings.get("TGWATCH_DB"), settings.getfloat("TGWATCH_BACKFILL_FLUSH"))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    # --- the frontier ---------------------------------------------------------------------------
    async def open(self, site: str, run_id: int | None, start_urls: list[str]) -> Opened:
        """Take the site's backfill (``storage.backfill.open_backfill``) and start writing marks."""
        opened = await wait_for(self.writer.submit(backfill.open_backfill, self.archive, site, run_id, start_urls))
        self.id = opened.id
        self.state = {page.key: page.state for page in opened.pages}
        self.done = self.done_before = opened.counts["done"]
        stats = self.crawler.stats
        stats.set_value("tgwatch/backfill/id", opened.id)
        stats.set_value("tgwatch/backfill/resumed", opened.resumed)
        stats.set_value("tgwatch/backfill/done_before", self.done_before)
        self._count()
        logger.info("%s: backfill %d %s: %d pages done, %d to go", site, opened.id,
                    "resumed" if opened.resumed else "started", self.done_before, len(self.state) - self.done_before)
        from twisted.internet.task import LoopingCall

        self._loop = LoopingCall(self.flush)
        self._loop.start(self.every, now=False)
        return opened

    def add(self, kind: str, url: str, key: str) -> None:
        """A page found (once: the spider asks only for pages it has not seen)."""
        if key not in self.state:
            self.state[key] = "pending"
            self.found.append(Page(kind, url, key))
            self._count()

    def mark(self, key: str, state: str) -> None:
        """Page ``key`` reached ``state``: done (read, recorded, out of reach) or failed."""
        if self.state.get(key, "done") == "done":
            return  # not of the frontier, or done already
        self.state[key] = self.marks[key] = state
        self.done += state == "done"
        self._count()

    def _count(self) -> None:
        self.crawler.stats.set_value("tgwatch/backfill/done", self.done)
        self.crawler.stats.set_value("tgwatch/backfill/remaining", len(self.state) - self.done)

    def flush(self) -> Any:
        """Write what was found and marked since the last write (``LoopingCall``: one at a time)."""
        return deferred_from_coro(self._write(retry=True))

    async def _write(self, *, retry: bool) -> None:
        """One transaction of the frontier; on failure the marks wait for the next write."""
        while self.id is not None and (self.found or self.marks):
            found, marks = self.found, self.marks
            self.found, self.marks = [], {}
            try:
                await wait_for(self.writer.submit(backfill.write_marks, self.archive, self.id, found, marks))
            except TgwatchError as exc:
                self.found[:0] = found
                self.marks = {**marks, **self.marks}
                if not retry:
                    raise
                logger.warning("backfill %s: frontier not written, retrying: %s", self.id, exc)
                return
            if retry:
                return

    # --- articles recorded ----------------------------------------------------------------------
    def item_scraped(self, item: Any, spider: Spider) -> None:
        if isinstance(item, ArticleCheck):
            self.mark(canonical_url(item.url), "failed" if item.verdict == Verdict.FAILED else "done")

    def item_dropped(self, item: Any, exception: BaseException, spider: Spider) -> None:
        """Not recorded (the archive was away): failed. No article on the page: fetched once
        more, and done when the second reading finds none either."""
        if not isinstance(item, ArticleCheck) or not isinstance(exception, DropItem):
            return
        key = canonical_url(item.url)
        if item.observation is not None:
            self.mark(key, "failed")
        elif key in self.doubted or self.state.get(key) != "pending":
            self.mark(key, "done")
        else:
            self.doubted.add(key)
            self.crawler.stats.inc_value("tgwatch/backfill/read_again")
            assert self.crawler.engine is not None
            self.crawler.engine.crawl(spider.article_request(item.url))  # type: ignore[attr-defined]

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        try:
            if self._loop is not None and self._loop.running:
                self._loop.stop()
            if self.id is None:
                return
            await self._write(retry=False)
            if reason == "finished":
                self.finished = await wait_for(self.writer.submit(backfill.finish, self.archive, self.id))
            self.crawler.stats.set_value("tgwatch/backfill/finished", self.finished)
        except TgwatchError as exc:
            logger.error("backfill %s of %s: frontier not written: %s", self.id, spider.name, exc)
        finally:
            self.writer.shutdown(wait=True)
            release_archive(self.url)

