"""Front-page prominence: how long each article stayed on a homepage, and in which position.

The same numbers as the SQL view ``front_page`` (migration ``0004``), computed here in Python so
that both backends agree to the second: a stint runs from the crawl that first saw the article
at that position to the first crawl that did not (or, while it lasts, to the homepage's last
read). Used by the report's Front page and the article page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ArticleRow
from storage.models_listings import ListingPageRow, ListingRow


@dataclass(frozen=True)
class Stint:
    """An article at one position of one listing page, from ``since`` to ``until``."""

    page_url: str
    page_kind: str
    position: int
    since: datetime
    until: datetime
    current: bool

    @property
    def hours(self) -> float:
        return (self.until - self.since).total_seconds() / 3600


@dataclass(frozen=True)
class Prominence:
    """One article's time on its site's homepage."""

    article_id: int
    site: str
    title: str
    url: str
    published_at: datetime | None
    hours: float
    best_position: int
    position_now: int | None  # None: not on the homepage any more
    first_seen: datetime
    last_seen: datetime


@dataclass
class _Tally:
    site: str
    best: int
    first: datetime
    last: datetime
    hours: float = 0.0
    now: int | None = None


def _stints(session: Session, *where: object) -> list[tuple[ListingRow, ListingPageRow]]:
    query = (select(ListingRow, ListingPageRow).join(ListingPageRow, ListingPageRow.id == ListingRow.page_id)
             .where(*where).order_by(ListingRow.seen_from, ListingRow.id))  # type: ignore[arg-type]
    return [(row, page) for row, page in session.execute(query).all()]


def _stint(row: ListingRow, page: ListingPageRow) -> Stint:
    until = row.seen_until if row.seen_until is not None else max(page.last_read_at, row.seen_from)
    return Stint(page.url, page.kind, row.position, row.seen_from, until, row.seen_until is None)


def article_stints(session: Session, article_id: int) -> list[Stint]:
    """Every listing stint of one article, oldest first."""
    return [_stint(row, page) for row, page in _stints(session, ListingRow.article_id == article_id)]


def front_page(session: Session, *, site: str | None = None, since: datetime | None = None,
               limit: int = 200) -> list[Prominence]:
    """Articles by hours on their site's homepage (within ``since`` → now), most first."""
    where: list[object] = [ListingPageRow.kind == "home"]
    if site:
        where.append(ListingPageRow.site == site)
    if since is not None:
        where.append(func.coalesce(ListingRow.seen_until, ListingPageRow.last_read_at) >= since)
    totals: dict[int, _Tally] = {}
    for row, page in _stints(session, *where):
        stint = _stint(row, page)
        start = max(stint.since, since) if since is not None else stint.since
        tally = totals.setdefault(row.article_id, _Tally(page.site, row.position, start, stint.until))
        tally.hours += max(0.0, (stint.until - start).total_seconds() / 3600)
        tally.best = min(tally.best, row.position)
        tally.last = max(tally.last, stint.until)
        if stint.current:
            tally.now = row.position
    articles = {a.id: a for a in session.scalars(select(ArticleRow).where(ArticleRow.id.in_(list(totals))))}
    found = [
        Prominence(article_id, t.site, articles[article_id].title, articles[article_id].url,
                   articles[article_id].published_at, t.hours, t.best, t.now, t.first, t.last)
        for article_id, t in totals.items() if article_id in articles
    ]
    found.sort(key=lambda p: (-p.hours, p.best_position, p.article_id))
    return found[:limit]
