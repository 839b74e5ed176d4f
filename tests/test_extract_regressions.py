"""Pages that once broke extraction, each pinned by the smallest page that showed it."""

from __future__ import annotations

from crawler.extract import NoArticle, read_article

PARA = ("Ban Tuyên giáo Huyện ủy tổ chức hội nghị quán triệt các chuyên đề học tập và làm theo tư tưởng, "
        "đạo đức, phong cách Hồ Chí Minh năm nay cho cán bộ chủ chốt của huyện và các xã, thị trấn.")


def test_a_figure_without_figcaption_holding_a_comment() -> None:
    html = (f"<html><body><article><h1>Hội nghị quán triệt chuyên đề năm nay</h1><p>Thứ Hai, 12/03/2024 08:15</p>"
            f"<figure><img src='/a.jpg'><!-- ảnh --></figure><p>{PARA}</p><p>{PARA}.</p></article></body></html>")
    found = read_article(html, "https://huyen.example.vn/tin/hoi-nghi-1")
    assert not isinstance(found, NoArticle) and found.paragraphs == [PARA, PARA + "."]


def test_soft_hyphens_and_zero_width_characters_leave_the_words_whole() -> None:
    salted = PARA.replace("Tuyên", "Tuy\u00adên").replace("quán", "q&#173;uán").replace("triệt", "tri\u200bệt")
    html = (f"<html><body><article><h1>Hội ng&shy;hị quán triệt chuyên đề</h1><p>Thứ Hai, 12/03/2024 08:15</p>"
            f"<p>{salted}</p><p>{PARA}.</p></article></body></html>")
    found = read_article(html, "https://huyen.example.vn/tin/hoi-nghi-2")
    assert not isinstance(found, NoArticle)
    assert found.title == "Hội nghị quán triệt chuyên đề" and found.paragraphs == [PARA, PARA + "."]
