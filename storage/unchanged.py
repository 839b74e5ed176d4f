"""A batch's 304 answers recorded in two statements, not one ORM load and one savepoint each.

``storage.recording``'s rule for ``NotModified`` on a live article (not removed) moves
``last_checked_at`` forward and resets the gone signals and failed checks; no row is added. Applied
one ORM object at a time (the whole row loaded, a savepoint, an UPDATE at flush), that rule was most
of what the recording thread spent on an unchanged re-crawl, in the reactor's GIL. Here the live
articles among a batch's 304s are read in one query (their rows locked on PostgreSQL, as
``record_observation`` locks one) and updated with one executemany, each row by one UPDATE: whole
or not at all. A removed article (its 304 is a restoration) or an unknown one is not touched: the
caller leaves it to ``record_observation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from storage.models import ArticleRow

_ARTICLES = cast(Table, ArticleRow.__table__)
_CHECKED = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("_id"))
    .values(last_checked_at=bindparam("_at", type_=_ARTICLES.c.last_checked_at.type),
            failed_checks=0, gone_signals=0, last_gone_at=None)
)


def record_not_modified(session: Session, site: str, checks: Mapping[str, datetime]) -> set[str]:
    """``NotModified`` for the live articles of ``site`` among ``checks`` (canonical URL: when the
    304 was fetched); the URLs recorded. The others (removed, unknown) are the caller's."""
    if not checks:
        return set()
    rows = session.execute(
        select(_ARTICLES.c.id, _ARTICLES.c.url, _ARTICLES.c.last_checked_at)
        .where(_ARTICLES.c.site == site, _ARTICLES.c.url.in_(list(checks)), _ARTICLES.c.removed_at.is_(None))
        .order_by(_ARTICLES.c.id)
        .with_for_update()
    ).all()
    if rows:
        session.execute(_CHECKED, [{"_id": id_, "_at": later(last, checks[url])} for id_, url, last in rows])
    return {url for _, url, _ in rows}


def later(current: datetime | None, candidate: datetime) -> datetime:
    """A check time never moves back (an older answer recorded late)."""
    return candidate if current is None or candidate > current else current
