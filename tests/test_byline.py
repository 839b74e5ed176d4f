"""Bylines as the sites print them, desk names that are not authors, and lines that are no byline."""

from __future__ import annotations

import unicodedata

import pytest

from crawler.extract.byline import DESK_NAMES, is_desk_name, looks_like_byline, parse_byline, split_byline

BYLINES = [
    ("Trường Giang", "Trường Giang"),  # tuyengiao.vn seed
    ("Như Uyên", "Như Uyên"),  # SharePoint provincial seed
    ("Lê Phương", "Lê Phương"),  # vnexpress.net
    ("N.H", "N.H"),  # nhandan.vn initials
    ("Minh Thu - Ban Tuyên giáo Tỉnh ủy Hà Giang", "Minh Thu"),
    ("Thanh Hà - Huyện ủy Bến Lức", "Thanh Hà"),
    ("Thanh Hà - Huyện uỷ Bến Lức", "Thanh Hà"),  # the other spelling of "ủy"
    ("Minh Thu (Ban Tuyên giáo Tỉnh ủy Hà Giang)", "Minh Thu"),
    ("Văn Hùng (TTXVN)", "Văn Hùng"),
    ("Tác giả: Hoàng Minh", "Hoàng Minh"),  # NukeViet
    ("Tác giả: Lê Thu Hà - Nguồn tin: Ban Tuyên giáo Huyện ủy Gio Linh", "Lê Thu Hà"),
    ("Bài, ảnh: Hoàng Minh", "Hoàng Minh"),
    ("Hải Yến - Minh Anh", "Hải Yến, Minh Anh"),  # two authors
    ("Hải Yến, Minh Anh", "Hải Yến, Minh Anh"),
    ("Hải Yến và Minh Anh", "Hải Yến, Minh Anh"),
    ("ĐỖ NHUNG - NGUYỄN THÚY", "ĐỖ NHUNG, NGUYỄN THÚY"),  # capitals kept as printed
    ("Lê Phương (tổng hợp)", "Lê Phương"),
]


@pytest.mark.parametrize(("line", "author"), BYLINES)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_byline_names_its_author(line: str, author: str, form: str) -> None:
    text = unicodedata.normalize(form, line)
    assert looks_like_byline(text)
    assert parse_byline(text) == author


@pytest.mark.parametrize(
    "line",
    ["PV", "BTV", "ĐCSVN", "Ban biên tập", "BBT", "TTXVN", "Chinhphu.vn", "VGP", "PV - BTV",
     "Nguồn tin: Báo Quảng Trị", "Theo Báo Nhân Dân", "Theo TTXVN", "Tác giả: BBT"],
)
def test_desk_and_source_lines_are_bylines_without_an_author(line: str) -> None:
    assert looks_like_byline(line)
    assert parse_byline(line) is None


@pytest.mark.parametrize(
    "line",
    [
        "Hội nghị đã thành công tốt đẹp.",
        "Các đại biểu tham dự Hội nghị.",
        "Ảnh: Các đồng chí lãnh đạo chủ trì Hội nghị",
        "Tin khác",
        "Phản hồi",
        "Các tin khác",
        "Đồng chí Lại Xuân Môn",  # a photo caption: "chí" is lower-case
        "Theo đó, toàn Đảng bộ thành phố đã tổ chức 148 cuộc sinh hoạt chính trị",
        "Theo Bộ Y tế, số ca mắc giảm",
        "Trường Giang, Minh Thu và các đồng chí khác",
        "Ban Tuyên giáo Tỉnh ủy tổ chức Hội nghị sơ kết",  # an organisation doing something
        " ".join(["Nguyễn"] * 20),
        "Tuyên truyền sâu rộng trong cán bộ, đảng viên và nhân dân về các chủ trương của Đảng, chính "
        "sách, pháp luật của Nhà nước",  # 20 words
        "",
    ],
)
def test_lines_that_are_not_bylines(line: str) -> None:
    assert not looks_like_byline(line)
    assert parse_byline(line) is None


@pytest.mark.parametrize(
    ("name", "desk"),
    [("PV", True), ("pv", True), ("BTV", True), ("ĐCSVN", True), ("Ban biên tập", True), ("TTXVN", True),
     ("Chinhphu.vn", True), ("VGP", True), ("Báo Quảng Trị", True), ("Ban Tuyên giáo Tỉnh ủy Lai Châu", True),
     ("Huyện ủy Bến Lức", True), ("Theo TTXVN", True), ("Trường Giang", False), ("Thành Trung", False),
     ("N.H", False), ("Lê Thu Hà", False)],
)
def test_is_desk_name(name: str, desk: bool) -> None:
    assert is_desk_name(name) is desk


def test_desk_names_hold_the_known_signatures() -> None:
    assert {"PV", "BTV", "ĐCSVN", "Ban biên tập", "BBT", "TTXVN", "Chinhphu.vn", "VGP"} <= DESK_NAMES
    assert isinstance(DESK_NAMES, frozenset)


def test_split_byline_takes_the_last_paragraph() -> None:
    sentence = "Báo cáo tại buổi làm việc, đồng chí cho biết."
    assert split_byline([sentence, "Trường Giang", "", "  "]) == ([sentence], "Trường Giang", "Trường Giang")


def test_split_byline_takes_a_unit_printed_under_the_names() -> None:
    body = ["Sáu là, tăng cường nắm bắt tình hình tư tưởng.../.", "ĐỖ NHUNG - NGUYỄN THÚY",
            "Ban Tuyên giáo Tỉnh ủy Lai Châu"]
    assert split_byline(body) == (
        ["Sáu là, tăng cường nắm bắt tình hình tư tưởng.../."],
        "ĐỖ NHUNG, NGUYỄN THÚY",
        "ĐỖ NHUNG - NGUYỄN THÚY\nBan Tuyên giáo Tỉnh ủy Lai Châu",
    )


def test_split_byline_takes_nukeviet_author_and_source_lines() -> None:
    body = ["Nội dung bài viết.", "Tác giả: Lê Thu Hà", "Nguồn tin: Ban Tuyên giáo Huyện ủy Gio Linh"]
    assert split_byline(body) == (
        ["Nội dung bài viết."], "Lê Thu Hà", "Tác giả: Lê Thu Hà\nNguồn tin: Ban Tuyên giáo Huyện ủy Gio Linh"
    )


def test_split_byline_removes_a_desk_byline_without_an_author() -> None:
    assert split_byline(["(ĐCSVN) - Nội dung.", "PV"]) == (["(ĐCSVN) - Nội dung."], None, "PV")


@pytest.mark.parametrize(
    "body",
    [
        ["Nội dung.", "Các đại biểu tham dự Hội nghị."],
        ["Nội dung.", "Ban Tuyên giáo Tỉnh ủy Lai Châu"],  # a unit alone names no writer
        ["Nội dung.", "Ảnh: Các đồng chí lãnh đạo chủ trì Hội nghị"],
        [],
    ],
)
def test_split_byline_leaves_a_body_without_byline_alone(body: list[str]) -> None:
    assert split_byline(body) == (body, None, None)
