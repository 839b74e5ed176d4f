"""The folded text search indexes: no diacritics, đ as d, lower case (``storage.search``).

Apart from ``storage.search`` so that an extraction worker, which derives a version's search text
ahead of recording (``storage.derived``), does not import SQLAlchemy and the models for it.
"""

from __future__ import annotations

import unicodedata

from storage.content import Content

_SPECIAL = {"đ": "d", "Đ": "d", "ð": "d", "ı": "i", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"}


def fold_char(char: str) -> str:
    """One character without its diacritics, lower-case; at most one character out."""
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    lowered = base.lower()
    return lowered if len(lowered) == 1 else (base[:1].lower() if base else "")


class _FoldTable(dict[int, str]):
    """``str.translate`` table computing ``fold_char`` on first sight of a character (cached below
    U+3000: Vietnamese and every Latin letter, so hostile text cannot grow the cache unbounded);
    ``blank`` stands in for a character that folds to nothing."""

    def __init__(self, blank: str = "") -> None:
        super().__init__()
        self.blank = blank

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code)) or self.blank
        if code < 0x3000:
            self[code] = folded
        return folded


_FOLD = _FoldTable()
FOLD_IN_PLACE = _FoldTable(blank=" ")
"""Folds one character to exactly one: positions in the folded text are positions in the original
(snippets are cut from the original where the folded text matched)."""


def fold(value: str) -> str:
    """Text as it is indexed and searched: no diacritics, đ as d, lower-case."""
    return unicodedata.normalize("NFC", value).translate(_FOLD)


def search_text(content: Content) -> str:
    """The folded text of one version: what ``articles_fts`` (or ``articles.search_text``) indexes."""
    return normalised_search_text(content.normalised())


def normalised_search_text(n: Content) -> str:
    """``search_text`` of a content already normalised (``Content.normalised``)."""
    lead = n.lead if n.lead and n.lead not in n.text else None  # the text usually starts with it
    parts = [n.title, lead, n.text, n.author, n.category]
    return fold("\n".join(p for p in parts if p))
