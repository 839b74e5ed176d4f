"""``extract(html, url, profile)``: the one extraction entry point.

A pure function of its arguments (no I/O, no shared mutable state), so it can run in worker
processes beside Scrapy's reactor. The page is parsed once. With a profile whose title and body
selectors match, only the article's subtree is cleaned and handed to trafilatura, which is what
makes re-checks cheap; otherwise (no profile, a generic site, or a page the profile's template does
not fit) the whole page is cleaned of chrome and trafilatura searches it. "No article" (a listing,
a portal, an error or soft-404 page, an empty page) is the normal result ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.article import Article, Image
from crawler.extract.category import category_from
from crawler.extract.clean import drop_generic_chrome, drop_selectors, element_text, fold, remove, select, select_first
from crawler.extract.dates import Dated, date_from_selector, date_near_title, rank
from crawler.extract.decode import decode_html
from crawler.extract.family import recognise
from crawler.extract.embedded import Embedded, better_author, read_embedded, weigh
from crawler.extract.lead import (author_of, byline_after, byline_near_title, byline_text, lead_element, split_lead,
                                  take_byline)
from crawler.extract.listing import is_listing
from crawler.extract.meta import HeadMeta, read_head
from crawler.extract.prepare import hint_body, prepare
from crawler.extract.sanitize import parse_document
from crawler.extract.text import body_text, paragraph_line, run_trafilatura, tidy
from crawler.extract.title import find_title
from crawler.profiles import SiteProfile, family_profiles

NOT_FOUND = ("Không tìm thấy bài viết", "Bài viết không tồn tại", "Trang không tồn tại",
             "Không tìm thấy trang", "Trang bạn tìm không tồn tại", "Nội dung không tồn tại")
"""Soft-404 markers of any site; a profile adds its own (``[text] not_found``)."""

MIN_TEXT = 150
"""An article has at least this many characters of lead and body (else: chrome, error, stub)."""

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_INVISIBLE: dict[int, str | None] = {
    **dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe\uffff"), None),
    **{c: None for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c"}, 0x0B: " ", 0x0C: " ",
}
_HAS_INVISIBLE = re.compile("[" + "".join(re.escape(chr(code)) for code in _INVISIBLE) + "]")
"""Whether a text holds one of them: one scan, where ``translate`` rebuilds the whole page (~1.5 ms)."""
_INVISIBLE_REFS = re.compile(
    r"&(?:shy|zwnj|zwj|ZeroWidthSpace|NoBreak|#0*(?:173|820[345]|8288|65279)|#[xX]0*(?:ad|200[bcd]|2060|feff));?",
    re.IGNORECASE,
)
"""Soft hyphens and zero-width characters, as characters or references: invisible to a reader, so gone
before anything reads the text (a word with a soft hyphen is the same word). Control characters go too
(vertical tab and form feed are white space): no reader sees them, and lxml refuses them in a tree."""


@dataclass
class _Parts:
    title: str
    lines: list[str]
    lead: str | None = None
    author: str | None = None
    published: Dated | None = None
    category: str | None = None
    images: list[Image] = field(default_factory=list)


def parse_html(html: str | bytes) -> HtmlElement | None:
    """Text (bytes decoded robustly: strict UTF-8 first) parsed by lxml, made inert (``sanitize``);
    None for an empty page."""
    text = decode_html(html) if isinstance(html, bytes) else html
    text = _XML_DECL.sub("", text.lstrip("\ufeff"))
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    text = _INVISIBLE_REFS.sub("", text)
    if not text.strip():
        return None
    try:
        root = parse_document(text)
    except (etree.ParserError, ValueError):
        return None
    return root if root.find("body") is not None or len(root) else None


@dataclass(frozen=True)
class NoArticle:
    """The normal result for a page that holds no article, with the reason a reader would give."""

    reason: str


def read_article(html: str | bytes, url: str, profile: SiteProfile | None = None, *,
                 families: Sequence[SiteProfile] | None = None) -> Article | NoArticle:
    """The article on the page at ``url``, or why there is none.

    A profile with selectors is used as given (a user's ``profile =`` wins); without one (no profile,
    or a site of only name and URLs), the page's CMS family is recognised from its marks and the
    family's profile applied, unless the profile says ``recognise_cms = false`` (the ``generic`` one).
    ``families`` are the family profiles to recognise (default: the built-in ones; the extraction
    bench leaves one out to read its template as an unknown CMS).
    """
    root = parse_html(html)
    if root is None:
        return NoArticle("empty or unparsable page")
    # Every node's Python proxy held while the page is read: lxml makes a proxy anew (a Python class
    # lookup each time) whenever a walk meets a node no live proxy stands for, and extraction walks
    # the page some twenty times; held, each proxy is made once (a sixth of the extraction time).
    nodes = list(root.iter())  # noqa: F841
    head = read_head(root, url)
    chosen = profile if profile is not None and not profile.is_generic else None
    if chosen is None and (profile is None or profile.recognise_cms):
        chosen = recognise(root, family_profiles() if families is None else families)
    data = read_embedded(root, head.og_title, head.title_tag)  # before cleaning drops the scripts
    parts: _Parts | NoArticle | None = None
    if chosen is not None:
        parts = _with_profile(root, url, head, chosen)
    if parts is None:
        parts = _generic(root, url, head)
    own = [*(profile.not_found if profile else ()), *(chosen.not_found if chosen else ())]
    markers = [fold(m) for m in (*NOT_FOUND, *own)]
    if data is not None:
        parts = _with_data(parts, data, markers)
    if isinstance(parts, NoArticle):
        return parts
    if (refusal := _refusal(parts, markers)) is not None:
        return refusal
    if parts.author is None:
        parts.author = head.author
    return Article(
        url=url,
        title=parts.title,
        paragraphs=[paragraph_line(p) for p in parts.lines],
        lead=paragraph_line(parts.lead) if parts.lead else None,
        canonical_url=head.canonical,
        author=parts.author,
        category=parts.category,
        published_at=parts.published.value if parts.published else None,
        published_precision=parts.published.precision if parts.published else None,
        modified_at=head.modified,
        language=head.language or "vi",
        images=parts.images,
    )


def extract(html: str | bytes, url: str, profile: SiteProfile | None = None, *,
            families: Sequence[SiteProfile] | None = None) -> Article | None:
    """The article on the page at ``url``, or None when the page holds none (``read_article`` says why)."""
    found = read_article(html, url, profile, families=families)
    return found if isinstance(found, Article) else None


def _with_data(parts: _Parts | NoArticle, data: Embedded, markers: list[str]) -> _Parts | NoArticle:
    """The rendered HTML weighed against the article the page's data carry (``embedded.weigh``)."""
    html = None if isinstance(parts, NoArticle) or _refusal(parts, markers) else parts
    verdict = weigh([html.lead or "", *html.lines] if html is not None else None, data)
    if html is not None and verdict == "html":
        stated = Dated(data.published, data_precision(data.published)) if data.published else None
        html.published = rank(stated, html.published, trust_printed=True)  # the page's own line stands
        html.author = better_author(html.author, data.author)
        html.category = html.category or data.category
        return html
    if verdict == "data":
        when = Dated(data.published, data_precision(data.published)) if data.published else None
        return _Parts(data.title, list(data.lines), data.lead, data.author, when, data.category)
    return parts


