"""The headline: the heading that names the article, told apart from logos, portlet titles and
box headings."""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.clean import element_text, fold, is_chrome_key
from crawler.extract.meta import HeadMeta

_TITLED = etree.XPath("//@class[contains(., 'title') or contains(., 'headline')]/..")


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


