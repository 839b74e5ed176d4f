"""Vietnamese publication dates: find them in page text and read them as aware datetimes.

Why not just ``dateparser``? We measured dateparser 1.5 (``languages=["vi"]``, ``DATE_ORDER=DMY``,
``TIMEZONE=+07:00``) on every format the sites print. On a *clean* span it reads all of them right,
unpadded ``14:2`` minutes, ``Tháng 9`` and ``9/5/2026 1:30:00 PM`` included, but:

- it costs 3.5–6 ms a call on a header line (~1.5 ms even with ``date_formats``), against ~0.04 ms
  for the compiled pattern below: too slow to scan every line of every page;
- it cannot *locate* a date: ``Cập nhật: 15/08/2026 06:54`` or ``Đăng lúc ...`` give ``None``;
- it reads ``6/2022`` as 24 June 2022 (a day invented from today), so it cannot be trusted on
  running text full of ``tháng 6/2022``;
- it converts a stated ``+09:00`` to +07:00 instead of keeping it, and rejects ISO ``...+07``.

So the compiled pattern below both locates and reads each expression: its groups already hold day,
month, year, hour, minute, second, AM/PM and offset, and ``datetime()`` validates the result (31/02
is refused), so a second parse would add cost and no knowledge. dateparser stays as the test oracle:
``tests/test_vndate.py`` checks that it agrees with us on every cleaned format.

Rules the pattern encodes: day first, always; a full date needs day, month and a four-digit year
(``tháng 6/2022``, ``Ngày 28/12``, ``tuần 4 tháng 2/2019`` and document codes such as ``01-KL/TW``
or ``05/12/2024/NQ-HĐND`` are not dates; years outside 1900–2100 are refused); a date never runs
across a line break, so a header date cannot take the time printed on the next line; minutes may be
unpadded and followed by an apostrophe (``8:21'`` on tuyengiao.vn, where ``14:2'`` is 14:02); the weekday
is matched but never checked against the date, because sites print the wrong one and a wrong weekday
is no reason to lose the date; an offset in the text (``GMT+7``, ``(GMT+07:00)``, ``UTC+7``, ``+07``)
is kept, otherwise ``tz`` (+07:00) applies.
"""

from __future__ import annotations

import email.utils
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo

from storage.content import VN_TZ, normalise_text

__all__ = ["DateMatch", "find_datetimes", "is_today_line", "iso_precision", "parse_iso_datetime", "parse_vn_datetime"]

