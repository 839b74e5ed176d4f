"""``extract()`` on realistic hand-made pages: fields, chrome, "no article", decoding, NFD, comments."""

from __future__ import annotations

import pickle
import subprocess
import sys
import unicodedata
from datetime import datetime

import pytest

from crawler.extract import Article, extract
from crawler.profiles import builtin_profiles, parse_site
from storage.content import VN_TZ, normalise_text
from tests.test_extract_pages import (
    CAPTIONS, CHROME, HEADING, ITEMS, LEAD, PARAGRAPHS, TITLE, TODAY, chrome_only_page, listing_page,
    nukeviet_page, portal_page, tuyengiao_page,
)

URL = "https://tuyengiao.vn/ban-tuyen-giao-thanh-uy-long-xuyen-139001"
TUYENGIAO = builtin_profiles()["tuyengiao"]
PUBLISHED = datetime(2022, 7, 16, 8, 21, tzinfo=VN_TZ)
MODES = pytest.mark.parametrize("profile", [TUYENGIAO, None], ids=["profile", "generic"])


def lines(article: Article | None) -> list[str]:
    assert article is not None, "no article extracted"
    return normalise_text(article.text).split("\n")


@MODES
def test_tuyengiao_article_fields_and_text(profile) -> None:
    article = extract(tuyengiao_page(), URL, profile)
    assert lines(article) == [LEAD, CAPTIONS[0], HEADING, PARAGRAPHS[0], PARAGRAPHS[1], *ITEMS, CAPTIONS[1],
                              PARAGRAPHS[2]]
    assert article.title == TITLE  # the h1, not the truncated og:title
    assert article.lead == LEAD
    assert article.published_at == PUBLISHED and article.published_at.utcoffset() == PUBLISHED.utcoffset()
    assert article.author == "Trường Giang"
    assert article.category == "Tuyên giáo các cấp"
    assert article.canonical_url == "https://tuyengiao.vn/ban-tuyen-giao-long-xuyen-139001"
    assert article.language == "vi"


@MODES
def test_no_chrome_and_captions_once(profile) -> None:
    text = lines(extract(tuyengiao_page(), URL, profile))
    assert not set(CHROME) & set(text)
    assert not any(c in line for c in CHROME if len(c) > 20 for line in text)
    assert [text.count(c) for c in CAPTIONS] == [1, 1]  # alt text and caption cell are one caption


@MODES
def test_images_with_captions(profile) -> None:
    article = extract(tuyengiao_page(), URL, profile)
    assert [(i.src, i.caption) for i in article.images] == [
        ("https://tuyengiao.vn/Uploads/2022/7/16/11/hoi-nghi.jpg", CAPTIONS[0]),
        ("https://tuyengiao.vn/Uploads/2022/7/16/11/phat-bieu.jpg", CAPTIONS[1]),
    ]


@MODES
def test_html_comments_never_reach_text_or_date(profile) -> None:
    article = extract(tuyengiao_page(date_line=None, comment="ngay 01/01/2020 00:00 ban nhap"), URL, profile)
    assert not any("cap nhat" in line or "ban nhap" in line for line in lines(article))
    assert article.published_at is None


@MODES
def test_the_header_today_line_is_never_the_publication_date(profile) -> None:
    article = extract(tuyengiao_page(date_line=None), URL, profile)
    assert article is not None and article.published_at is None
    assert TODAY not in lines(article)


@MODES
def test_desk_name_is_no_author_and_no_line(profile) -> None:
    article = extract(tuyengiao_page(byline="PV"), URL, profile)
    assert article.author is None and "PV" not in lines(article)


@MODES
def test_multiline_byline_leaves_the_text(profile) -> None:
    article = extract(tuyengiao_page(byline="ĐỖ NHUNG - NGUYỄN THÚY<br>Ban Tuyên giáo Tỉnh ủy Lai Châu"), URL, profile)
    assert lines(article)[-1] == PARAGRAPHS[2]
    assert article.author == "ĐỖ NHUNG, NGUYỄN THÚY"


@MODES
def test_nfd_page_reads_like_the_nfc_page(profile) -> None:
    nfc = extract(tuyengiao_page(), URL, profile)
    nfd = extract(unicodedata.normalize("NFD", tuyengiao_page()), URL, profile)
    assert nfd is not None
    assert nfd.content().fingerprint() == nfc.content().fingerprint()
    assert nfd.published_at == PUBLISHED and nfd.author == "Trường Giang"


@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252", "windows-1258"])
def test_utf8_bytes_with_a_wrong_declared_charset(declared: str) -> None:
    html = tuyengiao_page(charset=declared).encode("utf-8")
    article = extract(html, URL, None)
    assert article is not None and article.title == TITLE and lines(article)[0] == LEAD


def test_bytes_with_bom_and_xml_declaration() -> None:
    html = b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n" + tuyengiao_page().encode("utf-8")
    assert extract(html, URL, TUYENGIAO).title == TITLE


@MODES
def test_listing_page_gives_none(profile) -> None:
    assert extract(listing_page(), "https://tuyengiao.vn/tuyen-giao-cac-cap", profile) is None
    assert extract(listing_page(items=1), "https://tuyengiao.vn/tuyen-giao-cac-cap?page=9", profile) is None


