"""Echoes: the same report on another site, found as versions arrive.

Each new version of an article is indexed in the recording transaction (``index_version``): its
word shingles give MinHash LSH band buckets (``storage.shingles``) stored in ``echo_bands``; the
articles of *other* sites sharing a bucket are the candidates, and each candidate is confirmed
on the exact shingles of both current texts: an echo is a pair whose shared shingles make up at
least ``CONTAINMENT`` of the shorter text (so an excerpt of a third of a report counts, a report
of the same event in other words or one sharing only standard phrases does not). The original
is the one published first, then the one seen first; ``lag_seconds`` is how much later the copy
came; ``echo_findings`` say how the copy differs in its words (``storage.anatomy`` on title, lead,
text and author: a section name and a publication time differ from site to site anyway). A new version of either
side re-judges its pairs. The index lives in SQL, so it survives restarts and a lookup is a few
index probes, however many versions there are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import cast

from sqlalchemy import Table, delete, insert, or_, select
from sqlalchemy.orm import Session, aliased

from storage.anatomy import Finding, analyse
from storage.content import Content
from storage.derived import EchoEntry, echo_of
from storage.engine import placeholder
from storage.models import ArticleRow, VersionRow
from storage.models_echoes import EchoBandRow, EchoFindingRow, EchoIndexRow, EchoRow
from storage.shingles import bands, containment, estimate, minhash_values, overlap, packed, shingles
from storage.types import now

logger = logging.getLogger(__name__)

CONTAINMENT = 0.5
"""Shared shingles over the shorter text's, at least: an echo."""

CANDIDATES = 200
"""Candidates estimated per lookup (from their stored signatures), those sharing most bands first."""

ESTIMATE = 0.3
"""Candidates whose estimated containment reaches this are confirmed on their texts."""

EXCERPT = 0.6
"""An echo whose shorter text has at most this share of the longer's shingles is an ``excerpt``."""


@dataclass(frozen=True)
class Echo:
    """A near-duplicate pair as readers see it."""

    id: int
    original_id: int
    original_site: str
    original_title: str
    original_url: str
    copy_id: int
    copy_site: str
    copy_title: str
    copy_url: str
    similarity: float
    containment: float
    lag_seconds: int
    kind: str
    differs: str | None
    detected_at: datetime
    findings: tuple[Finding, ...] = ()


def index_version(session: Session, article: ArticleRow, content: Content, at: datetime,
                  echo: EchoEntry | None = None, *, new: bool = False, indexed: str | None = None) -> int:
    """Index ``article``'s new version and (re-)judge its echoes; the number of echoes it has now.

    ``echo``: the text's entry computed ahead (``storage.derived``), or None to compute it here.
    ``new``: the article was created in this transaction, so the index cannot hold it yet.
    ``indexed``: the text the index holds for it, when the caller has it and it is no longer in
    ``versions`` (a re-extraction rewrote it); else it is read there, if the article was indexed."""
    if echo is None:
        try:
            echo = echo_of(content.text)
        except (ImportError, MemoryError) as exc:  # a crawl child short of memory cannot load numpy
            logger.warning("echo index: %s not indexed (%s); `tgwatch echoes --index` will do it",
                           article.url, type(exc).__name__, exc_info=True)
            return 0
    sig, size = echo.signature, echo.shingles
    entry = None if new else session.get(EchoIndexRow, article.id)
    if entry is not None:  # a later version: its old bands and pairs go (core statements: no ORM sync)
        plain = {"synchronize_session": False}
        if entry.signature is not None:
            _forget_bands(session, article.id, entry, indexed)
        session.execute(delete(EchoRow).where(or_(EchoRow.original_article_id == article.id,
                                                   EchoRow.copy_article_id == article.id)),
                        execution_options=plain)
        entry.version, entry.shingles, entry.indexed_at, entry.signature = article.current_version, size, at, sig
    else:  # a core INSERT: a pending ORM row would cost a flush before the lookup below
        session.execute(_INSERT_INDEX, {"article_id": article.id, "version": article.current_version,
                                        "shingles": size, "indexed_at": at, "signature": sig})
    if sig is None:
        return 0
    echoes = 0
    found: frozenset[str] | None = None  # the exact shingles, only when there are candidates to confirm
    for other, other_content in candidates(session, article.site, echo):
        found = found if found is not None else shingles(content.text)
        theirs = shingles(other_content.text)
        similarity, containment = overlap(found, theirs)
        if containment >= CONTAINMENT:
            sizes = (len(found), len(theirs))
            _record(session, (article, content), (other, other_content), similarity, containment, at, sizes)
            echoes += 1
    connection = session.connection()
    connection.exec_driver_sql(_insert_bands_sql(connection.dialect.paramstyle),
                               [(bucket, article.id) for bucket in dict.fromkeys(echo.bands)])  # keys may repeat
    return echoes


