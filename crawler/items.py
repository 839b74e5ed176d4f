"""What the spider hands to the item pipelines: one check of one article URL.

A check either already knows its observation (304, 404/410, a redirect away, a failed fetch) or
carries the page, and the extraction pipeline turns the page into one (an article, a soft-404, or
nothing worth recording). Everything here is picklable: pages travel to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.observation import Observation


@dataclass(frozen=True)
class Page:
    """A 200 response, as much of it as extraction and the capture need."""

    url: str  # the final URL after redirects
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass
class ArticleCheck:
    """One check of one article URL of one site (the scraped item)."""

    site: str
    url: str  # the URL the check was for (before any redirect), as the archive keys it
    known: bool  # the archive had this article before the crawl (a re-check, not a discovery)
    fetched_at: datetime
    observation: Observation | None = None
    page: Page | None = field(default=None, repr=False)
    verdict: str | None = None  # what recording it did (``storage.observation.Verdict``)
    run_id: int | None = None  # the crawl run it belongs to, when not the crawler's own (a fleet crawl)
    lease: str | None = None  # the frontier lease it answers (``crawler.fleet``), acknowledged once recorded
