"""Remove page chrome from a parsed page before any text is read from it.

Two kinds: what a profile names (its ``drop`` selectors) and what every Party/state site carries
(SITES.md "Across sites"): navigation, forms, share and print links, visit counters, and the blocks
headed "Tin liên quan", "Các tin khác", "Mới nhất"... Removing them from the tree, instead of
filtering lines afterwards, keeps their titles and dates away from the date search and from
trafilatura. Nothing that contains a *protected* node (the title, the body) is ever removed, so a
greedy class name on a wrapper cannot take the article with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

CHROME_HEADINGS = frozenset(
    s.casefold()
    for s in (
        "Tin liên quan", "Tin đọc nhiều", "Đọc nhiều", "Có thể bạn quan tâm", "Tham khảo thêm",
        "Các tin khác", "Tin khác", "Các tin bài khác", "Tin bài khác", "Bài viết khác", "Các bài viết khác",
        "Bài viết liên quan", "Tin cùng chuyên mục", "Cùng chuyên mục", "Những tin mới hơn",
        "Những tin cũ hơn", "Theo dòng sự kiện", "Mới nhất", "Tin mới nhất", "Tin mới", "Tin nổi bật",
        "Tin tiêu điểm", "Tiêu điểm", "Xem nhiều", "Tin xem nhiều", "Nhiều người đọc", "Liên kết website",
        "Website liên kết", "Liên kết", "Thư viện ảnh", "Thư viện video", "Phản hồi", "Gửi phản hồi",
        "Ý kiến bạn đọc", "Bình luận", "Thống kê truy cập", "Lượt xem", "Chia sẻ", "In bài viết",
        "Từ khóa", "Từ khoá", "Tags", "Thăm dò ý kiến", "Xuất bản thông tin", "Đọc thêm", "Xem thêm",
        "Chuyên mục", "Danh mục", "Nội dung liên quan", "Bài liên quan",
    )
)
"""Whole-element texts that head a block of chrome: the heading and its block go."""

CHROME_PHRASES = frozenset(
    s.casefold()
    for s in (
        "In bài viết", "In ra", "Bản in", "Chia sẻ", "Lưu bài viết này", "Xem tiếp", "Gửi email",
        "Gửi bài viết qua email", "Quay lại", "Về đầu trang", "Trở về", "Trang chủ", "null",
        "Xuất bản thông tin", "Facebook", "Zalo", "Twitter", "Tweet", "Email", "Print", "Share",
        "Copy link", "Sao chép liên kết", "Gửi", "Đóng",
    )
)
"""Whole-element texts of single chrome elements (links and labels): only the element goes."""

COUNTER = re.compile(
    r"^(?:(?:lượt xem|số lượt xem|lượt truy cập|tổng (?:số )?lượt truy cập|đã truy cập|đang truy cập|"
    r"trực tuyến|đang online|hôm nay|hôm qua|tuần này|tháng này|tổng cộng)\s*:?\s*[\d.,]*|"
    r"[\d.,]+\s*lượt (?:xem|truy cập|thích|chia sẻ))$",
    re.IGNORECASE,
)
"""Visit counters: they change on every request and are never text."""

DROP_TAGS = (
    "script", "style", "noscript", "template", "iframe", "form", "button", "select", "input",
    "textarea", "label", "nav", "aside", "footer", "header", "svg", "object", "embed", "link", "meta",
    "menu", "dialog", "map", "canvas", "video", "audio",
)
CHROME_TOKENS = frozenset(
    "share sharing social print tool tools toolbar comment comments related relate sidebar banner ads "
    "advert advertisement adv quangcao breadcrumb breadcrumbs menu navbar nav navigation footer "
    "pagination paging pager tags tag keywords keyword rating counter visitor visitors poll subscribe "
    "newsletter login search hotline popup modal cookie mostread weblink weblinks othernews "
    "tinlienquan tinkhac lienket lienketweb thongke".split()
)
_CHROME_CLASS = re.compile(r"tin-?lien-?quan|tin-?khac|lien-?ket|other-?news|most-?read|thong-?ke|xem-?nhieu|tin-?moi")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_STRIP = " \t\r\n\u00a0:：»«›‹>|-–—.…*"


def fold(text: str | None) -> str:
    """NFC, spaces folded, case folded, edge punctuation gone: the key chrome texts are matched by."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()).strip(_STRIP).casefold()


