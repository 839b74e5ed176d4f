"""Item pipelines: a fetched page becomes an observation (extraction), an observation is recorded.

``ExtractPipeline`` runs ``crawler.worker.read_page`` in a process pool (TGWATCH_EXTRACT_WORKERS) so
the reactor keeps downloading while the other core extracts; ``RecordPipeline`` hands the
observation to ``Archive.record`` on one writer thread (one transaction per observation) and counts
the verdicts in the crawl stats (``tgwatch/verdict/<verdict>``).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import is_asyncio_available, run_in_thread

from crawler.extensions import ArchiveRun
from crawler.items import ArticleCheck, Page
from crawler.worker import Reading, read_page, warm_up
from storage.errors import ArchiveError
from storage.observation import Capture, Failed, Fetched, Gone, Observation, Verdict

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawler.profiles import SiteProfile

logger = logging.getLogger(__name__)
T = TypeVar("T")

_pools: dict[tuple[int, str], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def forkserver_preload() -> list[str]:
    """Modules the fork server imports once, so that each worker forked from it starts warm.

    Workers re-run the main module (multiprocessing's rule); with it preloaded that costs nothing.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    named = [spec.name] if spec is not None and spec.name and not spec.name.endswith("__main__") else []
    return ["__main__", *named, "crawler.worker", "crawler.extract"]


def extraction_pool(workers: int, start_method: str) -> ProcessPoolExecutor:
    """One pool per process and size, shared by every crawler of the process and kept to its exit.

    A ``tgwatch crawl`` of several sites, or the demo's three crawls, then start the workers (and
    import trafilatura in them) once.
    """
    key = (workers, start_method)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            context = multiprocessing.get_context(start_method)
            if start_method == "forkserver":
                context.set_forkserver_preload(forkserver_preload())
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=warm_up)
            for _ in range(workers):  # start the workers now, while the first pages download
                pool.submit(warm_up)
            _pools[key] = pool
        return pool


def discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool (a worker died) so the next ``extraction_pool`` call starts a new one."""
    with _pools_lock:
        for key, known in list(_pools.items()):
            if known is pool:
                del _pools[key]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def _shutdown_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


async def wait_for(future: Future[T]) -> T:
    """Await a ``concurrent.futures`` future from the reactor, asyncio or not."""
    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    return await run_in_thread(future.result)


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

    def open_spider(self) -> None:
        if self.workers > 0:
            self.start_pool()

    def start_pool(self) -> None:
        """Start the workers in a thread: starting processes blocks, the reactor must not."""
        starter = ThreadPoolExecutor(1, thread_name_prefix="tgwatch-pool-start")
        self.pool = starter.submit(extraction_pool, self.workers, self.start_method)
        starter.shutdown(wait=False)

    async def read(self, page: Page, profile: SiteProfile | None) -> Reading:
        """``read_page`` in a worker; a pool broken by a dead worker is replaced once."""
        if self.pool is None:
            return await run_in_thread(read_page, page, profile)
        pool = await wait_for(self.pool)
        try:
            return await wait_for(pool.submit(read_page, page, profile))
        except BrokenProcessPool:
            logger.warning("an extraction worker died; starting new workers")
            discard_pool(pool)
            if self.pool.done() and self.pool.result() is pool:
                self.start_pool()
            pool = await wait_for(self.pool)
            return await wait_for(pool.submit(read_page, page, profile))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleCheck) or item.observation is not None or item.page is None:
            return item
        page, item.page = item.page, None  # the body lives on in the capture only
        try:
            reading = await self.read(page, getattr(self.crawler.spider, "profile", None))
        except Exception as exc:  # a bug or a dead pool: this check failed, nothing else
            logger.error("extraction of %s failed: %r", page.url, exc)
            self.crawler.stats.inc_value("tgwatch/extract_errors")
            reading = Reading(problem=f"extraction failed: {type(exc).__name__}")
        item.observation = self.observation(item, page, reading)
        if item.observation is None:
            raise DropItem(f"{item.url}: no article on the page")
        return item

    @staticmethod
    def observation(item: ArticleCheck, page: Page, reading: Reading) -> Observation | None:
        """What the reading means: an article, a failed check, a soft-404 of a known article, or nothing."""
        if reading.problem is not None:
            return Failed(reason=reading.problem, fetched_at=item.fetched_at)
        capture = Capture(url=page.url, status=page.status, headers=page.headers, body=page.body)
        if reading.content is not None:
            return Fetched(
                content=reading.content,
                fetched_at=item.fetched_at,
                capture=capture,
                etag=page.headers.get("etag"),
                last_modified=page.headers.get("last-modified"),
            )
        if item.known:
            return Gone(reason="soft-404: no article on the page", fetched_at=item.fetched_at, capture=capture)
        return None  # a link that looked like an article and is not one: nothing to record


class RecordPipeline:
    """Records each observation with ``Archive.record`` (one transaction) on one writer thread.

    One thread per crawler: SQLite takes one writer at a time anyway, and a single writer never
    waits on the busy timeout behind its own siblings.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run: ArchiveRun | None = None
        self.writer: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.get_extension(ArchiveRun) is None:
            raise NotConfigured("RecordPipeline needs the ArchiveRun extension (TGWATCH_DB)")
        return cls(crawler)

    def open_spider(self) -> None:
        self.run = self.crawler.get_extension(ArchiveRun)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="tgwatch-record")

    def close_spider(self) -> None:
        if self.writer is not None:
            self.writer.shutdown(wait=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleCheck) or item.observation is None:
            return item
        assert self.run is not None and self.writer is not None
        archive, run_id = self.run.archive, self.run.run_id
        future = self.writer.submit(archive.record, item.site, item.url, item.observation, run_id=run_id)
        try:
            verdict = await wait_for(future)
        except ArchiveError as exc:
            self.crawler.stats.inc_value("tgwatch/record_errors")
            raise DropItem(f"{item.url}: not recorded: {exc}") from None
        item.verdict = str(verdict)
        self.crawler.stats.inc_value(f"tgwatch/verdict/{verdict}")
        level = logging.INFO if verdict in NOTABLE else logging.DEBUG
        logger.log(level, "%s %s (%s)", verdict, item.url, describe(item.observation))
        return item


NOTABLE = frozenset({Verdict.NEW, Verdict.EDITED, Verdict.REMOVED, Verdict.RESTORED, Verdict.GONE_PENDING})


def describe(observation: Observation) -> str:
    """A few words on what was seen, for the log."""
    if isinstance(observation, (Gone, Failed)):
        return f"{type(observation).__name__.lower()}: {observation.reason}"
    return type(observation).__name__
