"""The one generic spider: a site profile says where to start, what to follow, what is an article.

It walks the listing and pagination pages from the start URLs (``follow_url``, else the usual
pagination shapes of TGWATCH_FOLLOW_DEFAULT), schedules every article link it has never seen, and
re-checks the known articles of the site that are due (``recheck``: due | all | none). What an
answer means is decided here, close to the response: 304 is ``NotModified``, 404/410 and a
redirect away are ``Gone``, anything else that is not a page is ``Failed``. Pages go on to the
extraction pipeline. Nothing is ever recorded twice for one check.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.misc import build_from_crawler, load_object

from crawler.backfill import BackfillRun
from crawler.extensions import ArchiveRun
from crawler.extract import parse_html
from crawler.extract.embedded import links_in_data
from crawler.extract.payloads import has_app_data
from crawler.items import ArticleCheck, Page
from crawler.caps import Cap
from crawler.links import iter_links
from crawler.listings import ListingLog, home_url
from crawler.pace import apply_site_politeness, override
from crawler.patterns import UrlPattern, compile_pattern
from crawler.profiles import Config, SiteProfile, profile_for_url
from crawler.recheck import check_mode, select_rechecks
from storage.content import VN_TZ
from storage.observation import Failed, Gone, NotModified, Observation
from storage.reads import KnownArticle, Validators
from storage.urls import canonical_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

    from crawler.recheck import RecheckPolicy

logger = logging.getLogger(__name__)

ARTICLE_STATUSES = [s for s in range(200, 600) if s not in (301, 302, 303, 307, 308)]
"""Every answer to an article request reaches the spider (redirects are followed or judged first)."""


LINK_MEMO = 2048
"""Links of listing pages whose kind (article, listing, other) the spider remembers; then it starts over."""

GONE_LISTING = frozenset({404, 410})
"""Answers for which a backfill gives a listing page up (a broken pagination link); any other
failure leaves the page to the backfill's next run."""


def now() -> datetime:
    return datetime.now(VN_TZ)


def first_url(request: Request) -> str:
    """The URL a request was made for, before any redirect: the article's identity."""
    return request.meta.get("redirect_urls", [request.url])[0]


def describe_failure(failure: Failure) -> str:
    """One line: the exception's type and the first line of its message."""
    message = str(failure.value).strip().splitlines()
    name = type(failure.value).__name__
    return f"{name}: {message[0][:200]}" if message else name


def shared_hosts(profile: SiteProfile, config: Config | None) -> frozenset[str]:
    """Hosts of this site's start URLs that another configured site starts on as well."""
    def hosts(site: SiteProfile) -> set[str]:
        return {(urlsplit(u).hostname or "").lower() for u in site.start_urls}

    theirs: set[str] = set()
    for site in (config.sites.values() if config else ()):
        if site.name != profile.name:
            theirs |= hosts(site)
    return frozenset(hosts(profile) & theirs)


