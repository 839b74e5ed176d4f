"""What ``tgwatch status`` and the report's Sites page read: per site, its crawls and next run.

Everything comes from the database (``crawl_runs``, the daemon's job table, the outbox), so the
answer is the same whether the daemon runs or not, on this machine or another one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from storage.content import VN_TZ
from storage.models import CrawlRunRow
from storage.models_notify import DeliveryRow, jobs_table
from storage.vocabulary import FAILED_OUTCOMES, RUN_COUNTS

if TYPE_CHECKING:
    from storage.archive import Archive

RECENT_FAILURES = 3
DELIVERY_STATES = ("pending", "failed", "sent")


@dataclass(frozen=True)
class RunLine:
    id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, int]
    error: str | None


@dataclass
class SiteStatus:
    site: str
    configured: bool
    last_run: RunLine | None = None
    next_run: datetime | None = None
    failures: list[RunLine] = field(default_factory=list)


def _run(row: CrawlRunRow) -> RunLine:
    counts = {name: getattr(row, name) or 0 for name in RUN_COUNTS}
    return RunLine(row.id, row.started_at, row.finished_at, row.outcome, counts, row.error)


def site_status(session: Session, site: str, configured: bool, job_id: str) -> SiteStatus:
    """``job_id``: the daemon's job for this site's crawl (``monitor.schedule.crawl_job_id``)."""
    status = SiteStatus(site, configured)
    runs = select(CrawlRunRow).where(CrawlRunRow.site == site).order_by(CrawlRunRow.id.desc())
    last = session.scalars(runs.limit(1)).first()
    status.last_run = _run(last) if last else None
    failed = runs.where(CrawlRunRow.outcome.in_(FAILED_OUTCOMES)).limit(RECENT_FAILURES)
    status.failures = [_run(row) for row in session.scalars(failed)]
    job = select(jobs_table.c.next_run_time).where(jobs_table.c.id == job_id)
    next_time = session.scalar(job)
    status.next_run = datetime.fromtimestamp(next_time, VN_TZ) if next_time is not None else None
    return status


def site_statuses(
    session: Session, configured: list[str], job_id: Callable[[str], str]
) -> list[SiteStatus]:
    """The configured sites in config order, then any other site that has crawl runs."""
    seen = session.scalars(select(CrawlRunRow.site).distinct()).all()
    sites = configured + sorted(set(seen) - set(configured))
    return [site_status(session, site, site in configured, job_id(site)) for site in sites]


def delivery_counts(session: Session) -> dict[str, int]:
    """Notification deliveries by state (pending, failed, sent)."""
    query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
    found = {str(state): int(count) for state, count in session.execute(query).all()}
    return {state: found.get(state, 0) for state in DELIVERY_STATES}


def archive_size(archive: Archive) -> int:
    """Bytes the archive takes: the SQLite file and its WAL, or ``pg_database_size``."""
    if archive.backend == "sqlite":
        path = archive.engine.url.database or ""
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if path and os.path.exists(p))
    with archive.engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())"))
        return int(size.scalar_one())
