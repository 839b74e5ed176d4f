"""The one read-a-page path: from a fetched page to the observation the archive is told.

The crawl (in its extraction pool), ``tgwatch scrape`` (and ``--save``) and ``tgwatch reextract``
all call ``read_page``, so a page gets the same verdict whichever way it came in: an image or a
PDF answered for an article URL is a failed check everywhere, a page without an article is a
soft-404 of a known article everywhere. Decoding and extraction are CPU work (trafilatura takes
~10 ms a page): in a crawl this runs in a worker process beside Scrapy's reactor, never in it. It
is a pure function of its arguments: page in, ``Reading`` out, nothing shared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from crawler.extract import Article, NoArticle, read_article
from crawler.extract.decode import decode_html, looks_binary
from crawler.items import Page
from crawler.lifeline import hold
from crawler.profiles import SiteProfile
from storage.derived import derive
from storage.observation import Capture, Failed, Fetched, Gone, Observation
from storage.urls import page_links

_NOT_TEXT = ("image/", "audio/", "video/", "application/pdf", "application/zip", "application/octet-stream")


@dataclass(frozen=True)
class Reading:
    """One page read: what to tell the archive, and the article behind it (if any).

    ``observation`` is None for a page without an article at a URL the archive did not know (a
    link that looked like an article and is not one: nothing to record).
    """

    observation: Observation | None
    article: Article | None = None
    reason: str | None = None  # why there is no article (unreadable page, listing, not-found page...)


def unreadable(page: Page) -> str | None:
    """Why ``page`` is no HTML page at all, or None."""
    if not page.body.strip():
        return "empty response body"
    content_type = (page.content_type or "").lower()
    if content_type.startswith(_NOT_TEXT):
        return f"not an HTML page ({content_type.split(';')[0]})"
    if looks_binary(page.body):
        return "binary content instead of an HTML page"
    return None


def read_page(page: Page, profile: SiteProfile | None, *, fetched_at: datetime, known: bool,
              ahead: bool = False) -> Reading:
    """Decode and extract ``page``, and say what it means for the article at its URL.

    ``known``: the archive already holds an article at this URL, so a page without one is a
    removal signal (soft-404). A page that is not a readable HTML page is a failed check, never a
    removal and never an edit. ``ahead``: derive what recording needs here (``storage.derived``,
    and the page's links: ``storage.urls.page_links``), as a crawl's extraction workers do so that
    the recording process only writes.
    """
    problem = unreadable(page)
    if problem is not None:
        return Reading(Failed(reason=problem, fetched_at=fetched_at), reason=problem)
    found = read_article(decode_html(page.body, page.content_type), page.url, profile)
    capture = Capture(url=page.url, status=page.status, headers=page.headers, body=page.body)
    if isinstance(found, NoArticle):
        gone = Gone(reason=f"soft-404: no article on the page ({found.reason})", fetched_at=fetched_at,
                    capture=capture)
        return Reading(gone if known else None, reason=found.reason)
    content = found.content()
    if ahead:
        capture = replace(capture, links=page_links(page.body, page.url))
    fetched = Fetched(
        content=content,
        fetched_at=fetched_at,
        capture=capture,
        etag=page.headers.get("etag"),
        last_modified=page.headers.get("last-modified"),
        derived=derive(content) if ahead else None,
    )
    return Reading(fetched, article=found)


def failed_reading(exc: BaseException, fetched_at: datetime) -> Reading:
    """A crash inside extraction (a bug) costs this one check, never a removal."""
    reason = f"extraction failed: {type(exc).__name__}"
    return Reading(Failed(reason=reason, fetched_at=fetched_at), reason=reason)


def warm_up() -> None:
    """Import the extractor and the echo signature's numpy once per worker, before the first page."""
    import crawler.extract  # noqa: F401
    from storage.shingles import warm

    warm()


def start_worker(owner: int) -> None:
    """A pool worker's initializer: end with ``owner``, the process whose pool it is
    (``crawler.lifeline``), and warm up."""
    hold(owner)
    warm_up()
