"""Item pipelines: a fetched page becomes an observation (extraction), an observation is recorded.

``ExtractPipeline`` runs ``crawler.worker.read_page`` (the one read-a-page path) in a process
pool (TGWATCH_EXTRACT_WORKERS, started by the first page to read: a re-crawl whose pages all answer
304 starts no worker) so the reactor keeps downloading while the other core extracts;
``RecordPipeline`` gathers observations into batches (``TGWATCH_RECORD_BATCH``, gathered for
``TGWATCH_RECORD_LINGER`` at least) that one writer thread records with ``Archive.record_batch`` (one
transaction per batch, a savepoint per observation), and counts the verdicts in the crawl stats
(``tgwatch/verdict/<verdict>``).
"""

from __future__ import annotations

import logging
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import run_in_thread, sleep

from crawler.extensions import ArchiveRun
from crawler.items import ArticleCheck, Page
from crawler.logformat import logs_debug
from crawler.pool import discard_pool, extraction_pool, return_pool, wait_for
from crawler.worker import Reading, failed_reading, read_page
from storage.archive import Archive, Entry
from storage.errors import ArchiveError
from storage.observation import Failed, Gone, Observation, Verdict

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawler.profiles import SiteProfile

logger = logging.getLogger(__name__)



CallFromThread = Callable[[Callable[[], None]], object]
"""``reactor.callFromThread(function)``: run ``function`` in the reactor thread."""

CallLater = Callable[[float, Callable[[], None]], Any]
"""``reactor.callLater(seconds, function)``: its result has ``cancel()``."""

SWITCH_INTERVAL = 0.0005
"""Seconds the writer thread may hold the GIL while the reactor thread waits for it (Python's default
is 0.005). The reactor gives the GIL up at every socket call; with the default it then waited up to
5 ms for the recording thread each time, many times a page."""

class ExtractPipeline:
    """Turns a fetched page into ``Fetched`` (an article), ``Gone("soft-404")`` or a failed check."""

    def __init__(self, crawler: Crawler, workers: int, start_method: str) -> None:
        self.crawler = crawler
        self.workers = workers
        self.start_method = start_method
        self.pool: Future[ProcessPoolExecutor] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        workers = settings.getint("TGWATCH_EXTRACT_WORKERS")
        return cls(crawler, workers, settings.get("TGWATCH_EXTRACT_START_METHOD"))

    def start_pool(self) -> None:
        """Start the workers in a thread: starting processes blocks, the reactor must not."""
        starter = ThreadPoolExecutor(1, thread_name_prefix="tgwatch-pool-start")
        self.pool = starter.submit(extraction_pool, self.workers, self.start_method, borrowed=True)
        starter.shutdown(wait=False)

    def close_spider(self) -> None:
        """Give the pool back (``return_pool``): its workers end before the crawl's closing work."""
        if self.pool is not None:
            started, self.pool = self.pool, None
            try:
                pool = started.result()
            except Exception:  # it never started: nothing to give back
                return
            return_pool(pool)

    async def read(self, item: ArticleCheck, page: Page, profile: SiteProfile | None) -> Reading:
        """``read_page`` in a worker; a pool broken by a dead worker is replaced once."""
        at, known = item.fetched_at, item.known
        if self.workers <= 0:
            return await run_in_thread(read_page, page, profile, fetched_at=at, known=known, ahead=True)
        if self.pool is None:  # started by the first page to read: a re-crawl of unchanged pages starts none
            self.start_pool()
        assert self.pool is not None
        pool = self.pool.result() if self.pool.done() else await wait_for(self.pool)  # started: no wait
        try:
            return await wait_for(pool.submit(read_page, page, profile, fetched_at=at, known=known, ahead=True))
        except BrokenProcessPool:
            logger.warning("an extraction worker died; starting new workers")
            discard_pool(pool)
            if self.pool.done() and self.pool.result() is pool:
                self.start_pool()
            pool = await wait_for(self.pool)
            return await wait_for(pool.submit(read_page, page, profile, fetched_at=at, known=known, ahead=True))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleCheck) or item.observation is not None or item.page is None:
            return item
        page, item.page = item.page, None  # the body lives on in the capture only
        try:
            reading = await self.read(item, page, getattr(self.crawler.spider, "profile", None))
        except Exception as exc:  # a bug or a dead pool: this check failed, nothing else
            logger.error("extraction of %s failed: %r", page.url, exc, exc_info=True)
            self.crawler.stats.inc_value("tgwatch/extract_errors")
            reading = failed_reading(exc, item.fetched_at)
        item.observation = reading.observation
        if item.observation is None:
            raise DropItem(f"{item.url}: no article on the page ({reading.reason})")
        return item


