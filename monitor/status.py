"""``tgwatch status``: how each site's crawls are going, read from the archive alone.

Everything comes from the database (``crawl_runs``, the daemon's job table, the outbox), so the
command answers the same whether the daemon runs or not, on this machine or another one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import click
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from monitor.context import AppContext
from monitor.schedule import crawl_job_id
from storage.archive import Archive
from storage.content import VN_TZ
from storage.models import RUN_COUNTS, CrawlRunRow
from storage.models_notify import DeliveryRow, jobs_table

RECENT_FAILURES = 3


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


def archive_size(archive: Archive) -> int:
    """Bytes the archive takes: the SQLite file and its WAL, or ``pg_database_size``."""
    if archive.backend == "sqlite":
        path = archive.engine.url.database or ""
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if path and os.path.exists(p))
    with archive.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def site_status(session: Session, site: str, configured: bool) -> SiteStatus:
    status = SiteStatus(site, configured)
    runs = select(CrawlRunRow).where(CrawlRunRow.site == site).order_by(CrawlRunRow.id.desc())
    last = session.scalars(runs.limit(1)).first()
    status.last_run = _run(last) if last else None
    failed = runs.where(CrawlRunRow.outcome.in_(("failed", "timeout"))).limit(RECENT_FAILURES)
    status.failures = [_run(row) for row in session.scalars(failed)]
    next_time = session.scalar(select(jobs_table.c.next_run_time).where(jobs_table.c.id == crawl_job_id(site)))
    status.next_run = datetime.fromtimestamp(next_time, VN_TZ) if next_time is not None else None
    return status


def collect(app: AppContext) -> dict[str, Any]:
    archive = app.archive()
    configured = list(app.config.sites)
    with archive.reading() as session:
        seen = session.scalars(select(CrawlRunRow.site).distinct()).all()
        sites = configured + sorted(set(seen) - set(configured))
        outbox = dict(session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all())
        statuses = [site_status(session, site, site in configured) for site in sites]
    return {
        "archive": archive.url,
        "archive_bytes": archive_size(archive),
        "notifications": {s: outbox.get(s, 0) for s in ("pending", "failed", "sent")},
        "sites": statuses,
    }


def _when(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).isoformat(timespec="seconds") if value else "-"


def _run_text(run: RunLine) -> str:
    took = f" in {(run.finished_at - run.started_at).total_seconds():.1f} s" if run.finished_at else ""
    counts = ", ".join(f"{name} {value}" for name, value in run.counts.items())
    error = f" — {run.error}" if run.error else ""
    return f"#{run.id} {_when(run.started_at)} {run.outcome}{took}: {counts}{error}"


def render_text(report: dict[str, Any]) -> str:
    size = report["archive_bytes"] / 1048576
    notes = report["notifications"]
    lines = [
        f"archive        {report['archive']} ({size:.1f} MB)",
        f"notifications  {notes['pending']} pending, {notes['failed']} failing, {notes['sent']} sent",
    ]
    for status in report["sites"]:
        lines += ["", status.site + ("" if status.configured else " (not in the config)")]
        lines.append(f"  last run   {_run_text(status.last_run) if status.last_run else 'never'}")
        lines.append(f"  next run   {_when(status.next_run) if status.next_run else 'not scheduled'}")
        for index, failure in enumerate(status.failures):
            lines.append(f"  {'failures' if index == 0 else '':<9}  {_run_text(failure)}")
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def command(app: AppContext, as_json: bool) -> None:
    """Show, per site, the last crawl, the next one, and recent failures.

    \b
    Example:
      tgwatch status
      tgwatch --db postgresql://tgwatch@db/tgwatch status --json
    """
    report = collect(app)
    if as_json:
        report = {**report, "sites": [asdict(s) for s in report["sites"]]}
        click.echo(json.dumps(report, ensure_ascii=False, default=_json_default, indent=2))
    else:
        click.echo(render_text(report))
