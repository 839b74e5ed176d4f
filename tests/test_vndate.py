"""Vietnamese dates as the sites print them (docs: SITES.md "Across sites"), day first, +07:00."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import dateparser
import pytest

from crawler.extract.vndate import DateMatch, find_datetimes, is_today_line, parse_iso_datetime, parse_vn_datetime
from storage.content import VN_TZ


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


FORMATS = [
    ("Thứ Bảy, 16/7/2022 8:21'(GMT+7)", vn(2022, 7, 16, 8, 21)),  # tuyengiao.vn
    ("Thứ Năm, 11/8/2022 14:2'(GMT+7)", vn(2022, 8, 11, 14, 2)),  # unpadded minutes: 14:02
    ("Thứ Năm, 29/12/2022 9:5'(GMT+7)", vn(2022, 12, 29, 9, 5)),
    ("Thứ hai - 15/03/2016 04:35", vn(2016, 3, 15, 4, 35)),  # NukeViet
    ("Thứ tư, 08 Tháng 9 2021 15:09", vn(2021, 9, 8, 15, 9)),  # lyluanchinhtri.vn
    ("Thứ Hai, ngày 20/07/2026 - 06:31", vn(2026, 7, 20, 6, 31)),  # nhandan.vn
    ("Thứ tư, 22/10/2025, 19:25 (GMT+7)", vn(2025, 10, 22, 19, 25)),  # vnexpress.net
    ("15/08/2026 06:54", vn(2026, 8, 15, 6, 54)),  # baochinhphu.vn
    ("20:35 19/11/2024", vn(2024, 11, 19, 20, 35)),  # NukeViet listings
    ("08:21, 16/07/2022", vn(2022, 7, 16, 8, 21)),
    ("20:35 ngày 19-11-2024", vn(2024, 11, 19, 20, 35)),
    ("27/12/2024 lúc 00:02 (GMT+7)", vn(2024, 12, 27, 0, 2)),
    ("2024-12-27 00:02:00+07", vn(2024, 12, 27, 0, 2)),
    ("9/5/2026 1:30:00 PM", vn(2026, 5, 9, 13, 30)),  # RSS: 9 May, not 5 September
    ("9/5/2026 12:15:00 AM", vn(2026, 5, 9, 0, 15)),
    ("Thứ Hai, 19/01/2026", vn(2026, 1, 19)),  # tuyengiaodanvan.vn: date only
    ("19/01/2026", vn(2026, 1, 19)),
    ("19-01-2026", vn(2026, 1, 19)),
    ("19.01.2026", vn(2026, 1, 19)),
    ("ngày 5 tháng 3 năm 2024", vn(2024, 3, 5)),
    ("5 tháng Mười Một năm 2024", vn(2024, 11, 5)),
    ("Cập nhật: 15/08/2026 06:54", vn(2026, 8, 15, 6, 54)),
    ("Ngày đăng: 19/01/2026", vn(2026, 1, 19)),
    ("Đăng lúc 08:21 ngày 16/7/2022", vn(2022, 7, 16, 8, 21)),
    ("Cập nhật lúc 14h30 ngày 5/3/2024", vn(2024, 3, 5, 14, 30)),
    ("Chủ nhật, 13/2/2022, 16:08 (GMT+7)", vn(2022, 2, 13, 16, 8)),
]


@pytest.mark.parametrize(("text", "expected"), FORMATS)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_every_format_is_read_in_nfc_and_nfd(text: str, expected: datetime, form: str) -> None:
    value = parse_vn_datetime(unicodedata.normalize(form, text))
    assert value == expected
    assert value is not None and value.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    "weekday",
    ["Thứ Hai", "thứ hai", "THỨ HAI", "Thứ 2", "T2", "Thứ Ba", "thứ ba", "Thứ Tư", "thứ tư", "Thứ Năm",
     "Thứ Sáu", "Thứ Bảy", "thứ bảy", "Thứ bẩy", "Chủ nhật", "Chủ Nhật", "CHỦ NHẬT", "chủ nhật", "CN"],
)
def test_weekday_in_any_capitalisation_is_part_of_the_match(weekday: str) -> None:
    text = f"{weekday}, 16/7/2022 8:21"
    for form in ("NFC", "NFD"):
        [match] = find_datetimes(unicodedata.normalize(form, text))
        assert (match.start, match.value) == (0, vn(2022, 7, 16, 8, 21))


def test_weekday_is_not_checked_against_the_date() -> None:
    # 16/7/2022 was a Saturday; sites print wrong weekdays and the date is what counts.
    assert parse_vn_datetime("Thứ Hai, 16/7/2022 8:21") == vn(2022, 7, 16, 8, 21)


@pytest.mark.parametrize(
    "text",
    [
        "32/13/2024",
        "31/02/2024",
        "Kết luận số 01-KL/TW",
        "Kế hoạch số 106-KH/TU",
        "với 8.199/8.257 đảng viên tham dự",
        "6/2022",
        "trong tháng 6/2022",  # month and year without a day: not a full date
        "tháng 6 năm 2022",
        "Ngày 28/12, Ban Tuyên giáo Tỉnh ủy Lai Châu tổ chức Hội nghị",  # no year
        "Quỹ Nhân ái tuần 4 tháng 2/2019",  # week 4 of February
        "Trong 5 tháng năm 2024",  # "năm" is the year here, not May
        "Nghị quyết số 05/12/2024/NQ-HĐND",
        "nhiệm kỳ 2020-2025",
        "15/03/1850",
        "Tin khác",
        "",
    ],
)
def test_not_dates(text: str) -> None:
    assert parse_vn_datetime(text) is None
    assert find_datetimes(text) == []


def test_offsets_in_the_text_are_kept() -> None:
    assert parse_vn_datetime("22/10/2025 19:25 (GMT+07:00)") == vn(2025, 10, 22, 19, 25)
    assert parse_vn_datetime("22/10/2025 19:25 UTC+7") == vn(2025, 10, 22, 19, 25)
    nine = parse_vn_datetime("22/10/2025 19:25 (GMT+9)")
    assert nine is not None and nine.utcoffset() == timedelta(hours=9) and nine.hour == 19
    utc = parse_vn_datetime("2024-12-27 00:02:00Z")
    assert utc == datetime(2024, 12, 27, 0, 2, tzinfo=UTC)


def test_tz_applies_only_when_the_text_states_no_offset() -> None:
    in_utc = datetime(2026, 8, 15, 6, 54, tzinfo=UTC)
    assert parse_vn_datetime("15/08/2026 06:54", tz=UTC) == in_utc
    assert parse_vn_datetime("15/08/2026 06:54 GMT+7", tz=UTC) == vn(2026, 8, 15, 6, 54)
    assert parse_vn_datetime("15/08/2026 06:54").tzinfo is VN_TZ  # type: ignore[union-attr]


def test_find_datetimes_gives_every_date_in_order_with_its_span() -> None:
    text = (
        "Thứ Ba, 23/7/2024\nTuyên giáo các cấp\nThứ Bảy, 16/7/2022 8:21'(GMT+7)\n"
        "Nghị quyết số 04 ngày 18/5/2021 của Tỉnh ủy"
    )
    found = find_datetimes(text)
    header = "Thứ Bảy, 16/7/2022 8:21'(GMT+7)"
    assert [m.raw for m in found] == ["Thứ Ba, 23/7/2024", header, "ngày 18/5/2021"]
    assert [m.has_time for m in found] == [False, True, False]
    assert all(text[m.start:m.end] == m.raw for m in found)
    assert found[1] == DateMatch(vn(2022, 7, 16, 8, 21), 37, 68, True, header)


def test_a_date_never_takes_the_time_on_the_next_line() -> None:
    found = find_datetimes("Thứ Ba, 23/7/2024\n08:21, 16/07/2022")
    assert [(m.value, m.has_time) for m in found] == [
        (vn(2024, 7, 23), False),
        (vn(2022, 7, 16, 8, 21), True),
    ]


def test_vietnamese_morning_and_afternoon_markers() -> None:
    assert parse_vn_datetime("9/5/2026 1:30 CH") == vn(2026, 5, 9, 13, 30)
    assert parse_vn_datetime("9/5/2026 12:10 SA") == vn(2026, 5, 9, 0, 10)


def test_find_datetimes_spans_refer_to_nfd_text_as_given() -> None:
    text = unicodedata.normalize("NFD", "Cập nhật: Thứ Bảy, 16/7/2022 8:21'(GMT+7) — Tuyên giáo")
    [match] = find_datetimes(text)
    assert text[match.start:match.end] == match.raw
    assert unicodedata.normalize("NFC", match.raw) == "Thứ Bảy, 16/7/2022 8:21'(GMT+7)"


def test_prefix_words_and_separators_do_not_hide_the_date() -> None:
    assert parse_vn_datetime("Giao thôngChủ nhật, 13/2/2022, 16:08 (GMT+7)") == vn(2022, 2, 13, 16, 8)
    assert parse_vn_datetime("Xuất bản:\u00a015/08/2026\u00a006:54") == vn(2026, 8, 15, 6, 54)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-02-13T16:08:35+07:00", vn(2022, 2, 13, 16, 8, 35)),
        ("2026-08-15T06:54:00&#43;07:00", vn(2026, 8, 15, 6, 54)),  # entity-encoded meta content
        ("2026-08-15T06:54:00&amp;#x2B;07:00", vn(2026, 8, 15, 6, 54)),  # encoded twice
        ("2026-08-15T06:54:00", vn(2026, 8, 15, 6, 54)),  # naive: local time
        ("2026-08-15T06:54:00.123+07:00", vn(2026, 8, 15, 6, 54, 0, 123000)),
        ("2024-12-27T00:02:00+07", vn(2024, 12, 27, 0, 2)),
        ("2024-12-26T17:02:00Z", vn(2024, 12, 27, 0, 2)),
        ("2026-08-15", vn(2026, 8, 15)),
        ("Sat, 16 Jul 2022 08:21:00 +0700", vn(2022, 7, 16, 8, 21)),  # RSS pubDate
        (" 15/08/2026 06:54 ", vn(2026, 8, 15, 6, 54)),  # a site's own format in a meta tag
    ],
)
def test_parse_iso_datetime(value: str, expected: datetime) -> None:
    parsed = parse_iso_datetime(value)
    assert parsed == expected and parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["", "   ", "không rõ", "null"])
def test_parse_iso_datetime_without_a_date(value: str) -> None:
    assert parse_iso_datetime(value) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Thứ Ba, 23/7/2024", True),
        ("  Thứ Năm, 18/4/2024 ", True),
        ("chủ nhật, 13/2/2022", True),
        ("Hôm nay: Thứ Sáu, 21/6/2024", True),
        (unicodedata.normalize("NFD", "Thứ Bảy, 20/4/2024"), True),
        ("Thứ Bảy, 16/7/2022 8:21'(GMT+7)", False),  # has a time: a publication date
        ("23/7/2024", False),  # no weekday
        ("Thứ Ba, 23/7/2024 - Tuyên giáo các cấp", False),  # something else on the line
        ("Thứ Ba, 31/02/2024", False),
        ("Tuyên giáo các cấp", False),
    ],
)
def test_is_today_line(line: str, expected: bool) -> None:
    assert is_today_line(line) is expected


@pytest.mark.parametrize(
    "span",
    ["16/7/2022 8:21", "11/8/2022 14:2", "15/03/2016 04:35", "08 Tháng 9 2021 15:09", "20/07/2026 06:31",
     "22/10/2025, 19:25", "20:35 19/11/2024", "20:35 ngày 19-11-2024", "9/5/2026 1:30:00 PM",
     "19/01/2026", "19.01.2026", "ngày 5 tháng 3 năm 2024", "Thứ hai - 15/03/2016 04:35"],
)
def test_dateparser_agrees_on_clean_spans(span: str) -> None:
    """dateparser is the oracle: where it reads a span at all, it must read what we read."""
    settings = {"DATE_ORDER": "DMY", "TIMEZONE": "+07:00", "RETURN_AS_TIMEZONE_AWARE": True,
                "PREFER_DATES_FROM": "past"}
    assert dateparser.parse(span, languages=["vi"], settings=settings) == parse_vn_datetime(span)
