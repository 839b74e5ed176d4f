"""``tgwatch status``: how each site's crawls are going, read from the archive alone.

Everything comes from the database (``crawl_runs``, the daemon's job table, the outbox), so the
command answers the same whether the daemon runs or not, on this machine or another one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from monitor.context import AppContext
from monitor.fleet import redis_options
from monitor.output import echo, format_option, json_document, render
from monitor.schedule import crawl_job_id
from storage.content import VN_TZ
from storage.status import RunLine, archive_size, delivery_counts, site_statuses
from storage.vocabulary import RUN_COUNTS


def collect(app: AppContext) -> dict[str, Any]:
    archive = app.archive()
    archive.settle_abandoned()  # a run whose crawl died is not shown as running
    configured = list(app.config.sites)
    with archive.reading() as session:
        statuses = site_statuses(session, configured, crawl_job_id)
        outbox = delivery_counts(session)
    return {
        "archive": archive.url,
        "archive_bytes": archive_size(archive),
        "notifications": outbox,
        "sites": statuses,
    }


LIVE_WITHIN = 60.0
"""A worker whose last heartbeat is older than this (seconds) is not shown as live."""


def collect_frontier(redis_url: str, prefix: str, configured: list[str]) -> dict[str, Any]:
    """The shared frontier: per site queued / due / in flight, the open crawls, the live workers."""
    from monitor.fleet import connect_frontier, safe_redis_url

    frontier = connect_frontier(redis_url, prefix)
    try:
        sites = sorted({*configured, *frontier.sites()})
        return {
            "redis": safe_redis_url(redis_url),
            "prefix": prefix,
            "sites": [asdict(frontier.site_status(site)) for site in sites],
            "crawls": [asdict(state) for state in frontier.open_crawls()],
            "workers": [{"worker": worker, "seconds_since_heartbeat": round(age, 1), **info}
                        for worker, age, info in frontier.workers(LIVE_WITHIN)],
        }
    finally:
        frontier.close()


def render_frontier(frontier: dict[str, Any]) -> list[str]:
    lines = ["", f"frontier       {frontier['redis']} (prefix {frontier['prefix']})"]
    for site in frontier["sites"]:
        lines.append(f"  {site['site']:<20} queued {site['queued']}, in flight {site['in_flight']}, "
                     f"due {site['due']} of {site['known']} known")
    for crawl in frontier["crawls"]:
        lines.append(f"  crawl {crawl['id']} of {crawl['site']} (run {crawl['run']}): {crawl['pending']} pending")
    workers = frontier["workers"]
    lines.append(f"  workers        {len(workers)} live")
    for worker in workers:
        held = sum(int(v) for k, v in worker.items() if k.startswith("held:"))
        lines.append(f"    {worker['worker']:<30} heartbeat {worker['seconds_since_heartbeat']:.1f} s ago, "
                     f"{held} requests held")
    return lines


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
    if report.get("frontier"):
        lines += render_frontier(report["frontier"])
    return "\n".join(lines)


CSV_COLUMNS = ("site", "configured", "last_run", "started_at", "finished_at", "outcome", *RUN_COUNTS, "error",
               "next_run", "recent_failures")


def site_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """One row per site (CSV_COLUMNS): its last run, next run and number of recent failures."""
    for status in report["sites"]:
        run = status.last_run
        last = (run.id, run.started_at, run.finished_at, run.outcome, *(run.counts.get(c, 0) for c in RUN_COUNTS),
                run.error) if run else (None,) * (5 + len(RUN_COUNTS))
        yield (status.site, status.configured, *last, status.next_run, len(status.failures))


@click.command("status")
@format_option(json_alias=True)
@redis_options(required=False)
@click.pass_obj
def command(app: AppContext, fmt: str, redis_url: str | None, redis_prefix: str) -> None:
    """Show, per site, the last crawl, the next one, and recent failures.

    --format table (the default) is a report for reading; json is one object (archive, notifications
    and every site with its last run and recent failures); csv is one row per site.

    \b
    Example:
      tgwatch status
      tgwatch --db postgresql://tgwatch@db/tgwatch status --json
      tgwatch status --format csv
      tgwatch status --redis redis://frontier:6379/0

    With --redis (env TGWATCH_REDIS), also the shared frontier: per site what is queued, in
    flight and due, the open crawls, and the live workers (by heartbeat).
    """
    report = collect(app)
    if redis_url:
        report["frontier"] = collect_frontier(redis_url, redis_prefix, list(app.config.sites))
    if fmt == "json":
        json_document({**report, "sites": [asdict(s) for s in report["sites"]]})
    elif fmt == "csv":
        render(CSV_COLUMNS, site_rows(report), "csv")
    else:
        echo(render_text(report))
