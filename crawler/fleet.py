"""Several worker processes on one shared frontier (``crawler.frontier``) and one PostgreSQL archive.

The Scrapy side of ``tgwatch worker`` and ``tgwatch enqueue``, built on scrapy-redis:

- ``FleetScheduler`` is scrapy-redis's ``Scheduler`` with the frontier as its queue
  (``FrontierQueue``, a scrapy-redis queue) and the due-time fingerprints of the frontier as its
  duplicate filter (``DueDupeFilter``). Requests a worker finds (listing pages, article links) are
  pushed to the frontier; requests it takes are *leased*, renewed while it works on them and
  acknowledged only once their observation is recorded. Retries and redirects of a leased request
  stay in this worker, under the same lease. Redis calls that fail (Redis restarting) wait in
  order in ``RedisOutbox`` and are retried; nothing is dropped.
- ``FleetSiteSpider`` is the site spider of a worker: it starts nothing by itself, never closes
  when idle, hands its crawl on to the requests it finds and acknowledges what ends without an
  item. Items are acknowledged by the scheduler when they are recorded (item signals).
- ``enqueue_crawl`` is the scheduling side: one crawl of one site (a ``crawl_runs`` row, its
  listing pages and its due re-checks) put into the frontier; ``close_crawl`` books the run when
  the last of its requests is done.
- A fleet crawl keeps its listing log in Redis: each worker notes the listing pages it reads
  (``Frontier.note_listing``). When the crawl's last listing is done the frontier queues a
  *sweep* (a leased entry like any other, so a worker dying on it loses nothing): the worker
  taking it re-checks the articles the listings stopped showing (``sweep_unlisted``, as a local
  crawl does when idle). When the whole crawl is done, ``close_crawl`` records the listings, their
  ``delisted``/``relisted`` verdicts and the run in one transaction, under the run row's lock,
  so however many closers race, the crawl is judged once.

scrapy-redis's own pieces behave in ways a fleet of re-checking workers cannot use, and are
replaced here on purpose: ``RFPDupeFilter`` keeps fingerprints forever (issue #84: a URL checked
once is never checked again), ``PriorityQueue.pop`` deletes the request it hands out (a worker
killed afterwards loses it), and ``Scheduler.close`` flushes the shared queue unless
``SCHEDULER_PERSIST`` (one worker stopping would empty the queue of all).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, DropItem, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base as RedisQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task, threads

from crawler.extensions import ArchiveRun, run_counts
from crawler.frontier import CrawlState, Entry, Frontier, Lease
from crawler.items import ArticleCheck
from crawler.recheck import select_rechecks
from crawler.spiders.site import SiteSpider, first_url
from storage.content import VN_TZ
from storage.listings import ListingCrawl, ListingPage
from storage.observation import Verdict
from storage.urls import canonical_url
from storage.vocabulary import RunOutcome

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

    from crawler.profiles import SiteProfile
    from storage.archive import Archive
    from storage.reads import KnownArticle

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
"""What a Redis call raises while Redis restarts or is unreachable: wait and retry."""

SWEEP_RETRY = 2.0
"""Seconds before a sweep that met Redis or the archive away is tried again."""

UNSETTLED = frozenset({Verdict.FAILED, Verdict.GONE_PENDING})
"""Verdicts after which the URL is due again at once (the next crawl must look again)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def frontier_from_settings(settings: BaseSettings) -> Frontier:
    return Frontier.connect(settings.get("TGWATCH_REDIS"), settings.get("TGWATCH_REDIS_PREFIX"),
                            timeout=settings.getfloat("TGWATCH_REDIS_TIMEOUT"))