_INSERT_INDEX = insert(cast(Table, EchoIndexRow.__table__))


@lru_cache(maxsize=4)
def _insert_bands_sql(paramstyle: str) -> str:
    """A version's band rows: one executemany of the driver's SQL (through SQLAlchemy's statement,
    each of the 48 rows' parameters was processed in Python, in the crawl's main thread)."""
    mark = placeholder(paramstyle)
    return f"INSERT INTO echo_bands (bucket, article_id) VALUES ({mark}, {mark})"


def _forget_bands(session: Session, article_id: int, entry: EchoIndexRow, indexed: str | None) -> None:
    """Delete the article's band rows, found by the primary key (no index by article): their keys
    are those of the text it was indexed with, the stored signature keeping too few bits to give
    them (``storage.shingles``). When that text no longer gives the stored signature (rewritten
    without re-indexing, or gone), every row of the article goes: a scan of the table, but none
    is left behind to make a false candidate."""
    plain = {"synchronize_session": False}
    if indexed is None:
        indexed = session.scalar(select(VersionRow.text).where(VersionRow.article_id == article_id,
                                                               VersionRow.version == entry.version))
    try:
        values = minhash_values(shingles(str(indexed))) if indexed is not None else None
    except (ImportError, MemoryError):  # numpy cannot be loaded: the scan still finds them
        values = None
    if values is not None and packed(values) == entry.signature:
        mine = delete(EchoBandRow).where(EchoBandRow.bucket.in_(bands(values)), EchoBandRow.article_id == article_id)
    else:
        logger.info("echo index: article %s's indexed text cannot give its bands; they are deleted by a scan",
                    article_id)
        mine = delete(EchoBandRow).where(EchoBandRow.article_id == article_id)
    session.execute(mine, execution_options=plain)


_LOOKUP = (
    "SELECT i.article_id, i.shingles, i.signature FROM echo_index i JOIN ("
    " SELECT b.article_id, count(*) AS shared FROM echo_bands b JOIN articles a ON a.id = b.article_id"
    " WHERE b.bucket IN ({keys}) AND a.site <> {mark} GROUP BY b.article_id"
    " ORDER BY shared DESC, b.article_id LIMIT {limit}) h ON h.article_id = i.article_id"
    " WHERE i.signature IS NOT NULL ORDER BY i.article_id"
)


@lru_cache(maxsize=8)
def _lookup_sql(paramstyle: str, keys: int) -> str:
    """``_LOOKUP`` in the driver's own placeholders (sqlite3's ``?``, psycopg's ``%s``)."""
    mark = placeholder(paramstyle)
    return _LOOKUP.format(keys=", ".join([mark] * keys), mark=mark, limit=CANDIDATES)


def lookup(session: Session, site: str, echo: EchoEntry) -> list[int]:
    """Articles of other sites likely to be echoes of a text: the ``CANDIDATES`` sharing most LSH
    band buckets with it, then close enough by their stored signatures (estimated containment
    ``ESTIMATE`` or more); in ``article_id`` order. One query, the band probes (by bucket first:
    the primary key's prefix, one index probe per band) with the candidates' signatures, sent as
    the driver's SQL: building and compiling a statement cost the crawl's main thread 4 times
    what the database does (``tgwatch`` runs it for every new version)."""
    if echo.signature is None or not echo.bands:
        return []
    connection = session.connection()
    sql = _lookup_sql(connection.dialect.paramstyle, len(echo.bands))
    stored = connection.exec_driver_sql(sql, (*echo.bands, site)).all()
    near = estimate(echo.signature, [bytes(signature) for _, _, signature in stored])
    return [article_id for (article_id, shingles_, _), jaccard in zip(stored, near)
            if containment(jaccard, echo.shingles, shingles_) >= ESTIMATE]


def candidates(session: Session, site: str, echo: EchoEntry) -> list[tuple[ArticleRow, Content]]:
    """The ``lookup`` articles with their current content, to be confirmed on exact shingles."""
    chosen = lookup(session, site, echo)
    if not chosen:
        return []
    query = (select(ArticleRow, VersionRow)
             .join(VersionRow, (VersionRow.article_id == ArticleRow.id)
                   & (VersionRow.version == ArticleRow.current_version))
             .where(ArticleRow.id.in_(chosen)))
    found = {article.id: (article, version.content()) for article, version in session.execute(query).all()}
    return [found[article_id] for article_id in chosen if article_id in found]


