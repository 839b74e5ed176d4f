"""Article metadata found without a profile: head tags, JSON-LD, title, category, the date line.

Machine-readable sources come first (they carry seconds and an offset); then the page as a reader
sees it, where the date line is the one nearest the title. The header's "today" line has the same
shape as a date line and sits above the title too, so it is refused outright (``is_today_line``),
and only short lines count, so a date quoted in the body ("ngày 10/4/2023 của Ban Thường vụ") never
becomes the publication time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from crawler.byline import is_desk_name
from crawler.clean import element_text, fold, is_chrome_key, select
from crawler.vndate import find_datetimes, is_today_line, parse_iso_datetime, parse_vn_datetime

ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}
_PUBLISHED = ("article:published_time", "datepublished", "pubdate", "publishdate", "dc.date.issued",
              "og:published_time", "date")
_MODIFIED = ("article:modified_time", "datemodified", "og:updated_time", "lastmod")
_DIGIT = re.compile(r"\d")
_TITLED = etree.XPath("//@class[contains(., 'title') or contains(., 'headline')]/..")
_HOME = {"trang chủ", "home", "trang chu", "trang nhất", "trang nhat"}
_BREADCRUMB = etree.XPath(  # attribute axes: several times faster than testing every element
    "//@class[contains(., 'readcrumb')]/.. | //@id[contains(., 'readcrumb')]/.."
    " | //@aria-label[contains(., 'readcrumb')]/.. | //@itemtype[contains(., 'BreadcrumbList')]/.."
)


@dataclass
class HeadMeta:
    """What a page says about itself in ``<head>`` and JSON-LD."""

    og_title: str = ""
    title_tag: str = ""
    site_name: str = ""
    description: str = ""
    canonical: str | None = None
    language: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    section: str | None = None
    is_article: bool = False
    author: str | None = None
    breadcrumb: list[str] = field(default_factory=list)


def _jsonld(root: HtmlElement) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            found.append(node)
            walk(node.get("@graph"))

    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            try:
                walk(json.loads(script.text, strict=False))
            except ValueError:
                continue
    return found


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    return {str(v).lower() for v in (value if isinstance(value, list) else [value])}


def read_head(root: HtmlElement, url: str) -> HeadMeta:
    """Meta tags, canonical link, language and JSON-LD of a parsed page (read before cleaning)."""
    meta = HeadMeta()
    tags: dict[str, str] = {}
    head = root.find("head")
    head = head if head is not None else root
    for element in head.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key and key not in tags and element.get("content"):
            tags[key] = element.get("content", "").strip()
    meta.og_title = element_text_of(tags.get("og:title") or tags.get("twitter:title") or "")
    title = head.find(".//title")
    meta.title_tag = element_text(title) if title is not None else ""
    meta.site_name = tags.get("og:site_name", "")
    meta.description = element_text_of(tags.get("description") or tags.get("og:description") or "")
    for link in head.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            meta.canonical = urljoin(url, link.get("href", "").strip())
            break
    if meta.canonical is None and tags.get("og:url"):
        meta.canonical = urljoin(url, tags["og:url"])
    lang = root.get("lang") or root.get("xml:lang") or tags.get("content-language") or tags.get("og:locale")
    meta.language = lang.split("-")[0].split("_")[0].lower() if lang else None
    meta.published = next((d for k in _PUBLISHED if k in tags and (d := parse_iso_datetime(tags[k]))), None)
    meta.modified = next((d for k in _MODIFIED if k in tags and (d := parse_iso_datetime(tags[k]))), None)
    meta.section = element_text_of(tags.get("article:section", "")) or None
    meta.is_article = tags.get("og:type", "").lower() == "article"
    for node in _jsonld(root):
        types = _types(node)
        if types & ARTICLE_TYPES:
            meta.is_article = True
            if meta.published is None and isinstance(node.get("datePublished"), str):
                meta.published = parse_iso_datetime(node["datePublished"])
            if meta.modified is None and isinstance(node.get("dateModified"), str):
                meta.modified = parse_iso_datetime(node["dateModified"])
            if meta.section is None and isinstance(node.get("articleSection"), str):
                meta.section = element_text_of(node["articleSection"]) or None
            meta.author = meta.author or _person(node.get("author"))
        if "breadcrumblist" in types and isinstance(node.get("itemListElement"), list):
            for item in node["itemListElement"]:
                name = item.get("name") or (item.get("item") or {}).get("name") if isinstance(item, dict) else None
                if isinstance(name, str) and name.strip():
                    meta.breadcrumb.append(element_text_of(name))
    return meta


def _person(value: Any) -> str | None:
    """The names of JSON-LD ``author`` persons (organisations and desks are not authors)."""
    people = value if isinstance(value, list) else [value]
    names = [element_text_of(p["name"]) for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)
             and "organization" not in _types(p) and not is_desk_name(p["name"])]
    return ", ".join(n for n in names if n) or None


def element_text_of(text: str) -> str:
    return " ".join(text.split())


def _plausible_heading(heading: HtmlElement, meta: HeadMeta) -> bool:
    """Not the logo, the site name, a portlet or box title, nor a heading of the page header/menu."""
    key = fold(element_text(heading))
    if len(key) < 8 or (meta.site_name and key == fold(meta.site_name)) or is_chrome_key(key):
        return False
    for ancestor in heading.iterancestors():
        if ancestor.tag in ("article", "main"):
            return True
        names = f"{ancestor.tag} {ancestor.get('class', '')} {ancestor.get('id', '')}".lower()
        if "logo" in names or any(word in names.split() for word in ("header", "nav", "footer", "portlet-topper")):
            return False
    return True


def find_title(root: HtmlElement, meta: HeadMeta) -> tuple[str, HtmlElement | None]:
    """The heading that names the article, and its element.

    The ``h1`` matching og:title (which may be truncated), else the heading the ``<title>`` starts
    with (portals title their boxes with ``h1`` and the article with ``h3``), else the first
    plausible ``h1``; without any, og:title or the ``<title>`` alone.
    """
    h1s = [h for h in root.iter("h1") if _plausible_heading(h, meta)]
    og, tab = fold(meta.og_title), fold(meta.title_tag)
    for h1 in h1s:
        text = fold(element_text(h1))
        if og and (text == og or text.startswith(og.rstrip(".… ")) or og.startswith(text)):
            return element_text(h1), h1
    for heading in [*root.iter("h1", "h2", "h3"), *_TITLED(root)]:
        if heading.tag == "a":
            continue
        text = fold(element_text(heading))
        if len(text) >= 15 and tab.startswith(text) and _plausible_heading(heading, meta):
            return element_text(heading), heading
    if h1s:
        return element_text(h1s[0]), h1s[0]
    return meta.og_title or meta.title_tag, None


def category_from(root: HtmlElement, selector: str | None, title: str, meta: HeadMeta | None = None) -> str | None:
    """The section: a profile's category selector, else a breadcrumb's last item that is not the title,
    else the middle of a ``<title>`` printed "Title - Section - Site" (NukeViet) if a link names it."""
    if selector:
        found = select(root, selector)
        if found:
            links = found[-1].findall(".//a")
            text = element_text(links[-1] if links else found[-1])
            return text or None
        return None
    for crumb in _BREADCRUMB(root)[:1]:
        names = [element_text(a) for a in crumb.iter("a")] or [element_text(crumb)]
        names = [n for n in names if n and fold(n) not in _HOME and fold(n) != fold(title)]
        if names:
            return names[-1]
    if meta is not None and (named := [b for b in meta.breadcrumb if fold(b) not in _HOME and fold(b) != fold(title)]):
        return named[-1]  # JSON-LD BreadcrumbList
    if meta is not None and meta.title_tag.startswith(title + " - "):
        parts = meta.title_tag[len(title) + 3:].split(" - ")
        section = fold(parts[0]) if len(parts) == 2 else ""
        if section and any(fold(element_text(a)) == section for a in root.iter("a")):
            return parts[0].strip()  # the section is a link of the menu, not a page name
    return None


def date_from_selector(root: HtmlElement, selector: str) -> datetime | None:
    """The first element matching ``selector`` whose text holds a date and is not a today line."""
    for element in select(root, selector):
        text = element.get("datetime") or element_text(element)
        if text and not is_today_line(text):
            found = parse_iso_datetime(text) if element.get("datetime") else parse_vn_datetime(text)
            if found is not None:
                return found
    return None


def _date_line(text: str) -> tuple[datetime, bool] | None:
    if len(text) > 120 or is_today_line(text):
        return None
    matches = find_datetimes(text)
    if not matches:
        return None
    rest = len(text) - sum(m.end - m.start for m in matches)
    return (matches[0].value, matches[0].has_time) if rest <= 60 else None


def is_date_line(text: str) -> bool:
    """A short line that is mostly a date (a dateline, not a sentence mentioning one)."""
    return _date_line(text) is not None


def _own_digits(element: HtmlElement) -> bool:
    """Whether the element's own text (not its children's) has a digit: where a date line lives."""
    return bool(_DIGIT.search(element.text or "")) or any(_DIGIT.search(c.tail or "") for c in element)


def date_near_title(root: HtmlElement, title: HtmlElement | None) -> datetime | None:
    """The publication date as printed: ``time[datetime]`` or the date line closest to the title.

    Looks at most 60 elements above the title and, below it, no further than the second long
    paragraph (the lead and the first body paragraph) or 400 elements; a line with a time wins
    over one without.
    """
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    start = next((i for i, e in enumerate(elements) if e is title), 0)
    candidates: list[tuple[int, int, datetime]] = []
    long_seen = 0
    for index in range(max(0, start - 60), min(len(elements), start + 400)):
        element = elements[index]
        if index > start and len(element) == 0 and len(element.text or "") > 150:
            long_seen += 1
            if long_seen >= 2:
                break
        found: tuple[datetime, bool] | None = None
        stamp = element.get("datetime") if element.tag == "time" else None
        if stamp:
            value = parse_iso_datetime(stamp)
            found = (value, "T" in stamp or ":" in stamp) if value else None
        elif len(element) < 6 and _own_digits(element) and (text := element_text(element)):
            found = _date_line(text)
        if found is not None:
            candidates.append((0 if found[1] else 1, abs(index - start), found[0]))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None
