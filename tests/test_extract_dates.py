"""Publication dates: metadata (JSON-LD, ``<time datetime>``, itemprop, Open Graph) ranked against the
printed date line, the stated offset kept, and the precision the page stated carried everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from crawler.extract import Article, extract
from storage.archive import Archive
from storage.content import VN_TZ
from storage.observation import Verdict
from tests.plugins.archive import fetched

PARA = ("Ban Tuyên giáo Huyện ủy tổ chức hội nghị quán triệt các chuyên đề học tập và làm theo tư tưởng, "
        "đạo đức, phong cách Hồ Chí Minh năm nay cho cán bộ chủ chốt của huyện và các xã, thị trấn.")
URL = "https://huyen.example.vn/tin/hoi-nghi-7"


def page(head: str = "", line: str = "", extra: str = "") -> Article:
    html = (f"<html><head><title>Hội nghị quán triệt chuyên đề năm nay</title>{head}</head><body><article>"
            f"<h1>Hội nghị quán triệt chuyên đề năm nay</h1><div class='meta'>{line}</div>{extra}"
            f"<p>{PARA}</p><p>{PARA}.</p></article></body></html>")
    article = extract(html, URL)
    assert article is not None
    return article


def jsonld(value: str) -> str:
    return f'<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{value}"}}</script>'


def test_a_date_only_datepublished_takes_the_printed_time() -> None:
    article = page(jsonld("2024-03-12"), "Cập nhật: 12/03/2024 08:15")
    assert article.published_at == datetime(2024, 3, 12, 8, 15, tzinfo=VN_TZ)
    assert article.published_precision == "minute"


def test_metadata_with_seconds_and_a_stated_offset_is_kept_as_stated() -> None:
    article = page(jsonld("2024-03-12T10:15:30+09:00"), "12/03/2024 08:15")
    assert article.published_at == datetime(2024, 3, 12, 10, 15, 30, tzinfo=timezone(timedelta(hours=9)))
    assert article.published_at.utcoffset() == timedelta(hours=9)
    assert article.published_precision == "second"
    assert article.to_json()["published"] == "2024-03-12T10:15:30+09:00"


def test_metadata_wins_over_another_day_in_the_text() -> None:
    article = page(jsonld("2024-03-12T08:15:00+07:00"), "Ngày 10/03/2024")
    assert article.published_at == datetime(2024, 3, 12, 8, 15, tzinfo=VN_TZ)


def test_itemprop_and_time_datetime_are_read() -> None:
    article = page(extra='<meta itemprop="datePublished" content="2023-11-05T14:02:00+07:00">')
    assert article.published_at == datetime(2023, 11, 5, 14, 2, tzinfo=VN_TZ)
    article = page(line='<time datetime="2023-11-05T14:02">5 tháng 11, 2023</time>')
    assert article.published_at == datetime(2023, 11, 5, 14, 2, tzinfo=VN_TZ)
    assert article.published_precision == "minute"


def test_a_day_alone_says_so() -> None:
    article = page(line="Ngày đăng: 12/03/2024")
    assert article.published_at == datetime(2024, 3, 12, tzinfo=VN_TZ)
    assert article.published_precision == "day" and article.to_json()["published_precision"] == "day"
    assert page(jsonld("2024-03-12")).published_precision == "day"
    assert page(line="12/03/2024 08:15:07").published_precision == "second"


def test_precision_is_archived_beside_the_time_and_is_no_edit(archive: Archive) -> None:
    archive.record("s", "https://example.vn/a-1", fetched(0, published_precision="day"))
    verdict = archive.record("s", "https://example.vn/a-1", fetched(30, published_precision="minute"))
    assert verdict is Verdict.UNCHANGED  # a better-described time is no edit
    with archive.engine.connect() as connection:
        assert connection.execute(text("SELECT published_precision FROM articles")).scalar_one() == "day"
        assert connection.execute(text("SELECT published_precision FROM versions")).scalar_one() == "day"
