"""Generic mode on pages of templates tgwatch was never shown: it finds the article, never refuses it."""

from __future__ import annotations

from datetime import datetime

from crawler.extract import NoArticle, extract, read_article
from storage.content import VN_TZ

PARA = ("Sáng nay, Ban Tuyên giáo Huyện ủy tổ chức hội nghị quán triệt các chuyên đề học tập và làm theo tư tưởng, "
        "đạo đức, phong cách Hồ Chí Minh năm nay cho cán bộ chủ chốt của huyện và các xã, thị trấn trên địa bàn.")
PARA2 = ("Hội nghị cũng thông tin tình hình thời sự nổi bật trong nước và quốc tế, định hướng công tác tuyên truyền "
         "những tháng cuối năm, nhất là tuyên truyền đại hội đảng bộ các cấp nhiệm kỳ mới.")


def test_h1_in_the_articles_own_header_is_the_headline() -> None:
    html = f"""<html><head><title>Hội nghị quán triệt chuyên đề năm nay | Trang tin huyện</title></head><body>
    <header class="site"><div class="logo"><h1>Trang tin huyện</h1></div></header>
    <article><header><h1>Hội nghị quán triệt chuyên đề năm nay</h1><p>Thứ Hai, 12/03/2024 08:15</p></header>
    <p>{PARA}</p><p>{PARA2}</p></article></body></html>"""
    article = extract(html, "https://huyen.example.vn/tin/hoi-nghi-123")
    assert article is not None
    assert article.title == "Hội nghị quán triệt chuyên đề năm nay"
    assert article.published_at == datetime(2024, 3, 12, 8, 15, tzinfo=VN_TZ)
    assert article.paragraphs == [PARA, PARA2]


def test_webforms_portal_in_tables_with_a_span_headline_and_the_portal_name_as_title() -> None:
    html = f"""<html><head><title>Cổng thông tin điện tử huyện Mẫu Sơn</title></head><body>
    <form method="post" action="./ChiTiet.aspx?ID=77" id="form1"><input type="hidden" name="__VIEWSTATE" value="x">
    <table width="100%"><tr><td class="banner"><img src="/banner.jpg" alt="Cổng thông tin điện tử huyện Mẫu Sơn">
    </td></tr><tr><td width="200"><a href="/">Trang chủ</a><br><a href="/gt">Giới thiệu</a></td><td>
    <table><tr><td><span id="ctl00_ContentPlaceHolder1_lblTieuDe" style="font-size:13pt;font-weight:bold">
    Huyện Mẫu Sơn tổ chức hội nghị quán triệt chuyên đề</span></td></tr>
    <tr><td><span id="ctl00_ContentPlaceHolder1_lblNgay">Ngày đăng: 12/03/2024 08:15</span></td></tr>
    <tr><td><div>{PARA}</div><div>{PARA2}</div><p style="text-align:right"><b>Nguyễn Văn An</b></p></td></tr>
    </table></td></tr></table></form></body></html>"""
    found = read_article(html, "https://mauson.example.gov.vn/ChiTiet.aspx?ID=77")
    assert not isinstance(found, NoArticle), found
    assert found.title == "Huyện Mẫu Sơn tổ chức hội nghị quán triệt chuyên đề"
    assert found.published_at == datetime(2024, 3, 12, 8, 15, tzinfo=VN_TZ)
    assert found.paragraphs == [PARA, PARA2]
    assert found.author == "Nguyễn Văn An"


def test_title_tag_without_the_site_name_when_nothing_else_names_the_article() -> None:
    html = f"""<html><head><title>Quán triệt chuyên đề năm nay - Báo Mẫu Sơn</title>
    <meta property="og:type" content="article"><meta property="og:site_name" content="Báo Mẫu Sơn"></head>
    <body><div class="content"><p>{PARA}</p><p>{PARA2}</p></div></body></html>"""
    article = extract(html, "https://baomauson.example.vn/quan-triet.html")
    assert article is not None and article.title == "Quán triệt chuyên đề năm nay"


def test_a_byline_beside_the_date_line_under_the_headline() -> None:
    beside = '<span class="date">12/03/2024 08:15</span> <span class="author">Nguyễn Văn An</span>'
    for line in (f'<p class="meta">{beside}</p>', "<p>Bài và ảnh: Trần Thu Hà</p><p>12/03/2024 08:15</p>"):
        html = (f"<html><head><title>Hội nghị quán triệt chuyên đề năm nay</title></head><body><article>"
                f"<h1>Hội nghị quán triệt chuyên đề năm nay</h1>{line}<p>{PARA}</p><p>{PARA2}</p>"
                "</article></body></html>")
        article = extract(html, "https://huyen.example.vn/tin/hoi-nghi-9")
        assert article is not None and article.author in ("Nguyễn Văn An", "Trần Thu Hà")
        assert article.published_at == datetime(2024, 3, 12, 8, 15, tzinfo=VN_TZ)
        assert article.paragraphs == [PARA, PARA2]
