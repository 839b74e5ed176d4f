"""The frontier of a backfill, kept in the archive so that an interrupted walk goes on where it stopped.

A backfill (``tgwatch crawl SITE --backfill``) walks every listing page of a site once and checks
every article it finds. Its frontier is ``backfill_pages`` (``storage.models_backfill``): a
listing page read is marked ``done`` in the same transaction that adds the pages it links to, so
the frontier never loses a link; an article is ``done`` once recorded (an article the archive
holds is done whatever the frontier says, and one it does not hold is pending again: ``open``
settles both, so a resumed backfill never fetches a recorded article again, nor leaves one out
that a run marked done without recording it — a page read as no article, or out of reach). A
crawl killed between two writes only reads again the few listing pages whose marks it had not
yet written.

One crawl works on a backfill at a time: ``open`` refuses (``BackfillBusy``) while the crawl run
that holds it is alive, and takes it over from a run that died (``storage.runs.settle_abandoned``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import runs
from storage.archive import Archive
from storage.errors import TgwatchError
from storage.models import ArticleRow, CrawlRunRow
from storage.models_backfill import BackfillPageRow, BackfillRow
from storage.types import now
from storage.vocabulary import RunOutcome

MAX_URL = 2083
"""Longest URL a frontier keeps: Scrapy's URLLENGTH_LIMIT drops longer requests unseen."""


class BackfillBusy(TgwatchError):
    """Another crawl is working on this site's backfill."""

    exit_code = 6

    def __init__(self, site: str, run_id: int) -> None:
        super().__init__(f"{site}: a backfill of this site is under way (crawl run {run_id}); "
                         "wait for it to end, or stop it (it goes on where it stopped when run again)")


@dataclass(frozen=True)
class Page:
    """A frontier entry: ``kind`` listing | article, the URL to request, its key, its state."""

    kind: str
    url: str
    key: str
    state: str = "pending"


@dataclass(frozen=True)
class Opened:
    """A backfill taken by a crawl: new or resumed, and its whole frontier."""

    id: int
    resumed: bool
    pages: list[Page]

    @property
    def counts(self) -> Counter[str]:
        return Counter(page.state for page in self.pages)


def _holder(session: Session, site: str) -> tuple[BackfillRow | None, int | None]:
    """The site's open backfill and the live run holding it (None: free)."""
    runs.settle_abandoned(session)
    row = session.scalars(select(BackfillRow).where(BackfillRow.site == site, BackfillRow.finished_at.is_(None))
                          .order_by(BackfillRow.id.desc()).limit(1)).first()
    if row is None or row.run_id is None:
        return row, None
    outcome = session.scalar(select(CrawlRunRow.outcome).where(CrawlRunRow.id == row.run_id))
    return row, row.run_id if outcome == RunOutcome.RUNNING else None


def check_free(archive: Archive, site: str, run_id: int | None = None) -> None:
    """``BackfillBusy`` when a live crawl other than ``run_id`` holds the site's backfill."""
    with archive.writing() as session:
        _, holder = _holder(session, site)
    if holder is not None and holder != run_id:
        raise BackfillBusy(site, holder)


def open_backfill(archive: Archive, site: str, run_id: int | None, start_urls: Iterable[str]) -> Opened:
    """Take the site's open backfill for crawl run ``run_id`` (or start one at ``start_urls``);
    articles the archive already holds are marked done first."""
    with archive.writing() as session:
        row, holder = _holder(session, site)
        if holder is not None and holder != run_id:
            raise BackfillBusy(site, holder)
        resumed = row is not None
        if row is None:
            row = BackfillRow(site=site, started_at=now(), run_id=run_id)
            session.add(row)
            session.flush()
            _insert(session, row.id, [Page("listing", url, url) for url in dict.fromkeys(start_urls)])
        row.run_id = run_id
        recorded = select(ArticleRow.url).where(ArticleRow.site == site)
        articles = (BackfillPageRow.backfill_id == row.id, BackfillPageRow.kind == "article")
        session.execute(update(BackfillPageRow)
                        .where(*articles, BackfillPageRow.state != "done", BackfillPageRow.key.in_(recorded))
                        .values(state="done", done_at=now()))
        if resumed:
            session.execute(update(BackfillPageRow)
                            .where(*articles, BackfillPageRow.state == "done", BackfillPageRow.key.not_in(recorded))
                            .values(state="pending", done_at=None))
        pages = [Page(kind, url, key, state) for kind, url, key, state in session.execute(
            select(BackfillPageRow.kind, BackfillPageRow.url, BackfillPageRow.key, BackfillPageRow.state)
            .where(BackfillPageRow.backfill_id == row.id).order_by(BackfillPageRow.id))]
        return Opened(row.id, resumed, pages)


def write_marks(archive: Archive, backfill: int, found: list[Page], marks: dict[str, str]) -> None:
    """One step of the walk in one transaction: the pages found, then the states reached
    (key -> done | failed) by pages read, recorded or given up."""
    if not found and not marks:
        return
    with archive.writing() as session:
        _insert(session, backfill, found)
        stamp = now()
        for state in ("done", "failed"):
            keys = [key for key, reached in marks.items() if reached == state]
            for start in range(0, len(keys), 500):
                session.execute(update(BackfillPageRow)
                                .where(BackfillPageRow.backfill_id == backfill,
                                       BackfillPageRow.key.in_(keys[start:start + 500]))
                                .values(state=state, done_at=stamp))


def finish(archive: Archive, backfill: int) -> bool:
    """Close the backfill if nothing of it is left pending or failed; whether it is closed."""
    with archive.writing() as session:
        left = session.scalar(select(func.count()).select_from(BackfillPageRow).where(
            BackfillPageRow.backfill_id == backfill, BackfillPageRow.state != "done"))
        if left:
            return False
        session.execute(update(BackfillRow).where(BackfillRow.id == backfill).values(finished_at=now()))
        return True


def _insert(session: Session, backfill: int, pages: list[Page]) -> None:
    """Add pages the frontier does not have yet (a key already there keeps its state)."""
    rows = [{"backfill_id": backfill, "kind": p.kind, "url": p.url, "key": p.key, "state": "pending",
             "found_at": now()} for p in pages if len(p.url) <= MAX_URL and len(p.key) <= MAX_URL]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), 500):
        statement = dialect.insert(BackfillPageRow).values(rows[start:start + 500])
        session.execute(statement.on_conflict_do_nothing(index_elements=["backfill_id", "key"]))
