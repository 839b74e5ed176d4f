"""Crawl runs: one row per crawl of one site, so ``tgwatch status`` can say how each went.

A run is inserted as ``running`` before the crawl starts (with the crawling process's pid, so a
run left ``running`` by a killed process can be told apart from a live one) and finished once with
its outcome and counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from storage.models import CrawlRunRow
from storage.types import now
from storage.vocabulary import RUN_COUNTS, RunOutcome


def start_run(session: Session, site: str, pid: int | None = None) -> int:
    run = CrawlRunRow(site=site, started_at=now(), outcome=RunOutcome.RUNNING.value, pid=pid)
    session.add(run)
    session.flush()
    return run.id


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
