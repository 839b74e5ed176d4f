"""Closing the ``crawl_runs`` row of a crawl that could not close it itself.

A crawl child books its own run (``running``, with its pid) and closes it with its outcome and
counts. When it dies first (killed, out of memory, stopped at its time limit) the daemon closes it
here, so that ``tgwatch status`` always tells what happened, and the outbox, which announces only
finished runs, never waits forever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from storage.archive import Archive
from storage.models import ChangeRow, CrawlRunRow
from storage.types import now
from storage.vocabulary import FLAGGED_KINDS, RUN_COUNTS, RunOutcome


@dataclass(frozen=True)
class RunReport:
    """How one crawl ended, as recorded in ``crawl_runs``."""

    site: str
    run_id: int
    outcome: str
    started_at: datetime
    finished_at: datetime
    returncode: int | None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    summary: str | None = None
    seconds: float = 0.0  # wall time of the crawl process


def settle_run(
    archive: Archive,
    site: str,
    pid: int,
    launched: datetime,
    stop_reason: str | None,
    returncode: int | None,
    error: str | None,
    summary: str | None,
) -> RunReport:
    """Complete (or create) the child's ``crawl_runs`` row so it tells how the crawl really ended.

    The child's row is found by its pid. A row the child finished itself is kept as it is unless
    the runner knows better (a timeout); a row left ``running`` is closed with the failure and the
    counts of the changes it recorded; a missing row (the child died before starting one) is made.
    """
    with archive.writing() as session:
        run = session.scalars(
            select(CrawlRunRow)
            .where(CrawlRunRow.site == site, CrawlRunRow.pid == pid, CrawlRunRow.started_at >= launched)
            .order_by(CrawlRunRow.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        if run is None:
            run = CrawlRunRow(site=site, started_at=launched, outcome=RunOutcome.RUNNING, pid=pid)
            session.add(run)
            session.flush()
            if error is None and stop_reason is None:
                error = "the crawl ended without recording a run"
        finished_by_child = run.outcome != RunOutcome.RUNNING
        if stop_reason == RunOutcome.TIMEOUT:
            run.outcome = RunOutcome.TIMEOUT
        elif not finished_by_child:
            run.outcome = RunOutcome(stop_reason or RunOutcome.FAILED)
        said = (run.error or "").removeprefix("error:").strip()  # what the child itself recorded
        if error and (not finished_by_child or stop_reason == RunOutcome.TIMEOUT or not said):
            run.error = error
        if not finished_by_child or stop_reason == RunOutcome.TIMEOUT:
            run.finished_at = now()
            for kind, count in session.execute(
                select(ChangeRow.kind, func.count()).where(ChangeRow.run_id == run.id).group_by(ChangeRow.kind)
            ):
                if kind in FLAGGED_KINDS:
                    setattr(run, kind, max(getattr(run, kind) or 0, count))
        counts = {name: getattr(run, name) or 0 for name in RUN_COUNTS}
        return RunReport(
            site=site,
            run_id=run.id,
            outcome=run.outcome,
            started_at=run.started_at,
            finished_at=run.finished_at or now(),
            returncode=returncode,
            counts=counts,
            error=run.error,
            summary=summary,
        )


def sweep_abandoned(archive: Archive, older_than: timedelta | None = None) -> list[int]:
    """Close runs left ``running`` by crawl processes that no longer exist (a daemon killed hard).

    A run counts as abandoned when its pid is gone from this machine, or when it started longer
    ago than ``older_than`` (its pid may have been reused). Its changes would otherwise wait for
    the outbox forever, which only announces finished runs.
    """
    closed = []
    cutoff = now() - older_than if older_than is not None else None
    with archive.writing() as session:
        for run in session.scalars(select(CrawlRunRow).where(CrawlRunRow.outcome == RunOutcome.RUNNING)):
            stale = cutoff is not None and run.started_at < cutoff
            if not stale and (run.pid is None or _alive(run.pid)):  # no pid: not ours to judge
                continue
            run.outcome, run.finished_at = RunOutcome.FAILED, now()
            run.error = run.error or "abandoned: the crawl process is gone"
            closed.append(run.id)
    return closed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
