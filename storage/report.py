"""The queries behind the change report (``tgwatch serve`` and ``tgwatch report``).

The web layer runs no SQL of its own: it asks these functions for frozen values, over a session of
the read-only engine (``storage.readonly.readonly_engine``). Every listing is bounded (a page of
rows); counts use the ``changes`` indexes (``detected_at``, ``article_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.changes import ChangeInfo, load_changes
from storage.engine import first_line
from storage.errors import ArchiveError

from storage.models import ArticleRow, CaptureRow, ChangeRow, VersionRow
from storage.reads import StoredCapture, StoredVersion, capture_query, stored_capture, stored_version
from storage.vocabulary import CHANGE_KINDS, FLAGGED_KINDS



@dataclass(frozen=True)
class ChangeFilter:
    """Which changes to list: what ``tgwatch changes`` and the report's URL both say."""

    site: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    field: str | None = None  # a content field the change names (title, text, author...)
    substance: str | None = None  # edits that are "substantive" or "cosmetic" (listing only, not counts)


@dataclass(frozen=True)
class ChangePage:
    lines: list[ChangeInfo]
    total: int  # changes matching the filter
    by_kind: dict[str, int]  # matching the filter but its kind
    by_site: dict[str, int]  # matching the filter but its site


@dataclass(frozen=True)
class ArticleInfo:
    id: int
    site: str
    url: str
    title: str
    first_seen_at: datetime
    last_checked_at: datetime
    removed_at: datetime | None
    current_version: int


@dataclass(frozen=True)
class VersionLine:
    """One version on an article's timeline."""

    id: int
    version: int
    fetched_at: datetime
    published_at: datetime | None
    has_capture: bool


def _conditions(where: ChangeFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions beyond what ``load_changes`` takes (site, kinds, since)."""
    found: list[ColumnElement[bool]] = []
    if where.until is not None:
        found.append(ChangeRow.detected_at < where.until)
    if where.field:
        listed = literal(",") + ChangeRow.fields + literal(",")
        found.append(listed.like(f"%,{where.field},%"))
    return found


def _filtered(query: Select[Any], where: ChangeFilter, *, skip: str = "") -> Select[Any]:
    """``query`` (over changes joined to articles) restricted by ``where`` (but ``skip``)."""
    kinds = [where.kind] if where.kind and skip != "kind" else list(FLAGGED_KINDS)
    query = query.where(ChangeRow.kind.in_(kinds), *_conditions(where))
    if where.site and skip != "site":
        query = query.where(ArticleRow.site == where.site)
    if where.since is not None:
        query = query.where(ChangeRow.detected_at >= where.since)
    return query


def _joined(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(ChangeRow).join(ArticleRow, ArticleRow.id == ChangeRow.article_id)


def change_lines(
    session: Session, where: ChangeFilter, *, offset: int = 0, limit: int = 50, total: int | None = None
) -> list[ChangeInfo]:
    """Changes matching ``where``, newest first (``storage.changes.load_changes``); ``limit <= 0``: all.

    ``total``: how many match, when the caller counted them; a page in the older half of the list is
    then read from the oldest end (an OFFSET costs the rows it skips: the last page of 100,000 changes
    took 250 ms from the newest end, and takes as long as the first from the other).
    """
    kinds = [where.kind] if where.kind else FLAGGED_KINDS
    common: dict[str, Any] = dict(
        site=where.site, kinds=kinds, since=where.since, with_versions=False, where=_conditions(where),
        substance=where.substance,
    )
    if total is not None and limit > 0 and offset > total // 2:
        end = min(offset + limit, total)
        if end <= offset:
            return []
        older = load_changes(session, limit=end - offset, offset=total - end, oldest_first=True, **common)
        return older[::-1]
    return load_changes(session, limit=limit if limit > 0 else None, offset=offset, **common)


def change_page(session: Session, where: ChangeFilter, *, offset: int, limit: int) -> ChangePage:
    """One page of changes with the counts a reader filters by."""
    by_kind_query = _filtered(_joined(ChangeRow.kind, func.count()), where, skip="kind")
    by_kind: dict[str, int] = dict(session.execute(by_kind_query.group_by(ChangeRow.kind)).all())
    by_site_query = _filtered(_joined(ArticleRow.site, func.count()), where, skip="site")
    by_site: dict[str, int] = dict(session.execute(by_site_query.group_by(ArticleRow.site)).all())
    total = by_kind.get(where.kind, 0) if where.kind else sum(by_kind.values())
    counted = total if where.substance is None else None  # the counts do not split edits by substance
    return ChangePage(
        change_lines(session, where, offset=offset, limit=limit, total=counted),
        total,
        {kind: by_kind.get(kind, 0) for kind in FLAGGED_KINDS},
        dict(sorted(by_site.items())),
    )


def sites(session: Session) -> list[str]:
    """Every site that has an article in the archive."""
    return list(session.scalars(select(ArticleRow.site).distinct().order_by(ArticleRow.site)))


def article_info(session: Session, article_id: int) -> ArticleInfo | None:
    row = session.get(ArticleRow, article_id)
    if row is None:
        return None
    return ArticleInfo(
        row.id, row.site, row.url, row.title, row.first_seen_at, row.last_checked_at,
        row.removed_at, row.current_version,
    )  # fmt: skip


def timeline(session: Session, article_id: int) -> list[VersionLine]:
    """The article's versions, oldest first, and whether each kept its raw capture."""
    query = (
        select(VersionRow.id, VersionRow.version, VersionRow.fetched_at, VersionRow.published_at,
               CaptureRow.id.is_not(None))
        .outerjoin(CaptureRow, CaptureRow.version_id == VersionRow.id)
        .where(VersionRow.article_id == article_id)
        .order_by(VersionRow.version)
    )  # fmt: skip
    return [VersionLine(*row) for row in session.execute(query)]


def article_changes(session: Session, article_id: int) -> list[ChangeInfo]:
    """Every change of one article (corrections included), oldest first."""
    return load_changes(
        session, kinds=CHANGE_KINDS, newest_first=False, with_versions=False,
        where=[ChangeRow.article_id == article_id],
    )  # fmt: skip


def versions(session: Session, article_id: int, numbers: tuple[int, ...]) -> dict[int, StoredVersion]:
    """The named versions of one article (missing numbers are left out)."""
    query = select(VersionRow).where(
        VersionRow.article_id == article_id, VersionRow.version.in_(numbers)
    )
    return {v.version: stored_version(v) for v in session.scalars(query)}


def capture(session: Session, version_id: int) -> StoredCapture | None:
    """One version's raw response, decompressed."""
    row = session.execute(capture_query().where(VersionRow.id == version_id)).one_or_none()
    return stored_capture(row) if row is not None else None


def article_ids(session: Session, *, after: int = 0, limit: int = 500) -> list[int]:
    """Article ids in order, a batch at a time (the static report walks every article)."""
    query = select(ArticleRow.id).where(ArticleRow.id > after).order_by(ArticleRow.id).limit(limit)
    return list(session.scalars(query))


def probe(session: Session, where: str) -> None:
    """Raise a one-line ``ArchiveError`` unless ``where`` holds a tgwatch archive we can read."""
    try:
        session.execute(select(ArticleRow.id).limit(1)).all()
    except ArchiveError:
        raise
    except DBAPIError as exc:
        raise ArchiveError(f"{where}: not a readable tgwatch archive: {first_line(exc)}") from None
