"""The section an article is filed under: a profile's selector, a breadcrumb, the ``<title>``."""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.clean import element_text, fold, select
from crawler.extract.meta import HeadMeta

_HOME = {"trang chủ", "home", "trang chu", "trang nhất", "trang nhat"}
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
    if meta is not None and meta.title_tag.startswith(title + " - "):
        parts = meta.title_tag[len(title) + 3:].split(" - ")
        section = fold(parts[0]) if len(parts) == 2 else ""
        if section and any(fold(element_text(a)) == section for a in root.iter("a")):
            return parts[0].strip()  # the section is a link of the menu, not a page name
    return None
