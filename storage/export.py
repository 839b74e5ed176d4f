"""What ``tgwatch export warc`` reads: every capture, and the last check that found it unchanged.

The archive keeps each distinct version's raw response (``captures``) and, per article, when it
was last checked (``articles.last_checked_at``). A check that found the page unchanged adds no row,
so the last such check of a live article's current version is the one revisit the archive can
vouch for. Captures are read by version id in short transactions of ``batch`` rows, so an export
holds at most one batch of bodies in memory, whatever the archive's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from storage.models import ArticleRow, VersionRow
from storage.reads import StoredCapture, capture_query, stored_capture
from storage.refs import prefetch


@dataclass(frozen=True)
class ExportedCapture:
    capture: StoredCapture
    rechecked_at: datetime | None  # a later check found this (current) version unchanged
    fetched_in_range: bool = True  # False: only its revisit is in the time range asked for


def iter_export(
    reading: Callable[[], AbstractContextManager[Session]],
    sites: Sequence[str] = (),
    since: datetime | None = None,
    *,
    batch: int = 50,
) -> Iterator[ExportedCapture]:
    """Captures of ``sites`` (all when empty) fetched since ``since``, or rechecked since then."""
    current = VersionRow.version == ArticleRow.current_version
    unchanged_since = and_(
        current,
        ArticleRow.removed_at.is_(None),
        ArticleRow.gone_signals == 0,  # the last answered check was not a removal signal
        ArticleRow.last_checked_at > VersionRow.fetched_at,
    )
    after = 0
    while True:
        query = (
            capture_query()
            .add_columns(ArticleRow.last_checked_at, unchanged_since)
            .where(VersionRow.id > after)
            .order_by(VersionRow.id)
            .limit(batch)
        )
        if sites:
            query = query.where(ArticleRow.site.in_(list(sites)))
        if since is not None:
            rechecked = and_(unchanged_since, ArticleRow.last_checked_at >= since)
            query = query.where(or_(VersionRow.fetched_at >= since, rechecked))
        with reading() as session:
            rows = session.execute(query).all()
            prefetch(session, [row[0] for row in rows])  # the versions their refs name, in one query
            found = [_exported(stored_capture(row[:4]), row[4] if row[5] else None, since) for row in rows]
        yield from found
        if len(rows) < batch:
            return
        after = found[-1].capture.version_id


def _exported(capture: StoredCapture, rechecked_at: datetime | None, since: datetime | None) -> ExportedCapture:
    in_range = since is None or capture.fetched_at >= since
    return ExportedCapture(capture, rechecked_at, in_range)
