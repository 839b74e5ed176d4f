"""The section an article is filed under: a profile's selector, a breadcrumb, the ``<title>``."""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.clean import element_text, fold, select
from crawler.extract.meta import HeadMeta

_HOME = {"trang chủ", "home", "trang chu", "trang nhất", "trang nhat"}
_CATEGORY_LINK = etree.XPath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]")
_CATEGORY_BOX = etree.XPath(  # an element saying it holds the article's section: one link, a short line
    "//*[contains(translate(@class, 'CATEGORYHUNM', 'categoryhunm'), 'categor')"
    " or contains(@class, 'chuyen-muc') or contains(@class, 'chuyenmuc')]"
)
_TRAIL = ("»", "›", ">", "/", "|")
_BREADCRUMB = etree.XPath(  # attribute axes: several times faster than testing every element
    "//@class[contains(., 'readcrumb')]/.. | //@id[contains(., 'readcrumb')]/.."
    " | //@aria-label[contains(., 'readcrumb')]/.. | //@itemtype[contains(., 'BreadcrumbList')]/.."
)


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
    if (section := _marked_section(root, title)) is not None:
        return section
    if meta is not None and meta.title_tag.startswith(title + " - "):
        parts = meta.title_tag[len(title) + 3:].split(" - ")
        section = fold(parts[0]) if len(parts) == 2 else ""
        if section and any(fold(element_text(a)) == section for a in root.iter("a")):
            return parts[0].strip()  # the section is a link of the menu, not a page name
    return None


def _marked_section(root: HtmlElement, title: str) -> str | None:
    """The section as CMSs mark it outside a breadcrumb: WordPress's ``rel="category"`` link, an
    element whose class says category (``itemCategory``, ``edn_category``, a "Chuyên mục" field)
    holding one short link, or a home-led trail of links ("Trang chủ » Tin hoạt động")."""
    links = [a for a in _CATEGORY_LINK(root) if element_text(a)]
    if links:
        return element_text(links[0])
    for box in _CATEGORY_BOX(root):
        anchors = [box] if box.tag == "a" else box.findall(".//a")
        text = element_text(box)
        if len(anchors) == 1 and len(text) <= 80 and (name := element_text(anchors[0])) and fold(name) != fold(title):
            return name
    for parent in {a.getparent() for a in root.iter("a") if fold(element_text(a)) in _HOME}:
        if parent is None:
            continue
        anchors = [a for a in parent.iter("a") if element_text(a)]
        text = element_text(parent)
        if 2 <= len(anchors) <= 5 and len(text) <= 160 and any(mark in text for mark in _TRAIL[:3]):
            names = [element_text(a) for a in anchors[1:] if fold(element_text(a)) != fold(title)]
            if names:
                return names[-1]
    return None
