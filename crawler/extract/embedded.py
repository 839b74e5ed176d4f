"""Articles carried as data: the object in a page's payload (``payloads``) that is its article.

A JavaScript application's page may show nothing without a browser, yet carry the article as
data: an object with a title and a long body (HTML, plain text or a list of blocks), often a
description, a publication time, an author and a category. Field names differ between CMSs, so
they are recognised by the usual names, not per site. The page's own headline decides between
several such objects (a listing carries many summaries, but summaries have no body).

``prefer`` is how data and the rendered HTML are weighed: when both hold the article and agree,
the HTML's text stands and the data fill what the HTML lacks or says less precisely (the time of
day, the author's bare name); when the HTML has no article or a clearly smaller one, the data win.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from crawler.extract.clean import element_text, fold
from crawler.extract.lead import take_byline
from crawler.extract.payloads import page_data, strings, walk
from crawler.extract.vndate import parse_iso_datetime
from storage.content import VN_TZ

TITLE_KEYS = ("title", "headline")
BODY_KEYS = ("content", "articleBody", "body", "contentHtml", "content_html", "bodyHtml", "html", "fullContent",
             "detail", "text")
LEAD_KEYS = ("description", "summary", "sapo", "excerpt", "lead", "intro", "abstract", "teaser", "subtitle")
DATE_KEYS = ("publishDate", "publishedAt", "published_at", "datePublished", "publishedDate", "publish_date",
             "pubDate", "createdAt", "created_at", "date")
AUTHOR_KEYS = ("author", "authorName", "author_name", "authors", "byline")
CATEGORY_KEYS = ("category", "categoryName", "articleSection", "section", "categories")
LINK_KEYS = ("href", "url", "link", "path", "permalink", "canonical", "as")
MIN_BODY = 150
"""Characters of body text below which an object is a summary, not an article."""
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "pre", "td", "th", "dd",
           "dt", "div", "section", "article", "caption"}


@dataclass(frozen=True)
class Embedded:
    """An article read from a page's data."""

    title: str
    lines: list[str]
    lead: str | None
    author: str | None
    published: datetime | None
    category: str | None
    source: str

    @property
    def size(self) -> int:
        return sum(map(len, self.lines)) + len(self.lead or "")


_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")


def _html_lines(markup: str) -> list[str]:
    """Block texts of an HTML fragment in order: leaf blocks only, so nothing is read twice."""
    try:
        root = fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    lines: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag not in _BLOCKS or element is root:
            continue
        if any(isinstance(d.tag, str) and d.tag in _BLOCKS for d in element.iterdescendants()):
            continue
        text = element_text(element)
        if text:
            lines.append(text)
    if not lines and (text := element_text(root)):
        lines.append(text)
    return lines


def body_lines(value: Any, depth: int = 0) -> list[str]:
    """Text lines of a body value: HTML, plain text (a line per paragraph) or a list of blocks."""
    if depth > 6:
        return []
    if isinstance(value, str):
        if _ENTITY.search(value):  # text or markup escaped once more inside the JSON (plugins do it, twice)
            value = unescape(unescape(value))
        if "<" in value and ">" in value:
            return _html_lines(value)
        return [" ".join(line.split()) for line in value.splitlines() if line.strip()]
    if isinstance(value, dict):
        for key in ("rendered", "html", "value", "text", "content", "data", "children"):
            if key in value:
                return body_lines(value[key], depth + 1)
        return []
    if isinstance(value, list):
        return [line for item in value for line in body_lines(item, depth + 1)]
    return []


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        text = " ".join(element_text(fragment_fromstring(value, create_parent="div")).split()) \
            if "<" in value and ">" in value else " ".join(value.split())
        return text or None
    return None


def _name(value: Any) -> str | None:
    """A person or category: a string, an object's name, or the first of a list."""
    if isinstance(value, list):
        return next((n for n in map(_name, value) if n), None)
    if isinstance(value, dict):
        for key in ("name", "fullName", "displayName", "title", "label"):
            if isinstance(value.get(key), str) and value[key].strip():
                return " ".join(value[key].split())
        return None
    return _text(value)