def is_chrome_key(key: str) -> bool:
    """A folded line that is chrome whatever element it sits in (heading, phrase, counter)."""
    return bool(key) and (key in CHROME_HEADINGS or key in CHROME_PHRASES or bool(COUNTER.match(key)))


def is_chrome_line(text: str) -> bool:
    return is_chrome_key(fold(text))


@lru_cache(maxsize=512)
def css(selector: str) -> CSSSelector:
    """Compiled selector; translating CSS to XPath costs more than running it, so once per string."""
    return CSSSelector(selector)


_BLOCK_TYPE = re.compile(r"(^|[\s>+~,(])(?:p|div|span|font|section)(?=[.#\[])")


def loosened(selector: str) -> str:
    """The selector with the paragraph-like tag names of its qualified parts as ``*``: ``p.h5.text-right``
    becomes ``*.h5.text-right``, so a template re-served with ``<div>`` paragraphs (an editor pasting
    from Word) still matches: the class says what the element is, the tag only how it was typed."""
    return _BLOCK_TYPE.sub(r"\1*", selector)


def select(root: HtmlElement, selector: str | None) -> list[HtmlElement]:
    """Elements matching a CSS selector, its paragraph-like tag names loosened (``loosened``)."""
    return css(loosened(selector))(root) if selector else []


def select_first(root: HtmlElement, selector: str | None) -> HtmlElement | None:
    found = select(root, selector)
    return found[0] if found else None


def remove(element: HtmlElement) -> None:
    """Remove an element but keep its tail text (the text after it belongs to its parent)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def guard(protected: Iterable[HtmlElement | None]) -> set[HtmlElement]:
    """The protected nodes and all their ancestors: what chrome removal must never take.

    lxml keeps one proxy per node while a reference lives, so the set holds the proxies and
    membership is identity.
    """
    nodes: set[HtmlElement] = set()
    for node in protected:
        if node is not None:
            nodes.add(node)
            nodes.update(node.iterancestors())
    return nodes


def _link_text_len(element: HtmlElement) -> int:
    return sum(len(" ".join(a.text_content().split())) for a in element.iter("a"))


def _text_len(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def drop_selectors(root: HtmlElement, selectors: Iterable[str], protected: Iterable[HtmlElement | None] = ()) -> None:
    """Remove every element a profile names as chrome (never one holding a protected node)."""
    joined = ", ".join(selectors)
    if not joined:
        return
    keep = guard(protected)
    for element in select(root, joined):
        if element not in keep and element.getparent() is not None:
            remove(element)


def _is_chrome_class(element: HtmlElement) -> bool:
    names = f"{element.get('class', '')} {element.get('id', '')}".lower()
    if not names.strip():
        return False
    return bool(CHROME_TOKENS.intersection(_TOKEN_SPLIT.split(names))) or bool(_CHROME_CLASS.search(names))


def _heading_block(heading: HtmlElement, root: HtmlElement, keep: set[HtmlElement]) -> list[HtmlElement]:
    """The heading's block: the widest ancestor it opens that holds no prose, else it and what follows."""
    node, key = heading, fold(heading.text_content())
    while True:
        parent = node.getparent()
        if parent is None or parent is root or parent.tag in ("body", "html") or parent in keep:
            break
        first = next((t for t in parent.itertext() if t.strip()), "")
        if fold(first) != key and not fold(parent.text_content()).startswith(key):
            break
        if _text_len(parent) - _link_text_len(parent) - len(key) > 400:
            break
        node = parent
    if node is not heading:
        return [node]
    block = [heading]
    for sibling in heading.itersiblings():
        if not isinstance(sibling.tag, str):
            continue
        size = _text_len(sibling)
        if size > 150 and _link_text_len(sibling) < size / 2 and sibling.tag not in ("ul", "ol"):
            break
        if sibling in keep:
            break
        block.append(sibling)
    return block


