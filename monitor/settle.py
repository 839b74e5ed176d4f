"""Closing the ``crawl_runs`` row of a crawl that could not close it itself.

A crawl child books its own run (``running``, with its pid) and closes it with its outcome and
counts. When it dies first (killed, out of memory, stopped at its time limit) the daemon closes it
here, so that ``tgwatch status`` always tells what happened, and the outbox, which announces only
finished runs, never waits forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage import runs
from storage.archive import Archive
from storage.processes import pid_alive
from storage.types import now


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
    """Complete (or create) the child's ``crawl_runs`` row (``storage.runs.settle_run``) and say
    how the crawl ended."""
    with archive.writing() as session:
        run = runs.settle_run(session, site, pid, launched, stop_reason, error)
    return RunReport(
        site=site,
        run_id=run.id,
        outcome=run.outcome,
        started_at=run.started_at,
        finished_at=run.finished_at or now(),
        returncode=returncode,
        counts=run.counts,
        error=run.error,
        summary=summary,
    )


def sweep_abandoned(archive: Archive, older_than: timedelta | None = None) -> list[int]:
    """Close runs left ``running`` by crawl processes that no longer exist (a daemon killed hard).

    A run counts as abandoned when its pid is gone from this machine, or when it started longer
    ago than ``older_than`` (its pid may have been reused). Its changes would otherwise wait for
    the outbox forever, which only announces finished runs.
    """
    cutoff = now() - older_than if older_than is not None else None
    with archive.writing() as session:
        return runs.close_abandoned(session, pid_alive, cutoff)
