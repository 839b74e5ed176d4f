"""Body text: the one place trafilatura is called, and the lines a reader reads.

trafilatura's options are built once per mode from a fresh ``use_config()`` (never its mutated
default), both ``fast`` (no readability/justext comparison: the page is already cleaned of chrome,
and on portals justext alone costs hundreds of milliseconds): *known* mode for a profile's body
subtree (recall: the subtree is the article, anything dropped would be a loss) and *search* mode
for a whole cleaned page (balanced). Its output tree is turned into lines: paragraphs, headings,
list items, table rows, line breaks kept; ``tidy`` drops what it kept around the body (the title
again, category and date lines above it, a chrome heading and its links below it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement, fromstring
from trafilatura import bare_extraction
from trafilatura.settings import Extractor, use_config

from crawler.extract.article import Image
from crawler.extract.clean import CHROME_HEADINGS, clean_line, drop_generic_chrome, drop_selectors, fold, is_chrome_key
from crawler.extract.dates import is_date_line
from crawler.extract.prepare import marked_images, prepare
from crawler.extract.vndate import is_today_line

_DIGIT = re.compile(r"\d")
_DATE_LABEL = re.compile(
    r"(?:ngày\s+(?:đăng|cập\s+nhật|xuất\s+bản)|cập\s+nhật|đăng\s+(?:lúc|ngày)|thời\s+gian\s+đăng)\b", re.IGNORECASE)


def _options(*, known: bool) -> Extractor:
    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    if known:
        config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return Extractor(
        config=config, output_format="python", fast=True, recall=known, comments=False,
        tables=True, images=False, formatting=False, links=False, dedup=False, with_metadata=False,
    )


KNOWN_BODY = _options(known=True)
"""Options for a body subtree a profile located."""
SEARCH_PAGE = _options(known=False)
"""Options for a whole (cleaned) page whose article has to be found."""


@dataclass
class BodyText:
    lines: list[str]
    images: list[Image]


def _text_with_breaks(element: etree._Element) -> str:
    parts: list[str] = []
    if element.text:
        parts.append(element.text)
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag != "list":
            parts.append(_text_with_breaks(child))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _block_lines(body: etree._Element) -> Iterator[str]:
    for element in body:
        if element.tag == "list":
            yield from (_text_with_breaks(item) for item in element.iter("item"))
        elif element.tag == "table":
            for row in element.iter("row"):
                cells = list(row.iter("cell"))
                if any(len(cell) and cell[0].tag in ("p", "head", "list", "quote") for cell in cells):
                    for cell in cells:
                        yield from _block_lines(cell)
                else:
                    yield " | ".join(c for c in (clean_line(_text_with_breaks(cell)) for cell in cells) if c)
        elif element.tag == "quote" and element.find("p") is not None:
            yield from _block_lines(element)
        elif element.tag != "graphic":
            yield _text_with_breaks(element)


def dedupe(blocks: Iterable[str]) -> list[str]:
    """Clean paragraphs, dropping empty ones, rules (a line of "____" has no letter nor digit) and
    one repeating the paragraph before it.

    Two ``<br>`` in a row end a paragraph (``prepare.split_blank_lines`` made them two). A single
    ``<br>`` inside a paragraph stays a ``"\n"`` for now: the byline printed under the last
    paragraph's break (name, then unit) is found by its lines; ``paragraph_line`` joins the rest.
    """
    out: list[str] = []
    for block in blocks:
        paragraph = "\n".join(line for line in map(clean_line, block.split("\n")) if line)
        if any(ch.isalnum() for ch in paragraph) and (not out or out[-1] != paragraph):
            out.append(paragraph)
    return out


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
                is_today_line(line) or ((not started or _DATE_LABEL.match(line)) and is_date_line(line))):
            continue  # a labelled date line ("Ngày đăng: ...") is never text, wherever it lands
        if not started and category_key and key == category_key:
            continue
        started = started or len(line) >= 100
        out.append(line)
    return out


def paragraph_line(paragraph: str) -> str:
    """One paragraph, one line: its line breaks read as spaces."""
    return " ".join(paragraph.split("\n"))


def run_trafilatura(root: HtmlElement, *, known: bool, url: str) -> list[str]:
    """Lines of the main text trafilatura finds in ``root`` (empty when it finds none)."""
    options = KNOWN_BODY if known else SEARCH_PAGE
    document = bare_extraction(root, url=url, options=options)
    if document is None or isinstance(document, dict) or document.body is None:
        return []
    return dedupe(_block_lines(document.body))


def body_text(blocks: list[HtmlElement], url: str, drop: Iterable[str] = ()) -> BodyText:
    """Lines and images of the body a profile located.

    The blocks are moved into a fresh document, so the rest of the page is never walked again;
    there the profile's ``drop`` selectors and generic chrome go, photos are rewritten, and
    trafilatura reads the text (its ``articleBody`` hint keeps lists and sub-headings).
    """
    doc = fromstring('<html><body><div itemprop="articleBody"></div></body></html>')
    holder = doc.find(".//div")
    for block in blocks:
        block.tail = None
        holder.append(block)
    images = prepare(holder, url, labels=False)
    drop_selectors(holder, drop, [holder])
    drop_generic_chrome(holder, [holder])
    lines = run_trafilatura(doc, known=True, url=url)
    return BodyText(lines=lines, images=marked_images(holder, images))
