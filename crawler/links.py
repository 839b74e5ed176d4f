"""The links of a listing page, read as a stream and only as far as they are wanted.

Scrapy's ``LinkExtractor`` builds the whole tree and a ``Link`` for every anchor before the first
is looked at: a listing of 300,000 links took a crawl from 350 MB to 1.19 GB and held the reactor
so long that SIGINT needed 80 s. Here lxml's pull parser reads the page in slices, each anchor's
``href`` is yielded as it is parsed, elements are freed behind the parser, and the caller stops
reading when it has enough (``TGWATCH_LISTING_LINKS``). Resolving an ``href`` (join, escape, filter)
is cached: a site's menus and sidebars repeat the same links on every listing page.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.url import url_has_any_extension
from w3lib.url import safe_url_string

SLICE = 64 * 1024
"""Characters of the page fed to the parser at a time."""

_EXTENSIONS = {f".{e}" for e in IGNORED_EXTENSIONS}


def iter_links(text: str, base_url: str) -> Iterator[str]:
    """Absolute http(s) URLs of the page's ``<a href>``/``<area href>``, in page order, each once
    (``<base href>`` honoured; images, documents and other files skipped, as LinkExtractor does)."""
    parser = etree.HTMLPullParser(events=("start", "end"))
    base = base_url
    origin: str | None = None  # scheme://host/ of ``base``: what a root-relative or absolute href needs of it
    seen: set[str] = set()
    for offset in range(0, max(len(text), 1), SLICE):
        parser.feed(text[offset:offset + SLICE])
        for event, element in parser.read_events():
            if event == "end":
                _free(element)
                continue
            tag = element.tag
            href = element.get("href") if tag in ("a", "area", "base") else None
            if not href or not href.strip():
                continue
            href = href.strip()
            if tag == "base":
                base = urljoin(base_url, href)
                origin = None
                continue
            if href[0] == "/" or "://" in href:  # the same URL from every page of the site
                if origin is None:
                    parts = urlsplit(base)
                    origin = f"{parts.scheme}://{parts.netloc}/"
                url = resolve(origin, href)
            else:
                url = resolve(base, href)
            if url is None or url in seen:
                continue
            seen.add(url)
            yield url
    try:
        parser.close()
    except etree.XMLSyntaxError:
        pass


@lru_cache(maxsize=16384)
def resolve(base: str, href: str) -> str | None:
    """The absolute URL ``href`` leads to from ``base``; None for a link not to follow (not http(s),
    or a file: image, document, archive)."""
    url = safe_url_string(urljoin(base, href))
    if urlsplit(url).scheme not in ("http", "https") or url_has_any_extension(url, _EXTENSIONS):
        return None
    return url


def _free(element: etree._Element) -> None:
    """Drop what the parser has finished with: the element's content and its earlier siblings."""
    if element.tag in ("html", "body"):
        return
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
