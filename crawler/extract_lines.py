"""From trafilatura's lines to the article's text: lead, byline, leftovers above and below the body.

trafilatura returns what it judged to be the main text; around the body it can still keep the title
again, the category and date lines above it, and a chrome heading with its links below it. Those
are dropped here, the lead is told apart from the body, and the byline is taken out of the text.
The same rules serve profile and generic extraction.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.byline import parse_byline, split_byline
from crawler.clean import CHROME_HEADINGS, element_text, fold, is_chrome_key
from crawler.extract_dates import is_date_line
from crawler.extract_meta import HeadMeta
from crawler.vndate import is_today_line

_LEAD_CLASS = re.compile(
    r"sapo|teaser|summary|(?:^|[\s_-])lead|description|hometext|excerpt|intro|chapeau|tom-?tat|mo-?ta|abstract",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def tidy(lines: list[str], title: str, category: str | None) -> list[str]:
    """Drop what trafilatura may keep above the text (title, category, date lines) and after it (chrome)."""
    out: list[str] = []
    started = False
    title_key, category_key = fold(title), fold(category)
    for line in lines:
        key = fold(line)
        if key in CHROME_HEADINGS and started:
            break
        if key == title_key or (len(key) <= 60 and is_chrome_key(key)):
            continue
        if len(line) <= 120 and _DIGIT.search(line) and (
                is_today_line(line) or (not started and is_date_line(line))):
            continue
        if not started and category_key and key == category_key:
            continue
        started = started or len(line) >= 100
        out.append(line)
    return out


def lead_element(title_el: HtmlElement | None, description: str = "") -> HtmlElement | None:
    """The lead just after the title: a sapo/teaser/summary element (trafilatura drops teaser
    classes), else the block whose text is the page's meta description."""
    if title_el is None:
        return None
    described = fold(description).rstrip(".… ")
    by_text = None
    for steps, element in enumerate(title_el.itersiblings()):
        if steps > 6:
            break
        if not isinstance(element.tag, str):
            continue
        for candidate in element.iter():
            if not isinstance(candidate.tag, str):
                continue
            names = f"{candidate.get('class', '')} {candidate.get('id', '')}"
            size = len(element_text(candidate))
            if _LEAD_CLASS.search(names) and 30 <= size <= 1500:
                return candidate
            if by_text is None and len(described) >= 30 and size <= 1500 and fold(element_text(candidate)).startswith(described):
                by_text = candidate
    return by_text


def split_lead(lead: str | None, lines: list[str], head: HeadMeta) -> tuple[str | None, list[str]]:
    """The lead and the lines without it; with no lead element, the first line if it is the description."""
    if lead:
        key = fold(lead)
        return lead, [line for i, line in enumerate(lines) if not (i < 3 and fold(line) == key)]
    description = fold(head.description).rstrip(".… ")
    if lines and len(description) >= 30 and fold(lines[0]).startswith(description):
        return lines[0], lines[1:]
    return None, lines


def take_byline(paragraphs: list[str]) -> tuple[list[str], str | None, str | None]:
    """``split_byline`` on the trailing short lines (a byline is at most three lines of 16 words).

    The last paragraphs are read line by line (``<br>`` breaks), since a byline is often printed
    as name and unit in one paragraph; lines not taken go back into their paragraphs.
    """
    tail = [(i, line) for i in range(max(0, len(paragraphs) - 3), len(paragraphs))
            for line in paragraphs[i].split("\n")]
    start = len(tail)
    while start > 0 and len(tail) - start < 3 and len(tail[start - 1][1].split()) <= 16:
        start -= 1
    if start == len(tail):
        return paragraphs, None, None
    rest, author, printed = split_byline([line for _, line in tail[start:]])
    if printed is None:
        return paragraphs, None, None
    kept = tail[:start] + tail[start:start + len(rest)]
    joined: dict[int, list[str]] = {}
    for index, line in kept:
        joined.setdefault(index, []).append(line)
    first = tail[0][0] if tail else len(paragraphs)
    return paragraphs[:first] + ["\n".join(lines) for lines in joined.values()], author, printed


_DEGREES = re.compile(r"^(?:(?:GS|PGS|TS|TSKH|ThS|Th\.S|CN|NCS|BS|KS|ĐH)\.?(?:\s*,\s*|\s+))+(?=\S)")


def author_of(byline: str) -> str | None:
    """The author a byline element names; an academic title (``ThS``, ``PGS, TS``) is not part of it."""
    return parse_byline(_DEGREES.sub("", byline.strip()))


def byline_text(element: HtmlElement) -> str:
    """A byline element's text, its bold label (``<strong>Tác giả </strong>X``) joined with a colon."""
    label = element[0] if len(element) and not (element.text or "").strip() else None
    if label is not None and label.tag in ("strong", "b") and (label.tail or "").strip():
        name = element_text(label).rstrip(": ")
        rest = " ".join([label.tail or "", *(element_text(e) + " " + (e.tail or "") for e in label.itersiblings())])
        return f"{name}: {' '.join(rest.split()).lstrip(': ')}"
    return element_text(element)


def byline_after(body: HtmlElement) -> str | None:
    """An author printed just below the body container (NukeViet's ``p.h5.text-right``)."""
    seen = 0
    for element in body.itersiblings():
        if not isinstance(element.tag, str) or not (text := element_text(element)):
            continue
        seen += 1
        if seen > 3 or len(text) > 160:
            return None
        parts = [byline_text(e) for e in element.iter("p", "div", "span") if len(e) == 0 or e.tag == "p"]
        _, author, printed = split_byline([p for p in parts if p] or [text])
        if printed is not None:
            return author
    return None


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
    if head.is_article and dated:
        return False
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
    sizes = [n for item, link in items.values() if item in inside and 60 <= (n := len(element_text(item))) <= 700
             and len(element_text(link)) >= 0.1 * n]
    share = sum(sizes) / total
    return (len(sizes) >= 4 and share >= 0.5) or (len(sizes) >= 2 and share >= 0.6) or (len(sizes) == 1 and share >= 0.75)
