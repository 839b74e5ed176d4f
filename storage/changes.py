"""Reading flagged changes: the one query behind ``tgwatch changes``, the feed and the outbox.

A change comes with what a reader needs (its article's site, URL and title) and, when asked, the
content of the two versions it joins, so that a message or a feed entry can show the difference.
Callers get frozen values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session, aliased

from storage.anatomy import Finding
from storage.content import Content
from storage.findings import findings_of, substance_is
from storage.models import ArticleRow, ChangeRow, VersionRow
from storage.vocabulary import FLAGGED_KINDS


@dataclass(frozen=True)
class ChangeInfo:
    """A change with what a reader needs: the article and the content before and after."""

    id: int
    article_id: int
    site: str
    kind: str
    detected_at: datetime
    url: str
    title: str  # the title of the version it led to, else the article's
    article_title: str  # the article's title now
    fields: list[str]
    note: str | None
    from_version: int | None
    to_version: int | None
    old: Content | None = None  # None unless loaded with_versions
    new: Content | None = None
    findings: tuple[Finding, ...] = ()  # an edit's anatomy (edit_findings), in order


def load_changes(
    session: Session,
    *,
    site: str | None = None,
    kinds: Sequence[str] = FLAGGED_KINDS,
    since: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
    oldest_first: bool = False,
    with_versions: bool = True,
    where: Sequence[ColumnElement[bool]] = (),
    substance: str | None = None,
) -> list[ChangeInfo]:
    """Changes of ``kinds`` (by default the flags, not re-extractions), newest first or in id order,
    each with its findings.

    ``oldest_first``: the exact reverse of newest first (the deep pages of a long list are read from
    its far end, so that no page makes the database skip most of the list).
    ``substance``: only edits that are ``substantive`` or only ``cosmetic`` (``storage.findings``).
    ``where``: more conditions on ``ChangeRow``/``ArticleRow``, for the other modules of ``storage``.
    """
    query: Select[*tuple[Any, ...]] = select(ChangeRow, ArticleRow.site, ArticleRow.url, ArticleRow.title).join(
        ArticleRow, ArticleRow.id == ChangeRow.article_id
    )
    if with_versions:
        old, new = aliased(VersionRow), aliased(VersionRow)
        query = (
            query.add_columns(old, new)
            .outerjoin(old, and_(old.article_id == ChangeRow.article_id, old.version == ChangeRow.from_version))
            .outerjoin(new, and_(new.article_id == ChangeRow.article_id, new.version == ChangeRow.to_version))
        )
    query = query.where(ChangeRow.kind.in_(kinds), *where)
    if substance is not None:
        query = query.where(substance_is(substance))
    if site is not None:
        query = query.where(ArticleRow.site == site)
    if since is not None:
        query = query.where(ChangeRow.detected_at >= since)
    if oldest_first:
        order: tuple[ColumnElement[Any], ...] = (ChangeRow.detected_at.asc(), ChangeRow.id.asc())
    elif newest_first:
        order = (ChangeRow.detected_at.desc(), ChangeRow.id.desc())
    else:
        order = (ChangeRow.id.asc(),)
    rows = session.execute(query.order_by(*order).offset(offset or None).limit(limit)).all()
    found = findings_of(session, [row[0].id for row in rows])
    return [_info(row[0], row[1], row[2], row[3], *(row[4:] if with_versions else (None, None)),
                  findings=tuple(found.get(row[0].id, ()))) for row in rows]


def _info(
    change: ChangeRow, site: str, url: str, title: str, old: VersionRow | None, new: VersionRow | None,
    *, findings: tuple[Finding, ...] = (),
) -> ChangeInfo:
    return ChangeInfo(
        id=change.id,
        article_id=change.article_id,
        site=site,
        kind=change.kind,
        detected_at=change.detected_at,
        url=url,
        title=new.title if new is not None else title,
        article_title=title,
        fields=[f for f in (change.fields or "").split(",") if f],
        note=change.note,
        from_version=change.from_version,
        to_version=change.to_version,
        old=old.content() if old is not None else None,
        new=new.content() if new is not None else None,
        findings=findings,
    )
