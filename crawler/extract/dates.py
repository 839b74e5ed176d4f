"""The publication date as printed, when no machine-readable one is given.

The date line is the one nearest the title. The header's "today" line has the same shape and sits
above the title too, so it is refused outright (``is_today_line``); only short lines count, so a
date quoted in the body ("ngày 10/4/2023 của Ban Thường vụ") never becomes the publication time.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml.html import HtmlElement

from crawler.extract.clean import element_text, select
from crawler.extract.vndate import find_datetimes, is_today_line, parse_iso_datetime, parse_vn_datetime

_DIGIT = re.compile(r"\d")


def date_from_selector(root: HtmlElement, selector: str) -> datetime | None:
    """The first element matching ``selector`` whose text holds a date and is not a today line."""
    for element in select(root, selector):
        text = element.get("datetime") or element_text(element)
        if text and not is_today_line(text):
            found = parse_iso_datetime(text) if element.get("datetime") else parse_vn_datetime(text)
            if found is not None:
                return found
    return None


def _date_line(text: str) -> tuple[datetime, bool] | None:
    if len(text) > 120 or is_today_line(text):
        return None
    matches = find_datetimes(text)
    if not matches:
        return None
    rest = len(text) - sum(m.end - m.start for m in matches)
    return (matches[0].value, matches[0].has_time) if rest <= 60 else None


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


def date_near_title(root: HtmlElement, title: HtmlElement | None) -> datetime | None:
    """The publication date as printed: ``time[datetime]`` or the date line closest to the title.

    Looks at most 60 elements above the title and, below it, no further than the second long
    paragraph (the lead and the first body paragraph) or 400 elements; a line with a time wins
    over one without.
    """
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    start = next((i for i, e in enumerate(elements) if e is title), 0)
    candidates: list[tuple[int, int, datetime]] = []
    long_seen = 0
    for index in range(max(0, start - 60), min(len(elements), start + 400)):
        element = elements[index]
        if index > start and len(element) == 0 and len(element.text or "") > 150:
            long_seen += 1
            if long_seen >= 2:
                break
        found: tuple[datetime, bool] | None = None
        stamp = element.get("datetime") if element.tag == "time" else None
        if stamp:
            value = parse_iso_datetime(stamp)
            found = (value, "T" in stamp or ":" in stamp) if value else None
        elif len(element) < 6 and _own_digits(element) and (text := element_text(element)):
            found = _date_line(text)
        if found is not None:
            candidates.append((0 if found[1] else 1, abs(index - start), found[0]))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None
