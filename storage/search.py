"""Diacritic-insensitive full-text search over the latest version of each article.

Vietnamese readers (and scripts) type without diacritics: "tuyen giao" must find "tuyên giáo"
and "dang" must find "Đảng". ``record`` and ``rederive`` index the folded title, lead, text, author
and category of the latest version (``index_article``), in the same transaction. On SQLite that
text goes only into the FTS5 table ``articles_fts`` (contentless, ``detail=none``: the words'
rowids and nothing else, so the text is not stored a second and third time; migration 0010); on
PostgreSQL into ``articles.search_text``, whose words PostgreSQL keeps in the generated column
``search_vector`` (``to_tsvector('simple', search_text)``, GIN-indexed; migration 0011), so a query
neither parses text to filter nor to rank (``search_text`` is empty on SQLite). Plain SQL can use
either::

    SELECT a.* FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
    WHERE articles_fts MATCH 'tuyen giao';                                  -- SQLite
    SELECT * FROM articles                                                  -- PostgreSQL
    WHERE search_vector @@ plainto_tsquery('simple', 'tuyen giao');

A contentless FTS5 table forgets an article's old words only when told them: ``index_article``
deletes the previous version's entry by recomputing its text with ``search_text``. A change to
``search_text`` or ``fold`` must therefore come with a migration that rebuilds ``articles_fts``.

Ranking: only the newest ``CANDIDATES`` matching articles are ranked (bm25 / ts_rank), so a query
whose words are in every report costs the same at 1,000 or 100,000 articles: PostgreSQL walks the
primary key backwards and stops at the ``CANDIDATES``-th match (or, for rare words, reads the GIN
index's few matches). The candidates are picked by id alone and ranked after the ``LIMIT``: a
planner without statistics (a fresh bulk load) reads every match, and ``ts_rank`` of several words
costs ~10 µs an article. Only the best ``limit`` then fetch their latest version's text.

Snippets are cut from the original text, not the folded one: folding maps each character to at
most one, so positions found in the folded text point into the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.content import Content, normalise_text
from storage.folding import FOLD_IN_PLACE, fold, fold_char, normalised_search_text, search_text
from storage.models import ArticleRow
from storage.types import AwareDateTime

if TYPE_CHECKING:
    from storage.archive import Archive

__all__ = ["SearchHit", "fold", "fold_char", "index_article", "normalised_search_text", "search", "search_text"]

_WORD = re.compile(r"\w+")
_FTS_DELETE = text("INSERT INTO articles_fts(articles_fts, rowid, search_text) VALUES ('delete', :id, :text)")
_FTS_INSERT = text("INSERT INTO articles_fts(rowid, search_text) VALUES (:id, :text)")


def index_article(session: Session, article: ArticleRow, content: Content, previous: Content | None,
                  folded: str | None = None) -> None:
    """Make ``content`` the article's searchable text, replacing ``previous`` (what was indexed:
    its latest version until now; None for a new article). The article must have its id.
    ``folded``: ``search_text(content)`` computed ahead (``storage.derived``)."""
    folded = search_text(content) if folded is None else folded
    if session.get_bind().dialect.name != "sqlite":
        article.search_text = folded
        return
    if previous is not None:
        session.execute(_FTS_DELETE, {"id": article.id, "text": search_text(previous)})
    session.execute(_FTS_INSERT, {"id": article.id, "text": folded})


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
    folded = body.translate(FOLD_IN_PLACE)  # same length as body
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


CANDIDATES = 1000
"""Matching articles ranked per query: the newest (highest ids) first."""

_SQLITE = """
SELECT a.id, a.site, a.url, a.title, a.published_at, tgwatch_text(v.text) AS text
FROM (SELECT id, score FROM (
        SELECT f.rowid AS id, bm25(articles_fts) AS score FROM articles_fts f {site_join}
        WHERE articles_fts MATCH :query {site} ORDER BY f.rowid DESC LIMIT :candidates)
      ORDER BY score, id DESC LIMIT :limit) m
JOIN articles a ON a.id = m.id
JOIN versions v ON v.article_id = a.id AND v.version = a.current_version
ORDER BY m.score, a.id DESC
"""
_POSTGRESQL = """
SELECT m.id, m.site, m.url, m.title, m.published_at, v.text
FROM (SELECT a.id, a.site, a.url, a.title, a.published_at, a.current_version,
             ts_rank(a.search_vector, plainto_tsquery('simple', :query)) AS score
      FROM (SELECT id FROM articles a
            WHERE a.search_vector @@ plainto_tsquery('simple', :query) {site}
            ORDER BY a.id DESC LIMIT :candidates) c
      JOIN articles a ON a.id = c.id
      ORDER BY score DESC, a.id DESC LIMIT :limit) m
JOIN versions v ON v.article_id = m.id AND v.version = m.current_version
ORDER BY m.score DESC, m.id DESC
"""


def search(
    archive: Archive, words: str, *, site: str | None = None, limit: int = 20
) -> list[SearchHit]:
    """Articles whose latest version holds every word (diacritics ignored), best first."""
    tokens = _tokens(words)
    if not tokens or limit <= 0:
        return []
    sqlite = archive.engine.dialect.name == "sqlite"
    params: dict[str, Any] = {"limit": limit, "site": site, "candidates": max(CANDIDATES, limit)}
    if sqlite:
        params["query"] = " ".join(f'"{t}"' for t in tokens)
        sql = _SQLITE.format(site="AND a.site = :site" if site else "",
                             site_join="JOIN articles a ON a.id = f.rowid" if site else "")
    else:
        params["query"] = " ".join(tokens)
        sql = _POSTGRESQL.format(site="AND a.site = :site" if site else "")
    statement = text(sql).columns(published_at=AwareDateTime())
    with archive.engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    hits = []
    for row in rows:
        spans = snippet_spans(row.text, tokens)
        hit = SearchHit(row.id, row.site, row.url, row.title, row.published_at, marked(spans))
        hits.append(replace(hit, spans=tuple(spans)))
    return hits
