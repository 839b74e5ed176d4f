"""The data a JavaScript application ships inside its HTML, decoded to plain JSON values.

Framework pages carry their content as data for the browser to render: Next.js as ``__NEXT_DATA__``
(pages router) or as ``self.__next_f.push([1, "…"])`` chunks of a React Server Components "flight"
stream (app router), Nuxt as ``__NUXT_DATA__`` (devalue's flat array) or ``window.__NUXT__ = {…}``,
and any page as JSON-LD. Each is decoded here, bounded in size and in the number of values walked,
so a hostile page costs no more than a normal one; what is broken is skipped, never an error.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

from crawler.extract.sanitize import loads_inert

MAX_SCRIPT_CHARS = 4_000_000
"""Data scripts beyond this many characters (all together) are not read."""
MAX_VALUES = 200_000
"""At most this many JSON values are walked per page."""

_PUSH = re.compile(r"self\.__next_f\.push\(\s*(\[.*\])\s*\)\s*;?\s*$", re.DOTALL)
_ROW = re.compile(rb"([0-9a-fA-F]{1,8}):")
_TAG = re.compile(rb"[A-Z]{0,3}")
_NUXT = re.compile(r"window\.__NUXT__\s*=\s*(\{.*\})\s*;?\s*$", re.DOTALL)


def _flight_rows(stream: str) -> tuple[dict[str, Any], bool]:
    """Rows of a flight stream by id; False when a text row's length did not land on a row start."""
    data, pos, rows, exact = stream.encode("utf-8"), 0, {}, True
    while pos < len(data):
        match = _ROW.match(data, pos)
        if match is None:
            newline = data.find(b"\n", pos)
            if newline < 0:
                break
            pos = newline + 1
            continue
        row, pos = match.group(1).decode().lower(), match.end()
        if data[pos:pos + 1] == b"T":
            comma = data.find(b",", pos)
            try:
                size = int(data[pos + 1:comma], 16) if comma > 0 else -1
            except ValueError:
                size = -1
            if size < 0:
                pos += 1
                continue
            end = comma + 1 + size
            rows[row] = data[comma + 1:end].decode("utf-8", "replace")
            if end < len(data) and _ROW.match(data, end) is None and data[end:end + 1] != b"\n":
                exact = False
            pos = end
            continue
        newline = data.find(b"\n", pos)
        end = newline if newline >= 0 else len(data)
        body = data[pos:end]
        body = body[len(_TAG.match(body).group(0)):]  # type: ignore[union-attr]  # matches the empty string
        try:
            rows[row] = loads_inert(body)
        except ValueError:
            pass
        pos = end + 1
    return rows, exact


def flight_rows(stream: str) -> dict[str, Any]:
    """The rows of a flight stream. A page served in another Unicode form (NFD) than the one its
    byte lengths were counted in is read again in NFC."""
    rows, exact = _flight_rows(stream)
    if not exact:
        again, exact_nfc = _flight_rows(unicodedata.normalize("NFC", stream))
        if exact_nfc:
            return again
    return rows


def resolve(value: Any, rows: dict[str, Any]) -> Any:
    """``"$<id>"`` and ``"$L<id>"`` strings replaced by the rows they point at (``"$$x"`` is ``"$x"``),
    within ``MAX_VALUES`` values in all (rows may point at each other many times over)."""
    budget = [MAX_VALUES]

    def at(value: Any, depth: int) -> Any:
        budget[0] -= 1
        if depth > 40 or budget[0] < 0:
            return None
        if isinstance(value, str) and value.startswith("$"):
            if value.startswith("$$"):
                return value[1:]
            ref = (value[2:] if value.startswith("$L") else value[1:]).lower()
            if ref in rows and all(c in "0123456789abcdef" for c in ref):
                return at(rows[ref], depth + 1)
            return value
        if isinstance(value, list):
            return [at(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {k: at(v, depth + 1) for k, v in value.items()}
        return value

    return at(value, 0)


def _devalue(table: list[Any]) -> Any:
    """Nuxt 3's ``__NUXT_DATA__``: a flat array whose numbers point at other entries (devalue)."""
    memo: dict[int, Any] = {}

    def at(index: int, depth: int) -> Any:
        if index in memo or depth > 40 or not 0 <= index < len(table):
            return memo.get(index)
        raw = table[index]
        if isinstance(raw, list):
            if raw and isinstance(raw[0], str) and raw[0] in ("Reactive", "ShallowReactive", "Ref", "ShallowRef"):
                value: Any = at(raw[1], depth + 1) if len(raw) > 1 and isinstance(raw[1], int) else None
            else:
                value = [at(i, depth + 1) if isinstance(i, int) else i for i in raw]
        elif isinstance(raw, dict):
            value = {k: at(i, depth + 1) if isinstance(i, int) else i for k, i in raw.items()}
        else:
            value = raw
        memo[index] = value
        return value

    return at(0, 0) if table else None


def _loads(text: str) -> Any:
    try:
        return loads_inert(text)
    except ValueError:
        return None


MARKERS = ("__next_f", "__NEXT_DATA__", "__NUXT")
"""Where these strings are absent, a page carries no application data (JSON-LD aside)."""


def has_app_data(text: str) -> bool:
    return any(marker in text for marker in MARKERS)


def page_data(root: HtmlElement) -> list[tuple[str, Any]]:
    """Every data payload of the page as (kind, value): ``next``, ``next_f``, ``nuxt``, ``jsonld``."""
    found: list[tuple[str, Any]] = []
    pushes: list[str] = []
    budget = MAX_SCRIPT_CHARS
    for script in root.iter("script"):
        text = script.text or ""
        if not text or len(text) > budget:
            continue
        kind = (script.get("type") or "").lower()
        ident = script.get("id") or ""
        if ident == "__NEXT_DATA__" or kind == "application/ld+json" or ident == "__NUXT_DATA__" \
                or "__next_f" in text or "__NUXT__" in text:
            budget -= len(text)
        else:
            continue
        if ident == "__NEXT_DATA__":
            found.append(("next", _loads(text)))
        elif kind == "application/ld+json":
            found.append(("jsonld", _loads(text)))
        elif ident == "__NUXT_DATA__":
            table = _loads(text)
            found.append(("nuxt", _devalue(table) if isinstance(table, list) else None))
        elif (push := _PUSH.search(text)) is not None:
            chunk = _loads(push.group(1))
            if isinstance(chunk, list) and len(chunk) > 1 and chunk[0] == 1 and isinstance(chunk[1], str):
                pushes.append(chunk[1])
        elif (nuxt := _NUXT.search(text)) is not None:
            found.append(("nuxt", _loads(nuxt.group(1))))
    if pushes:
        rows = flight_rows("".join(pushes))
        found.append(("next_f", resolve(list(rows.values()), rows)))
    return [(kind, value) for kind, value in found if value is not None]


def walk(values: list[tuple[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object inside the payloads (breadth first), at most ``MAX_VALUES`` values."""
    queue: deque[tuple[str, Any]] = deque(values)
    seen = 0
    while queue and seen < MAX_VALUES:
        kind, value = queue.popleft()
        seen += 1
        if isinstance(value, dict):
            yield kind, value
            queue.extend((kind, v) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            queue.extend((kind, v) for v in value if isinstance(v, dict | list))


def strings(values: list[tuple[str, Any]]) -> Iterator[tuple[str, str]]:
    """(key, string) of every string value held directly by an object of the payloads."""
    for _, node in walk(values):
        for key, value in node.items():
            if isinstance(value, str):
                yield key, value
