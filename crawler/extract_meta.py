"""Article metadata found without a profile: head tags, JSON-LD, the title, the category.

Machine-readable sources (meta tags, JSON-LD) are read first, before chrome removal takes the
scripts away; they carry seconds and an offset, so they win over a date line as printed
(``extract_dates``). The title is the heading that names the article, told apart from logos,
portlet titles and box headings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from crawler.byline import is_desk_name
from crawler.clean import element_text, fold, is_chrome_key, select
from crawler.vndate import parse_iso_datetime

ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}
_PUBLISHED = ("article:published_time", "datepublished", "pubdate", "publishdate", "dc.date.issued",
              "og:published_time", "date")
_MODIFIED = ("article:modified_time", "datemodified", "og:updated_time", "lastmod")
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
