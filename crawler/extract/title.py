"""The headline: the element that names the article, told apart from logos, portlet titles and box
headings.

Candidates are the headings, the elements whose class, id or itemprop says title/headline/tiêu đề
(portals in tables title an article with a styled ``<span>``), and the prominent line right above
the body. They are ranked by what the page says about itself (og:title, ``<title>`` without the
site name): a candidate matching it wins; else the first plausible ``h1``; else the titled element
nearest the body. A ``<header>`` inside an ``<article>`` is the article's own header, so its ``h1``
is the headline, not the page header's logo.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.extract.clean import element_text, fold, is_chrome_key, same_text_wrapper
from crawler.extract.meta import HeadMeta

_TITLED = re.compile(r"title|headline|tieu-?de|tieude|heading|lbltieude|lbltitle", re.IGNORECASE)
_NOT_TITLED = re.compile(r"sub-?title|subheading|title-?(?:bar|box|cat|list|link|menu|block|site|web|page)|"
                         r"(?:box|cat|block|site|web|page|portlet|module|widget|section|list|menu)-?title",
                         re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[-|–—:»·•]\s+|\s*[|»·•]\s*|\s+::\s+")
_BLOCK_TAGS = ("p", "div", "table", "ul", "ol", "section", "article")
_CHROME_WORDS = ("logo", "brand", "masthead", "banner")
_CHROME_NAME = re.compile("|".join((*_CHROME_WORDS, "footer", "copyright")))
"""Any of the words in a tag, class and id string (one scan instead of one ``in`` per word)."""
_PAGE_PARTS = ("header", "nav", "footer", "portlet-topper", "menu", "navbar", "topbar", "sidebar")


def _names(element: HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}".lower()


def _in_page_chrome(element: HtmlElement) -> bool:
    """Inside the page's header, navigation, footer or logo (an article's own ``<header>`` is not)."""
    ancestors = list(element.iterancestors())
    for depth, ancestor in enumerate(ancestors):
        if ancestor.tag in ("article", "main", "body", "html"):
            return False
        names = f"{ancestor.tag} {_names(ancestor)}"
        if any(word in names for word in _CHROME_WORDS):
            return True
        if any(part in names.split() for part in _PAGE_PARTS):
            return not any(a.tag in ("article", "main") for a in ancestors[depth + 1:])
    return False


def _plausible(element: HtmlElement, meta: HeadMeta) -> bool:
    """Not the logo, the site name, a portlet or box title, nor a heading of the page header/menu."""
    key = fold(element_text(element))
    if len(key) < 8 or len(key) > 400 or (meta.site_name and key == fold(meta.site_name)) or is_chrome_key(key):
        return False
    if element.tag == "a" or any(w in _names(element) for w in _CHROME_WORDS):
        return False
    if any(a.tag == "a" for a in element.iterancestors()):
        return False
    return not _in_page_chrome(element)


@lru_cache(maxsize=256)
def _chrome_tag(tag: str) -> bool:
    return tag in ("header", "footer") or _CHROME_NAME.search(tag.lower()) is not None


def _chrome_names(root: HtmlElement) -> str:
    """Folded text of the page's header, footer, logo and banner: where a site prints its own name."""
    texts = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        named = element.get("class") or element.get("id")  # most elements have neither: the tag decides
        if _chrome_tag(tag) or (named and _CHROME_NAME.search(_names(element))):
            texts.append(element_text(element))
            texts.extend(img.get("alt", "") for img in element.iter("img"))
    return fold(" | ".join(texts))


def title_parts(title: str, meta: HeadMeta, url: str = "", chrome: str = "") -> list[str]:
    """A title without the site's name: its parts split at separators, site names dropped, longest first.

    The site name is og:site_name, the part that spells the host ("Entermedia" on entermedia.co.kr)
    or a part the page's header, footer or logo prints too: what every page of the site shares.
    """
    host = re.sub(r"[^a-z0-9]", "", urlsplit(url).hostname or "")
    site = fold(meta.site_name)
    parts = [p.strip() for p in _SEPARATORS.split(title) if p and p.strip()]
    kept = []
    for part in parts:
        key = fold(part)
        squashed = re.sub(r"[^a-z0-9]", "", key)
        if not key or key == site or (len(squashed) >= 3 and squashed in host) or (
                len(parts) > 1 and len(key) >= 4 and key in chrome):
            continue
        kept.append(part)
    return sorted(kept, key=len, reverse=True)