# --- the queue and the duplicate filter (scrapy-redis classes over the frontier) -------------------
class FrontierQueue(RedisQueue):  # type: ignore[misc]  # scrapy-redis is untyped
    """A scrapy-redis queue whose entries are small JSON records (``Entry``), not pickles.

    A request is rebuilt by the spider from its entry (``listing_request``/``article_request``),
    so a request in Redis carries no callback names, headers or Python objects, only data.
    ``push`` reports whether the entry was new to the frontier (the duplicate test is part of
    the same atomic step).
    """

    def __init__(self, frontier: Frontier, spider: Spider, max_listings: int, max_articles: int) -> None:
        super().__init__(frontier.redis, spider, frontier.site_keys(spider.name)["queue"], serializer=self)
        self.frontier = frontier
        self.site = spider.name
        self.max_listings = max_listings
        self.max_articles = max_articles

    # scrapy-redis asks its serializer for loads/dumps: entries are JSON text already
    @staticmethod
    def loads(data: str) -> str:
        return data

    @staticmethod
    def dumps(data: str) -> str:
        return data

    def __len__(self) -> int:
        return int(self.server.zcard(self.key))

    def entry_of(self, request: Request) -> Entry:
        meta = request.meta
        kind = "listing" if meta.get("tgwatch_kind") == "listing" else (
            "recheck" if meta.get("tgwatch_known") else "article")
        return Entry(kind=kind, url=request.url, key=canonical_url(request.url), crawl=int(meta["tgwatch_crawl"]),
                     run=meta.get("tgwatch_run"), priority=request.priority, depth=int(meta.get("depth", 0)))

    def push(self, request: Request) -> bool:
        return self.frontier.push(self.site, self.entry_of(request), max_listings=self.max_listings,
                                  max_articles=self.max_articles)

    def pop(self, timeout: int = 0) -> Request | None:
        raise NotImplementedError("a fleet worker takes leases (FleetScheduler.poll), it never pops")


class DueDupeFilter(RFPDupeFilter):  # type: ignore[misc]  # scrapy-redis is untyped
    """Fingerprints with a due time: the canonical article URL in the site's ``due`` sorted set.

    The test and the push are one Lua step in ``Frontier.push``, so ``request_seen`` only says
    what that step would decide; the scheduler never calls it before pushing.
    """

    def __init__(self, frontier: Frontier, site: str) -> None:
        super().__init__(frontier.redis, frontier.site_keys(site)["due"])
        self.frontier = frontier
        self.site = site

    def request_fingerprint(self, request: Request) -> str:
        return canonical_url(request.url)

    def request_seen(self, request: Request) -> bool:
        due = self.frontier.due_time(self.site, self.request_fingerprint(request))
        return due is not None and (due == float("inf") or not request.meta.get("tgwatch_known"))

    def close(self, reason: str = "") -> None:
        """Fingerprints outlive every worker (scrapy-redis would delete them here)."""

    def clear(self) -> None:
        """Never cleared by a worker."""


