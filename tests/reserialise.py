"""Test machinery: the same page served with another serialisation, as CMSs and editors produce it.

Every change here leaves what a reader sees unchanged: ``<p>`` paragraphs as ``<div>`` or as
Word-pasted ``<div style><span style>`` ones, paragraphs as blank-line (``<br><br>``) separated parts of one block,
empty paragraphs, inline styles, wrapper elements, attribute order, runs of white space and
``&nbsp;`` where there was a space, soft hyphens and zero-width characters inside words, characters
as numeric references. ``reserialise(html, changes, rng)`` applies the chosen ``CHANGES``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from lxml import etree
from lxml.html import HtmlElement, document_fromstring, tostring

_INLINE = {"span", "strong", "b", "em", "i", "a", "font", "u", "sub", "sup", "br", "img"}
_STYLES = ("text-align: justify;", "line-height: 1.5;", "font-family: Arial, sans-serif;", "margin: 0 0 6pt;",
           "font-size: 12pt; color: #000000;", "text-indent: 1cm;")
_INVISIBLE = ("\u00ad", "\u200b", "\u200c", "\u2060", "\ufeff")
_SPACE_RUNS = ("  ", "\n", " \n\t ", "\u00a0", " \u00a0 ", "\r\n   ")
_RAW_TEXT = re.compile(r"(<(?:script|style)\b.*?</(?:script|style)>)", re.IGNORECASE | re.DOTALL)
_LETTERS = re.compile(r"(?<=[^\W\d_])(?=[^\W\d_])")


def _elements(root: HtmlElement, *tags: str) -> list[HtmlElement]:
    body = root.find("body")
    scope = body if body is not None else root
    return [e for e in scope.iter(*tags) if isinstance(e.tag, str)]


def _plain(p: HtmlElement) -> bool:
    """A paragraph of text and inline elements only."""
    return all(d.tag in _INLINE for d in p.iterdescendants() if isinstance(d.tag, str))


def p_as_div(root: HtmlElement, rng: random.Random) -> None:
    for p in _elements(root, "p"):
        if rng.random() < 0.5 and p.getparent() is not None and p.getparent().tag != "p":
            p.tag = "div"


def word_pasted(root: HtmlElement, rng: random.Random) -> None:
    """``<p>text</p>`` as ``<div style=...><span style=...>text</span></div>`` (Word pasted into a CMS)."""
    for p in _elements(root, "p"):
        if rng.random() < 0.4 and _plain(p):
            span = etree.SubElement(p, "span")
            span.set("style", "font-size: 13pt; font-family: 'Times New Roman', serif;")
            span.text, p.text = p.text, None
            for child in list(p)[:-1]:
                span.append(child)  # moves the child with its tail
            p.tag = "div"
            p.set("style", "margin-bottom: 6pt; text-align: justify;")


def br_lines(root: HtmlElement, rng: random.Random) -> None:
    """Adjacent paragraphs as one block, separated by a blank line: two or three ``<br>`` (a single ``<br>``
    is a line break inside a paragraph, as in the sample pages, so it is not this change)."""
    for p in _elements(root, "p"):
        following = p.getnext()
        if (p.getparent() is None or following is None or following.tag != "p" or rng.random() < 0.5
                or not _plain(p) or not _plain(following) or not (p.text_content().strip()
                                                                   and following.text_content().strip())):
            continue
        for _ in range(rng.choice((2, 3))):
            etree.SubElement(p, "br").tail = rng.choice(("", "\n", " ", "\u00a0"))
        last = p[-1]
        last.tail = following.text
        for child in list(following):
            p.append(child)
        p.tail = following.tail
        following.getparent().remove(following)


def empty_blocks(root: HtmlElement, rng: random.Random) -> None:
    blocks = ("<p></p>", "<p>&nbsp;</p>", "<p><br></p>", "<div>&nbsp;</div>", "<p> <span> </span> </p>")
    for element in _elements(root, "p", "div", "h2", "ul", "table"):
        parent = element.getparent()
        if parent is not None and parent.tag not in ("p", "ul", "ol", "table", "tbody", "tr") and rng.random() < 0.2:
            empty = document_fromstring(rng.choice(blocks)).find(".//body")[0]
            empty.tail = element.tail
            element.tail = "\n"
            parent.insert(parent.index(element) + 1, empty)


def inline_styles(root: HtmlElement, rng: random.Random) -> None:
    for element in _elements(root, "p", "div", "span", "strong", "td", "li", "h1", "h2", "em"):
        if rng.random() < 0.3:
            element.set("style", (element.get("style", "") + " " + rng.choice(_STYLES)).strip())


def wrappers(root: HtmlElement, rng: random.Random) -> None:
    """Blocks wrapped in a plain ``<div>``, runs of text in a ``<span>``."""
    for element in _elements(root, "p", "div", "h1", "h2", "h3", "ul", "table"):
        parent = element.getparent()
        if parent is None or parent.tag in ("p", "ul", "ol", "table", "tbody", "tr", "span") or rng.random() > 0.2:
            continue
        wrapper = etree.Element("div")
        wrapper.tail, element.tail = element.tail, None
        parent.replace(element, wrapper)
        wrapper.append(element)
    for p in _elements(root, "p"):
        if rng.random() < 0.3 and p.text and p.text.strip():
            span = etree.Element("span")
            span.text, p.text = p.text, None
            p.insert(0, span)


def attribute_order(root: HtmlElement, rng: random.Random) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and len(element.attrib) > 1:
            items = list(element.attrib.items())
            rng.shuffle(items)
            element.attrib.clear()
            for key, value in items:
                element.set(key, value)


def _respace(text: str | None, rng: random.Random) -> str | None:
    if not text:
        return text
    return re.sub(r" ", lambda _: rng.choice(_SPACE_RUNS) if rng.random() < 0.3 else " ", text)


def white_space(root: HtmlElement, rng: random.Random) -> None:
    """Spaces as runs of white space, line breaks or ``&nbsp;``; white space between blocks."""
    for element in _elements(root):
        if element.tag in ("pre", "textarea", "script", "style"):
            continue
        element.text = _respace(element.text, rng)
        element.tail = _respace(element.tail, rng)
        if element.tag not in _INLINE and rng.random() < 0.3:
            element.tail = "\n   " + (element.tail or "")


def invisible(root: HtmlElement, rng: random.Random) -> None:
    """Soft hyphens and zero-width characters between letters of words."""
    def salt(text: str | None) -> str | None:
        if not text:
            return text
        return _LETTERS.sub(lambda _: rng.choice(_INVISIBLE) if rng.random() < 0.05 else "", text)

    for element in _elements(root):
        if element.tag not in ("script", "style"):
            element.text = salt(element.text)
            element.tail = salt(element.tail)


CHANGES: dict[str, Callable[[HtmlElement, random.Random], None]] = {
    "p_as_div": p_as_div,
    "word_pasted": word_pasted,
    "br_lines": br_lines,
    "empty_blocks": empty_blocks,
    "inline_styles": inline_styles,
    "wrappers": wrappers,
    "attribute_order": attribute_order,
    "white_space": white_space,
    "invisible": invisible,
}


def reserialise(html: bytes | str, changes: list[str], rng: random.Random, *, references: bool = False) -> str:
    """The page with ``changes`` applied (in a fixed order), serialised again; ``references``: every
    non-ASCII character as a numeric character reference."""
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    root = document_fromstring(text)
    for name, change in CHANGES.items():
        if name in changes:
            change(root, rng)
    out = tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
    if references:  # not inside scripts and styles: references are not decoded there
        parts = _RAW_TEXT.split(out)
        out = "".join(part if i % 2 else part.encode("ascii", "xmlcharrefreplace").decode("ascii")
                      for i, part in enumerate(parts))
    return out