def strip_site(title: str, meta: HeadMeta, url: str = "", chrome: str = "") -> str:
    """The title without a leading or trailing site name (the headline's own dashes are kept)."""
    pieces = _SEPARATORS.split(title)
    if len(pieces) < 2:
        return title.strip()
    kept = set(map(fold, title_parts(title, meta, url, chrome)))
    while len(pieces) > 1 and fold(pieces[-1]) not in kept:
        title = title[: title.rfind(pieces[-1])]
        title = re.sub(r"(?:\s+[-|–—:»·•]\s*|\s*[|»·•]\s*|\s+::\s*)$", "", title)
        pieces.pop()
    while len(pieces) > 1 and fold(pieces[0]) not in kept:
        title = title[title.find(pieces[0]) + len(pieces[0]):]
        title = re.sub(r"^(?:\s*[-|–—:»·•]\s+|\s*[|»·•]\s*|\s*::\s+)", "", title)
        pieces.pop(0)
    return title.strip()


def _matches(text: str, names: list[str]) -> bool:
    key = fold(text)
    return len(key) >= 8 and any(
        key == n or (len(n) >= 15 and (key.startswith(n.rstrip(".… ")) or n.startswith(key))) for n in names
    )


def _titled(root: HtmlElement) -> list[HtmlElement]:
    """Elements whose class, id or itemprop says title/headline/tiêu đề, and which are one line."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in ("a", "title", "meta", "html", "body", "head"):
            continue
        names = _names(element)
        if element.get("itemprop") == "headline" or (_TITLED.search(names) and not _NOT_TITLED.search(names)):
            if not any(d.tag in _BLOCK_TAGS for d in element.iterdescendants() if isinstance(d.tag, str)) \
                    or element.tag in ("h1", "h2", "h3"):
                found.append(element)
    return found


def _prominent(root: HtmlElement) -> list[HtmlElement]:
    """Short bold or large lines: where portals print the headline with inline styles."""
    found = []
    for element in root.iter("span", "b", "strong", "font", "p", "div", "td"):
        style = (element.get("style") or "").replace(" ", "").lower()
        big = "font-size" in style and any(u in style for u in ("14pt", "16pt", "18pt", "20px", "22px", "24px",
                                                                "1.5em", "2em", "large"))
        bold = "font-weight:bold" in style or element.tag in ("b", "strong") or element.get("size") in ("4", "5")
        if (big or (bold and element.tag != "td")) and 15 <= len(element_text(element)) <= 250:
            found.append(element)
    return found


def find_title(root: HtmlElement, meta: HeadMeta, url: str = "") -> tuple[str, HtmlElement | None]:
    """The headline's text and element (None when only the head names the article)."""
    og = fold(meta.og_title)
    chrome = _chrome_names(root)
    parts = [*title_parts(meta.og_title, meta, url, chrome), *title_parts(meta.title_tag, meta, url, chrome)]
    names = [n for n in [og, *map(fold, parts)] if n]
    h1s = [h for h in root.iter("h1") if _plausible(h, meta)]
    for h1 in h1s:
        if _matches(element_text(h1), names):
            return element_text(h1), h1
    others = [h for h in root.iter("h2", "h3") if _plausible(h, meta)]
    titled = [t for t in _titled(root) if _plausible(t, meta)]
    for element in [*titled, *others]:
        if _matches(element_text(element), names):
            return element_text(element), same_text_wrapper(element)
    prominent = [p for p in _prominent(root) if _plausible(p, meta)]
    for element in prominent:
        if _matches(element_text(element), names):
            return element_text(element), same_text_wrapper(element)
    if h1s:
        return element_text(h1s[0]), h1s[0]
    heads = [t for t in titled if t.get("itemprop") == "headline"]
    if heads:
        return element_text(heads[0]), heads[0]
    above = _above_body(root, [t for t in titled if len(element_text(t)) >= 15])
    above = above if above is not None else _above_body(root, prominent)
    if above is not None:
        return element_text(above), same_text_wrapper(above)
    return strip_site(meta.og_title or meta.title_tag, meta, url, chrome), None


def _above_body(root: HtmlElement, candidates: list[HtmlElement]) -> HtmlElement | None:
    """The candidate closest above the first long paragraph after it (the body), within 40 elements."""
    if not candidates:
        return None
    wanted = set(candidates)
    best: tuple[int, HtmlElement] | None = None
    pending: list[tuple[int, HtmlElement]] = []
    for index, element in enumerate(e for e in root.iter() if isinstance(e.tag, str)):
        if element in wanted:
            pending.append((index, element))
        elif pending and len(" ".join((element.text or "").split())) >= 150:
            start, candidate = pending[-1]
            if index - start <= 40 and (best is None or index - start < best[0]):
                best = (index - start, candidate)
            pending = []
    return best[1] if best else None
