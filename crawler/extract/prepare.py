"""Preparing a page for trafilatura: photos, layout tables, byline labels, the article-body hint.

trafilatura drops ``figure`` and ``*caption*`` elements and would otherwise print alt text and
caption cell twice, so each photo becomes one plain paragraph holding its visible caption and the
image is recorded apart; layout tables become divs; bold byline labels get their colon; and the
container holding the prose is named ``articleBody`` so trafilatura keeps its lists and headings.
"""

from __future__ import annotations

import re
from contextlib import suppress
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.article import Image
from crawler.extract.clean import adds_no_text, clean_line, element_text, has_text, same_text_wrapper

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
                holder = next((e for e in block.iter() if isinstance(e.tag, str)  # comments have no class
                               and _CAPTION_CLASS.search(e.get("class", ""))), None)
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


LAYOUT_ATTR = "data-tgwatch-layout"


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
                    part.set(LAYOUT_ATTR, part.tag)  # what it was: a table cell closes its block
                    part.tag = "div"


_BLOCKS = frozenset(("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table",
                     "section", "article", "blockquote", "form", "header", "footer", "nav", "aside", "figure",
                     "pre", "address", "main", "hr", "center", "fieldset"))


def _wrap_loose_runs(element: HtmlElement) -> None:
    """Text standing loose between the blocks of a container (``<div>text<a>…</a> more<h3>…</h3>``) is a
    paragraph too: each run of text and inline elements with words in it goes into a ``<p>``."""
    children = list(element)
    if not any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in children):
        return
    kept: list[HtmlElement] = []
    text: str | None = element.text
    run: list[HtmlElement] = []

    def flush() -> None:
        words = (text or "").strip() or any(has_text(i) for i in run if isinstance(i.tag, str))
        if not words:
            kept.extend(run)
            return
        paragraph = element.makeelement("p", {})
        paragraph.text = text
        paragraph.extend(run)
        kept.append(paragraph)

    for child in children:
        if isinstance(child.tag, str) and child.tag in _BLOCKS:
            flush()
            kept.append(child)
            text, run = child.tail, []
            child.tail = None
        else:
            run.append(child)
    flush()
    element.text = None
    element[:] = kept


def paragraph_blocks(root: HtmlElement) -> None:
    """A ``<div>`` holding only text and inline elements is a paragraph: make it a ``<p>``.

    Editors paste Word paragraphs as ``<div style><span>…</span></div>`` beside ordinary ``<p>`` ones,
    and trafilatura reads the two unevenly (it drops the div paragraphs of a body that also has
    ``<p>``), so the same text would come out differently by its markup alone.
    """
    for element in list(root.iter("div", "center", "section", "article", "main", "td", "blockquote", "form")):
        if element.getparent() is None or not has_text(element):
            continue
        if any(isinstance(d.tag, str) and d.tag in _BLOCKS for d in element.iterdescendants()):
            _wrap_loose_runs(element)
            continue
        if element.tag not in ("div", "center"):
            continue
        parent = element.getparent()
        if parent is not None and parent.tag == "p":
            continue
        element.tag = "p"


def _break_run(children: list[HtmlElement], i: int) -> int:
    """The index of the last ``<br>`` of a run of two or more starting at ``i`` (blank between), else -1."""
    j = i
    while (j + 1 < len(children) and children[j].tag == "br" and children[j + 1].tag == "br"
           and not (children[j].tail or "").strip()):
        j += 1
    return j if j > i else -1


def _plain_wrapper(p: HtmlElement) -> HtmlElement:
    """The widest plain wrapper (no class, no id) holding exactly the paragraph's text.

    A styling ``<div>`` around one paragraph adds nothing, so the parts of a split paragraph go beside
    it; a named container (Drupal's ``field--name-body`` left with the one paragraph that a blank-line
    run made of two) is the body itself, and the parts stay inside it."""
    while ((parent := p.getparent()) is not None and parent.tag not in ("body", "html")
           and not parent.get("class") and not parent.get("id") and parent.get("itemprop") != "articleBody"
           and adds_no_text(parent, p)):
        p = parent
    return p


