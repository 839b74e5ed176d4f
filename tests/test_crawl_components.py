"""The crawl's components one by one, offline: spider loader, spider decisions, middlewares,
re-check policy, extraction worker and pipeline mapping, run summary.

Components are built the Scrapy way (``scrapy.utils.test.get_crawler``, ``from_crawler``); pages
come from the rendered fixture tree, so nothing here needs a server or a reactor.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from crawler import settings as crawl_settings_module
from crawler.extensions import release_archive, run_counts
from crawler.items import Page
from crawler.middlewares import ArticleRedirectMiddleware, BackoffRetryMiddleware, ConditionalRequestMiddleware
from crawler.recheck import AgeBackoffPolicy, select_rechecks
from crawler.run import CrawlSummary, SiteResult
from crawler.spiderloader import SiteSpiderLoader
from crawler.spiders.site import SiteSpider
from crawler.worker import Reading, failed_reading, read_page
from fixtures.config import site_config
from fixtures.gold import load_scenario
from fixtures.tree import SITES_DIR, file_for, load_routes
from storage.archive import Archive
from storage.content import VN_TZ
from storage.observation import Failed, Fetched, Gone, NotModified
from storage.reads import KnownArticle, Validators
from tests.plugins.archive import fetched

BASE = "http://127.0.0.1:8000/"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=VN_TZ)


def project_settings(**extra: Any) -> dict[str, Any]:
    values = {name: getattr(crawl_settings_module, name) for name in dir(crawl_settings_module) if name.isupper()}
    return {**values, **extra}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "tgwatch.toml"
    path.write_text(site_config(BASE), encoding="utf-8")
    return path


@pytest.fixture
def loader(config_path: Path) -> SiteSpiderLoader:
    return SiteSpiderLoader.from_settings(Settings({"TGWATCH_CONFIG": str(config_path)}))


def spider_for(loader: SiteSpiderLoader, name: str, **settings: Any) -> SiteSpider:
    cls = loader.load(name)
    crawler = get_crawler(cls, project_settings(TGWATCH_DB="", **settings))
    spider = cls.from_crawler(crawler)
    crawler.spider = spider
    return spider


def page_path(version: str, path: str) -> Path:
    return SITES_DIR / version / file_for(path)


def scenario_path(site: str, verdict: str, how: str | None = None) -> str:
    return next(p for p, e in load_scenario()[site].items() if e["verdict"] == verdict and how in (None, e["how"]))


# --- spider loader and ownership ------------------------------------------------------------------
def test_loader_makes_one_spider_per_site(loader: SiteSpiderLoader) -> None:
    assert loader.list() == sorted(load_scenario())
    cls = loader.load("longan")
    assert issubclass(cls, SiteSpider) and cls.name == "longan" and cls.allowed_domains == ["127.0.0.1"]
    with pytest.raises(KeyError):
        loader.load("nowhere")


def test_sites_sharing_a_host_own_their_own_urls(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "longan")
    article = BASE.rstrip("/") + scenario_path("longan", "edited")
    other = BASE.rstrip("/") + scenario_path("quangtri", "edited")
    assert spider.owns(article) and spider.is_article_url(article)
    assert not spider.owns(other) and not spider.is_article_url(other)
    assert not spider.owns("ftp://127.0.0.1:8000/longan/x-1.aspx")
    assert not spider.owns("http://elsewhere.example/longan/Pages/x-1.aspx")


def test_listing_schedules_unknown_articles_and_pagination(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "tuyengiao", TGWATCH_LISTING_PAGES=50)
    listing = "/tuyengiao/tuyen-giao-cac-cap"
    body = page_path("v1", listing).read_bytes()
    response = HtmlResponse(BASE.rstrip("/") + listing, body=body, request=Request(BASE.rstrip("/") + listing))
    requests = list(spider.parse_listing(response))
    articles = [r for r in requests if r.meta["tgwatch_kind"] == "article"]
    listings = [r for r in requests if r.meta["tgwatch_kind"] == "listing"]
    assert articles and all(not r.meta["tgwatch_known"] for r in articles)
    assert any("page=2" in r.url for r in listings)
    spider.known_urls = {articles[0].url}
    spider.scheduled.clear()
    again = [r.url for r in spider.parse_listing(response) if r.meta["tgwatch_kind"] == "article"]
    assert articles[0].url not in again and len(again) == len(articles) - 1


def test_link_kinds_are_remembered_within_a_bound(loader: SiteSpiderLoader, monkeypatch: pytest.MonkeyPatch) -> None:
    """Menus repeat links on every listing page: each link's kind is found once, and the memo
    starts over past LINK_MEMO links; a kind is what the patterns say, remembered or not."""
    import crawler.spiders.site as site
    from storage.urls import canonical_url

    monkeypatch.setattr(site, "LINK_MEMO", 3)
    spider = spider_for(loader, "tuyengiao", TGWATCH_LISTING_PAGES=50)
    listing = "/tuyengiao/tuyen-giao-cac-cap"
    body = page_path("v1", listing).read_bytes()
    response = HtmlResponse(BASE.rstrip("/") + listing, body=body, request=Request(BASE.rstrip("/") + listing))
    links = list(spider.listing_links(response))
    fresh = [(spider.is_article_url(u), spider.owns(u) and bool(spider.follow.search(u))) for u in links]
    for _ in range(2):
        kinds = [spider.link_kind(u) for u in links]
        assert kinds == [("article", canonical_url(u)) if a else ("listing" if f else None, u)
                         for u, (a, f) in zip(links, fresh)]
        assert len(spider.link_kinds) <= 3
    assert {"article", "listing", None} == {kind for kind, _ in kinds}


def test_a_recheck_skips_the_dupe_filter_a_discovery_does_not(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "longan")
    url = BASE + "longan/Pages/a-1.aspx"
    article = known(timedelta(days=1), timedelta(days=1), url=url)
    assert spider.article_request(url, known=article).dont_filter
    assert not spider.article_request(BASE + "longan/Pages/b-2.aspx").dont_filter


def test_per_page_debug_records_only_when_the_crawl_logs_debug(loader: SiteSpiderLoader) -> None:
    from scrapy.utils.misc import build_from_crawler, load_object

    cls = loader.load("longan")
    url = BASE + "longan/Pages/a-1.aspx"
    response = answer(url, 304)
    for level, kept in (("WARNING", False), ("INFO", False), ("DEBUG", True), (10, True)):
        crawler = get_crawler(cls, project_settings(TGWATCH_DB="", LOG_LEVEL=level))
        formatter = build_from_crawler(load_object(crawler.settings["LOG_FORMATTER"]), crawler)
        spider = cls.from_crawler(crawler)
        assert (formatter.crawled(response.request, response, spider) is not None) is kept
        assert (formatter.scraped({"url": url}, response, spider) is not None) is kept


def answer(url: str, status: int, *, meta: dict[str, Any] | None = None, body: bytes = b"") -> Response:
    request = Request(url, meta={"tgwatch_kind": "article", "tgwatch_known": True, **(meta or {})})
    return HtmlResponse(url, status=status, body=body, request=request)


def test_listing_links_resolve_from_each_page_and_skip_files() -> None:
    """Links are resolved once per site and href (a cache): a relative href still resolves
    against its own page, a <base href> is honoured, files and other schemes are skipped."""
    from crawler.links import iter_links

    page = ('<a href="/tin?page=2">2</a><a href="bai-1.html">1</a><a href="//s.example/x y">x</a>'
            '<a href="https://other.example/a">o</a><a href="mailto:a@b">m</a><a href="/anh.jpg">i</a>'
            '<a href="/tin?page=2">again</a><area href="?page=3">')
    assert list(iter_links(page, "http://s.example/tin/muc?page=1")) == [
        "http://s.example/tin?page=2", "http://s.example/tin/bai-1.html", "http://s.example/x%20y",
        "https://other.example/a", "http://s.example/tin/muc?page=3"]
    assert list(iter_links(page, "https://s.example/khac/trang"))[:3] == [
        "https://s.example/tin?page=2", "https://s.example/khac/bai-1.html", "https://s.example/x%20y"]
    based = '<base href="http://cdn.example/d/"><a href="bai-1.html">1</a><a href="/tin?page=2">2</a>'
    assert list(iter_links(based, "http://s.example/tin")) == ["http://cdn.example/d/bai-1.html",
                                                               "http://cdn.example/tin?page=2"]


def test_spider_judges_answers_without_a_page(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "longan")
    url = BASE + "longan/Pages/a-1.aspx"
    [check] = spider.parse_article(answer(url, 304))
    assert isinstance(check.observation, NotModified) and check.known
    for status in (404, 410):
        [check] = spider.parse_article(answer(url, status))
        assert isinstance(check.observation, Gone) and check.observation.reason == f"HTTP {status}"
    [check] = spider.parse_article(answer(url, 302, meta={"tgwatch_redirect": BASE + "longan/"}))
    assert isinstance(check.observation, Gone) and check.observation.reason == f"redirect to {BASE}longan/"
    [check] = spider.parse_article(answer(url, 503))
    assert isinstance(check.observation, Failed)
    [check] = spider.parse_article(answer(url, 200, body=b"<html><body>x</body></html>"))
    assert check.observation is None and check.page is not None and check.page.body.startswith(b"<html>")


def test_spider_turns_network_errors_into_failed_checks(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "longan")
    request = Request(BASE + "longan/Pages/a-1.aspx", meta={"tgwatch_kind": "article", "tgwatch_known": True,
                                                            "redirect_urls": [BASE + "longan/Pages/old-1.aspx"]})
    failure = Failure(TwistedTimeoutError("took too long"))
    failure.request = request  # type: ignore[attr-defined]
    [check] = spider.check_failed(failure)
    assert isinstance(check.observation, Failed) and check.url == BASE + "longan/Pages/old-1.aspx"
    ignored = Failure(IgnoreRequest("Forbidden by robots.txt"))
    ignored.request = request  # type: ignore[attr-defined]
    assert list(spider.check_failed(ignored)) == []


# --- middlewares ----------------------------------------------------------------------------------
def test_redirect_away_is_kept_for_the_spider_and_a_moved_article_followed(loader: SiteSpiderLoader) -> None:
    spider = spider_for(loader, "longan")
    middleware = ArticleRedirectMiddleware.from_crawler(spider.crawler)
    request = Request(BASE + "longan/Pages/a-1.aspx", meta={"tgwatch_kind": "article"})
    home = Response(request.url, status=301, headers={"Location": "/longan/"}, request=request)
    middleware.process_response(request, home)
    assert request.meta["dont_redirect"] and 301 in request.meta["handle_httpstatus_list"]
    assert request.meta["tgwatch_redirect"] == BASE + "longan/"
    moved = Request(BASE + "longan/Pages/a-1.aspx", meta={"tgwatch_kind": "article"})
    middleware.process_response(moved, Response(moved.url, status=302, headers={"Location": "/longan/Pages/b-2.aspx"}))
    assert "dont_redirect" not in moved.meta
    listing = Request(BASE + "longan/", meta={"tgwatch_kind": "listing"})
    middleware.process_response(listing, Response(listing.url, status=301, headers={"Location": "/"}))
    assert "dont_redirect" not in listing.meta


def test_retry_backs_off() -> None:
    middleware = BackoffRetryMiddleware(Settings(project_settings(TGWATCH_RETRY_BACKOFF=1.0,
                                                                  TGWATCH_RETRY_BACKOFF_MAX=5.0)))
    delays = [middleware.delay(Request("http://x/", meta={"retry_times": n})) for n in (1, 2, 3, 4)]
    assert delays == [1.0, 2.0, 4.0, 5.0]
    busy = Response("http://x/", status=503, headers={"Retry-After": "3"})
    assert middleware.delay(Request("http://x/", meta={"retry_times": 1}), busy) == 3.0


def test_conditional_request_uses_the_archives_validators(tmp_path: Path, loader: SiteSpiderLoader) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    url = BASE + "longan/Pages/a-1.aspx"
    with Archive.open(db) as archive:
        archive.record("longan", url, replace(fetched(0, url=url, etag='"abc"'), last_modified="Sat, 01 Jun 2024"))
    cls = loader.load("longan")
    crawler = get_crawler(cls, project_settings(TGWATCH_DB=db))
    crawler.spider = cls.from_crawler(crawler)
    middleware = ConditionalRequestMiddleware.from_crawler(crawler)
    known = Request(url, meta={"tgwatch_kind": "article", "tgwatch_known": True})
    fresh = Request(BASE + "longan/Pages/b-2.aspx", meta={"tgwatch_kind": "article", "tgwatch_known": False})
    carried = Request(BASE + "longan/Pages/c-3.aspx", meta={"tgwatch_kind": "article", "tgwatch_known": True,
                                                            "tgwatch_validators": Validators('"xyz"', None)})

    async def all_three() -> None:
        for request in (known, fresh, carried):
            await middleware.process_request(request)

    asyncio.run(all_three())
    assert known.headers[b"If-None-Match"] == b'"abc"' and known.headers[b"If-Modified-Since"] == b"Sat, 01 Jun 2024"
    assert b"If-None-Match" not in fresh.headers
    assert carried.headers[b"If-None-Match"] == b'"xyz"' and b"If-Modified-Since" not in carried.headers
    release_archive(db)


# --- re-check policy ------------------------------------------------------------------------------
def known(age: timedelta, since_check: timedelta, **extra: Any) -> KnownArticle:
    values: dict[str, Any] = {
        "id": 1, "url": "https://x/a-1", "first_seen_at": NOW - age, "last_checked_at": NOW - since_check,
        "last_changed_at": NOW - age, "published_at": None, "removed_at": None, "etag": None,
        "last_modified": None, "gone_signals": 0, "failed_checks": 0,
    }
    return KnownArticle(**{**values, **extra})


def test_young_articles_are_due_often_old_ones_rarely() -> None:
    policy = AgeBackoffPolicy(0.2, timedelta(minutes=10), timedelta(days=7))
    assert not policy.is_due(known(timedelta(hours=1), timedelta(minutes=5)), NOW)  # floor: 10 minutes
    assert policy.is_due(known(timedelta(hours=1), timedelta(minutes=15)), NOW)
    assert not policy.is_due(known(timedelta(days=30), timedelta(days=2)), NOW)  # 0.2 * 30 days = 6 days
    assert policy.is_due(known(timedelta(days=30), timedelta(days=6, hours=1)), NOW)
    assert policy.is_due(known(timedelta(days=3000), timedelta(days=7)), NOW)  # ceiling: a week
    published_long_ago = known(timedelta(hours=1), timedelta(hours=1), published_at=NOW - timedelta(days=300))
    assert not policy.is_due(published_long_ago, NOW)
    assert policy.is_due(known(timedelta(days=30), timedelta(minutes=1), gone_signals=1), NOW)
    assert policy.is_due(known(timedelta(days=30), timedelta(minutes=1), failed_checks=2), NOW)


def test_recheck_modes() -> None:
    policy = AgeBackoffPolicy(0.2, timedelta(minutes=10), timedelta(days=7))
    fresh, stale = known(timedelta(days=1), timedelta(minutes=1)), known(timedelta(days=1), timedelta(days=1))
    assert select_rechecks([fresh, stale], "none", policy, NOW) == []
    assert select_rechecks([fresh, stale], "due", policy, NOW) == [stale]
    assert select_rechecks([fresh, stale], "all", policy, NOW) == [stale, fresh]  # longest unchecked first


# --- extraction worker and pipeline ---------------------------------------------------------------
def fixture_page(version: str, path: str, *, body: bytes | None = None,
                 ctype: str = "text/html; charset=utf-8") -> Page:
    data = page_path(version, path).read_bytes() if body is None else body
    return Page(url=BASE.rstrip("/") + path, status=200, headers={"content-type": ctype}, body=data)


def test_worker_reads_articles_and_refuses_junk(loader: SiteSpiderLoader) -> None:
    profile = loader.load("longan").profile
    path = scenario_path("longan", "edited")

    def read(page: Page, known: bool = True) -> Reading:
        return read_page(page, profile, fetched_at=NOW, known=known)

    reading = read(fixture_page("v1", path))
    assert isinstance(reading.observation, Fetched) and reading.article is not None
    assert reading.observation.content == reading.article.content() and reading.observation.content.title
    assert reading.observation.capture is not None and reading.observation.capture.url == BASE.rstrip("/") + path
    for junk, why in [(fixture_page("v1", path, body=b""), "empty response body"),
                      (fixture_page("v1", path, body=bytes(range(256)) * 8), "binary"),
                      (fixture_page("v1", path, ctype="image/jpeg"), "not an HTML page (image/jpeg)"),
                      (fixture_page("v1", path, ctype="application/pdf"), "not an HTML page (application/pdf)")]:
        failed = read(junk)
        assert isinstance(failed.observation, Failed) and why in failed.observation.reason and failed.article is None
    soft = scenario_path("longan", "removed", "soft404")
    assert load_routes(SITES_DIR / "v2")["routes"][soft]["soft404"]
    gone = read(fixture_page("v2", soft))
    assert isinstance(gone.observation, Gone) and gone.observation.reason.startswith("soft-404")
    assert gone.observation.capture is not None and gone.article is None and gone.reason
    assert read(fixture_page("v2", soft), known=False) == Reading(None, reason=gone.reason)


def test_pipeline_failed_reading_is_a_failed_check() -> None:
    reading = failed_reading(TypeError("boom"), NOW)
    assert isinstance(reading.observation, Failed) and reading.observation.reason == "extraction failed: TypeError"


# --- summary --------------------------------------------------------------------------------------
def test_summary_line_adds_up_the_sites() -> None:
    stats = {"tgwatch/pages": 10, "tgwatch/verdict/new": 3, "tgwatch/verdict/edited": 1,
             "tgwatch/verdict/unchanged": 5, "tgwatch/verdict/gone-pending": 1, "tgwatch/verdict/failed": 1}
    assert run_counts(stats) == {"pages": 10, "new": 3, "edited": 1, "unchanged": 5, "removed": 0, "restored": 0,
                                 "failed": 1}
    one = SiteResult("a", "ok", run_counts(stats))
    two = SiteResult("b", "interrupted", run_counts({"tgwatch/pages": 2, "tgwatch/verdict/restored": 1}))
    assert CrawlSummary([one]).line() == ("pages fetched 10, new 3, edited 1, unchanged 5, removed 0, "
                                          "failed checks 1")
    assert CrawlSummary([one, two]).line() == ("pages fetched 12, new 3, edited 1, unchanged 5, removed 0, "
                                               "failed checks 1, restored 1 (interrupted)")


# --- settings are defaulted and documented once -----------------------------------------------------
def test_every_tgwatch_setting_is_documented_and_used() -> None:
    import ast
    import re

    source = Path(crawl_settings_module.__file__).read_text(encoding="utf-8")
    body = ast.parse(source).body
    documented = {
        node.targets[0].id
        for node, following in zip(body, body[1:])
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.startswith("TGWATCH_")
        and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
    }
    defined = {name for name in dir(crawl_settings_module) if name.startswith("TGWATCH_")}
    assert defined == documented
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("crawler", "monitor")
                     for p in (Path(crawl_settings_module.__file__).parent.parent / folder).rglob("*.py")
                     if p.name != "settings.py")
    read = set(re.findall(r'"(TGWATCH_[A-Z_]+)"', code)) - {"TGWATCH_TEST_CRASH", "TGWATCH_TEST_FAULTS"}
    assert read - {"TGWATCH_DB", "TGWATCH_CONFIG"} <= defined
    assert defined - {"TGWATCH_DB", "TGWATCH_CONFIG"} <= read
