"""The crawl's link to the archive: open it, book the crawl run, count what the crawl did.

``ArchiveRun`` opens the archive named by ``TGWATCH_DB`` once per crawler (the spider, the
conditional-request middleware and the record pipeline all use this one), opens a ``crawl_runs``
row when the spider opens and closes it with its outcome and counts when the spider closes. Pages
are counted here (``tgwatch/pages``); verdicts are counted by the record pipeline
(``tgwatch/verdict/<verdict>``).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from storage.archive import Archive
from storage.content import VN_TZ
from storage.errors import TgwatchError
from storage.observation import Verdict
from storage.runs import HEARTBEAT
from storage.vocabulary import RUN_COUNTS, RunOutcome

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

OUTCOMES = {"finished": RunOutcome.OK, "shutdown": RunOutcome.INTERRUPTED, "closespider_timeout": RunOutcome.TIMEOUT}
"""Scrapy close reasons and the ``crawl_runs.outcome`` they mean; any other reason is ``failed``."""

COUNTED = {
    "new": (Verdict.NEW,),
    "edited": (Verdict.EDITED,),
    "unchanged": (Verdict.UNCHANGED,),
    "removed": (Verdict.REMOVED,),
    "restored": (Verdict.RESTORED,),
    "failed": (Verdict.FAILED,),
}
"""``crawl_runs`` count columns and the verdicts each one adds up."""


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """The counts of one crawl (``crawl_runs`` columns) from its Scrapy stats."""
    counts = {"pages": int(stats.get("tgwatch/pages", 0))}
    for column, verdicts in COUNTED.items():
        counts[column] = sum(int(stats.get(f"tgwatch/verdict/{v}", 0)) for v in verdicts)
    return counts


def unreadable(stats: dict[str, Any], counts: dict[str, int]) -> bool:
    """A crawl that found no article link and recorded nothing read no site at all: the site is
    down, answers garbage, or changed its template. That is a failed crawl, not a quiet one."""
    recorded = sum(counts[c] for c in RUN_COUNTS if c not in ("pages", "failed"))
    return not stats.get("tgwatch/article_links") and not recorded


_shared: dict[str, tuple[Archive, int]] = {}


def acquire_archive(url: str) -> Archive:
    """The process's ``Archive`` for ``url``: crawlers of one process share it (one engine, one
    schema check), as ``Archive`` is safe to share between threads."""
    archive, users = _shared.get(url) or (Archive.open(url), 0)
    _shared[url] = (archive, users + 1)
    return archive


def release_archive(url: str) -> None:
    archive, users = _shared.pop(url)
    if users > 1:
        _shared[url] = (archive, users - 1)
    else:
        archive.close()


class ArchiveRun:
    """Owns the crawler's ``Archive`` and its ``crawl_runs`` row."""

    def __init__(self, crawler: Crawler, url: str) -> None:
        self.crawler = crawler
        self.url = url
        self.archive = acquire_archive(url)
        self.run_id: int | None = None
        self.started_at = datetime.now(VN_TZ)
        self._heartbeat: Any = None  # LoopingCall: the run's sign of life every HEARTBEAT seconds
        self.closed = False  # the run is booked (``crawler.stop`` books the others itself)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get("TGWATCH_DB")
        if not url:
            raise NotConfigured("TGWATCH_DB is empty: nothing to record into")
        ext = cls(crawler, url)
        if crawler.settings.get("TGWATCH_REDIS"):  # a fleet worker: runs belong to the crawls it serves
            crawler.signals.connect(ext.worker_closed, signal=signals.spider_closed)
            return ext
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        return ext

    async def spider_opened(self, spider: Spider) -> None:
        self.started_at = datetime.now(VN_TZ)
        self.run_id = await run_in_thread(self.archive.start_run, spider.name, os.getpid())
        self.crawler.stats.set_value("tgwatch/run_id", self.run_id)
        from twisted.internet.task import LoopingCall

        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.start(HEARTBEAT, now=False)

    def _beat(self) -> Any:
        """A sign of life in the run's row, so a killed crawl is told apart from a live one."""
        from twisted.internet.threads import deferToThread

        def failed(failure: Any) -> None:
            logger.warning("crawl run %s: heartbeat not recorded: %s", self.run_id, failure.getErrorMessage())

        if self.run_id is None:
            return None
        return deferToThread(self.archive.beat_run, self.run_id).addErrback(failed)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        kind = request.meta.get("tgwatch_kind")
        if kind is None:  # robots.txt and anything else that is not a page of the site
            return
        self.crawler.stats.inc_value("tgwatch/pages")
        self.crawler.stats.inc_value(f"tgwatch/pages/{kind}")

    def worker_closed(self, spider: Spider, reason: str) -> None:
        release_archive(self.url)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        outcome = OUTCOMES.get(reason, RunOutcome.FAILED)
        stats = self.crawler.stats.get_stats()
        counts = run_counts(stats)
        error = None if outcome in (RunOutcome.OK, RunOutcome.INTERRUPTED) else reason
        if outcome is RunOutcome.OK and unreadable(stats, counts):
            outcome = RunOutcome.FAILED
            error = (f"no article link on any listing page and nothing recorded "
                     f"({stats.get('tgwatch/pages/listing', 0)} listing pages read, "
                     f"{stats.get('tgwatch/listing_failed', 0)} failed, {counts['failed']} failed checks)")
            logger.error("%s: %s", spider.name, error)
        self.crawler.stats.set_value("tgwatch/outcome", outcome.value)
        try:
            await self.record_listings(spider, outcome is RunOutcome.OK)
            if self.run_id is not None:
                await run_in_thread(self.archive.finish_run, self.run_id, outcome, counts, error)
                self.closed = True
        except TgwatchError as exc:
            logger.error("crawl run %s of %s not closed: %s", self.run_id, spider.name, exc)
        finally:
            release_archive(self.url)

    async def record_listings(self, spider: Spider, finished: bool) -> None:
        """The crawl's listing pages (``crawler.listings.ListingLog`` of the spider), recorded once
        every article check is: a crawl that did not finish records its stints but judges nothing."""
        log = getattr(spider, "listing_log", None)
        if log is None or not (log.pages or log.failed) or getattr(spider, "backfill", None) is not None:
            return  # a backfill's listings are read over several runs: no one of them judges de-listing
        crawl = log.crawl(spider.name, self.started_at, datetime.now(VN_TZ), finished=finished)
        verdicts = await run_in_thread(self.archive.record_listings, crawl, run_id=self.run_id)
        for name in ("delisted", "relisted"):
            self.crawler.stats.set_value(f"tgwatch/verdict/{name}", getattr(verdicts, name))
        self.crawler.stats.set_value("tgwatch/listing/out_of_reach", verdicts.out_of_reach)
        if verdicts.delisted or verdicts.relisted:
            logger.info("%s: %d delisted, %d relisted", spider.name, verdicts.delisted, verdicts.relisted)
