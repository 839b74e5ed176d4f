"""Listing detection: a page whose text is mostly headlines, or items of headline and teaser, is not
an article, whatever its title and date say."""

from __future__ import annotations

from lxml.html import HtmlElement

from crawler.extract.clean import element_text
from crawler.extract.meta import HeadMeta


def _item_of(link: HtmlElement) -> HtmlElement | None:
    """A headline link's listing item: the widest ancestor (up to a block of eight children, below
    the page's ``h1``) whose links all lead where the headline does (thumbnail and title link)."""
    href, item = link.get("href"), None
    for ancestor in link.iterancestors():
        if ancestor.tag in ("body", "html") or len(ancestor) > 8:
            break
        if any(a.get("href") != href for a in ancestor.iter("a")):
            break
        if any(link not in h1.iterdescendants() for h1 in ancestor.iter("h1")):
            break  # the page's own heading is above the items, not part of one
        item = ancestor
    return item


def _common_ancestor(a: HtmlElement, b: HtmlElement) -> HtmlElement | None:
    above_b = set(b.iterancestors())
    return next((x for x in a.iterancestors() if x in above_b), None)


def is_listing(root: HtmlElement, title_el: HtmlElement | None, head: HeadMeta, dated: bool) -> bool:
    """A page whose text is mostly headlines, or items of headline and teaser: not an article.

    Judged on the cleaned page before trafilatura, within the block that holds both the page's
    heading and the items (so a site banner above it does not count): an article's own text
    outweighs whatever headline lists survived chrome removal; a listing's text is its items.
    """
    if head.is_article and (dated or title_el is not None):
        return False  # the page calls itself an article and names its headline or its date
    links = [a for a in root.iter("a") if len(element_text(a).split()) >= 4]
    if not links:
        return False
    items: dict[int, tuple[HtmlElement, HtmlElement]] = {}
    for link in links:
        item = _item_of(link)
        if item is not None and id(item) not in items:
            items[id(item)] = (item, link)
    body = root.find("body")
    scope = body if body is not None else root
    if title_el is not None and items:
        common = _common_ancestor(title_el, next(iter(items.values()))[0])
        scope = common if common is not None else scope
    total = len(element_text(scope))
    if not total:
        return False
    if len(links) >= 6 and sum(len(element_text(a)) for a in links) > 0.5 * total:
        return True
    inside = set(scope.iterdescendants())
    sizes = [n for item, link in items.values() if item in inside and 30 <= (n := len(element_text(item))) <= 700
             and len(element_text(link)) >= 0.1 * n]
    share = sum(sizes) / total
    return ((len(sizes) >= 4 and share >= 0.5) or (len(sizes) >= 2 and share >= 0.6)
            or (len(sizes) == 1 and share >= 0.75))
