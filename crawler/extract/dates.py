"""The publication date: machine-readable metadata ranked against the date line as printed.

The date line is the one nearest the title. The header's "today" line has the same shape and sits
above the title too, so it is refused outright (``is_today_line``); only short lines count, so a
date quoted in the body ("ngày 10/4/2023 của Ban Thường vụ") never becomes the publication time.
Every date carries its precision (``day`` when no time was given, ``minute``, ``second``), so a
day printed alone is never read as a stated 00:00; ``rank`` weighs metadata against the printed line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lxml.html import HtmlElement

from crawler.extract.clean import element_text, select
from crawler.extract.vndate import (find_datetimes, is_today_line, iso_precision, parse_iso_datetime,
                                    parse_vn_datetime)
from storage.content import VN_TZ

_DIGIT = re.compile(r"\d")
_RANK = {"day": 0, "minute": 1, "second": 2}


@dataclass(frozen=True)
class Dated:
    """A publication time and how much of it the page stated (``day``, ``minute`` or ``second``)."""

    value: datetime
    precision: str

    @property
    def timed(self) -> bool:
        """A time of day the page gave (a CMS's default midnight is no time)."""
        return self.precision != "day" and self.value.timetz().replace(tzinfo=None) != datetime.min.time()


def machine(value: str | None) -> Dated | None:
    """A machine-readable value (ISO 8601, RFC 2822, or the sites' own format) with its precision."""
    parsed = parse_iso_datetime(value) if value else None
    return Dated(parsed, iso_precision(value)) if parsed is not None and value else None


def rank(meta: Dated | None, printed: Dated | None, *, trust_printed: bool = False) -> Dated | None:
    """The publication time from metadata and the printed date line.

    On the same day the more precise one wins (a date-only or midnight ``datePublished`` takes the
    printed time; a printed minute takes the metadata's seconds and offset). On different days the
    metadata wins, unless ``trust_printed`` (a profile's date selector names the line).
    """
    if meta is None or printed is None:
        return meta or printed
    same_day = meta.value.astimezone(VN_TZ).date() == printed.value.astimezone(VN_TZ).date()
    if not same_day:
        return printed if trust_printed else meta
    if printed.timed and not meta.timed:
        return printed
    if meta.timed and not printed.timed:
        return meta
    if meta.timed and printed.timed and abs((meta.value - printed.value).total_seconds()) >= 60:
        return printed if trust_printed else meta
    return meta if _RANK[meta.precision] >= _RANK[printed.precision] else printed


def itemprop_date(root: HtmlElement) -> Dated | None:
    """``itemprop="datePublished"`` in the page body (microdata): its content, datetime or text."""
    for element in root.iterfind(".//*[@itemprop='datePublished']"):
        value = element.get("content") or element.get("datetime") or element_text(element)
        if (found := machine(value)) is not None:
            return found
    return None


def _printed(text: str) -> Dated | None:
    match = next(iter(find_datetimes(text)), None)
    return Dated(match.value, match.precision) if match is not None else None


def date_from_selector(root: HtmlElement, selector: str) -> Dated | None:
    """The first element matching ``selector`` whose text holds a date and is not a today line."""
    for element in select(root, selector):
        text = element.get("datetime") or element_text(element)
        if text and not is_today_line(text):
            found = machine(text) if element.get("datetime") else _printed(text)
            if found is None and not element.get("datetime") and (value := parse_vn_datetime(text)):
                found = Dated(value, "day")
            if found is not None:
                return found
    return None


def _date_line(text: str) -> Dated | None:
    if len(text) > 120 or is_today_line(text):
        return None
    matches = find_datetimes(text)
    if not matches:
        return None
    rest = len(text) - sum(m.end - m.start for m in matches)
    return Dated(matches[0].value, matches[0].precision) if rest <= 60 else None


def is_date_line(text: str) -> bool:
    """A short line that is mostly a date (a dateline, not a sentence mentioning one)."""
    return _date_line(text) is not None


_INLINE = frozenset({"span", "time", "b", "strong", "i", "em", "img", "small", "font", "a", "abbr", "label", "br"})


def _own_digits(element: HtmlElement) -> bool:
    """Whether the element's own text (not its children's) has a digit: where a date line lives.

    A line of inline pieces only (``<span>15/08/2024</span> <span>08:30</span>``: date and time in
    spans of their own) counts as one line too, so the time printed beside the day is not lost.
    """
    if _DIGIT.search(element.text or "") or any(_DIGIT.search(c.tail or "") for c in element):
        return True
    return len(element) > 1 and all(isinstance(c.tag, str) and c.tag in _INLINE for c in element)


def date_near_title(root: HtmlElement, title: HtmlElement | None) -> Dated | None:
    """The publication date as printed: ``time[datetime]`` or the date line closest to the title.

    Looks at most 60 elements above the title and, below it, no further than the second long
    paragraph (the lead and the first body paragraph) or 400 elements; a line with a time wins
    over one without.
    """
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    start = next((i for i, e in enumerate(elements) if e is title), 0)
    candidates: list[tuple[int, int, Dated]] = []
    long_seen = 0
    for index in range(max(0, start - 60), min(len(elements), start + 400)):
        element = elements[index]
        if index > start and len(element) == 0 and len(element.text or "") > 150:
            long_seen += 1
            if long_seen >= 2:
                break
        found: Dated | None = None
        stamp = element.get("datetime") if element.tag == "time" else None
        if stamp:
            found = machine(stamp)
        elif len(element) < 6 and _own_digits(element) and (text := element_text(element)):
            found = _date_line(text)
        if found is not None:
            candidates.append((0 if found.precision != "day" else 1, abs(index - start), found))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None
