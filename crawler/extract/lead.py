"""The lead and the byline: told apart from the body, taken out of the text.

The lead is the sapo/teaser element after the title or the paragraph that is the meta description;
the byline is a short trailing line (or the labelled line just below the body) naming the author.
The same rules serve profile and generic extraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml.html import HtmlElement

from crawler.extract.byline import DEGREES, parse_byline, split_byline
from crawler.extract.clean import element_text, fold, same_text_wrapper
from crawler.extract.meta import HeadMeta
from crawler.extract.prepare import LAYOUT_ATTR

_LEAD_CLASS = re.compile(
    r"sapo|teaser|summary|(?:^|[\s_-])lead|description|hometext|excerpt|intro|chapeau|tom-?tat|mo-?ta|abstract",
    re.IGNORECASE,
)


_BLOCKS = frozenset({"p", "div", "td", "tr", "tbody", "table", "ul", "ol", "li", "section", "article", "header",
                     "footer", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dd", "dt", "blockquote", "figure"})


_HEADER = re.compile(r"header|title|heading|tieu-?de", re.IGNORECASE)


def following(element: HtmlElement, levels: int = 4, *, headers: bool = False) -> Iterator[HtmlElement]:
    """The elements after ``element`` in reading order: its siblings, then its parent's next siblings
    and so on ``levels`` up, as long as the element closes its block (what follows it there is a
    short line at most: a body alone in its table cell). With ``headers``, only a header block is
    left so (``<header>``, a table cell, a class or id saying header/title: K2's ``itemHeader``,
    Drupal's title block): what follows an ordinary block is no longer the title's neighbourhood."""
    for _ in range(levels + 1):
        while (parent := element.getparent()) is not None and _plain_wrapper_of(parent, element):
            element = parent  # a styling wrapper adds nothing: its neighbours are the element's
        after = [e for e in element.itersiblings() if isinstance(e.tag, str)]
        yield from after
        if sum(len(element_text(e)) for e in after) > 60:
            return
        parent = element.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return
        names = f"{parent.get('class', '')} {parent.get('id', '')}"
        cell = parent.get(LAYOUT_ATTR, parent.tag)  # layout tables are divs by now
        if headers and cell not in ("header", "td", "th", "tr") and not _HEADER.search(names):
            return
        element = parent


def _plain_wrapper_of(parent: HtmlElement, element: HtmlElement) -> bool:
    """``parent`` is a plain ``<div>`` (no class, no id) holding only ``element``: a styling wrapper."""
    return (parent.tag == "div" and not parent.get("class") and not parent.get("id")
            and [c for c in parent if isinstance(c.tag, str)] == [element] and not (parent.text or "").strip()
            and not (element.tail or "").strip())


def _several_paragraphs(element: HtmlElement) -> bool:
    """A lead is one block of text; an element holding two paragraphs is a body (Drupal's
    ``field--type-text-with-summary``), not a summary."""
    return sum(1 for p in element.iter("p", "li") if len(element_text(p)) >= 20) >= 2


def _in_figure(element: HtmlElement) -> bool:
    """A photo's description is its caption, not the article's lead."""
    return any(e.tag in ("figure", "figcaption") for e in (element, *element.iterancestors()))


def lead_element(title_el: HtmlElement | None, description: str = "") -> HtmlElement | None:
    """The lead just after the title: a sapo/teaser/summary element (trafilatura drops teaser
    classes), else the block whose text is the page's meta description. The title may close its
    own header block (K2's ``itemHeader``, Drupal's title block), so the search goes on after it."""
    if title_el is None:
        return None
    described = fold(description).rstrip(".… ")
    by_text = None
    steps = 0
    for element in following(same_text_wrapper(title_el), 2, headers=True):
        if not isinstance(element.tag, str) or not (element_text(element) or element.find(".//img") is not None):
            continue  # comments and empty blocks are not steps away from the title
        steps += 1
        if steps > 7:
            break
        for candidate in element.iter():
            if not isinstance(candidate.tag, str):
                continue
            names = f"{candidate.get('class', '')} {candidate.get('id', '')}"
            size = len(element_text(candidate))
            if (_LEAD_CLASS.search(names) and 30 <= size <= 1500 and not _several_paragraphs(candidate)
                    and not _in_figure(candidate)):
                return candidate
            if (by_text is None and len(described) >= 30 and size <= 1500
                    and fold(element_text(candidate)).startswith(described)):
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


def author_of(byline: str) -> str | None:
    """The author a byline element names; an academic title (``ThS``, ``PGS, TS``) is not part of it."""
    return parse_byline(DEGREES.sub("", byline.strip()))


def byline_text(element: HtmlElement) -> str:
    """A byline element's text, its bold label (``<strong>Tác giả </strong>X``) joined with a colon."""
    label = element[0] if len(element) and not (element.text or "").strip() else None
    if label is not None and label.tag in ("strong", "b") and (label.tail or "").strip():
        name = element_text(label).rstrip(": ")
        rest = " ".join([label.tail or "", *(element_text(e) + " " + (e.tail or "") for e in label.itersiblings())])
        return f"{name}: {' '.join(rest.split()).lstrip(': ')}"
    return element_text(element)


def _line_elements(element: HtmlElement) -> list[HtmlElement]:
    """The elements that print one line each: those without block children."""
    if not any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in element):
        return [element]
    return [line for c in element if isinstance(c.tag, str) for line in _line_elements(c)]


def byline_after(body: HtmlElement) -> str | None:
    """An author printed just below the body container (NukeViet's ``p.h5.text-right``, a labelled
    "Tác giả bài viết:" line, a bold name in the table cell under the body's cell)."""
    seen = 0
    for element in following(same_text_wrapper(body), 3):
        if not isinstance(element.tag, str) or not (text := element_text(element)):
            continue
        seen += 1
        if seen > 3 or len(text) > 160:
            return None
        parts = [byline_text(e) for e in _line_elements(element)]
        _, author, printed = split_byline([p for p in parts if p] or [text])
        if printed is not None:
            return author
    return None


_BYLINE_CLASS = re.compile(r"author|byline|tac-?gia|but-?danh|writer|reporter", re.IGNORECASE)
_LABELLED = re.compile(r"^(?:tác\s+giả|bài(?:\s*(?:,|và)\s*ảnh)?|tin(?:\s*(?:,|và)\s*ảnh)?|thực\s+hiện|"
                       r"người\s+viết|phóng\s+viên)\s*:", re.IGNORECASE)
_BY = re.compile(r"^(?:by|bởi)\s+", re.IGNORECASE)


def byline_near_title(title_el: HtmlElement | None) -> tuple[str, HtmlElement] | None:
    """A byline printed under the headline, beside the date line: an element classed author, byline
    or tác giả, or a short labelled line ("Tác giả: X", "Bài và ảnh: X"), before the body begins.

    Returns the author and the element, so the caller can take the line out of the text.
    """
    if title_el is None:
        return None
    steps = 0
    for sibling in same_text_wrapper(title_el).itersiblings():
        if not isinstance(sibling.tag, str) or not (text := element_text(sibling)):
            continue
        steps += 1
        if steps > 6:
            return None
        for candidate in sibling.iter():
            if not isinstance(candidate.tag, str) or not (line := element_text(candidate)) or len(line) > 100:
                continue
            names = f"{candidate.get('class', '')} {candidate.get('id', '')} {candidate.get('rel', '')}"
            if _BYLINE_CLASS.search(names) or _LABELLED.match(line):
                author = author_of(_BY.sub("", line))
                if author:
                    return author, candidate
        if len(text) > 300:
            return None  # the body has begun
    return None