class Batches:
    """Observations waiting to be recorded, written a batch at a time by one writer thread.

    Group commit: an observation that comes while the writer is idle waits ``linger`` seconds for
    others (``call_later``; none: it is written at once), unless ``size`` are already waiting; those
    that come while it writes wait, and go together (up to ``size`` a batch) as soon as it is done,
    and at ``close``. So a slow trickle waits ``linger`` at most and a fast crawl gets big batches:
    an unchanged re-crawl's 304s, written as they came, made batches of one or two, each paying for
    a transaction and two thread hand-overs. Called from the reactor thread only
    (``call_from_thread`` brings the writer's "done" back to it); each observation's outcome
    (``Archive.record_batch``) comes back on its own future.
    """

    def __init__(self, archive: Archive, size: int, call_from_thread: CallFromThread,
                 linger: float = 0.0, call_later: CallLater | None = None) -> None:
        self.archive = archive
        self.size = max(1, size)
        self.call_from_thread = call_from_thread
        self.linger = linger if call_later is not None else 0.0
        self.call_later = call_later
        self.timer: Any = None  # the lingering batch's delayed call (``cancel()``-able)
        self.pending: list[tuple[Entry, Future[Verdict]]] = []
        self.writing = False
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="tgwatch-record")

    def submit(self, entry: Entry) -> Future[Verdict]:
        future: Future[Verdict] = Future()
        self.pending.append((entry, future))
        if self.writing:
            return future
        if self.linger <= 0 or len(self.pending) >= self.size:
            self.flush()
        elif self.timer is None:
            assert self.call_later is not None
            self.timer = self.call_later(self.linger, self.lingered)
        return future

    def lingered(self) -> None:
        """The first observation of a batch has waited ``linger``: the batch goes."""
        self.timer = None
        if not self.writing:
            self.flush()

    def flush(self) -> None:
        """Hand the next batch to the writer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending[:self.size], self.pending[self.size:]
        if batch:
            self.writing = True
            self.writer.submit(self.write, batch)

    def written(self) -> None:
        """In the reactor thread: the writer is done with a batch."""
        self.writing = False
        if self.pending:
            self.flush()

    def write(self, batch: list[tuple[Entry, Future[Verdict]]]) -> None:
        """In the writer thread."""
        try:
            outcomes = self.archive.record_batch([entry for entry, _ in batch])
        except Exception as exc:  # a bug, or the archive gone mid-batch: none was recorded
            outcomes = [exc] * len(batch)
        self.call_from_thread(self.written)
        for (_, future), outcome in zip(batch, outcomes):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def close(self) -> None:
        """Write what is pending and wait for the writer."""
        while self.pending:
            self.flush()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.writer.shutdown(wait=True)


class RecordPipeline:
    """Records each observation, whole or not at all, in batches on one writer thread (``Batches``).

    One thread per crawler: SQLite takes one writer at a time anyway, and a single writer never
    waits on the busy timeout behind its own siblings. A batch is one transaction: one commit for
    many observations instead of one each.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.retry_for = crawler.settings.getfloat("TGWATCH_RECORD_RETRY")
        self.batch = crawler.settings.getint("TGWATCH_RECORD_BATCH")
        self.linger = crawler.settings.getfloat("TGWATCH_RECORD_LINGER")
        self.debug = logs_debug(crawler.settings)  # the routine verdicts' records: only when they are kept
        self.run: ArchiveRun | None = None
        self.batches: Batches | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.get_extension(ArchiveRun) is None:
            raise NotConfigured("RecordPipeline needs the ArchiveRun extension (TGWATCH_DB)")
        return cls(crawler)

    def open_spider(self) -> None:
        self.run = self.crawler.get_extension(ArchiveRun)
        assert self.run is not None
        from twisted.internet import reactor  # the one Scrapy installed (imported earlier, it would install one)

        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        clock: Any = reactor  # IReactorThreads and IReactorTime
        self.batches = Batches(self.run.archive, self.batch, clock.callFromThread, self.linger, clock.callLater)

    def close_spider(self) -> None:
        if self.batches is not None:
            self.batches.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleCheck) or item.observation is None:
            return item
        assert self.run is not None and self.batches is not None
        run_id = item.run_id if item.run_id is not None else self.run.run_id
        entry = Entry(item.site, item.url, item.observation, run_id)
        deadline = time.monotonic() + self.retry_for
        wait = 0.5
        while True:
            try:
                verdict = await wait_for(self.batches.submit(entry))
                break
            except ArchiveError as exc:
                self.crawler.stats.inc_value("tgwatch/record_errors")
                if time.monotonic() + wait > deadline:
                    if self.retry_for > 0:  # a worker: the check goes back to the frontier
                        from crawler.fleet import ArchiveUnavailable

                        raise ArchiveUnavailable(f"{item.url}: not recorded: {exc}") from None
                    raise DropItem(f"{item.url}: not recorded: {exc}") from None
                logger.warning("%s: archive unavailable, retrying in %.1f s: %s", item.url, wait, exc)
                await sleep(wait)
                wait = min(wait * 2, 10.0)
        item.verdict = str(verdict)
        self.crawler.stats.inc_value(f"tgwatch/verdict/{verdict}")
        if verdict in NOTABLE:
            logger.info("%s %s (%s)", verdict, item.url, describe(item.observation))
        elif self.debug:
            logger.debug("%s %s (%s)", verdict, item.url, describe(item.observation))
        return item


NOTABLE = frozenset({Verdict.NEW, Verdict.EDITED, Verdict.REMOVED, Verdict.RESTORED, Verdict.GONE_PENDING})


def describe(observation: Observation) -> str:
    """A few words on what was seen, for the log."""
    if isinstance(observation, (Gone, Failed)):
        return f"{type(observation).__name__.lower()}: {observation.reason}"
    return type(observation).__name__
