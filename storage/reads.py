"""What the crawler and the CLI read back from the archive, as plain frozen values.

The crawler plans re-checks and conditional requests from ``known_articles``/``validators``; the
CLI diffs versions and re-extracts from stored captures. They get dataclasses, not ORM rows, so
nothing outside ``storage`` depends on sessions or lazy loading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage.content import Content
from storage.models import ArticleRow, CaptureRow, VersionRow
from storage.refs import prefetch
from storage.urls import canonical_url


@dataclass(frozen=True)
class KnownArticle:
    """What the re-check policy and conditional requests need to know about one article."""

    id: int
    url: str
    first_seen_at: datetime
    last_checked_at: datetime
    last_changed_at: datetime
    published_at: datetime | None
    removed_at: datetime | None
    etag: str | None
    last_modified: str | None
    gone_signals: int
    failed_checks: int = 0


@dataclass(frozen=True)
class Validators:
    """HTTP validators of the latest response, for ``If-None-Match``/``If-Modified-Since``."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class StoredVersion:
    id: int
    article_id: int
    version: int
    fetched_at: datetime
    content: Content
    content_hash: str


@dataclass(frozen=True)
class StoredCapture:
    """One version's raw response, decompressed, with what re-extraction needs to find a profile."""

    version_id: int
    article_id: int
    site: str
    article_url: str
    version: int
    fetched_at: datetime
    url: str  # final URL of the response
    status: int
    headers: dict[str, Any]
    body: bytes


def article_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ArticleRow)) or 0


def known_articles(session: Session, site: str) -> list[KnownArticle]:
    columns = [getattr(ArticleRow, f.name) for f in fields(KnownArticle)]
    rows = session.execute(select(*columns).where(ArticleRow.site == site).order_by(ArticleRow.id))
    return [KnownArticle(*row) for row in rows]


def validators(session: Session, site: str, url: str) -> Validators | None:
    """None when the URL is unknown or its last response carried no validator."""
    row = session.execute(
        select(ArticleRow.etag, ArticleRow.last_modified).where(
            ArticleRow.site == site, ArticleRow.url == canonical_url(url)
        )
    ).one_or_none()
    if row is None or (row.etag is None and row.last_modified is None):
        return None
    return Validators(row.etag, row.last_modified)


def article_id(session: Session, article: int | str) -> int | None:
    """An article named by id (int or digits) or by URL (any spelling of it)."""
    if isinstance(article, int) or article.strip().isdigit():
        found = session.get(ArticleRow, int(article))
        return found.id if found is not None else None
    query = select(ArticleRow.id).where(ArticleRow.url == canonical_url(article))
    ids = session.scalars(query.order_by(ArticleRow.id)).all()
    return ids[0] if ids else None


def article_versions(session: Session, article: int | str) -> list[StoredVersion]:
    """Every version of one article, oldest first; empty when the article is unknown."""
    found = article_id(session, article)
    if found is None:
        return []
    rows = session.scalars(
        select(VersionRow).where(VersionRow.article_id == found).order_by(VersionRow.version)
    )
    return [stored_version(v) for v in rows]


def capture_query() -> Select[CaptureRow, VersionRow, str, str]:
    """Captures with their version, site and article URL: rows for ``stored_capture``."""
    return (
        select(CaptureRow, VersionRow, ArticleRow.site, ArticleRow.url)
        .join(VersionRow, CaptureRow.version_id == VersionRow.id)
        .join(ArticleRow, VersionRow.article_id == ArticleRow.id)
    )


def stored_capture(row: Sequence[Any]) -> StoredCapture:
    """A ``capture_query`` row as a frozen value, the body decompressed."""
    c, v, site, article_url = row
    return StoredCapture(
        version_id=v.id,
        article_id=v.article_id,
        site=site,
        article_url=article_url,
        version=v.version,
        fetched_at=v.fetched_at,
        url=c.url,
        status=c.status,
        headers=dict(c.headers),
        body=c.html(),
    )


def stored_version(v: VersionRow) -> StoredVersion:
    return StoredVersion(v.id, v.article_id, v.version, v.fetched_at, v.content(), v.content_hash)


def iter_captures(
    reading: Callable[[], AbstractContextManager[Session]],
    site: str | None = None,
    *,
    batch: int = 200,
) -> Iterator[StoredCapture]:
    """Every stored capture, by version id, read in short transactions of ``batch`` rows.

    Short transactions let the caller write (``rederive``) between batches without holding a
    read snapshot open for the whole archive.
    """
    after = 0
    while True:
        query = capture_query().where(VersionRow.id > after).order_by(VersionRow.id).limit(batch)
        if site is not None:
            query = query.where(ArticleRow.site == site)
        with reading() as session:
            rows = session.execute(query).all()
            prefetch(session, [row[0] for row in rows])  # the versions their refs name, in one query
            found = [stored_capture(row) for row in rows]
        yield from found
        if len(found) < batch:
            return
        after = found[-1].version_id