# --- Redis calls that must not be lost while Redis is away ----------------------------------------
class RedisOutbox:
    """Redis operations (pushes, acknowledgements) run in order; while Redis is unreachable they
    wait here and are retried by ``flush``, so a restart delays them but loses none."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.waiting: deque[Callable[[], object]] = deque()
        self.down_since: float | None = None

    def run(self, operation: Callable[[], object]) -> None:
        self.waiting.append(operation)
        self.flush()

    def flush(self) -> bool:
        """True when nothing waits any more."""
        while self.waiting:
            try:
                self.waiting[0]()
            except REDIS_DOWN as exc:
                if self.down_since is None:
                    self.down_since = time.monotonic()
                    logger.warning("%s: Redis unreachable (%s); %d operations wait", self.what, exc,
                                   len(self.waiting))
                return False
            self.waiting.popleft()
        if self.down_since is not None:
            logger.warning("%s: Redis is back after %.1f s", self.what, time.monotonic() - self.down_since)
            self.down_since = None
        return True

    @property
    def down(self) -> bool:
        return self.down_since is not None


# --- the scheduler ---------------------------------------------------------------------------------
class FleetScheduler(RedisScheduler):  # type: ignore[misc]  # scrapy-redis is untyped
    """scrapy-redis's scheduler on the shared frontier, with leases (see the module docstring)."""

    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        settings = crawler.settings
        super().__init__(frontier.redis, persist=True, idle_before_close=0)
        self.crawler = crawler
        self.stats = crawler.stats
        self.frontier = frontier
        self.visibility = settings.getfloat("TGWATCH_FLEET_VISIBILITY")
        self.prefetch = settings.getint("TGWATCH_FLEET_PREFETCH")
        self.poll_interval = settings.getfloat("TGWATCH_FLEET_POLL")
        self.poll_max = max(self.poll_interval, settings.getfloat("TGWATCH_FLEET_POLL_MAX"))
        self.empty_polls = 0
        self.quiet_until = 0.0  # an idle worker looks at the frontier less and less often
        self.min_interval = settings.getfloat("TGWATCH_RECHECK_MIN_INTERVAL")
        self.max_listings = settings.getint("TGWATCH_LISTING_PAGES")
        self.max_articles = settings.getint("TGWATCH_ARTICLE_REQUESTS")
        self.worker = worker_id()
        self.local: deque[Request] = deque()  # leased requests (and their retries) not yet downloading
        self.held: dict[str, Lease] = {}  # every lease taken and not yet acknowledged
        self.outbox = RedisOutbox("frontier")
        self.loops: list[task.LoopingCall] = []
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("TGWATCH_REDIS"):
            raise ValueError("FleetScheduler needs TGWATCH_REDIS (the frontier's Redis URL)")
        scheduler = cls(crawler, frontier_from_settings(crawler.settings))
        crawler.signals.connect(scheduler.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(scheduler.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(scheduler.item_error, signal=signals.item_error)
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.site = spider.name
        self.queue = FrontierQueue(self.frontier, spider, self.max_listings, self.max_articles)
        self.df = DueDupeFilter(self.frontier, self.site)
        every = (
            (self.poll, self.poll_interval),
            (self.renew, self.visibility / 4),
            (self.reap, max(self.visibility / 2, self.poll_interval)),
        )
        for call, interval in every:
            loop = task.LoopingCall(self._guarded, call)
            loop.start(interval, now=True)
            self.loops.append(loop)

    def close(self, reason: str) -> None:
        """Give back what this worker took and did not start; what was under way comes back after
        the visibility time-out (its answer may or may not have been recorded)."""
        self.closing = True
        for loop in self.loops:
            if loop.running:
                loop.stop()
        unstarted = [r.meta["tgwatch_lease"] for r in self.local if r.meta.get("tgwatch_lease") in self.held]
        self.local.clear()
        if unstarted:
            for lease in unstarted:
                self.held.pop(lease, None)
            self.outbox.run(lambda: self.frontier.give_back(self.site, unstarted))
        self.outbox.flush()
        try:
            self.frontier.leave(self.worker)
        except REDIS_DOWN:
            pass
        self.frontier.close()

    def _guarded(self, call: Callable[[], None]) -> None:
        try:
            call()
        except REDIS_DOWN as exc:
            logger.debug("frontier: Redis unreachable in %s: %s", call.__name__, exc)
        except Exception:
            logger.exception("frontier: %s failed", call.__name__)

    # --- Scrapy's scheduler interface -----------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get("tgwatch_lease") in self.held:
            self.local.append(request)  # a retry or redirect of a leased request: ours to finish
            return True
        if "tgwatch_crawl" not in request.meta:
            logger.warning("%s: %s belongs to no crawl; not queued", self.site, request.url)
            return False
        self.outbox.run(lambda: self._push(request))
        return True

    def _push(self, request: Request) -> None:
        self.quiet_until = 0.0  # this worker is finding work: look for it at once
        if self.queue.push(request):
            self.stats.inc_value("scheduler/enqueued/redis")
        else:
            self.stats.inc_value("tgwatch/fleet/already_in_frontier")

    def next_request(self) -> Request | None:
        return self.local.popleft() if self.local else None

    def has_pending_requests(self) -> bool:
        return bool(self.local)

    def __len__(self) -> int:
        return len(self.local)

    # --- leases ------------------------------------------------------------------------------------
    def poll(self) -> None:
        """Take entries while this worker holds fewer than TGWATCH_FLEET_PREFETCH leases."""
        if self.closing or not self.outbox.flush() or time.monotonic() < self.quiet_until:
            return
        room = self.prefetch - len(self.held)
        if room <= 0:
            return
        engine = self.crawler.engine
        leases = self.frontier.take(self.site, room, self.visibility)
        if leases:
            self.empty_polls = 0
        else:  # back off, up to TGWATCH_FLEET_POLL_MAX: hundreds of idle sites cost Redis little
            self.empty_polls += 1
            backoff = self.poll_interval * 2 ** min(self.empty_polls, 8)
            self.quiet_until = time.monotonic() + min(backoff, self.poll_max)
        for lease in leases:
            self.held[lease.id] = lease
            self.stats.inc_value("scheduler/dequeued/redis")
            if lease.entry.kind == "sweep":
                self.sweep(lease)
            else:
                engine.crawl(self.request_of(lease))
        if leases:
            self.beat()  # status shows what this worker holds now

    def request_of(self, lease: Lease) -> Request:
        entry = lease.entry
        spider: SiteSpider = self.spider  # type: ignore[assignment]  # the fleet's spiders are site spiders
        if entry.kind == "listing":
            request = spider.listing_request(entry.url)
            assert request is not None
        else:
            request = spider.article_request(entry.url)
            request.meta["tgwatch_known"] = entry.kind == "recheck"
        request.priority = entry.priority
        request.meta.update(tgwatch_lease=lease.id, tgwatch_crawl=entry.crawl, tgwatch_run=entry.run,
                            depth=entry.depth)
        return request

    def sweep(self, lease: Lease) -> None:
        """The crawl's listings are all read: queue its re-checks of the articles they stopped
        showing (``sweep_unlisted``); tried again while the archive or Redis is away (the lease
        is renewed meanwhile, and comes back to the frontier if this worker stops)."""
        run = self.crawler.get_extension(ArchiveRun)
        if run is None or self.closing:
            self.give_back(lease.id)
            return

        def failed(failure: Failure) -> None:
            from twisted.internet import reactor  # the one Scrapy installed (never at import time)

            logger.warning("%s: crawl %s: listings not swept yet (%s); trying again", self.site,
                           lease.entry.crawl, failure.getErrorMessage())
            task.deferLater(reactor, SWEEP_RETRY, self.sweep, lease)  # type: ignore[arg-type]  # the reactor module

        deferred = threads.deferToThread(sweep_unlisted, self.frontier, run.archive, lease.site, lease.entry)
        deferred.addCallbacks(lambda _: self.finish(lease.id, answered=False), failed)

    def beat(self) -> None:
        self.frontier.heartbeat(self.worker, {"host": socket.gethostname(), "pid": os.getpid(),
                                              f"held:{self.site}": len(self.held)})

    def renew(self) -> None:
        self.beat()
        self.frontier.renew(self.site, list(self.held), self.visibility)

    def reap(self) -> None:
        returned = self.frontier.reap(self.site)
        if returned:
            logger.warning("%s: %d requests of a worker that stopped answering are back in the frontier",
                           self.site, returned)
            self.stats.inc_value("tgwatch/fleet/reaped", returned)

    def finish(self, lease_id: str | None, *, verdict: str | None = None, answered: bool = True) -> None:
        """The request of ``lease_id`` is done: acknowledge it with what it counted."""
        lease = self.held.pop(lease_id, None) if lease_id else None
        if lease is None:
            return
        counts = {"tgwatch/pages": 1} if answered else {}
        if verdict:
            counts[f"tgwatch/verdict/{verdict}"] = 1
        due: float | None = None  # a listing (or a sweep) has none: it is read once per crawl
        if lease.entry.kind not in ("listing", "sweep"):
            due = time.time() + (0.0 if verdict in UNSETTLED else self.min_interval)
        self.outbox.run(lambda: self._ack(lease, due, counts))

    def give_back(self, lease_id: str | None) -> None:
        """Return a lease's entry to the frontier now (its observation could not be recorded)."""
        lease = self.held.pop(lease_id, None) if lease_id else None
        if lease is not None:
            self.outbox.run(lambda: self.frontier.give_back(lease.site, [lease.id]))

    def _ack(self, lease: Lease, due: float | None, counts: dict[str, int]) -> None:
        left = self.frontier.ack(lease, due=due, counts=counts)
        if left == 0:
            run = self.crawler.get_extension(ArchiveRun)
            if run is not None:
                threads.deferToThread(close_crawl, self.frontier, run.archive, lease.entry.crawl).addErrback(
                    lambda f: logger.error("crawl %s not closed: %s", lease.entry.crawl, f.getErrorMessage()))

    # --- item signals: an article check is done once recorded -----------------------------------
    def item_scraped(self, item: Any) -> None:
        if isinstance(item, ArticleCheck):
            self.finish(item.lease, verdict=item.verdict)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        if not isinstance(item, ArticleCheck):
            return
        if isinstance(exception, ArchiveUnavailable):
            self.give_back(item.lease)
        else:
            self.finish(item.lease)

    def item_error(self, item: Any) -> None:
        if isinstance(item, ArticleCheck):
            self.finish(item.lease)


class ArchiveUnavailable(DropItem):
    """The archive stayed unreachable longer than TGWATCH_RECORD_RETRY: the check goes back to
    the frontier for later, unrecorded (never acknowledged, never lost)."""


def scheduler_of(spider: Spider) -> FleetScheduler | None:
    engine = spider.crawler.engine
    scheduler = engine.scheduler if engine is not None else None
    return scheduler if isinstance(scheduler, FleetScheduler) else None


# --- the worker's spider --------------------------------------------------------------------------
class FleetSiteSpider(SiteSpider):
    """``SiteSpider`` in a worker: requests come from the frontier, never from ``start``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.keep_alive, signal=signals.spider_idle)
        return spider

    def keep_alive(self) -> None:
        raise DontCloseSpider("a worker waits for the frontier")

    async def start(self) -> Any:  # an async generator that yields nothing
        return
        yield

    def should_check(self, key: str) -> bool:
        return True  # the frontier decides (``DueDupeFilter``): known and queued URLs stay out

    def listing_request(self, url: str) -> Request | None:
        """Always a request: the frontier reads a listing once per crawl and counts a crawl's
        listing pages (TGWATCH_LISTING_PAGES); a worker serves many crawls."""
        return Request(url, callback=self.parse_listing, errback=self.listing_failed,
                       meta={"tgwatch_kind": "listing"})

    def article_request(self, url: str, *, known: KnownArticle | None = None) -> Request:
        request = super().article_request(url, known=known)
        self.checked.clear()  # a crawl's own bookkeeping: a worker keeps none
        return request

    def recheck_unlisted(self) -> None:
        """Never when this worker is idle: a fleet crawl's sweep does it (``sweep_unlisted``), once
        the crawl's last listing is read, whichever worker read it."""

    def done(self, request: Request, *, answered: bool) -> None:
        scheduler = scheduler_of(self)
        if scheduler is not None:
            scheduler.finish(request.meta.get("tgwatch_lease"), answered=answered)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        crawl: dict[str, Any] = {k: response.meta[k] for k in ("tgwatch_crawl", "tgwatch_run") if k in response.meta}
        for request in super().parse_listing(response):
            request.meta.update(crawl)
            yield request
        # what the page showed goes to the crawl's listing log in Redis (before the listing's
        # acknowledgement, in order); the worker keeps no crawl's bookkeeping of its own (the
        # frontier de-duplicates and caps for the whole crawl)
        assert response.request is not None
        self.note_listing(response.request)
        self.scheduled.clear()
        self.article_requests.used, self.article_requests.reached = 0, False
        self.done(response.request, answered=True)

    def listing_failed(self, failure: Failure) -> None:
        super().listing_failed(failure)
        self.note_listing(failure.request)  # type: ignore[attr-defined]
        self.done(failure.request, answered=False)  # type: ignore[attr-defined]

    def note_listing(self, request: Request) -> None:
        """Hand the spider's listing log of this page (read, failed, cut short) to the crawl's."""
        log = self.listing_log
        page, failed, truncated = log.pages.pop(first_url(request), None), first_url(request) in log.failed, \
            log.truncated
        log.pages.clear()
        log.failed.clear()
        log.truncated = False
        scheduler = scheduler_of(self)
        crawl = request.meta.get("tgwatch_crawl")
        if scheduler is None or crawl is None:
            return
        frontier = scheduler.frontier
        if page is not None:
            scheduler.outbox.run(lambda: frontier.note_listing(int(crawl), page.url, page.kind, page.articles,
                                                               page.read_at.isoformat()))
        elif failed:
            scheduler.outbox.run(lambda: frontier.note_failed(int(crawl), first_url(request)))
        if truncated:
            scheduler.outbox.run(lambda: frontier.note_truncated(int(crawl)))

    def parse_article(self, response: Response) -> Iterator[ArticleCheck]:
        for check in super().parse_article(response):
            yield self.leased(check, response.meta)

    def check_failed(self, failure: Failure) -> Iterator[ArticleCheck]:
        request: Request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest):  # robots.txt forbids it: done, nothing to record
            self.done(request, answered=False)
            return
        for check in super().check_failed(failure):
            yield self.leased(check, request.meta)

    @staticmethod
    def leased(check: ArticleCheck, meta: dict[str, Any]) -> ArticleCheck:
        check.lease = meta.get("tgwatch_lease")
        check.run_id = meta.get("tgwatch_run")
        return check


# --- the scheduling side ---------------------------------------------------------------------------
def policy_of(settings: BaseSettings) -> Any:
    """The re-check policy of TGWATCH_RECHECK_POLICY, built as a crawl would build it (its
    ``from_crawler`` reads only the settings)."""
    cls = load_object(settings.get("TGWATCH_RECHECK_POLICY"))
    holder = SimpleNamespace(settings=settings)
    return cls.from_crawler(holder) if hasattr(cls, "from_crawler") else cls()


def due_time(article: KnownArticle, policy: Any, now: datetime, floor: float) -> float:
    """When ``article`` is next due (epoch seconds): now if the policy says so, else after the
    policy's interval (or ``floor`` seconds, for a policy that names none)."""
    if policy.is_due(article, now):
        return now.timestamp()
    interval = getattr(policy, "interval", None)
    if interval is None:
        return now.timestamp() + floor
    return float((article.last_checked_at + interval(article, now)).timestamp())


def enqueue_crawl(frontier: Frontier, archive: Archive, profile: SiteProfile, mode: str,
                  settings: BaseSettings) -> int:
    """Put one crawl of ``profile``'s site into the frontier: its start pages and the known
    articles due for a re-check (``mode``: due | all | none), as one ``crawl_runs`` row.
    Returns the crawl's id."""
    site = profile.name
    now = datetime.now(VN_TZ)
    policy = policy_of(settings)
    known = archive.known_articles(site)
    run = archive.start_run(site)
    # the crawl's caps, for the whole fleet: the frontier counts them (TGWATCH_LISTING_PAGES,
    # TGWATCH_ARTICLE_REQUESTS, re-checks first as in a local crawl)
    crawl = frontier.open_crawl(site, run, max_listings=settings.getint("TGWATCH_LISTING_PAGES"),
                                max_articles=settings.getint("TGWATCH_ARTICLE_REQUESTS"))
    floor = settings.getfloat("TGWATCH_RECHECK_MIN_INTERVAL")
    frontier.seed(site, {a.url: due_time(a, policy, now, floor) for a in known})
    for url in profile.start_urls:
        frontier.push(site, Entry("listing", url, canonical_url(url), crawl, run))
    rechecks = select_rechecks(known, mode, policy, now)
    for article in rechecks:
        frontier.push(site, Entry("recheck", article.url, article.url, crawl, run, priority=1))
    logger.info("%s: crawl %d queued (run %d): %d start pages, %d re-checks (%s) of %d known articles",
                site, crawl, run, len(profile.start_urls), len(rechecks), mode, len(known))
    if frontier.seal(crawl) <= 0:
        close_crawl(frontier, archive, crawl)
    return crawl


def sweep_unlisted(frontier: Frontier, archive: Archive, site: str, sweep: Entry) -> int:
    """Every listing page of the crawl is read: re-check the articles listed at the last crawl
    that its listings no longer show and that it has not queued, so the archive can tell a
    de-listed report (still served) from a removed one (``SiteSpider.recheck_unlisted``). Past the
    crawl's caps, as a local crawl does; nothing when a listing page failed. Returns how many."""
    pages, failed = frontier.listing_pages(sweep.crawl)
    if failed:
        return 0
    listed = {url for _kind, articles, _at in pages.values() for url in articles}
    dropped = sorted(archive.listed_urls(site) - listed - frontier.checked(sweep.crawl))
    for url in dropped:
        frontier.push(site, Entry("recheck", url, url, sweep.crawl, sweep.run, priority=1), capped=False)
    if dropped:
        logger.info("%s: crawl %d: %d listed articles off the listings: re-checking them", site, sweep.crawl,
                    len(dropped))
    return len(dropped)


def listing_crawl(frontier: Frontier, state: CrawlState) -> ListingCrawl | None:
    """The crawl's listing log (``Frontier.note_listing``) as the archive takes it; None if it read
    no listing page."""
    pages, failed = frontier.listing_pages(state.id)
    if not pages and not failed:
        return None
    read = tuple(ListingPage(url=url, kind=kind, articles=tuple(articles), read_at=datetime.fromisoformat(at))
                 for url, (kind, articles, at) in sorted(pages.items(), key=lambda p: (p[1][2], p[0])))
    return ListingCrawl(site=state.site, started_at=datetime.fromtimestamp(state.started, VN_TZ),
                        at=datetime.now(VN_TZ), pages=read, failed=tuple(sorted(failed)), truncated=state.truncated)


def close_crawl(frontier: Frontier, archive: Archive, crawl: int) -> bool:
    """Record the listings of a finished crawl, judge them and book its run: once, whoever gets
    here first (the archive locks the run row and books only a run still running; the frontier's
    claim then retires the crawl)."""
    state = frontier.crawl_state(crawl)
    if state is None or not state.done or state.closed:
        return False
    if state.run is None:  # no run to lock: the frontier's claim decides
        if not frontier.claim_close(crawl):
            return False
        if (pages := listing_crawl(frontier, state)) is not None:
            archive.record_listings(pages)
        return True
    verdicts = archive.close_run(state.run, RunOutcome.OK, run_counts(state.counts), listing_crawl(frontier, state))
    frontier.claim_close(crawl)
    if verdicts is not None and (verdicts.delisted or verdicts.relisted):
        logger.info("%s: crawl %d: %d delisted, %d relisted", state.site, crawl, verdicts.delisted, verdicts.relisted)
    return verdicts is not None