def split_blank_lines(root: HtmlElement) -> None:
    """Two ``<br>`` in a row (a blank line) end a paragraph: ``<p>a<br><br>b</p>`` is ``<p>a</p><p>b</p>``
    to a reader, and trafilatura reads the two apart only in the second markup."""
    for p in list(root.iter("p")):
        children = list(p)
        if not any(c.tag == "br" and _break_run(children, i) >= 0 for i, c in enumerate(children)):
            continue
        segments: list[tuple[str | None, list[HtmlElement]]] = []
        current: list[HtmlElement] = []
        text, i = p.text, 0
        while i < len(children):
            end = _break_run(children, i) if children[i].tag == "br" else -1
            if end >= 0:
                segments.append((text, current))
                text, current, i = children[end].tail, [], end + 1
                continue
            current.append(children[i])
            i += 1
        segments.append((text, current))
        anchor = _plain_wrapper(p)
        parent, tail = anchor.getparent(), anchor.tail
        for child in children:
            p.remove(child)
        p.text = segments[0][0]
        p.extend(segments[0][1])
        if parent is None:
            continue
        at = parent.index(anchor)
        for number, (text, members) in enumerate(segments[1:], start=1):
            extra = p.makeelement("p", {})
            for name, value in p.attrib.items():
                with suppress(ValueError):  # a name lxml's element API refuses (xml:lang) stays behind
                    extra.set(name, value)
            extra.text = text
            extra.extend(members)
            parent.insert(at + number, extra)
        anchor.tail = None
        parent[at + len(segments) - 1].tail = tail


_LABELS = {"tác giả", "nguồn tin", "nguồn", "tin", "bài", "ảnh", "bài và ảnh", "tin và ảnh", "thực hiện"}


_TEXT_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "div")
_INLINE = frozenset({"span", "font", "strong", "b", "em", "i", "u", "a", "br", "sup", "sub", "small", "o:p"})


def _is_paragraph_div(block: HtmlElement, least: int = 80) -> bool:
    """A ``<div>`` used as a paragraph (Word-pasted ``<div style><span style>text</span></div>``)."""
    return (all(isinstance(c.tag, str) and c.tag in _INLINE for c in block.iterdescendants())
            and len(element_text(block)) >= least)


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
        if block.tag == "div" and not _is_paragraph_div(block):
            continue
        size = len(element_text(block)) - sum(len(element_text(a)) for a in block.iter("a"))
        if size <= 0:
            continue
        parent = same_text_wrapper(block).getparent()  # a paragraph wrapped in a div counts for the body
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
    if best.tag in _INLINE:  # an ASP.NET Label: a <span> holding the paragraphs is a <div> in all but name
        best.tag = "div"
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
        if has_text(link) or not _IMAGE_HREF.search(link.get("href", "")):
            return False
    if block.tag == "table":
        small = len(element_text(block)) <= 400 and len(list(block.iter("td", "th"))) <= 4
        return small and block.find(".//table") is None
    return True


def _caption_after(img: HtmlElement) -> str | None:
    holder = img.getparent()
    while holder is not None and holder.tag not in ("p", "div") and holder.getparent() is not None:
        holder = holder.getparent()
    if holder is None or has_text(holder):
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


def prepare(root: HtmlElement, base_url: str, *, labels: bool = True) -> list[Image]:
    """Every step before trafilatura, in order: photos, layout tables, div paragraphs, blank-line
    paragraphs, byline labels. Returns the images recorded."""
    images = mark_photos(root, base_url)
    unwrap_layout_tables(root)
    paragraph_blocks(root)
    split_blank_lines(root)
    if labels:
        colon_labels(root)
    return images
