"""Articles read from a page's data: Next.js (``self.__next_f`` and ``__NEXT_DATA__``), Nuxt
(``__NUXT_DATA__``, ``window.__NUXT__``) and JSON-LD ``articleBody``, weighed against the HTML.

The Next.js-like fixture site carries every article twice, in the HTML and in its flight payload:
with the visible article cut out of the page the payload alone must give the gold, and a rebuild
as another deploy (new build id, chunk order, payload layout, counters) must give the same
content. The other frameworks' pages are written here, each in the shape its framework ships.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from crawler.extract import Article, NoArticle, parse_html, read_article
from crawler.extract.embedded import links_in_data, read_embedded
from crawler.extract.payloads import MAX_SCRIPT_CHARS, flight_rows
from crawler.spiders.site import SiteSpider
from fixtures.gold import load_gold
from fixtures.model import load_sites
from fixtures.pages import render_site
from storage.content import normalise_text

SITE = "tuyengiaodanvan"
GOLD = [(v, g) for v in ("v1", "v2") for g in load_gold(v, SITE)]
BODY = ("Đoạn thứ nhất của bài viết kể lại diễn biến hội nghị với đầy đủ chi tiết cần thiết cho người đọc. ",
        "Đoạn thứ hai nêu những con số chính: 120 đại biểu, 35 tham luận và 12 kiến nghị được ghi nhận. ",
        "Đoạn cuối cùng tóm tắt các nhiệm vụ được giao cho thời gian tới, kèm theo lời kết của chủ tọa.")


def _id(item: tuple[str, dict]) -> str:
    return f"{item[0]}/{item[1]['key']}"


def lines_of(article: Article) -> list[str]:
    return normalise_text(article.text).split("\n")


def assert_gold(found: Article | NoArticle, gold: dict) -> None:
    assert isinstance(found, Article), found
    assert (found.title, found.author, found.category) == (gold["title"], gold["author"], gold["category"])
    assert found.published_at is not None and found.published_at.isoformat() == gold["published"]
    assert lines_of(found) == gold["text_lines"]


@pytest.mark.parametrize("item", GOLD, ids=list(map(_id, GOLD)))
def test_the_payload_alone_gives_the_article(item: tuple[str, dict]) -> None:
    """The visible article cut out: title, lead, body, author, category and the time of day all
    come from the ``self.__next_f`` payload (the page prints the day only)."""
    _, gold = item
    html = open(gold["file"], encoding="utf-8").read()
    bare = re.sub(r"<article>.*?</article>", "", html, flags=re.DOTALL)
    assert gold["title"] not in bare.split("<script")[0]
    assert_gold(read_article(bare, "http://127.0.0.1" + gold["url"]), gold)


@pytest.mark.parametrize("item", GOLD, ids=list(map(_id, GOLD)))
def test_html_and_payload_agree(item: tuple[str, dict]) -> None:
    _, gold = item
    assert_gold(read_article(open(gold["file"], "rb").read(), "http://127.0.0.1" + gold["url"]), gold)


def test_another_deploy_reads_the_same() -> None:
    """Build id, chunk names and order, payload rows, chunk sizes, view counts, timestamps: all move,
    the content of every page stays (and listings stay listings)."""
    site = next(s for s in load_sites() if s.name == SITE)
    days = {"v1": date(2025, 1, 10), "v2": date(2025, 3, 29)}
    for version, day in days.items():
        before, after = render_site(site, version, day), render_site(site, version, day, deploy="next")
        assert before.pages.keys() == after.pages.keys()
        for path, html in before.pages.items():
            other = after.pages[path]
            assert html != other
            build = re.search(r"/_next/static/([\w-]{21})/", html)
            assert build and build.group(1) not in other
            url = "http://127.0.0.1" + path
            old, new = read_article(html, url), read_article(other, url)
            if isinstance(old, Article):
                assert isinstance(new, Article) and new.content() == old.content(), path
            else:
                assert isinstance(new, NoArticle), path


def flight_page(rows: str, title_html: str = "") -> str:
    """A page whose flight stream is ``rows``, pushed in three chunks (as Next.js streams it)."""
    cut = [rows[: len(rows) // 3], rows[len(rows) // 3: 2 * len(rows) // 3], rows[2 * len(rows) // 3:]]
    pushes = "".join(f"<script>self.__next_f.push({json.dumps([1, c])})</script>" for c in cut)
    return (f"<!DOCTYPE html><html><head><title>Tin mới</title></head><body>{title_html}<div id='__next'></div>"
            f"<script>(self.__next_f=self.__next_f||[]).push([0])</script>{pushes}</body></html>")


def test_flight_text_rows_are_read_by_byte_length() -> None:
    text = "<p>Thư gửi đồng bào</p>\nvới dòng mới"
    stream = f'1:{{"a":"$2"}}\n2:T{len(text.encode()):x},{text}3:["x"]\n'
    rows = flight_rows(stream)
    assert rows == {"1": {"a": "$2"}, "2": text, "3": ["x"]}


def test_next_pages_router_data() -> None:
    data = {"props": {"pageProps": {"post": {
        "headline": "Tỉnh đoàn phát động tháng thanh niên năm 2025",
        "summary": "Sáng 2/3, Tỉnh đoàn tổ chức lễ phát động Tháng Thanh niên với nhiều hoạt động thiết thực.",
        "body": "".join(f"<p>{p}</p>" for p in BODY) + "<p><strong>Thu Hà</strong></p>",
        "publishedAt": 1740898800000, "author": {"name": "Thu Hà"}, "categories": [{"name": "Tin địa phương"}],
    }}}, "buildId": "abc"}
    html = (f"<html><head><title>Tỉnh đoàn phát động tháng thanh niên năm 2025</title></head><body>"
            f"<div id='__next'>Đang tải...</div><script id='__NEXT_DATA__' type='application/json'>"
            f"{json.dumps(data, ensure_ascii=False)}</script></body></html>")
    found = read_article(html, "https://example.vn/tin/1")
    assert isinstance(found, Article)
    assert found.title == "Tỉnh đoàn phát động tháng thanh niên năm 2025"
    assert found.lead and found.lead.startswith("Sáng 2/3")
    assert found.paragraphs == [p.strip() for p in BODY]
    assert found.author == "Thu Hà" and found.category == "Tin địa phương"
    assert found.published_at is not None and found.published_at.isoformat() == "2025-03-02T14:00:00+07:00"


def test_nuxt3_devalue_data() -> None:
    table = [{"data": 1}, {"article": 2}, {"title": 3, "content": 4, "date": 5}, "Hội nghị cán bộ chủ chốt tỉnh",
             "\n\n".join(BODY), "2025-02-10T08:00:00+07:00"]
    html = ("<html><head><title>Hội nghị cán bộ chủ chốt tỉnh</title></head><body><div id='__nuxt'></div>"
            f"<script type='application/json' id='__NUXT_DATA__'>{json.dumps(table, ensure_ascii=False)}</script>"
            "</body></html>")
    found = read_article(html, "https://example.vn/tin/2")
    assert isinstance(found, Article) and found.paragraphs == [p.strip() for p in BODY]
    assert found.published_at is not None and found.published_at.hour == 8


def test_nuxt2_window_data() -> None:
    state = {"data": [{"detail": {"title": "Ra mắt câu lạc bộ lý luận trẻ", "content": "\n".join(BODY)}}]}
    html = ("<html><head><title>Ra mắt câu lạc bộ lý luận trẻ</title></head><body><div id='__nuxt'></div>"
            f"<script>window.__NUXT__={json.dumps(state, ensure_ascii=False)};</script></body></html>")
    found = read_article(html, "https://example.vn/tin/3")
    assert isinstance(found, Article) and found.title == "Ra mắt câu lạc bộ lý luận trẻ"
    assert len(found.paragraphs) == 3


def jsonld_page(visible: str) -> str:
    node = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Một bài báo có JSON-LD",
            "articleBody": " ".join(BODY), "datePublished": "2025-01-05T09:00:00+07:00"}
    return (f"<html><head><title>Một bài báo có JSON-LD</title><script type='application/ld+json'>"
            f"{json.dumps(node, ensure_ascii=False)}</script></head><body>{visible}</body></html>")


def test_jsonld_article_body_when_the_html_has_no_article() -> None:
    found = read_article(jsonld_page("<div id='app'></div>"), "https://example.vn/a")
    assert isinstance(found, Article) and normalise_text(found.text) == normalise_text(" ".join(BODY))


def test_the_html_stands_when_it_agrees_with_the_data() -> None:
    """The HTML keeps its paragraphs (the JSON-LD body is one run of text)."""
    visible = "<article><h1>Một bài báo có JSON-LD</h1>" + "".join(f"<p>{p}</p>" for p in BODY) + "</article>"
    found = read_article(jsonld_page(visible), "https://example.vn/a")
    assert isinstance(found, Article) and found.paragraphs == [p.strip() for p in BODY]


def test_data_wins_over_a_teaser() -> None:
    """The HTML shows only a teaser and a "read more" shell; the data hold the whole article."""
    rows = ('5:{"blog":{"title":"Bài viết đầy đủ trong dữ liệu trang","content":"$6","status":"approved"}}\n'
            f'6:T{len("".join(f"<p>{p}</p>" for p in BODY).encode()):x},' + "".join(f"<p>{p}</p>" for p in BODY))
    page = flight_page(rows, "<h1>Bài viết đầy đủ trong dữ liệu trang</h1><p>Đoạn thứ nhất của bài viết…</p>")
    found = read_article(page, "https://example.vn/b")
    assert isinstance(found, Article) and found.paragraphs == [p.strip() for p in BODY]


def test_listing_data_are_no_article_but_give_links() -> None:
    stubs = [{"_id": f"{n:024x}", "title": f"Tiêu đề bài số {n} của chuyên mục", "description": "Tóm tắt " * 30,
              "href": f"/bai-so-{n}-{n:024x}"} for n in range(1, 6)]
    page = flight_page("3:" + json.dumps({"blogs": stubs, "total": 5}, ensure_ascii=False) + "\n",
                       "<h1>Tin tức - Sự kiện</h1>")
    assert isinstance(read_article(page, "https://example.vn/vn/tin-tuc"), NoArticle)
    root = parse_html(page)
    assert root is not None
    assert links_in_data(root, "https://example.vn/vn/tin-tuc") == [
        f"https://example.vn/bai-so-{n}-{n:024x}" for n in range(1, 6)]
    spider = SiteSpider.__new__(SiteSpider)
    spider.links = LinkExtractor(unique=True)
    response = HtmlResponse("https://example.vn/vn/tin-tuc", body=page.encode(), encoding="utf-8")
    assert [u for u in spider.listing_links(response) if "bai-so" in u] == links_in_data(root, response.url)


def test_hostile_payloads_cost_little() -> None:
    """References in a cycle, a payload over the size bound, broken JSON: no article, no hang."""
    cycle = '1:{"title":"Vòng lặp tham chiếu giữa các dòng","content":"$2"}\n2:{"x":"$1","y":["$1","$2"]}\n'
    huge = "<script>self.__next_f.push([1,\"" + "a" * (MAX_SCRIPT_CHARS + 10) + "\"])</script>"
    broken = "<script>self.__next_f.push([1,\"1:{unclosed\"])</script><script id='__NEXT_DATA__'>{oops</script>"
    for page in (flight_page(cycle), f"<html><body>{huge}{broken}</body></html>"):
        root = parse_html(page)
        assert root is not None and read_embedded(root) is None