@pytest.mark.parametrize("html", ["", "   \n\t ", b"", b"\xef\xbb\xbf  ", "<html><body></body></html>",
                                  "<html><head><title>x</title></head><body><p>   </p></body></html>"])
def test_empty_pages_give_none(html: str | bytes) -> None:
    assert extract(html, URL, None) is None
    assert extract(html, URL, TUYENGIAO) is None


@MODES
def test_chrome_only_page_gives_none(profile) -> None:
    assert extract(chrome_only_page(), "https://tuyengiao.vn/", profile) is None


@MODES
def test_soft_404_page_gives_none(profile) -> None:
    page = tuyengiao_page().replace(f'<h1 class="story-headline">{TITLE}</h1>',
                                    '<h1 class="story-headline">Không tìm thấy bài viết</h1>')
    missing = '<div class="story-body"><p>Bài viết không tồn tại hoặc đã bị xóa.</p></div>'
    page = page[:page.index('<div class="story-body">')] + missing + page[page.index("</article>"):]
    assert extract(page, URL, profile) is None


@pytest.mark.parametrize("profile", [builtin_profiles()["portal"], None], ids=["profile", "generic"])
def test_portal_page_like_seed_003(profile) -> None:
    article = extract(portal_page(), "https://btg.longan.gov.vn/Pages/ban-tuyen-giao-21964.aspx", profile)
    assert lines(article) == [PARAGRAPHS[0], f"Ảnh: {CAPTIONS[0]}", PARAGRAPHS[1], PARAGRAPHS[2]]
    assert article.title == TITLE and article.author == "Như Uyên"
    assert article.published_at == datetime(2024, 12, 27, 16, 30, tzinfo=VN_TZ)


@pytest.mark.parametrize("profile", [builtin_profiles()["nukeviet"], None], ids=["profile", "generic"])
def test_nukeviet_page(profile) -> None:
    url = "https://btgtu.quangtri.gov.vn/news/hoat-dong-tuyen-giao/long-xuyen-1452.html"
    article = extract(nukeviet_page(), url, profile)
    assert lines(article) == [LEAD, *PARAGRAPHS, *ITEMS]
    assert article.author == "Phương Thảo"
    assert article.published_at == datetime(2016, 3, 15, 4, 35, tzinfo=VN_TZ)
    assert article.category == "Hoạt động tuyên giáo"  # from "Title - Section - Site", a menu link


def test_profile_that_does_not_fit_falls_back_to_generic() -> None:
    article = extract(nukeviet_page(), "https://tuyengiao.vn/x-1", TUYENGIAO)
    assert article is not None and article.title == TITLE and article.author == "Phương Thảo"


def test_lead_from_meta_description_when_no_teaser_element() -> None:
    page = tuyengiao_page().replace('<div class="story-teaser">', "<div>")
    article = extract(page, URL, None)
    assert article.lead == LEAD and lines(article)[1] == CAPTIONS[0]


def test_profiles_and_articles_pickle_for_worker_processes() -> None:
    article = extract(tuyengiao_page(), URL, TUYENGIAO)
    assert pickle.loads(pickle.dumps(TUYENGIAO)) == TUYENGIAO
    assert pickle.loads(pickle.dumps(article)) == article


def test_extract_does_not_mutate_its_inputs() -> None:
    page = tuyengiao_page()
    first = extract(page, URL, TUYENGIAO)
    assert extract(page, URL, TUYENGIAO) == first and TUYENGIAO == builtin_profiles()["tuyengiao"]


def to_cp1258(text: str) -> bytes:
    """Vietnamese in windows-1258: precomposed vowels where the code page has them, tone marks apart."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tones = "".join(m for m in parts[1:] if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", parts[0] + "".join(m for m in parts[1:] if m not in tones))
            out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def test_a_page_really_in_windows_1258_is_read_by_its_declared_charset() -> None:
    html = to_cp1258(tuyengiao_page(charset="windows-1258"))
    article = extract(html, URL, TUYENGIAO)
    assert article is not None and article.title == TITLE
    assert article.published_at == PUBLISHED and article.author == "Trường Giang"


def test_machine_readable_dates_come_first_and_may_be_entity_encoded() -> None:
    page = tuyengiao_page().replace(
        "<head>", '<head><meta property="article:published_time" content="2022-07-16T08:21:45&amp;#43;07:00">')
    article = extract(page, URL, None)
    assert article.published_at == datetime(2022, 7, 16, 8, 21, 45, tzinfo=VN_TZ)


def test_a_user_profile_with_only_content_and_drop_selectors() -> None:
    site = parse_site({"name": "btg", "start_urls": ["https://btg.example.vn/"], "article_url": r"-\d+$",
                       "selectors": {"content": "div.flex-fill", "drop": ["section.other-news"]}}, "test", "sites[0]")
    article = extract(tuyengiao_page(), "https://btg.example.vn/bai-viet-1", site)
    assert article is not None and article.title == TITLE and article.published_at == PUBLISHED
    assert lines(article)[0] == LEAD and PARAGRAPHS[2] in lines(article) and article.author == "Trường Giang"
    assert not set(CHROME) & set(lines(article))


def test_extraction_core_needs_no_scrapy() -> None:
    """The extraction package is usable (workers, scrape, reextract) without importing Scrapy or Twisted."""
    code = "import sys, crawler.extract; print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
