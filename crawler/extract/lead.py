"""The lead and the byline: told apart from the body, taken out of the text.

The lead is the sapo/teaser element after the title or the paragraph that is the meta description;
the byline is a short trailing line (or the labelled line just below the body) naming the author.
The same rules serve profile and generic extraction.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.extract.byline import parse_byline, split_byline
from crawler.extract.clean import element_text, fold, same_text_wrapper
from crawler.extract.meta import HeadMeta

_LEAD_CLASS = re.compile(
    r"sapo|teaser|summary|(?:^|[\s_-])lead|description|hometext|excerpt|intro|chapeau|tom-?tat|mo-?ta|abstract",
    re.IGNORECASE,
)


def lead_element(title_el: HtmlElement | None, description: str = "") -> HtmlElement | None:
    """The lead just after the title: a sapo/teaser/summary element (trafilatura drops teaser
    classes), else the block whose text is the page's meta description."""
    if title_el is None:
        return None
    described = fold(description).rstrip(".… ")
    by_text = None
    steps = 0
    for element in same_text_wrapper(title_el).itersiblings():
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
            if _LEAD_CLASS.search(names) and 30 <= size <= 1500:
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
    for element in same_text_wrapper(body).itersiblings():
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