def data_precision(value: datetime) -> str:
    """The precision of a time read from page data, where only the value is left: midnight is a day."""
    clock = value.timetz().replace(tzinfo=None)
    return "day" if clock == datetime.min.time() else "second" if value.second else "minute"


def _refusal(parts: _Parts, markers: list[str]) -> NoArticle | None:
    """Why parts that were found still make no article: no title, too little text, a not-found page."""
    if not parts.title:
        return NoArticle("no title")
    size = sum(map(len, parts.lines)) + len(parts.lead or "")
    title = fold(parts.title)
    if any(m and m in title for m in markers):
        return NoArticle("a not-found page")
    text = fold(" ".join([parts.lead or "", *parts.lines])) if size < 400 else ""
    if any(m and m in text for m in markers):
        return NoArticle("a not-found page")
    if size < MIN_TEXT:
        return NoArticle(f"too little text ({size} characters)")
    return None


def _with_profile(root: HtmlElement, url: str, head: HeadMeta, profile: SiteProfile) -> _Parts | None:
    """Extraction inside the profile's subtree; None when the page does not fit the template.

    Fields come from the selectors; the body elements are then moved into a document of their
    own, so chrome removal, photo rewriting and trafilatura touch only the article's body.
    """
    sel = profile.selectors
    scope = select_first(root, sel.content) if sel.content else None
    scope = scope if scope is not None else root
    title_el = select_first(scope, sel.title) if sel.title else None
    bodies = _outermost(select(scope, sel.body)) if sel.body else []
    if (sel.title and title_el is None) or (sel.body and not bodies):
        return None
    if sel.title:
        title = element_text(title_el)
    else:
        title, title_el = find_title(scope, head, url)
    category = (category_from(scope, sel.category, title) or category_from(root, sel.category, title)
                if sel.category else head.section or category_from(root, None, title, head))
    published = (date_from_selector(scope, sel.date) or date_from_selector(root, sel.date)) if sel.date else None
    if published is not None:  # the profile's line stands; metadata of the same day may add the time
        published = rank(head.published, published, trust_printed=True)
    lead_el = select_first(scope, sel.lead) if sel.lead else lead_element(title_el, head.description)
    lead = element_text(lead_el) if lead_el is not None else None
    byline_els = select(scope, sel.byline) if sel.byline else []
    bylines = [byline_text(e) for e in byline_els]
    for element in [lead_el, *byline_els]:
        if element is not None and element not in bodies:
            remove(element)
    if published is None:
        drop_selectors(scope, sel.drop, [title_el, *bodies])
        drop_generic_chrome(scope, [title_el, *bodies])
        published = rank(head.published, date_near_title(scope, title_el))
    below = byline_after(bodies[-1]) if bodies and not byline_els else None  # read before the body moves
    if bodies:
        text = body_text(bodies, url, sel.drop)
        lines, images = tidy(text.lines, title, category), text.images
    else:  # no body selector: trafilatura searches the (cleaned) content block
        drop_selectors(scope, sel.drop, [title_el])
        lines, images, _ = _search(scope, url, title_el, title, category)
    lead, lines = split_lead(lead, lines, head)
    author = next((a for a in map(author_of, bylines) if a), None)
    if author is not None:
        printed = {fold(b) for b in bylines}
        lines = [line for line in lines if fold(line) not in printed]
    else:  # no byline element, or an empty one ("null"): the last paragraphs (or the line below) hold it
        lines, author, printed_byline = take_byline(lines)
        author = author if printed_byline is not None else below
    return _Parts(title, lines, lead, author, published, category, images)


