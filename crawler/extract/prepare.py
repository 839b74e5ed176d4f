"""Preparing a page for trafilatura: photos, layout tables, byline labels, the article-body hint.

trafilatura drops ``figure`` and ``*caption*`` elements and would otherwise print alt text and
caption cell twice, so each photo becomes one plain paragraph holding its visible caption and the
image is recorded apart; layout tables become divs; bold byline labels get their colon; and the
container holding the prose is named ``articleBody`` so trafilatura keeps its lists and headings.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.article import Image
from crawler.extract.clean import clean_line, element_text

_MARK = "data-tgw-img"
_CAPTION_CLASS = re.compile(
    r"caption|chu-?thich|(?:image|photo|img|pic)-?(?:desc|title|note)|desc-?(?:image|photo)", re.IGNORECASE
)
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|gif|webp|bmp)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^data:|blank\.|spacer\.|loading|lazy|placeholder|1x1", re.IGNORECASE)


def _alt(img: HtmlElement) -> str | None:
    """Alt text worth keeping as a caption: words, not a file name or a single token."""
    alt = clean_line(img.get("alt", ""))
    return alt if len(alt.split()) >= 2 and not _FILE_NAME.search(alt) else None


def _image_src(img: HtmlElement, base_url: str) -> str | None:
    src = img.get("src") or ""
    for lazy in ("data-src", "data-original", "data-lazy-src"):
        if img.get(lazy) and (not src or _PLACEHOLDER.search(src)):
            src = img.get(lazy, "")
    return urljoin(base_url, src.strip()) if src.strip() else None


def mark_photos(root: HtmlElement, base_url: str) -> list[Image]:
    """Rewrite every photo block as ``<p data-tgw-img=N>visible caption</p>``; return the images.

    A figure's caption is its ``figcaption`` (or caption-classed child); a layout table holding an
    image and under 400 characters of text is a photo table whose text is the caption. The alt text
    is only the caption of last resort for the image record, never a line of text: where a page
    shows a caption it is the same words, so the caption is printed once.
    """
    images: list[Image] = []

    def replace(block: HtmlElement, imgs: list[HtmlElement], caption: str) -> None:
        marker = etree.Element("p")
        for img in imgs:
            src = _image_src(img, base_url)
            if src:
                marker.set(_MARK, " ".join(filter(None, (marker.get(_MARK), str(len(images))))))
                images.append(Image(src=src, caption=caption or _alt(img)))
        marker.text = caption
        marker.tail = block.tail
        block.getparent().replace(block, marker)

    for block in list(root.iter("figure", "table")):
        if block.getparent() is None or (imgs := list(block.iter("img"))) == [] or not _is_photo(block):
            continue
        if block.tag == "table":
            rows = [element_text(row) for row in block.iter("tr")]
            caption = " ".join(r for r in rows if r)
        else:
            holder = block.find(".//figcaption")
            if holder is None:
                holder = next((e for e in block.iter() if _CAPTION_CLASS.search(e.get("class", ""))), None)
            caption = element_text(holder) if holder is not None else ""
        replace(block, imgs, caption)
    for img in list(root.iter("img")):
        if img.getparent() is not None:
            _mark_inline(img, images, base_url)
    for element in root.iter():
        if not isinstance(element.tag, str) or not _CAPTION_CLASS.search(element.get("class", "")):
            continue
        parent = element.getparent()
        inline_parent = parent is not None and parent.tag == "p"
        short = len(element_text(element)) <= 400
        if element.tag != "p" and not inline_parent and short and element.find(".//p") is None:
            element.tag = "p"
        element.attrib.pop("class", None)
    return images


_LAYOUT_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "ul", "ol", "table", "form", "section", "article")
_TABLE_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th")


def unwrap_layout_tables(root: HtmlElement) -> None:
    """Turn layout tables (cells holding paragraphs or blocks) into divs.

    Portals still lay out pages with tables; trafilatura reads a table as data and prints a whole
    column as one "cell" line. Data tables (text-only cells) are kept.
    """
    for table in list(root.iter("table")):
        cells = [c for c in table.iter("td", "th")]
        if any(d.tag in _LAYOUT_BLOCKS for c in cells for d in c.iterdescendants() if isinstance(d.tag, str)):
            for part in [table, *table.iter(*_TABLE_PARTS)]:
                if part.tag in _TABLE_PARTS:
                    part.tag = "div"


_LABELS = {"tác giả", "nguồn tin", "nguồn", "tin", "bài", "ảnh", "bài và ảnh", "tin và ảnh", "thực hiện"}


_TEXT_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "div")


def hint_body(root: HtmlElement) -> HtmlElement | None:
    """Find the element whose children carry most of the page's prose; mark it ``articleBody``.

    trafilatura keeps lists and sub-headings only inside a container it recognises as the article
    body; on CMS markup it does not know (NukeViet's ``bodytext``, SharePoint fields) it falls back
    to loose paragraphs and drops every list. The schema.org hint names the container for it. Only
    a clear winner (40% of the prose) is marked; an existing ``articleBody`` is left alone.
    """
    existing = root.find(".//*[@itemprop='articleBody']")
    if existing is not None:
        return existing
    scores: dict[HtmlElement, int] = {}
    total = 0
    for block in root.iter(*_TEXT_BLOCKS):
        if block.tag == "div" and (len(block) or len(element_text(block)) < 80):
            continue
        size = len(element_text(block)) - sum(len(element_text(a)) for a in block.iter("a"))
        if size <= 0:
            continue
        parent = block.getparent()
        if block.tag == "li" and parent is not None:
            parent = parent.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + size
        total += size
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    if scores[best] < 200 or scores[best] < 0.4 * total or best.tag in ("body", "html"):
        return None
    best.set("itemprop", "articleBody")
    return best


def colon_labels(root: HtmlElement) -> None:
    """``<strong>Tác giả </strong>X`` reads "Tác giả: X": give bold byline labels their colon."""
    for label in root.iter("strong", "b"):
        text = clean_line(label.text_content())
        if text.casefold() in _LABELS and len(label) == 0 and (label.tail or "").strip():
            label.text = f"{text}: "


_IMAGE_HREF = re.compile(r"\.(?:jpe?g|png|gif|webp|bmp)(?:[?#]|$)", re.IGNORECASE)


def _is_photo(block: HtmlElement) -> bool:
    """A photo with its caption, not a listing item or a logo: no text links, no image linking to a page."""
    for link in block.iter("a"):
        if element_text(link) or not _IMAGE_HREF.search(link.get("href", "")):
            return False
    if block.tag == "table":
        small = len(element_text(block)) <= 400 and len(list(block.iter("td", "th"))) <= 4
        return small and block.find(".//table") is None
    return True


def _caption_after(img: HtmlElement) -> str | None:
    holder = img.getparent()
    while holder is not None and holder.tag not in ("p", "div") and holder.getparent() is not None:
        holder = holder.getparent()
    if holder is None or element_text(holder):
        return None
    following = holder.getnext()
    if following is None or not isinstance(following.tag, str):
        return None
    text = element_text(following)
    italic = len(following) == 1 and following[0].tag in ("em", "i") and element_text(following[0]) == text
    return text if text and len(text) <= 300 and (italic or text.casefold().startswith("ảnh")) else None


def _mark_inline(img: HtmlElement, images: list[Image], base_url: str) -> None:
    """A bare ``<img>`` (no figure): record it, leave a marker, keep the surrounding text.

    Its caption is the next paragraph when that is short and italic or opens with "Ảnh" (the
    portal and NukeViet habit); that paragraph stays a line of the text, as printed.
    """
    src = _image_src(img, base_url)
    marker = etree.Element("span")
    if src:
        marker.set(_MARK, str(len(images)))
        images.append(Image(src=src, caption=_caption_after(img) or _alt(img)))
    marker.tail = img.tail
    img.getparent().replace(img, marker)


def marked_images(root: HtmlElement, images: list[Image]) -> list[Image]:
    """The recorded images whose marker is still in ``root`` (chrome removal may have taken some)."""
    found: list[Image] = []
    for element in root.iter():
        if isinstance(element.tag, str) and element.get(_MARK):
            found.extend(images[int(i)] for i in element.get(_MARK, "").split())
    return found