def _first(article: ArticleRow) -> tuple[bool, datetime, datetime, int]:
    """Sort key of "the original": published first (an undated report after a dated one), then seen first."""
    published = article.published_at
    return published is None, published or article.first_seen_at, article.first_seen_at, article.id


def _record(session: Session, one: tuple[ArticleRow, Content], two: tuple[ArticleRow, Content],
            similarity: float, containment: float, at: datetime, sizes: tuple[int, int]) -> None:
    """The pair as an echo; ``sizes``: the two texts' numbers of distinct shingles."""
    (original, old), (copy, new) = sorted((one, two), key=lambda pair: _first(pair[0]))
    if original.published_at is not None and copy.published_at is not None:
        lag = (copy.published_at - original.published_at).total_seconds()
    else:
        lag = (copy.first_seen_at - original.first_seen_at).total_seconds()
    findings = analyse(old, replace(new, published_at=old.published_at, category=old.category))
    smaller, larger = sorted(sizes)
    kind = "excerpt" if smaller <= EXCERPT * larger else "copy" if not findings else "edited copy"
    echo = EchoRow(original_article_id=original.id, copy_article_id=copy.id,
                   original_version=original.current_version, copy_version=copy.current_version,
                   similarity=round(similarity, 4), containment=round(containment, 4), lag_seconds=int(lag),
                   kind=kind, differs=",".join(dict.fromkeys(f.kind for f in findings)) or None, detected_at=at)
    session.add(echo)
    session.flush()
    session.add_all(EchoFindingRow(echo_id=echo.id, seq=seq, kind=f.kind, field=f.field, before=f.before,
                                   after=f.after, context=f.context) for seq, f in enumerate(findings))


def index_missing(session: Session, *, after: int = 0, batch: int = 200, again: bool = False) -> list[int]:
    """Index the current version of up to ``batch`` articles with ids above ``after`` that the
    index does not hold (``again``: every one); their ids, for the caller's next batch."""
    query = select(ArticleRow).where(ArticleRow.id > after).order_by(ArticleRow.id).limit(batch)
    if not again:
        query = query.where(~select(EchoIndexRow.article_id).where(
            EchoIndexRow.article_id == ArticleRow.id, EchoIndexRow.version == ArticleRow.current_version).exists())
    done = []
    for article in session.scalars(query).all():
        version = session.scalars(select(VersionRow).where(
            VersionRow.article_id == article.id, VersionRow.version == article.current_version)).one()
        index_version(session, article, version.content(), now())
        done.append(article.id)
    return done


def load_echoes(session: Session, *, site: str | None = None, since: datetime | None = None,
                limit: int = 0, with_findings: bool = False, article_id: int | None = None) -> list[Echo]:
    """Echoes, newest copy first; ``site`` matches either side, ``since`` the detection time,
    ``article_id`` one article's (as original or as copy)."""
    original, copy = aliased(ArticleRow), aliased(ArticleRow)
    query = (select(EchoRow, original, copy)
             .join(original, original.id == EchoRow.original_article_id)
             .join(copy, copy.id == EchoRow.copy_article_id)
             .order_by(EchoRow.detected_at.desc(), EchoRow.id.desc()))
    if site:
        query = query.where(or_(original.site == site, copy.site == site))
    if since is not None:
        query = query.where(EchoRow.detected_at >= since)
    if article_id is not None:
        query = query.where(or_(EchoRow.original_article_id == article_id, EchoRow.copy_article_id == article_id))
    if limit > 0:
        query = query.limit(limit)
    rows = session.execute(query).all()
    findings: dict[int, list[Finding]] = {}
    if with_findings and rows:
        ids = [echo.id for echo, _, _ in rows]
        for f in session.scalars(select(EchoFindingRow).where(EchoFindingRow.echo_id.in_(ids))
                                 .order_by(EchoFindingRow.echo_id, EchoFindingRow.seq)):
            findings.setdefault(f.echo_id, []).append(Finding(f.kind, f.field, f.before, f.after, f.context))
    return [Echo(e.id, o.id, o.site, o.title, o.url, c.id, c.site, c.title, c.url, e.similarity, e.containment,
                 e.lag_seconds, e.kind, e.differs, e.detected_at, tuple(findings.get(e.id, ())))
            for e, o, c in rows]