def _generic(root: HtmlElement, url: str, head: HeadMeta) -> _Parts | NoArticle:
    """Extraction with no site knowledge: chrome out, trafilatura finds the text, then tidy up."""
    title, title_el = find_title(root, head, url)
    if not title:
        return NoArticle("no title")
    category = head.section or category_from(root, None, title, head)
    images = prepare(root, url)
    drop_generic_chrome(root, [title_el])
    published = rank(head.published, date_near_title(root, title_el))
    if title_el is None and published is None and not head.is_article:
        return NoArticle("no headline and no date")  # a portal or an application page, not news
    if is_listing(root, title_el, head, published is not None):
        return NoArticle("a listing of headlines")
    lead_el = lead_element(title_el, head.description)
    lead = element_text(lead_el) if lead_el is not None else None
    if lead_el is not None:
        remove(lead_el)
    near = byline_near_title(title_el)
    if near is not None:
        remove(near[1])
    lines, images, body = _search(root, url, title_el, title, category, images)
    lead, lines = split_lead(lead, lines, head)
    lines, author, printed = take_byline(lines)
    if printed is None and body is not None:
        author = byline_after(body)
    if author is None and near is not None:
        author = near[0]
    return _Parts(title, lines, lead, author, published, category, images)


def _search(root: HtmlElement, url: str, title_el: HtmlElement | None, title: str, category: str | None,
            images: list[Image] | None = None) -> tuple[list[str], list[Image], HtmlElement | None]:
    """trafilatura looking for the text in a cleaned block: lines, captioned images, the body it hinted."""
    if images is None:
        images = prepare(root, url)
        drop_generic_chrome(root, [title_el])
    body = hint_body(root)
    lines = tidy(run_trafilatura(root, known=False, url=url), title, category)
    kept = {fold(line) for line in lines}
    return lines, [i for i in images if i.caption and fold(i.caption) in kept], body


def _outermost(elements: list[HtmlElement]) -> list[HtmlElement]:
    """Drop matches nested in other matches (a selector list may match a body and its inner div)."""
    chosen = set(elements)
    return [e for e in elements if not any(a in chosen for a in e.iterancestors())]
