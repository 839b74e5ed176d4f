"""What one crawl's listing pages say: stints of articles on pages, ``delisted`` and ``relisted``.

The crawler hands over a ``ListingCrawl``: every listing page it read (the article links in page
order), the ones it could not read, and whether its reach was cut short by the listing-page cap.
``record_listings`` turns that into stints (``storage.models_listings``: a row is added only when
an article appears on a page or changes position there) and into verdicts:

- an article shown again on any listing after being flagged ``delisted`` is ``relisted``;
- an article no page within the crawl's reach shows any more, whose page the same crawl found
  still served (a live answer, no removal signal, no failed check), is ``delisted``. Never on a
  crawl that failed to read a listing page or did not finish: what it did not read it cannot
  vouch for. When the cap left listing pages unread, an article is judged only if an article
  listed below it before is still in reach (so it was not merely pushed past the reach by newer
  reports, as newest-first listings do); otherwise it is out of reach, ``unlisted``, no flag.
  A removed article is ``unlisted`` too: the removal is the news.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from storage.models import ArticleRow, ChangeRow
from storage.models_listings import ListingPageRow, ListingRow, ListingStatusRow
from storage.vocabulary import ChangeKind, ListingState


@dataclass(frozen=True)
class ListingPage:
    """One listing page as a crawl read it."""

    url: str
    kind: str  # storage.vocabulary.LISTING_KINDS
    articles: tuple[str, ...]  # canonical article URLs, in page order, each once (position = index + 1)
    read_at: datetime


@dataclass(frozen=True)
class ListingCrawl:
    """Everything one crawl of one site learnt from its listing pages."""

    site: str
    started_at: datetime  # an article checked before this was not checked by this crawl
    at: datetime  # when the crawl ended: the time of its verdicts
    pages: tuple[ListingPage, ...]
    failed: tuple[str, ...] = ()  # listing URLs it could not read (5xx, time-out, not a page)
    truncated: bool = False  # listing links left unread because of TGWATCH_LISTING_PAGES
    finished: bool = True  # the crawl ran to its end (not interrupted, not timed out)

    @property
    def can_judge(self) -> bool:
        """Only a crawl that read every listing page it reached may say an article is off them."""
        return self.finished and not self.failed


@dataclass(frozen=True)
class ListingVerdicts:
    delisted: int = 0
    relisted: int = 0
    out_of_reach: int = 0


Stint = tuple[int, int]  # (page id, position)
OpenStint = Any  # a ``listings`` row as (id, page_id, article_id, position)


def record_listings(session: Session, crawl: ListingCrawl, run_id: int | None = None) -> ListingVerdicts:
    """Record ``crawl``'s listings and their verdicts in the caller's transaction."""
    _lock_site(session, crawl.site)
    ids = _article_ids(session, crawl.site, {u for p in crawl.pages for u in p.articles})
    pages = _pages(session, crawl)
    # plain rows, not ORM objects: a site's open stints are as many as its listed articles, and
    # thousands of ORM objects held for the transaction weighed ~4 KB an article at a crawl's end
    open_rows = session.execute(
        select(ListingRow.id, ListingRow.page_id, ListingRow.article_id, ListingRow.position)
        .join(ListingPageRow, ListingPageRow.id == ListingRow.page_id)
        .where(ListingPageRow.site == crawl.site, ListingRow.seen_until.is_(None))
    ).all()
    before: dict[int, list[Stint]] = defaultdict(list)  # article -> its open stints, before this crawl
    by_page: dict[int, list[OpenStint]] = defaultdict(list)
    for row in open_rows:
        before[row.article_id].append((row.page_id, row.position))
        by_page[row.page_id].append(row)
    del open_rows
    seen: dict[int, Stint] = {}  # article -> its first place in this crawl
    appearances: Counter[int] = Counter()
    for page in crawl.pages:
        page_id = pages[page.url].id
        now = _positions(page, ids)
        appearances.update(now.keys())
        for article_id, position in now.items():
            seen.setdefault(article_id, (page_id, position))
        _update_stints(session, page_id, by_page.pop(page_id, []), now, page.read_at)
    if crawl.can_judge:  # pages no longer reached (fewer pagination pages, past the cap): closed
        _close(session, [stint.id for rows in by_page.values() for stint in rows], crawl.at)
    urls = {row.id: url for url, row in pages.items()}
    relisted = _mark_seen(session, crawl, seen, urls, run_id)
    if not crawl.can_judge:
        return ListingVerdicts(relisted=relisted)
    blocks = max(3, len(crawl.pages) / 2)  # on that many pages: a "latest news" block, not a listing's order
    ordered = {a: stint for a, stint in seen.items() if appearances[a] < blocks}
    delisted, out = _judge_unseen(session, crawl, seen, ordered, before, run_id, urls)
    return ListingVerdicts(delisted, relisted, out)


def _lock_site(session: Session, site: str) -> None:
    """One crawl's listings of ``site`` judged at a time (two crawls of a site closing at once,
    from two fleets or a fleet and a local crawl, would each see an article still ``listed``):
    a PostgreSQL advisory lock held to the end of the transaction. SQLite's write lock already
    serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.blake2b(f"listings:{site}".encode(), digest_size=8).digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def listed_urls(session: Session, site: str) -> set[str]:
    """The site's articles in state ``listed``: a crawl re-checks those its listings no longer show."""
    query = (select(ArticleRow.url).join(ListingStatusRow, ListingStatusRow.article_id == ArticleRow.id)
             .where(ArticleRow.site == site, ListingStatusRow.state == ListingState.LISTED))
    return set(session.scalars(query))