def _when(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 1e11 < value < 1e14:
        return datetime.fromtimestamp(value / 1000, UTC).astimezone(VN_TZ)  # epoch milliseconds
    found = parse_iso_datetime(value) if isinstance(value, str) else None
    return found.astimezone(VN_TZ) if found is not None else None


def _first(node: dict[str, Any], keys: Iterable[str], read: Any) -> Any:
    for key in keys:
        if key in node and (value := read(node[key])):
            return value
    return None


def candidate(node: dict[str, Any], source: str) -> Embedded | None:
    """The article an object describes, if it has a title and a body long enough to be one."""
    title = _first(node, TITLE_KEYS, _text)
    if not title:
        return None
    lines: list[str] = []
    for key in BODY_KEYS:
        if key in node and sum(map(len, found := body_lines(node[key]))) >= MIN_BODY:
            lines = found
            break
    if not lines:
        return None
    lead = _first(node, LEAD_KEYS, _text)
    author = _first(node, AUTHOR_KEYS, _name)
    if lead and lines and fold(lines[0]) == fold(lead):
        lines = lines[1:]
    if author and lines and fold(author) in fold(lines[-1]) and len(lines[-1]) <= 2 * len(author) + 20:
        lines = lines[:-1]  # the byline printed at the end of the body
    elif not author:
        lines, author, _ = take_byline(lines)
    return Embedded(title=title, lines=lines, lead=lead, author=author,
                    published=_first(node, DATE_KEYS, _when), category=_first(node, CATEGORY_KEYS, _name),
                    source=source)


def headlines(root: HtmlElement, og_title: str, title_tag: str) -> list[str]:
    """What the page calls itself, folded: its ``h1`` texts, og:title, ``<title>``."""
    found = [fold(element_text(h)) for h in root.iter("h1")] + [fold(og_title), fold(title_tag)]
    return [h for h in found if h]


def _matches(title: str, names: list[str]) -> bool:
    key = fold(title)
    return any(key == n or (len(key) >= 20 and n.startswith(key)) for n in names)


def read_embedded(root: HtmlElement, og_title: str = "", title_tag: str = "") -> Embedded | None:
    """The page's article as its data carry it; None when there is none or it is ambiguous.

    Read before chrome removal (which drops scripts). Among objects with a title and a body, the
    one whose title is the page's headline wins; with no headline match, only a single one counts.
    """
    found: dict[str, Embedded] = {}
    for source, node in walk(page_data(root)):
        if (item := candidate(node, source)) is not None:
            key = fold(item.title)
            if key not in found or item.size > found[key].size:
                found[key] = item
    if not found:
        return None
    names = headlines(root, og_title, title_tag)
    matching = [item for item in found.values() if _matches(item.title, names)]
    pool = matching or (list(found.values()) if len(found) == 1 else [])
    return max(pool, key=lambda item: item.size) if pool else None


def _words(lines: Iterable[str]) -> set[str]:
    return set(fold(" ".join(lines)).split())


def weigh(html_lines: list[str] | None, data: Embedded) -> str:
    """Whose text stands: ``"html"`` when the HTML holds (nearly) every word of the data's text (the
    same article read twice) or more text than the data; ``"data"`` when the HTML has no article or
    a smaller, different one (a shell, a teaser, chrome)."""
    if html_lines is None:
        return "data"
    theirs = _words([data.lead or "", *data.lines])
    if len(theirs & _words(html_lines)) >= 0.9 * len(theirs):
        return "html"
    return "data" if data.size > sum(map(len, html_lines)) else "html"


def better_time(html: datetime | None, data: datetime | None) -> datetime | None:
    """The data's time when the page printed only the same day (or nothing)."""
    if data is None:
        return html
    if html is None:
        return data
    same_day = html.astimezone(VN_TZ).date() == data.astimezone(VN_TZ).date()
    return data if same_day and html.astimezone(VN_TZ).time() == datetime.min.time() else html


def better_author(html: str | None, data: str | None) -> str | None:
    """The data's author when the page's byline is that name with more around it (a title, a unit)."""
    if data and (html is None or fold(data) in fold(html)):
        return data
    return html


def links_in_data(root: HtmlElement, base_url: str) -> list[str]:
    """Absolute URLs the page's data hold (links of the rendered components, objects' URLs)."""
    found: dict[str, None] = {}
    for key, value in strings(page_data(root)):
        if key not in LINK_KEYS or len(value) > 2000 or not value.strip() or any(c.isspace() for c in value):
            continue
        if not value.startswith(("/", "http://", "https://")) or value.startswith("//"):
            continue
        url = urljoin(base_url, value.strip())
        if urlsplit(url).scheme in ("http", "https"):
            found[url] = None
    return list(found)
