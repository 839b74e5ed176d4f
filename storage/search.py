"""Diacritic-insensitive full-text search over the latest version of each article.

Vietnamese readers (and scripts) type without diacritics: "tuyen giao" must find "tuyên giáo"
and "dang" must find "Đảng". ``record`` and ``rederive`` keep ``articles.search_text``, the folded
title, lead, text, author and category of the latest version, in the same transaction. It is
indexed by an FTS5 table ``articles_fts`` on SQLite and by a GIN index over
``to_tsvector('simple', search_text)`` on PostgreSQL, so plain SQL can use it too::

    SELECT a.* FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
    WHERE articles_fts MATCH 'tuyen giao';                                  -- SQLite
    SELECT * FROM articles                                                  -- PostgreSQL
    WHERE to_tsvector('simple', search_text) @@ plainto_tsquery('simple', 'tuyen giao');

Snippets are cut from the original text, not the folded one: folding maps each character to at
most one, so positions found in the folded text point into the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from storage.content import Content, normalise_text
from storage.types import AwareDateTime

if TYPE_CHECKING:
    from storage.archive import Archive

_WORD = re.compile(r"\w+")
_SPECIAL = {"đ": "d", "Đ": "d", "ð": "d", "ı": "i", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"}


def fold_char(char: str) -> str:
    """One character without its diacritics, lower-case; at most one character out."""
    if char in _SPECIAL:
        return _SPECIAL[char]
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    lowered = base.lower()
    return lowered if len(lowered) == 1 else (base[:1].lower() if base else "")


def fold(value: str) -> str:
    """Text as it is indexed and searched: no diacritics, đ as d, lower-case."""
    return "".join(fold_char(c) for c in unicodedata.normalize("NFC", value))


def search_text(content: Content) -> str:
    """The folded text of one version: what ``articles.search_text`` holds."""
    n = content.normalised()
    lead = n.lead if n.lead and n.lead not in n.text else None  # the text usually starts with it
    parts = [n.title, lead, n.text, n.author, n.category]
    return fold("\n".join(p for p in parts if p))


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    site: str
    url: str
    title: str
    published_at: datetime | None
    snippet: str
    spans: tuple[tuple[str, bool], ...] = field(default=(), compare=False, repr=False)


def _tokens(words: str) -> list[str]:
    return _WORD.findall(fold(words))


def snippet_spans(body: str, tokens: list[str], width: int = 200) -> list[tuple[str, bool]]:
    """About ``width`` characters of ``body`` around the first hit, as (text, is_hit) spans."""
    body = normalise_text(body).replace("\n", " ")
    folded = "".join(fold_char(c) or " " for c in body)  # same length as body
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, tokens)) + r")\b")
    first = pattern.search(folded)
    start = 0 if first is None else max(0, first.start() - width // 3)
    if start:
        start = body.find(" ", start) + 1 or start
    end = min(len(body), start + width)
    if end < len(body) and (cut := body.rfind(" ", start, end)) > start:
        end = cut
    spans: list[tuple[str, bool]] = [("…", False)] if start else []
    last = start
    for hit in pattern.finditer(folded, start, end):
        spans += [(body[last : hit.start()], False), (body[hit.start() : hit.end()], True)]
        last = hit.end()
    spans.append((body[last:end], False))
    if end < len(body):
        spans.append(("…", False))
    return [span for span in spans if span[0]]


def marked(spans: list[tuple[str, bool]]) -> str:
    """Snippet spans as text, hits wrapped in « »."""
    return "".join(f"«{text}»" if hit else text for text, hit in spans)


def snippet(body: str, tokens: list[str], width: int = 200) -> str:
    return marked(snippet_spans(body, tokens, width))


_SQLITE = """
SELECT a.id, a.site, a.url, a.title, a.published_at, v.text
FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
WHERE articles_fts MATCH :query {site}
ORDER BY bm25(articles_fts), a.id DESC LIMIT :limit
"""
_POSTGRESQL = """
SELECT a.id, a.site, a.url, a.title, a.published_at, v.text
FROM articles a JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
WHERE to_tsvector('simple', a.search_text) @@ plainto_tsquery('simple', :query) {site}
ORDER BY ts_rank(to_tsvector('simple', a.search_text), plainto_tsquery('simple', :query)) DESC,
         a.id DESC
LIMIT :limit
"""


def search(
    archive: Archive, words: str, *, site: str | None = None, limit: int = 20
) -> list[SearchHit]:
    """Articles whose latest version holds every word (diacritics ignored), best first."""
    tokens = _tokens(words)
    if not tokens or limit <= 0:
        return []
    sqlite = archive.engine.dialect.name == "sqlite"
    params: dict[str, Any] = {"limit": limit, "site": site}
    if sqlite:
        params["query"] = " ".join(f'"{t}"' for t in tokens)
    else:
        params["query"] = " ".join(tokens)
    sql = (_SQLITE if sqlite else _POSTGRESQL).format(site="AND a.site = :site" if site else "")
    statement = text(sql).columns(published_at=AwareDateTime())
    with archive.engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    hits = []
    for row in rows:
        spans = snippet_spans(row.text, tokens)
        hit = SearchHit(row.id, row.site, row.url, row.title, row.published_at, marked(spans))
        hits.append(replace(hit, spans=tuple(spans)))
    return hits