_WEEKDAY = r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7])(?![^\W_])"
_MONTH_WORDS = {
    "giêng": 1, "một": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7,
    "bẩy": 7, "tám": 8, "chín": 9, "mười": 10, "mười một": 11, "mười hai": 12, "chạp": 12,
}
# "năm" is also the word for "year": as a month it must be followed by "năm <year>".
_MONTH_WORD = (
    r"(?:mười\s+một|mười\s+hai|mười|giêng|một|hai|ba|tư|bốn|năm(?=[^\S\n]*,?[^\S\n]*năm\s)"
    r"|sáu|bảy|bẩy|tám|chín|chạp)(?![^\W\d_])"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"


_S = r"[^\S\n]"  # a space that is not a line break: a date never runs on into the next line


def _time(n: int) -> str:
    """A clock time; group names carry ``n`` because the pattern has two time slots."""
    return (
        rf"(?P<h{n}>[01]?\d|2[0-3])(?:{_S}?:{_S}?(?P<i{n}>[0-5]?\d)|h(?P<j{n}>[0-5]\d))(?!\d)"
        rf"(?::(?P<s{n}>[0-5]?\d)(?!\d))?['’′]?"
        rf"(?:{_S}*(?P<p{n}>[ap]\.?m\.?|sa|ch)(?![^\W\d_]))?"
    )


_JOIN = rf"(?:{_S}*[,|\-–—]{_S}*|{_S}+)"
_PATTERN = re.compile(
    rf"""
    (?<![\d/.+-])(?=\d|thứ|chủ|cn|t[2-7]|ngày)
    (?:
        (?P<iy>\d{{4}})(?P<isep>[-/])(?P<imo>{_MON})(?P=isep)(?P<id>{_DAY})
        (?:[T ](?P<ih>[01]\d|2[0-3]):(?P<imi>[0-5]\d)(?::(?P<isec>[0-5]\d)(?:[.,]\d+)?)?
           {_S}*(?P<iz>Z|[+-]\d{{2}}(?::?\d{{2}})?)?)?
        (?![\d/])
    |
        (?:(?P<tf>{_time(1)}){_JOIN})?
        (?:(?P<wk>{_WEEKDAY}){_S}*[,\-–—]?{_S}*)?
        (?:ngày{_S}*)?
        (?:
            (?P<nd>{_DAY})(?P<sep>[/.-])(?P<nm>{_MON})(?P=sep)(?P<ny>\d{{4}})
            (?!\d)(?![/.-][^\W_])
        |
            (?P<wd>{_DAY}){_S}+tháng{_S}+(?P<wm>{_MON}(?!\d)|{_MONTH_WORD})
            (?:{_S}*[,/]{_S}*|{_S}+)(?:năm{_S}+)?(?P<wy>\d{{4}})(?!\d)
        )
        (?(tf)|(?:{_JOIN}(?:(?:vào{_S}+)?lúc{_S}+)?(?P<t2>{_time(2)}))?)
    )
    (?:{_S}*\(?{_S}*(?P<gmt>GMT|UTC){_S}*
       (?:(?P<os>[+\-−]){_S}*(?P<oh>\d{{1,2}})(?::?(?P<om>\d{{2}}))?)?{_S}*\)?)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "tuần 4 tháng 2/2019" is week 4 of February, "quý 1 tháng ..." a quarter: no day before "tháng".
_NOT_A_DAY = re.compile(r"(?:tuần|quý|đợt|kỳ|lần|khóa|khoá|số)\s*$", re.IGNORECASE)
_TODAY = re.compile(r"(?:hôm\s+nay\s*[,:]?\s*)?", re.IGNORECASE)
_ISO_TZ = re.compile(r"([+-])(\d{2}):?(\d{2})?$")


@dataclass(frozen=True, slots=True)
class DateMatch:
    """One date expression found in a text; ``start``/``end``/``raw`` refer to the text as given."""

    value: datetime
    start: int
    end: int
    has_time: bool
    raw: str
    precision: str = field(default="day", compare=False)  # derived from ``raw``: not part of identity
    """What the text stated: ``day`` (no time; 00:00 is not a time the page gave), ``minute``, ``second``."""


def _offset(sign: str, hours: str, minutes: str | None) -> timedelta | None:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14):
        return None
    return -delta if sign in "-−" else delta


def _zone(offset: timedelta | None, naive: datetime, tz: tzinfo) -> tzinfo:
    """The caller's ``tz`` unless the text stated a different offset (kept, not converted)."""
    if offset is None or naive.replace(tzinfo=tz).utcoffset() == offset:
        return tz
    return timezone(offset)


def _hour(m: re.Match[str], n: int) -> tuple[int, int, int]:
    """24-hour time of time slot ``n``; RSS prints AM/PM, some sites SA/CH (sáng/chiều)."""
    hour = int(m[f"h{n}"])
    minute = int(m[f"i{n}"] if m[f"i{n}"] is not None else m[f"j{n}"])
    second = int(m[f"s{n}"] or 0)
    meridiem = (m[f"p{n}"] or "").replace(".", "").lower()
    if meridiem in ("pm", "ch") and hour < 12:
        hour += 12
    elif meridiem in ("am", "sa") and hour == 12:
        hour = 0
    return hour, minute, second


def _value(m: re.Match[str], tz: tzinfo) -> tuple[datetime, bool] | None:
    """The datetime a match denotes, or None for an impossible date (31/02, year 0042)."""
    if m.start() == m.start("wd") and _NOT_A_DAY.search(m.string, max(0, m.start() - 8), m.start()):
        return None
    offset = _offset(m["os"], m["oh"], m["om"]) if m["os"] else timedelta(0) if m["gmt"] else None
    if m["iy"]:
        ymd = int(m["iy"]), int(m["imo"]), int(m["id"])
        hms = (int(m["ih"]), int(m["imi"]), int(m["isec"] or 0)) if m["ih"] else None
        if m["iz"]:
            zone = _ISO_TZ.search(m["iz"])
            offset = _offset(zone[1], zone[2], zone[3]) if zone else timedelta(0)
    else:
        if m["ny"]:
            ymd = int(m["ny"]), int(m["nm"]), int(m["nd"])
        else:
            word = " ".join(m["wm"].lower().split())
            ymd = int(m["wy"]), int(word) if word.isdigit() else _MONTH_WORDS[word], int(m["wd"])
        hms = _hour(m, 1) if m["tf"] else _hour(m, 2) if m["t2"] else None
    if not 1900 <= ymd[0] <= 2100:
        return None
    try:
        naive = datetime(*ymd, *(hms or (0, 0, 0)))
    except ValueError:
        return None
    return naive.replace(tzinfo=_zone(offset, naive, tz)), hms is not None


def _nfc(text: str) -> tuple[str, list[int] | None]:
    """NFC text and, when it differs from ``text``, the original index of each NFC character."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    parts: list[str] = []
    index: list[int] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            piece = unicodedata.normalize("NFC", text[start:i])
            parts.append(piece)
            index.extend([start] * len(piece))
            start = i
    index.append(len(text))
    return "".join(parts), index


def find_datetimes(text: str, *, tz: tzinfo = VN_TZ) -> list[DateMatch]:
    """Every date expression in ``text``, in order (NFD input is read as NFC)."""
    nfc, index = _nfc(text)
    found: list[DateMatch] = []
    for m in _PATTERN.finditer(nfc):
        got = _value(m, tz)
        if got is None:
            continue
        start, end = (index[m.start()], index[m.end()]) if index else m.span()
        raw = text[start:end].rstrip()
        seconds = m["isec"] if m["iy"] else m["s1"] if m["tf"] else m["s2"]
        precision = "second" if got[1] and seconds is not None else "minute" if got[1] else "day"
        found.append(DateMatch(got[0], start, start + len(raw), got[1], raw, precision))
    return found


def parse_vn_datetime(text: str, *, tz: tzinfo = VN_TZ) -> datetime | None:
    """The first date(-time) in ``text`` (words around it allowed), aware; None when there is none."""
    for m in _PATTERN.finditer(normalise_text(text)):
        got = _value(m, tz)
        if got is not None:
            return got[0]
    return None


def parse_iso_datetime(value: str, *, tz: tzinfo = VN_TZ) -> datetime | None:
    """ISO 8601 or RFC 2822 values from ``<time datetime>``, meta tags and JSON-LD.

    Meta content may be entity-encoded (``2026-08-15T06:54:00&#43;07:00``, sometimes twice); naive
    values are local time. A value in the sites' own format is read by ``parse_vn_datetime``.
    """
    if not isinstance(value, str):
        return None  # JSON-LD may hold a list or a number where a date belongs
    text = html.unescape(html.unescape(value)).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return parse_vn_datetime(text, tz=tz)
    naive = parsed.replace(tzinfo=None)
    return naive.replace(tzinfo=_zone(parsed.utcoffset(), naive, tz))


_CLOCK = re.compile(r"\d{1,2}:\d{2}(?P<sec>:\d{2})?")


def iso_precision(value: str) -> str:
    """How precise a machine-readable date is: ``day`` (a date only), ``minute`` or ``second``."""
    clock = _CLOCK.search(html.unescape(html.unescape(value)) if isinstance(value, str) else "")
    return "day" if clock is None else "second" if clock["sec"] else "minute"


def is_today_line(text: str) -> bool:
    """True for a header "today" line: a weekday and a date, no time, nothing else.

    ``Thứ Ba, 23/7/2024`` atop tuyengiao.vn is the day of the visit, never the publication date. The
    test is on shape only: tuyengiaodanvan.vn prints its real publication dates the same way, so the
    caller still decides by position (before the title, outside the article container).
    """
    line = normalise_text(text)
    today = _TODAY.match(line)  # optional words: it always matches, maybe empty
    line = line[today.end():] if today else line
    m = _PATTERN.fullmatch(line)
    return bool(m and m["wk"] and not (m["tf"] or m["t2"] or m["gmt"]) and _value(m, VN_TZ))
