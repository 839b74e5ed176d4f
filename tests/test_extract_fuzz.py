"""No input crashes extraction: hypothesis writes hostile pages (nested markup with comments, figures
without captions, tables, scripts, JSON-LD, dates, odd encodings and byte garbage) and extraction
always answers an ``Article`` or a ``NoArticle`` with its reason; the read-a-page path always gives a
verdict. An exception inside extraction is a bug, never an answer.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import Article, NoArticle, read_article
from crawler.items import Page
from crawler.profiles import GENERIC, builtin_profiles
from crawler.worker import read_page
from storage.content import VN_TZ, Content

URL = "https://tinh.example.gov.vn/tin-tuc/bai-viet-123.html"
PROFILES = [None, builtin_profiles()[GENERIC], builtin_profiles()["nukeviet"], builtin_profiles()["tuyengiao"]]

_WORDS = st.sampled_from([
    "Ban Tuyên giáo", "Tỉnh ủy", "hội nghị", "quán triệt", "Tin liên quan", "Các tin khác", "Tác giả:", "Nguồn:",
    "Thứ Hai, 12/03/2024 08:15", "15/08/2026 06:54 (GMT+7)", "ngày 5 tháng 9 năm 2023", "2024-02-30T25:61:00+99:00",
    "Lượt xem: 1234", "Không tìm thấy bài viết", "ph biến", "\u00ad", "\u200b", "&nbsp;", "&#7897;", "&#0;", "&bogus;",
    "<", ">", "&", "\"", "'", "]]>", "<!--", "-->", "\x0b", "\x1f", "\ufffd", "😀", "\u0301", "a" * 300,
])
_TEXT = st.lists(st.one_of(_WORDS, st.text(max_size=30)), max_size=6).map(" ".join)
_TAGS = st.sampled_from([
    "div", "p", "span", "figure", "figcaption", "table", "tr", "td", "tbody", "article", "header", "footer", "main",
    "h1", "h2", "h3", "section", "ul", "li", "a", "time", "b", "strong", "font", "form", "iframe", "noscript",
    "blockquote", "nav", "aside", "center", "pre", "em", "svg", "math", "template", "select", "option", "br", "img",
])
_ATTRS = st.dictionaries(
    st.sampled_from(["class", "id", "itemprop", "datetime", "style", "href", "src", "alt", "title", "hidden",
                     "data-src", "rel", "lang", "xml:lang", "content", "name", "property"]),
    st.one_of(st.sampled_from(["title", "headline", "tieu-de", "caption", "sapo", "breadcrumb", "articleBody",
                               "datePublished", "display:none", "author", "news-bodyhtml", "bodytext", "h5 text-right",
                               "2024-03-12T08:15:00+07:00", "javascript:alert(1)", "x.jpg", ""]), st.text(max_size=12)),
    max_size=3,
)


def _attrs(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in attrs.items())


def _node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    element = st.builds(lambda tag, attrs, inner, closed: f"<{tag}{_attrs(attrs)}>{''.join(inner)}"
                        + (f"</{tag}>" if closed else ""), _TAGS, _ATTRS, st.lists(children, max_size=4), st.booleans())
    comment = st.builds(lambda t: f"<!--{t}-->", _TEXT)
    script = st.builds(lambda t: f'<script type="application/ld+json">{t}</script>', st.one_of(
        _TEXT, st.builds(lambda d: json.dumps({"@type": "NewsArticle", "datePublished": d, "author": [d, {"name": d}],
                                               "@graph": [{"@type": "BreadcrumbList", "itemListElement": [d]}]}),
                         _WORDS)))
    figure = st.builds(lambda attrs, inner: f"<figure{_attrs(attrs)}><img src='/a.jpg' alt='Ảnh hội nghị'>"
                       f"{''.join(inner)}</figure>", _ATTRS, st.lists(children, max_size=3))
    table = st.builds(lambda rows: "<table>" + "".join(f"<tr><td>{r}</td><td>{r}</td></tr>" for r in rows)
                      + "</table>", st.lists(children, max_size=3))
    return st.one_of(element, figure, table, comment, script)


_LEAVES = st.one_of(_TEXT, st.sampled_from(["<br>", "<br><br>", "<img src='a.jpg'>", "<!-- c -->", "<p></p>",
                                            "<time datetime='2024-03-12T08:15'>12/03</time>", "</div>", "<p>"]))
_BODY = st.recursive(_LEAVES, _node, max_leaves=40)
_HEAD = st.lists(st.one_of(
    st.builds(lambda t: f"<title>{t}</title>", _TEXT),
    st.builds(lambda k, v: f'<meta property="{k}" content="{v}">',
              st.sampled_from(["og:title", "og:type", "article:published_time", "og:site_name", "description"]), _TEXT),
    st.sampled_from(['<meta charset="windows-1258">', '<meta charset="utf-16">', '<meta charset="bogus">',
                     '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">']),
), max_size=4).map("".join)
_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1258", "latin-1", "ascii", "koi8-r"])


@st.composite
def pages(draw: st.DrawFn) -> bytes | str:
    prologue = draw(st.sampled_from(["", "<!DOCTYPE html>", "<?xml version='1.0' encoding='utf-8'?>", "\ufeff",
                                     "<html xmlns='http://www.w3.org/1999/xhtml'>"]))
    html = f"{prologue}<html><head>{draw(_HEAD)}</head><body>{draw(_BODY)}</body></html>"
    if draw(st.booleans()):
        return html
    data = html.encode(draw(_ENCODINGS), errors="replace")
    cut = draw(st.integers(0, len(data)))
    garbage = draw(st.binary(max_size=16))
    return draw(st.sampled_from([data, data[:cut], data + garbage, garbage + data]))


def _answered(found: Article | NoArticle) -> None:
    if isinstance(found, NoArticle):
        assert found.reason
    else:
        assert isinstance(found, Article) and found.title and found.text
        content = found.content()
        assert isinstance(content, Content) and len(content.fingerprint()) == 64
        assert found.published_at is None or found.published_at.tzinfo is not None
        assert found.published_at is None or found.published_at.astimezone(VN_TZ)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages(), profile=st.sampled_from(PROFILES))
def test_extraction_never_raises(page: bytes | str, profile: object) -> None:
    _answered(read_article(page, URL, profile))  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages(), content_type=st.sampled_from([None, "text/html", "text/html; charset=utf-16",
                                                   "text/html; charset=bogus", "application/pdf", "image/png"]),
       known=st.booleans())
def test_the_read_path_always_gives_a_verdict(page: bytes | str, content_type: str | None, known: bool) -> None:
    from datetime import datetime

    body = page.encode("utf-8", errors="surrogatepass") if isinstance(page, str) else page
    headers = {"content-type": content_type} if content_type else {}
    reading = read_page(Page(url=URL, status=200, headers=headers, body=body), None,
                        fetched_at=datetime.now(VN_TZ), known=known)
    assert reading.article is not None or reading.reason
    assert reading.observation is not None or not known or reading.article is not None
