"""The links of a listing page, read as a stream and only as far as they are wanted.

Scrapy's ``LinkExtractor`` builds the whole tree and a ``Link`` for every anchor before the first
is looked at: a listing of 300,000 links took a crawl from 350 MB to 1.19 GB and held the reactor
so long that SIGINT needed 80 s. Here lxml's pull parser reads the page in slices, each anchor's
``href`` is yielded as it is parsed, elements are freed behind the parser, and the caller stops
reading when it has enough (``TGWATCH_LISTING_LINKS``).
"""

from __future__ import annotations

from collections.abc import Iterator
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
            if tag == "base":
                base = urljoin(base_url, href.strip())
                continue
            url = safe_url_string(urljoin(base, href.strip()))
            if url in seen or urlsplit(url).scheme not in ("http", "https"):
                continue
            if url_has_any_extension(url, _EXTENSIONS):
                continue
            seen.add(url)
            yield url
    try:
        parser.close()
    except etree.XMLSyntaxError:
        pass


def _free(element: etree._Element) -> None:
    """Drop what the parser has finished with: the element's content and its earlier siblings."""
    if element.tag in ("html", "body"):
        return
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