def _article_ids(session: Session, site: str, urls: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    chunk = sorted(urls)
    for start in range(0, len(chunk), 500):
        rows = session.execute(select(ArticleRow.url, ArticleRow.id).where(
            ArticleRow.site == site, ArticleRow.url.in_(chunk[start:start + 500])))
        found.update({url: article_id for url, article_id in rows})
    return found


def _pages(session: Session, crawl: ListingCrawl) -> dict[str, ListingPageRow]:
    """The ``listing_pages`` rows of the pages read (created on first read), failures noted."""
    urls = [p.url for p in crawl.pages] + list(crawl.failed)
    rows = {r.url: r for r in session.scalars(
        select(ListingPageRow).where(ListingPageRow.site == crawl.site, ListingPageRow.url.in_(urls)))}
    for page in crawl.pages:
        row = rows.get(page.url)
        if row is None:
            row = rows[page.url] = ListingPageRow(site=crawl.site, url=page.url, kind=page.kind,
                                                  first_read_at=page.read_at, last_read_at=page.read_at)
            session.add(row)
        row.kind, row.last_read_at = page.kind, max(row.last_read_at, page.read_at)
    for url in crawl.failed:
        if url in rows:
            rows[url].last_failed_at = crawl.at
    session.flush()
    return {p.url: rows[p.url] for p in crawl.pages}


def _positions(page: ListingPage, ids: dict[str, int]) -> dict[int, int]:
    """Archived articles on ``page`` and their positions (unarchived links keep their rank)."""
    out: dict[int, int] = {}
    for rank, url in enumerate(page.articles, start=1):
        article_id = ids.get(url)
        if article_id is not None and article_id not in out:
            out[article_id] = rank
    return out


def _update_stints(session: Session, page_id: int, rows: list[OpenStint], now: dict[int, int],
                   at: datetime) -> None:
    """Close the stints that ended, open the ones that began; the rest stay as they are."""
    kept = set()
    ended = []
    for row in rows:
        if now.get(row.article_id) == row.position:
            kept.add(row.article_id)
        else:
            ended.append(row.id)
    _close(session, ended, at)
    began = [{"page_id": page_id, "article_id": article_id, "position": position, "seen_from": at}
             for article_id, position in now.items() if article_id not in kept]
    if began:
        session.execute(insert(ListingRow), began)


def _close(session: Session, stints: list[int], at: datetime) -> None:
    """End the stints of these ``listings`` ids at ``at``."""
    for start in range(0, len(stints), 500):
        session.execute(update(ListingRow).where(ListingRow.id.in_(stints[start:start + 500])).values(seen_until=at))


def _states(session: Session, site: str) -> dict[int, str]:
    """Article id -> listing state, of the site's articles that have one."""
    query = (select(ListingStatusRow.article_id, ListingStatusRow.state)
             .join(ArticleRow, ArticleRow.id == ListingStatusRow.article_id).where(ArticleRow.site == site))
    return {article_id: state for article_id, state in session.execute(query)}


def _mark_seen(session: Session, crawl: ListingCrawl, seen: dict[int, Stint], urls: dict[int, str],
               run_id: int | None) -> int:
    states = _states(session, crawl.site)
    relisted = 0
    new: list[dict[str, Any]] = []
    listed: list[int] = []
    back: list[int] = []  # delisted or unlisted, listed again
    for article_id, (page_id, position) in seen.items():
        state = states.get(article_id)
        if state is None:
            new.append({"article_id": article_id, "state": ListingState.LISTED, "since": crawl.at,
                        "last_listed_at": crawl.at})
            continue
        if state == ListingState.DELISTED:
            note = f"listed again on {urls[page_id]} at position {position}"
            _change(session, article_id, ChangeKind.RELISTED, crawl.at, run_id, note)
            relisted += 1
        (listed if state == ListingState.LISTED else back).append(article_id)
    if new:
        session.execute(insert(ListingStatusRow), new)
    for ids, values in ((listed, {"last_listed_at": crawl.at}),
                        (back, {"state": ListingState.LISTED, "since": crawl.at, "last_listed_at": crawl.at})):
        for start in range(0, len(ids), 500):
            session.execute(update(ListingStatusRow).where(ListingStatusRow.article_id.in_(ids[start:start + 500]))
                            .values(**values))
    return relisted


def _judge_unseen(session: Session, crawl: ListingCrawl, seen: dict[int, Stint], ordered: dict[int, Stint],
                  before: dict[int, list[Stint]], run_id: int | None, urls: dict[int, str]) -> tuple[int, int]:
    """Listed articles no page showed this time: delisted, out of reach, removed, or undecided."""
    judged = {ListingState.LISTED} if crawl.truncated else {ListingState.LISTED, ListingState.UNLISTED}
    missing = [a for a, state in _states(session, crawl.site).items() if state in judged and a not in seen]
    delisted = out = 0
    for article_id in missing:
        status = session.get(ListingStatusRow, article_id)
        article = session.get(ArticleRow, article_id)
        assert article is not None and status is not None
        if article.removed_at is not None:
            if status.state != ListingState.UNLISTED:
                status.state, status.since = ListingState.UNLISTED, crawl.at
            continue
        if article.gone_signals or article.failed_checks or article.last_checked_at < crawl.started_at:
            continue  # not found served by this crawl: judged by a later one
        last = before.get(article.id) or _last_stints(session, article.id)
        if crawl.truncated and not (article.id in before and _below_still_listed(last, before, ordered)):
            status.state, status.since = ListingState.UNLISTED, crawl.at
            out += 1
            continue
        where = ", ".join(f"{urls.get(page, f'page {page}')} at position {pos}" for page, pos in last[:3])
        note = f"no listing shows it any more; last on {where}" if where else "no listing shows it any more"
        _change(session, article.id, ChangeKind.DELISTED, crawl.at, run_id, note, article.current_version)
        status.state, status.since = ListingState.DELISTED, crawl.at
        delisted += 1
    return delisted, out


def _last_stints(session: Session, article_id: int) -> list[Stint]:
    """The article's stints that ended last (when a crawl that could not judge closed them)."""
    rows = session.execute(
        select(ListingRow.page_id, ListingRow.position, ListingRow.seen_until)
        .where(ListingRow.article_id == article_id).order_by(ListingRow.seen_until.desc()).limit(20)
    ).all()
    latest = rows[0].seen_until if rows else None
    return [(r.page_id, r.position) for r in rows if r.seen_until == latest]


def _below_still_listed(last: list[Stint], before: dict[int, list[Stint]], seen: dict[int, Stint]) -> bool:
    """Did an article listed below this one at the last crawl (same page, later position) stay
    within reach? Then this one was not pushed out by newer reports. Articles of a sitewide block
    (a "latest news" sidebar on every page) are not part of a listing's order and do not count;
    unknown counts as no."""
    for page_id, position in last:
        if any(other in seen and any(p == page_id and pos > position for p, pos in stints)
               for other, stints in before.items()):
            return True
    return False


def _change(session: Session, article_id: int, kind: str, at: datetime, run_id: int | None, note: str,
            version: int | None = None) -> None:
    article = session.get(ArticleRow, article_id)
    assert article is not None
    version = article.current_version if version is None else version
    session.add(ChangeRow(article_id=article_id, kind=kind, detected_at=at, from_version=version,
                          to_version=version, note=note[:1000], run_id=run_id))
