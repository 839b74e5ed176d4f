"""Downloader middlewares: conditional re-checks, redirects that mean removal, retries that back off.

Requests of the site spider say what they are in ``request.meta``: ``tgwatch_kind`` is ``listing``
or ``article``, ``tgwatch_known`` marks the re-check of an article the archive already has.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread, sleep
from w3lib.url import safe_url_string

from crawler.extensions import ArchiveRun

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class ConditionalRequestMiddleware:
    """Adds ``If-None-Match``/``If-Modified-Since`` to re-checks, from what the archive last saw.

    An unchanged page then costs a 304 and no extraction at all. The spider passes the validators
    it read with the known articles (``tgwatch_validators``); other re-checks ask the archive.
    Switched off by ``TGWATCH_CONDITIONAL_REQUESTS = False``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("TGWATCH_CONDITIONAL_REQUESTS"):
            raise NotConfigured
        if crawler.get_extension(ArchiveRun) is None:
            raise NotConfigured("conditional requests need the ArchiveRun extension")
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        meta = request.meta
        if not meta.get("tgwatch_known") or meta.get("redirect_urls") or meta.get("playwright"):
            return  # a rendered page changes with the data its scripts fetch, not with its HTML
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return  # a retry of a request that already has them
        known = meta.get("tgwatch_validators")
        if known is None:
            run = self.crawler.get_extension(ArchiveRun)
            assert run is not None and self.crawler.spider is not None
            known = await run_in_thread(run.archive.validators, self.crawler.spider.name, request.url)
        if known is None:
            return
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified
        self.crawler.stats.inc_value("tgwatch/conditional_requests")


class ArticleRedirectMiddleware:
    """For article requests, a redirect to a page that is no article is a removal signal.

    Sites take an article down by redirecting it to the homepage or a listing. Following that
    redirect would fetch a page with no article on it; instead the redirect itself reaches the
    spider, which records ``Gone("redirect to ...")``. A redirect to another article URL (a moved
    article) is left to ``RedirectMiddleware`` to follow. Must sit above RedirectMiddleware (600).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        meta = request.meta
        if meta.get("tgwatch_kind") != "article" or response.status not in REDIRECTS:
            return response
        if meta.get("dont_redirect") or b"Location" not in response.headers:
            return response
        location = (response.headers.get(b"Location") or b"").decode("latin-1")
        target = safe_url_string(response.urljoin(location))
        is_article = getattr(self.crawler.spider, "is_article_url", None)
        if is_article is None or is_article(target):
            return response
        meta["dont_redirect"] = True
        meta["handle_httpstatus_list"] = [*meta.get("handle_httpstatus_list", ()), response.status]
        meta["tgwatch_redirect"] = target
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """``RetryMiddleware`` that waits before each retry: 1 s, 2 s, 4 s... (TGWATCH_RETRY_BACKOFF).

    A server answering 503 or dropping connections is overloaded; retrying at once only makes it
    worse. A ``Retry-After`` in seconds is honoured up to TGWATCH_RETRY_BACKOFF_MAX.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("TGWATCH_RETRY_BACKOFF")
        self.backoff_max = settings.getfloat("TGWATCH_RETRY_BACKOFF_MAX")

    def delay(self, retry: Request, response: Response | None = None) -> float:
        """Seconds to wait before sending ``retry`` (its ``retry_times`` counts from 1)."""
        attempt = max(1, int(retry.meta.get("retry_times", 1)))
        wait = self.backoff * 2 ** (attempt - 1)
        if response is not None:
            after = (response.headers.get(b"Retry-After") or b"").decode("latin-1").strip()
            if after.isdigit():
                wait = max(wait, float(after))
        return min(wait, self.backoff_max)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await sleep(self.delay(result, response))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await sleep(self.delay(result))
        return result
