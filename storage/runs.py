"""Crawl runs: one row per crawl of one site, so ``tgwatch status`` can say how each went.

A run is inserted as ``running`` before the crawl starts (with the crawling process's pid, so a
run left ``running`` by a killed process can be told apart from a live one) and finished once with
its outcome and counts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ChangeRow, CrawlRunRow
from storage.processes import pid_alive
from storage.types import now
from storage.vocabulary import FLAGGED_KINDS, RUN_COUNTS, RunOutcome


HEARTBEAT = 20.0
"""Seconds between a crawl's signs of life (``crawl_runs.heartbeat_at``)."""
STALE_AFTER = 120.0
"""Seconds without a sign of life after which a run on another host counts as abandoned."""


def this_host() -> str:
    return socket.gethostname()


def start_run(session: Session, site: str, pid: int | None = None) -> int:
    """Book a run of ``site`` as ``running``, after settling runs whose crawls died."""
    settle_abandoned(session)
    stamp = now()
    run = CrawlRunRow(site=site, started_at=stamp, outcome=RunOutcome.RUNNING.value, pid=pid,
                      host=this_host() if pid is not None else None, heartbeat_at=stamp)
    session.add(run)
    session.flush()
    return run.id


def beat(session: Session, run_id: int) -> None:
    """A running crawl's sign of life."""
    run = session.get(CrawlRunRow, run_id)
    if run is not None and run.outcome == RunOutcome.RUNNING:
        run.heartbeat_at = now()


def settle_abandoned(session: Session, stale_after: float = STALE_AFTER) -> list[int]:
    """Close runs left ``running`` by crawls that died: on this host, a pid that is gone; on any
    host, no sign of life for ``stale_after`` seconds. Any command that touches runs calls this
    (a crawl starting, ``status``, the outbox), so a killed crawl neither stays ``running`` nor
    holds back its notifications until a daemon sweeps. Runs booked before heartbeats (no host)
    are left to the daemon's sweep. Their ids."""
    host, cutoff = this_host(), now() - timedelta(seconds=stale_after)
    closed = []
    query = select(CrawlRunRow).where(CrawlRunRow.outcome == RunOutcome.RUNNING, CrawlRunRow.host.is_not(None))
    for run in session.scalars(query):
        dead = run.host == host and run.pid is not None and not pid_alive(run.pid)
        silent = run.host != host and run.heartbeat_at is not None and run.heartbeat_at < cutoff
        if dead or silent:
            run.outcome, run.finished_at = RunOutcome.FAILED, now()
            run.error = run.error or ("abandoned: the crawl process is gone" if dead
                                      else f"abandoned: no sign of life from {run.host} since {run.heartbeat_at}")
            _count_changes(session, run)
            closed.append(run.id)
    return closed


def lock_running(session: Session, run_id: int) -> bool:
    """Lock run ``run_id``'s row for the transaction; whether it is still ``running``."""
    run = session.get(CrawlRunRow, run_id, with_for_update=True)
    return run is not None and run.outcome == RunOutcome.RUNNING


def finish_run(
    session: Session,
    run_id: int,
    outcome: str,
    counts: Mapping[str, int],
    error: str | None = None,
) -> None:
    """Close a run; ``counts`` keys are ``crawl_runs`` columns (pages, new, edited, ...)."""
    final = RunOutcome(outcome)
    if final is RunOutcome.RUNNING:
        raise ValueError("finish_run needs a final outcome, not 'running'")
    unknown = set(counts) - set(RUN_COUNTS)
    if unknown:
        raise ValueError(f"unknown crawl_runs counts: {', '.join(sorted(unknown))}")
    run = session.get(CrawlRunRow, run_id, with_for_update=True)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.outcome = final.value
    run.finished_at = now()
    run.error = error
    for name, value in counts.items():
        setattr(run, name, int(value))


@dataclass(frozen=True)
class RunRecord:
    """A ``crawl_runs`` row as read back."""

    id: int
    site: str
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


def settle_run(
    session: Session, site: str, pid: int, launched: datetime, stop_reason: str | None, error: str | None
) -> RunRecord:
    """Complete (or create) the run of the crawl child ``pid`` so it tells how the crawl really ended.

    The child's row is found by its pid. A row the child finished itself is kept as it is unless
    the runner knows better (a timeout, ``stop_reason``); a row left ``running`` is closed with the
    failure and the counts of the changes it recorded; a missing row (the child died before
    starting one) is made.
    """
    run = _child_run(session, site, pid, launched)
    if run is None:
        run = CrawlRunRow(site=site, started_at=launched, outcome=RunOutcome.RUNNING, pid=pid)
        session.add(run)
        session.flush()
        if error is None and stop_reason is None:
            error = "the crawl ended without recording a run"
    finished_by_child = run.outcome != RunOutcome.RUNNING
    overruled = stop_reason == RunOutcome.TIMEOUT
    if overruled:
        run.outcome = RunOutcome.TIMEOUT
    elif not finished_by_child:
        run.outcome = RunOutcome(stop_reason or RunOutcome.FAILED)
    said = (run.error or "").removeprefix("error:").strip()  # what the child itself recorded
    if error and (not finished_by_child or overruled or not said):
        run.error = error
    if not finished_by_child or overruled:
        run.finished_at = now()
        _count_changes(session, run)
    return _record(run)


def _child_run(session: Session, site: str, pid: int, launched: datetime) -> CrawlRunRow | None:
    """The newest run of ``site`` booked by process ``pid`` since ``launched``, locked."""
    return session.scalars(
        select(CrawlRunRow)
        .where(CrawlRunRow.site == site, CrawlRunRow.pid == pid, CrawlRunRow.started_at >= launched)
        .order_by(CrawlRunRow.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def _count_changes(session: Session, run: CrawlRunRow) -> None:
    """Counts of a run its crawl could not close: at least the changes it recorded."""
    query = select(ChangeRow.kind, func.count()).where(ChangeRow.run_id == run.id).group_by(ChangeRow.kind)
    for kind, count in session.execute(query):
        if kind in FLAGGED_KINDS:
            setattr(run, kind, max(getattr(run, kind) or 0, count))


def _record(run: CrawlRunRow) -> RunRecord:
    counts = {name: getattr(run, name) or 0 for name in RUN_COUNTS}
    return RunRecord(run.id, run.site, run.outcome, run.started_at, run.finished_at, counts, run.error)


def close_abandoned(session: Session, alive: Callable[[int], bool], cutoff: datetime | None) -> list[int]:
    """Close runs left ``running`` by crawl processes that are gone (``alive(pid)`` is false) or
    that started before ``cutoff`` and show no sign of life (a crawl as long as a backfill beats
    every HEARTBEAT seconds); a run without a pid is not ours to judge. Their ids."""
    closed = []
    recent = now() - timedelta(seconds=STALE_AFTER)
    for run in session.scalars(select(CrawlRunRow).where(CrawlRunRow.outcome == RunOutcome.RUNNING)):
        beating = run.heartbeat_at is not None and run.heartbeat_at >= recent
        stale = cutoff is not None and run.started_at < cutoff and not beating
        if not stale and (run.pid is None or alive(run.pid)):
            continue
        run.outcome, run.finished_at = RunOutcome.FAILED, now()
        run.error = run.error or "abandoned: the crawl process is gone"
        closed.append(run.id)
    return closed
