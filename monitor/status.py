"""``tgwatch status``: how each site's crawls are going, read from the archive alone.

Everything comes from the database (``crawl_runs``, the daemon's job table, the outbox), so the
command answers the same whether the daemon runs or not, on this machine or another one.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from monitor.context import AppContext
from monitor.schedule import crawl_job_id
from storage.content import VN_TZ
from storage.status import RunLine, archive_size, delivery_counts, site_statuses


def collect(app: AppContext) -> dict[str, Any]:
    archive = app.archive()
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