class SiteSpider(Spider):
    """Crawls one site; ``crawler.spiderloader`` makes a subclass per site with its profile."""

    name = "site"
    profile: ClassVar[SiteProfile]
    config: ClassVar[Config | None] = None
    allowed_domains: ClassVar[list[str]] = []

    recheck: str
    follow: UrlPattern
    max_listings: int
    max_links: int
    article_requests: Cap
    shared_hosts: frozenset[str] = frozenset()
    policy: RecheckPolicy
    backfill: BackfillRun | None = None

    def __init__(self, *args: Any, recheck: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recheck_arg = recheck
        self.known_urls: set[str] = set()
        self.scheduled: set[str] = set()
        self.listing_urls: set[str] = set()  # listing pages requested (at most max_listings)
        self.listing_log = ListingLog()
        self.checked: set[str] = set()  # canonical URLs of the articles this crawl checks
        self.listed_before: set[str] = set()  # articles the listings showed at the last crawl
        self.idle_rechecked = False
        self.owners: dict[str, str] = {}  # URL -> configured site owning it (shared hosts only)
        self.link_kinds: dict[str, tuple[str | None, str]] = {}  # ``link_kind``'s memo

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The site's own politeness keys become its crawler's settings (``crawler.pace``)."""
        super().update_settings(settings)
        if (profile := getattr(cls, "profile", None)) is not None:
            apply_site_politeness(profile, settings)
        if settings.getbool("TGWATCH_BACKFILL"):  # every listing page, however deep the pagination
            override(settings, "DEPTH_LIMIT", 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        mode = spider.recheck_arg or settings.get("TGWATCH_RECHECK") or cls.profile.recheck
        spider.recheck = check_mode(mode)
        spider.follow = cls.profile.follow_url or compile_pattern(settings.get("TGWATCH_FOLLOW_DEFAULT"))
        unbounded = settings.getbool("TGWATCH_BACKFILL")  # a backfill walks the whole site
        spider.max_listings = sys.maxsize if unbounded else settings.getint("TGWATCH_LISTING_PAGES")
        spider.max_links = settings.getint("TGWATCH_LISTING_LINKS")
        spider.article_requests = Cap(spider.name, "article requests", "TGWATCH_ARTICLE_REQUESTS",
                                      sys.maxsize if unbounded else settings.getint("TGWATCH_ARTICLE_REQUESTS"),
                                      crawler)
        if unbounded:
            spider.recheck = "none"  # re-checks are the routine crawls' part
        spider.policy = build_from_crawler(load_object(settings.get("TGWATCH_RECHECK_POLICY")), crawler)
        spider.shared_hosts = shared_hosts(cls.profile, cls.config)
        spider.listing_log = ListingLog(home=home_url(cls.profile.start_urls),
                                        starts=frozenset(cls.profile.start_urls))
        crawler.signals.connect(spider.recheck_unlisted, signal=signals.spider_idle)
        return spider

    @property
    def listings(self) -> int:
        return len(self.listing_urls)

    # --- what belongs to this site ------------------------------------------------------------
    def owns(self, url: str) -> bool:
        """An http(s) URL on the site's hosts that no other configured site claims.

        Sites may share a host (a portal's departments, the fixture server): then the site whose
        start URL shares the longest path prefix owns the URL (``profile_for_url``).
        """
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not any(
                host == d or host.endswith(f".{d}") for d in self.allowed_domains):
            return False
        if host not in self.shared_hosts or self.config is None:
            return True
        owner = self.owners.get(url)
        if owner is None:
            claimed = profile_for_url(url, self.config)
            owner = claimed.name if claimed is not None and claimed.name in self.config.sites else self.name
            self.owners[url] = owner
        return owner == self.name

    def is_article_url(self, url: str) -> bool:
        return self.owns(url) and self.profile.article_url.search(url.split("#", 1)[0]) is not None

    def link_kind(self, url: str) -> tuple[str | None, str]:
        """What a link on a listing page is: (``article``, its canonical URL), (``listing``, the URL:
        a page to follow) or (None, the URL). Known for the last LINK_MEMO links: menus and sidebars
        repeat the same links on every listing page, and a pattern search costs more than the rest
        of the link's reading."""
        known = self.link_kinds.get(url)
        if known is None:
            if self.is_article_url(url):
                known = ("article", canonical_url(url))
            elif self.owns(url) and self.follow.search(url):
                known = ("listing", url)
            else:
                known = (None, url)
            if len(self.link_kinds) >= LINK_MEMO:
                self.link_kinds.clear()
            self.link_kinds[url] = known
        return known

    # --- requests -----------------------------------------------------------------------------
    def listing_request(self, url: str) -> Request | None:
        """A request for listing page ``url``, once per crawl; None past the listing-page cap
        (the crawl's reach then ends there, which the listings' verdicts take into account)."""
        if url in self.listing_urls:
            return None
        if len(self.listing_urls) >= self.max_listings:
            self.capped("TGWATCH_LISTING_PAGES", f"listing pages capped at {self.max_listings}")
            return None
        self.listing_urls.add(url)
        if self.backfill is not None:
            self.backfill.add("listing", url, url)
        return self._listing(url)

    def _listing(self, url: str) -> Request:
        return Request(url, callback=self.parse_listing, errback=self.listing_failed,
                       meta={"tgwatch_kind": "listing", "playwright": self.profile.renders(url)})

    def article_request(self, url: str, *, known: KnownArticle | None = None) -> Request:
        """A check of ``url``; for a known article, with the validators the archive holds."""
        self.checked.add(known.url if known is not None else canonical_url(url))  # the archive's URLs are canonical
        meta: dict[str, Any] = {"tgwatch_kind": "article", "tgwatch_known": known is not None,
                                "handle_httpstatus_list": ARTICLE_STATUSES, "playwright": self.profile.renders(url)}
        if known is not None and not meta["playwright"]:  # a rendered page is more than its HTML's validators
            meta["tgwatch_validators"] = Validators(known.etag, known.last_modified)
        # A known article's re-check is made once per crawl (``due`` holds each once, the listings and
        # ``recheck_unlisted`` skip what is known or checked): no fingerprint for the dupe filter.
        return Request(url, callback=self.parse_article, errback=self.check_failed, meta=meta, priority=1,
                       dont_filter=known is not None)

    async def start(self) -> AsyncIterator[Request]:
        """Known articles first (so discovery skips them), then the listings, then the re-checks."""
        run = self.crawler.get_extension(ArchiveRun)
        self.backfill = self.crawler.get_extension(BackfillRun)
        known = await run_in_thread(run.archive.known_articles, self.name) if run is not None else []
        if run is not None:
            self.listed_before = await run_in_thread(run.archive.listed_urls, self.name)
        self.known_urls = {article.url for article in known}
        if self.backfill is not None:
            async for step in self.backfill_start(run.run_id if run is not None else None):
                yield step
            return
        for url in self.profile.start_urls:
            if (request := self.listing_request(url)) is not None:
                yield request
        due = deque(select_rechecks(known, self.recheck, self.policy, now()))
        self.crawler.stats.set_value("tgwatch/rechecks", len(due))
        logger.info("%s: %d known articles, %d to re-check (%s)", self.name, len(known), len(due), self.recheck)
        del known  # from here on each known article is let go once its request is made
        while due and self.article_requests.take("re-checks"):
            await self.room()
            article = due.popleft()
            yield self.article_request(article.url, known=article)

    async def room(self) -> None:
        """Wait while the downloader is full and the scheduler still holds requests: Scrapy pulls
        start requests eagerly, and 20,000 re-checks queued at once held memory in proportion to
        the archive; pulled as the scheduler drains, they hold a downloader's worth."""
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    async def backfill_start(self, run_id: int | None) -> AsyncIterator[Request]:
        """The backfill's frontier: what it has not done yet, articles first; every page of it
        counts as seen, so a page done in an earlier run is never fetched again."""
        assert self.backfill is not None
        opened = await self.backfill.open(self.name, run_id, self.profile.start_urls)
        listings = []
        for page in opened.pages:
            if page.kind == "listing":
                self.listing_urls.add(page.url)
                if page.state != "done":
                    listings.append(page.url)
                continue
            self.scheduled.add(page.key)
            self.crawler.stats.inc_value("tgwatch/article_links")
            if page.state != "done" and page.key not in self.known_urls:
                yield self.article_request(page.url)
        for url in listings:
            yield self._listing(url)

    # --- listings -----------------------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Request]:
        assert response.request is not None
        page = first_url(response.request)
        if not isinstance(response, TextResponse):
            self.listing_log.fail(page)
            if self.backfill is not None:
                self.backfill.mark(page, "done")  # not a listing page after all
            return
        listed: list[str] = []
        for count, url in enumerate(self.listing_links(response)):
            if count == self.max_links:
                self.capped("TGWATCH_LISTING_LINKS", f"listing {response.url} has more than {self.max_links} links; "
                            "the rest is not read")
                break
            kind, key = self.link_kind(url)
            if kind == "article":
                self.crawler.stats.inc_value("tgwatch/article_links")
                listed.append(key)
                if not self.should_check(key):
                    continue
                if not self.article_requests.take(response.url):
                    self.listing_log.truncated = True  # unchecked articles: the crawl's reach ends here
                    continue
                self.scheduled.add(key)
                if self.backfill is not None:
                    self.backfill.add("article", url, key)
                yield self.article_request(url)
            elif kind == "listing":
                if (request := self.listing_request(url)) is not None:
                    yield request
        self.listing_log.read(page, listed, now())
        if self.backfill is not None:
            self.backfill.mark(page, "done")

    def listing_links(self, response: TextResponse) -> Iterator[str]:
        """The page's links as they are read (``crawler.links``: a stream, so a cap stops the reading),
        then those a JavaScript application keeps in its page data."""
        seen: set[str] = set()
        for url in iter_links(response.text, response.url):
            seen.add(url)
            yield url
        if has_app_data(response.text):
            root = parse_html(response.text)
            if root is not None:
                yield from (u for u in links_in_data(root, response.url) if u not in seen)

    def capped(self, setting: str, message: str) -> None:
        """A cap held part of the site back: the listings' reach ends there (no de-listing is judged
        beyond it), a stat counts it, and a warning says so once per cap."""
        self.listing_log.truncated = True
        self.crawler.stats.inc_value(f"tgwatch/capped/{setting}")
        if self.crawler.stats.get_value(f"tgwatch/capped/{setting}") == 1:
            logger.warning("%s: %s (%s); the rest waits for the next crawl", self.name, message, setting)

    def should_check(self, key: str) -> bool:
        """A link to article ``key`` found on a listing: check it unless it is known (the
        re-checks see to known articles) or already scheduled in this crawl."""
        return key not in self.known_urls and key not in self.scheduled

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that could not be read: 5xx, 4xx (``HttpError``), time-out, reset. Robots.txt
        and offsite refusals are not failures: such a page is simply outside the crawl's reach."""
        request: Request = failure.request  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            if self.backfill is not None:
                self.backfill.mark(first_url(request), "done")  # out of reach: done with
            return
        if self.backfill is not None:  # a page that is not there (404, 410) is done with, others tried
            status = failure.value.response.status if isinstance(failure.value, HttpError) else 0  # again
            self.backfill.mark(first_url(request), "done" if status in GONE_LISTING else "failed")
        self.crawler.stats.inc_value("tgwatch/listing_failed")
        self.listing_log.fail(first_url(request))
        logger.warning("%s: listing %s failed: %s", self.name, request.url, describe_failure(failure))

    def recheck_unlisted(self) -> None:
        """When the crawl is about to end: check the articles its listings stopped showing that it
        has not checked yet, so that the archive can tell a de-listed report (still served) from a
        removed one. Only once, and only when every listing page was read."""
        if self.idle_rechecked or self.listing_log.failed or self.backfill is not None:
            return
        self.idle_rechecked = True
        dropped = sorted(self.listed_before - self.listing_log.listed() - self.checked)
        if not dropped:
            return
        logger.info("%s: %d listed articles off the listings: re-checking them", self.name, len(dropped))
        assert self.crawler.engine is not None
        for url in dropped:  # known articles: ConditionalRequestMiddleware asks the archive for their validators
            request = self.article_request(url)
            request.meta["tgwatch_known"] = True
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    # --- article checks -----------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[ArticleCheck]:
        request = response.request
        assert request is not None
        check = ArticleCheck(self.name, first_url(request), bool(request.meta.get("tgwatch_known")), now())
        status = response.status
        if 200 <= status < 300:
            headers = {str(k).lower(): str(v) for k, v in response.headers.to_unicode_dict().items()}
            check.page = Page(url=response.url, status=status, headers=headers, body=response.body)
        else:
            check.observation = self.judge(response, check.fetched_at)
        yield check

    def judge(self, response: Response, at: datetime) -> Observation:
        """What an answer without a page to read means."""
        status = response.status
        if status == 304:
            self.crawler.stats.inc_value("tgwatch/not_modified")
            return NotModified(fetched_at=at)
        if status in (404, 410):
            return Gone(reason=f"HTTP {status}", fetched_at=at)
        target = response.request.meta.get("tgwatch_redirect") if response.request else None
        if target:
            return Gone(reason=f"redirect to {target}", fetched_at=at)
        return Failed(reason=f"HTTP {status}", fetched_at=at)

    def check_failed(self, failure: Failure) -> Iterator[ArticleCheck]:
        """A check that got no answer (time-out, reset, truncated body, a body that decodes past
        ``DOWNLOAD_MAXSIZE``...): a failed check. Requests never sent (robots.txt, offsite) are none."""
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy for errbacks
        reason = describe_failure(failure)
        if failure.check(IgnoreRequest):
            said = str(failure.value)
            if getattr(failure.value, "__cause__", None) is None and "MAXSIZE" not in said:
                if self.backfill is not None:
                    self.backfill.mark(canonical_url(first_url(request)), "done")  # out of reach
                return  # robots.txt, offsite: no check at all
            reason = f"response dropped: {said[:200]}"
        check = ArticleCheck(self.name, first_url(request), bool(request.meta.get("tgwatch_known")), now())
        check.observation = Failed(reason=reason, fetched_at=check.fetched_at)
        yield check
