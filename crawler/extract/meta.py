"""What a page says about itself: meta tags, the canonical link, its language and JSON-LD.

Machine-readable sources are read first, before chrome removal takes the scripts away; they carry
seconds and an offset, so they win over a date line as printed (``dates``). Each source is read by
a function of its own; ``read_head`` only puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.extract.byline import is_desk_name
from crawler.extract.clean import element_text
from crawler.extract.dates import Dated, itemprop_date, machine
from crawler.extract.sanitize import loads_inert
from crawler.extract.vndate import parse_iso_datetime

ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle"}
_PUBLISHED = ("article:published_time", "datepublished", "pubdate", "publishdate", "dc.date.issued",
              "og:published_time", "date")
_MODIFIED = ("article:modified_time", "datemodified", "og:updated_time", "lastmod")


@dataclass
class HeadMeta:
    """What a page says about itself in ``<head>`` and JSON-LD."""

    og_title: str = ""
    title_tag: str = ""
    site_name: str = ""
    description: str = ""
    canonical: str | None = None
    language: str | None = None
    published: Dated | None = None
    modified: datetime | None = None
    section: str | None = None
    is_article: bool = False
    author: str | None = None
    breadcrumb: list[str] = field(default_factory=list)


def element_text_of(text: str) -> str:
    return " ".join(text.split())


def _head(root: HtmlElement) -> HtmlElement:
    head = root.find("head")
    return head if head is not None else root


def meta_tags(head: HtmlElement) -> dict[str, str]:
    """``<meta>`` contents by lower-cased property/name/itemprop; the first of each name wins."""
    tags: dict[str, str] = {}
    for element in head.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        if key and key not in tags and element.get("content"):
            tags[key] = element.get("content", "").strip()
    return tags


def _canonical(head: HtmlElement, tags: dict[str, str], url: str) -> str | None:
    for link in head.iter("link"):
        href: str = link.get("href", "")
        if "canonical" in (link.get("rel") or "").lower().split() and href:
            return urljoin(url, href.strip())
    return urljoin(url, tags["og:url"]) if tags.get("og:url") else None


def _language(root: HtmlElement, tags: dict[str, str]) -> str | None:
    lang = root.get("lang") or root.get("xml:lang") or tags.get("content-language") or tags.get("og:locale")
    return lang.split("-")[0].split("_")[0].lower() if lang else None


def _first_date(tags: dict[str, str], keys: tuple[str, ...]) -> datetime | None:
    return next((d for k in keys if k in tags and (d := parse_iso_datetime(tags[k]))), None)


def _from_tags(meta: HeadMeta, root: HtmlElement, url: str) -> None:
    head = _head(root)
    tags = meta_tags(head)
    if head is not root:  # a broken page may push its head tags into the body: the social ones still count
        tags.update({k: v for k, v in meta_tags(root).items() if k not in tags and k.startswith(("og:", "twitter:"))})
    meta.og_title = element_text_of(tags.get("og:title") or tags.get("twitter:title") or "")
    title = head.find(".//title")
    meta.title_tag = element_text(title) if title is not None else ""
    meta.site_name = tags.get("og:site_name", "")
    meta.description = element_text_of(tags.get("description") or tags.get("og:description") or "")
    meta.canonical = _canonical(head, tags, url)
    meta.language = _language(root, tags)
    meta.published = next((d for k in _PUBLISHED if k in tags and (d := machine(tags[k]))), None)
    meta.modified = _first_date(tags, _MODIFIED)
    meta.section = element_text_of(tags.get("article:section", "")) or None
    meta.is_article = tags.get("og:type", "").lower() == "article"


def jsonld_nodes(root: HtmlElement) -> list[dict[str, Any]]:
    """Every object of the page's JSON-LD scripts, ``@graph`` members included; broken scripts skipped."""
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
                walk(loads_inert(script.text))
            except ValueError:
                continue
    return found


def jsonld_types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    return {str(v).lower() for v in (value if isinstance(value, list) else [value])}


def _person(value: Any) -> str | None:
    """The names of JSON-LD ``author`` persons (organisations and desks are not authors)."""
    people = value if isinstance(value, list) else [value]
    names = [element_text_of(p["name"]) for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)
             and "organization" not in jsonld_types(p) and not is_desk_name(p["name"])]
    return ", ".join(n for n in names if n) or None


def _from_article_node(meta: HeadMeta, node: dict[str, Any]) -> None:
    """An Article/NewsArticle node fills what the meta tags left empty."""
    meta.is_article = True
    if meta.published is None and isinstance(node.get("datePublished"), str):
        meta.published = machine(node["datePublished"])
    if meta.modified is None and isinstance(node.get("dateModified"), str):
        meta.modified = parse_iso_datetime(node["dateModified"])
    if meta.section is None and isinstance(node.get("articleSection"), str):
        meta.section = element_text_of(node["articleSection"]) or None
    meta.author = meta.author or _person(node.get("author"))


def _crumb_names(node: dict[str, Any]) -> list[str]:
    """The item names of a BreadcrumbList node."""
    items = node.get("itemListElement")
    names: list[str] = []
    for item in items if isinstance(items, list) else []:
        name = item.get("name") or (item.get("item") or {}).get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip():
            names.append(element_text_of(name))
    return names


def read_head(root: HtmlElement, url: str) -> HeadMeta:
    """Meta tags, canonical link, language and JSON-LD of a parsed page (read before cleaning)."""
    meta = HeadMeta()
    _from_tags(meta, root, url)
    for node in jsonld_nodes(root):
        types = jsonld_types(node)
        if types & ARTICLE_TYPES:
            _from_article_node(meta, node)
        if "breadcrumblist" in types:
            meta.breadcrumb.extend(_crumb_names(node))
    if meta.published is None:  # microdata in the body, read before cleaning takes <meta> away
        meta.published = itemprop_date(root)
    return meta
