"""What a fetched page says about an article, worked out in an extraction worker process.

Decoding and extraction are CPU work (trafilatura takes ~10 ms a page): they run here, in a process
pool beside Scrapy's reactor (``crawler.pipelines.ExtractPipeline``), never in the reactor. This
module is a pure function of its arguments: page in, ``Reading`` out, nothing shared.

A page that is not a readable HTML page (empty, binary junk) is a *failed check*, never a removal
and never an edit; a readable page without an article is for the caller to judge (soft-404 when
the archive knew an article there).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.extract.decode import decode_html, looks_binary
from crawler.items import Page
from crawler.profiles import SiteProfile
from storage.content import Content

_NOT_TEXT = ("image/", "audio/", "video/", "application/pdf", "application/zip", "application/octet-stream")


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one page: an article's content, or nothing, or why it is unreadable."""

    content: Content | None = None
    problem: str | None = None  # set: the page could not be read (a failed check)


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


def read_page(page: Page, profile: SiteProfile | None) -> Reading:
    """Decode and extract ``page`` (the ``extract`` call runs here, in the worker process)."""
    from crawler.extract import extract

    problem = unreadable(page)
    if problem is not None:
        return Reading(problem=problem)
    html = decode_html(page.body, page.content_type)
    article = extract(html, page.url, profile)
    if article is None:
        return Reading()
    return Reading(content=article.content())


def warm_up() -> None:
    """Import the extractor once per worker, before the first page arrives."""
    import crawler.extract  # noqa: F401