def _page_form(element: HtmlElement) -> bool:
    """An ASP.NET WebForms page wraps the whole page in one ``<form>``: that form is the page, not chrome."""
    if element.tag != "form":
        return False
    size = _text_len(element)
    return size > 1000 and _link_text_len(element) < size / 2


def drop_generic_chrome(root: HtmlElement, protected: Iterable[HtmlElement | None] = ()) -> None:
    """Remove what is chrome on any site: comments, non-content tags, chrome classes, headed blocks."""
    keep = guard(protected)
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        remove(node)
    for element in list(root.iter(*DROP_TAGS)):
        if element.getparent() is not None and element not in keep and not _page_form(element):
            remove(element)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None or element in keep:
            continue
        style = element.get("style", "").replace(" ", "").lower()
        if element.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style:
            remove(element)
        elif _is_chrome_class(element):
            size = _text_len(element)
            if size < 200 or _link_text_len(element) > size / 2:
                remove(element)
    _drop_headed_blocks(root, keep)


def _drop_headed_blocks(root: HtmlElement, keep: set[HtmlElement]) -> None:
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None or len(element) > 4:
            continue
        own = (element.text or "").strip()
        if len(own) > 60 or (not own and element.tag not in ("a", "h1", "h2", "h3", "h4", "h5", "h6")):
            continue
        content = element.text_content()
        if len(content) > 80:
            continue
        key = fold(content)
        if not key or len(key) > 40:
            continue
        if key in CHROME_HEADINGS:
            heading = element
            while heading.getparent() is not None and fold(heading.getparent().text_content()) == key:
                heading = heading.getparent()
            if heading is root or heading in keep:
                continue
            for node in _heading_block(heading, root, keep):
                if node.getparent() is not None:
                    remove(node)
        elif (key in CHROME_PHRASES or COUNTER.match(key)) and element not in keep:
            remove(element)


def clean_line(text: str) -> str:
    """One line as stored: NFC, spaces (including ``&nbsp;``) folded, trimmed."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def same_text_wrapper(element: HtmlElement) -> HtmlElement:
    """The widest ancestor holding exactly the element's text (wrappers add no text): where its
    neighbours (the lead after a headline, the byline after a body) are siblings."""
    while (parent := element.getparent()) is not None and parent.tag not in ("body", "html") \
            and parent.get("itemprop") != "articleBody" and adds_no_text(parent, element):
        element = parent  # never out of the body's container: a paragraph alone in it stays inside
    return element


def adds_no_text(parent: HtmlElement, child: HtmlElement) -> bool:
    """``element_text(parent) == element_text(child)``, without reading the parent's whole text.

    Exactly when the parent's text outside the child (its own text, the other children's, every
    tail) is blank: NFC neither makes nor takes white space, and it keeps the decomposed length of
    a text, so any other printed character makes the two lines differ. A paragraph's body holds
    other paragraphs: the first of them answers, where comparing read the whole body each time.
    """
    if (parent.text or "").strip():
        return False
    for other in parent:
        if (other.tail or "").strip():
            return False
        if other is not child and isinstance(other.tag, str) and has_text(other):
            return False
    return True


def has_text(element: HtmlElement) -> bool:
    """``bool(element_text(element))``: some printed character in it, found without joining its text."""
    return any(piece.strip() for piece in element.itertext())


def element_text(element: HtmlElement) -> str:
    """An element's text as one clean line (what selectors and heuristics compare)."""
    return clean_line(element.text_content())
