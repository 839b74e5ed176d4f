"""What the spider learns from listing pages during one crawl, handed to the archive at its end.

The spider notes each listing page it read (its article links in page order), each one it could
not read, and whether ``TGWATCH_LISTING_PAGES`` left listing links unread; ``ArchiveRun`` turns
the log into a ``storage.listings.ListingCrawl`` when the crawl closes, after every article check
is recorded, so the archive knows which listed articles are still served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from storage.listings import ListingCrawl, ListingPage


def home_url(start_urls: list[str]) -> str | None:
    """The site's homepage among its start URLs: a root path ("/"), or the first start URL when it
    is a directory (ends in "/") that every other start URL lies under, as a site's sections lie
    under its homepage. A site whose start URLs are only sections has no homepage in reach."""
    if not start_urls:
        return None
    for url in start_urls:
        if urlsplit(url).path in ("", "/") and not urlsplit(url).query:
            return url
    first = urlsplit(start_urls[0])
    others = [urlsplit(u) for u in start_urls[1:]]
    if first.query or not first.path.endswith("/") or not others:
        return None
    if all(o.netloc == first.netloc and o.path.startswith(first.path) and o.path != first.path for o in others):
        return start_urls[0]
    return None


@dataclass
class ListingLog:
    """The listing pages of one crawl of one site."""

    home: str | None = None
    starts: frozenset[str] = frozenset()
    pages: dict[str, ListingPage] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    truncated: bool = False

    def kind(self, url: str) -> str:
        if url == self.home:
            return "home"
        return "section" if url in self.starts else "page"

    def read(self, url: str, articles: list[str], at: datetime) -> None:
        """Page ``url`` read at ``at``, listing ``articles`` (canonical URLs) in page order."""
        unique = tuple(dict.fromkeys(articles))
        self.pages[url] = ListingPage(url=url, kind=self.kind(url), articles=unique, read_at=at)

    def fail(self, url: str) -> None:
        self.failed.add(url)

    def listed(self) -> set[str]:
        return {u for page in self.pages.values() for u in page.articles}

    def crawl(self, site: str, started_at: datetime, at: datetime, *, finished: bool) -> ListingCrawl:
        failed = tuple(sorted(self.failed - set(self.pages)))
        return ListingCrawl(site=site, started_at=started_at, at=at, pages=tuple(self.pages.values()),
                            failed=failed, truncated=self.truncated, finished=finished)
